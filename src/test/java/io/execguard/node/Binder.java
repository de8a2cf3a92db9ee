package io.execguard.node;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Binding;
import io.fabric8.kubernetes.api.model.BindingBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * The test's stand-in for kube-scheduler (not in the cached build): every 250 ms it binds the namespace's pending,
 * unbound pods to the one node through the {@code pods/binding} subresource, as a scheduler does — but only while
 * the node is schedulable (not cordoned), as the scheduler would. Pods with {@code spec.nodeName} set (the
 * workloads, the DaemonSet's pods) never pass through it.
 */
final class Binder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Binder.class);

    private final KubernetesClient admin;
    private final String namespace;
    private final String node;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "node-e2e-binder");
        t.setDaemon(true);
        return t;
    });

    Binder(KubernetesClient admin, String namespace, String node) {
        this.admin = admin;
        this.namespace = namespace;
        this.node = node;
    }

    Binder start() {
        loop.scheduleWithFixedDelay(this::bindPending, 0, 250, TimeUnit.MILLISECONDS);
        return this;
    }

    private void bindPending() {
        try {
            Node n = admin.nodes().withName(node).get();
            if (n == null || Boolean.TRUE.equals(n.getSpec().getUnschedulable())) {
                return;
            }
            for (Pod p : admin.pods().inNamespace(namespace).list().getItems()) {
                if (p.getSpec().getNodeName() == null && p.getMetadata().getDeletionTimestamp() == null) {
                    bind(p);
                }
            }
        } catch (KubernetesClientException e) {
            LOG.warn("binder: listing pods in {} failed: {}", namespace, e.getMessage());
        }
    }

    private void bind(Pod p) {
        Binding b = new BindingBuilder().withNewMetadata().withName(p.getMetadata().getName())
                .withNamespace(namespace).withUid(p.getMetadata().getUid()).endMetadata()
                .withNewTarget().withApiVersion("v1").withKind("Node").withName(node).endTarget().build();
        try {
            admin.bindings().inNamespace(namespace).resource(b).create();
            LOG.info("binder: bound pod {}/{} to node {}", namespace, p.getMetadata().getName(), node);
        } catch (KubernetesClientException e) {
            LOG.warn("binder: binding pod {}/{} to {} failed: {} {}", namespace, p.getMetadata().getName(), node,
                    e.getCode(), e.getMessage());
        }
    }

    @Override
    public void close() {
        loop.shutdownNow();
    }
}
