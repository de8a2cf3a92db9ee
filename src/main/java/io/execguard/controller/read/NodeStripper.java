package io.execguard.controller.read;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeSpec;
import io.fabric8.kubernetes.api.model.NodeStatus;
import io.fabric8.kubernetes.api.model.ObjectMeta;

/**
 * What the operator keeps of a Node in its cache: what decisions and writes read — name, uid, resourceVersion,
 * labels, annotations, the taints, {@code spec.unschedulable} and the conditions — and nothing
 * else (no images, addresses, capacity, managedFields: most of a real Node's bytes).
 */
public final class NodeStripper {
    private NodeStripper() {
    }

    public static Node strip(Node n) {
        ObjectMeta m = n.getMetadata();
        ObjectMeta meta = new ObjectMeta();
        meta.setName(m.getName());
        meta.setUid(m.getUid());
        meta.setResourceVersion(m.getResourceVersion());
        meta.setGeneration(m.getGeneration());
        meta.setDeletionTimestamp(m.getDeletionTimestamp());
        meta.setLabels(m.getLabels());
        meta.setAnnotations(m.getAnnotations()); // all of them: a patch is exact only against the whole map
        Node out = new Node();
        out.setApiVersion(n.getApiVersion());
        out.setKind(n.getKind());
        out.setMetadata(meta);
        NodeSpec spec = new NodeSpec();
        if (n.getSpec() != null) {
            spec.setTaints(n.getSpec().getTaints());
            spec.setUnschedulable(n.getSpec().getUnschedulable());
        }
        out.setSpec(spec);
        if (n.getStatus() != null) {
            NodeStatus st = new NodeStatus();
            st.setConditions(n.getStatus().getConditions());
            out.setStatus(st);
        }
        return out;
    }
}
