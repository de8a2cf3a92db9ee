package io.execguard.controller.write;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;

import io.execguard.api.NodeExecHealth;

/**
 * What fabric8's {@code resource(item).patch(...)} needs to address a JSON patch: the object's name, nothing else
 * (the patch carries its own resourceVersion precondition where one is wanted). Not the cached object itself:
 * {@code resource(item)} clones its item by a Jackson round trip before every patch — a whole Node each time, ~3 %
 * of the operator's Java samples at 15,000 nodes — and {@code withName(name)} would GET the object first.
 */
final class PatchTarget {
    private PatchTarget() {
    }

    static Node node(String name) {
        Node n = new Node();
        n.setMetadata(meta(name));
        return n;
    }

    static NodeExecHealth report(String name) {
        NodeExecHealth r = new NodeExecHealth();
        r.setMetadata(meta(name));
        return r;
    }

    private static ObjectMeta meta(String name) {
        ObjectMeta m = new ObjectMeta();
        m.setName(name);
        return m;
    }
}
