package io.execguard.controller.write;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

import io.execguard.controller.decide.NodePlan;
import io.execguard.controller.fleet.Fleet;
import io.execguard.probe.Metrics;

/**
 * Applies a {@link NodePlan} to a Node planned from the informer cache, without reading it first: one JSON
 * patch of metadata and spec and one of {@code nodes/status}, each carrying the resourceVersion it was planned
 * against, so a Node changed since is refused (409) rather than overwritten. Only after a conflict is the Node
 * read again and the plan made anew against it (at most {@link #ATTEMPTS} times). What was applied is kept
 * across attempts, so a metadata write followed by a status conflict still reports both.
 */
public final class NodeWriter {

    static final int ATTEMPTS = 5;
    private static final Logger LOG = LoggerFactory.getLogger(NodeWriter.class);

    /**
     * @param applied   the changes made, in words ("tainted ...", "condition ExecHealthy=False")
     * @param node      the Node as last written or read (null when it is gone)
     * @param outcome   for the hold ledger
     * @param writtenRv the resourceVersion the last successful write produced, or null
     * @param error     the last failure, or null
     */
    public record Result(List<String> applied, Node node, Fleet.Outcome outcome, String writtenRv,
                         KubernetesClientException error) {
        public boolean changed() {
            return !applied.isEmpty();
        }
    }

    private final KubernetesClient client;
    private final Metrics metrics;

    public NodeWriter(KubernetesClient client, Metrics metrics) {
        this.client = client;
        this.metrics = metrics;
    }

    /** Writes {@code planner.apply(node)}, re-planning against a fresh read after each conflict. */
    public Result apply(Node planned, Function<Node, NodePlan> planner) {
        String name = planned.getMetadata().getName();
        List<String> applied = new ArrayList<>();
        Node cur = planned;
        String writtenRv = null;
        KubernetesClientException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            NodePlan plan = planner.apply(cur);
            if (plan.isEmpty()) {
                return result(applied, cur, writtenRv, null, false);
            }
            try {
                if (plan.touchesSpecOrMetadata()) {
                    // resource(...), not withName(name): fabric8 would GET the Node before patching it
                    cur = client.nodes().resource(PatchTarget.node(name)).patch(PatchContext.of(PatchType.JSON),
                            json(plan.metadataPatch(cur)));
                    writtenRv = cur.getMetadata().getResourceVersion();
                    metrics.inc("execguard_node_writes_total", "object", "node");
                    applied.addAll(new NodePlan(plan.annotations(), plan.taint(), plan.cordon(), null).describe());
                }
                if (plan.condition() != null) {
                    cur = patchCondition(cur, keepTransitionTime(cur, plan.condition()));
                    writtenRv = cur.getMetadata().getResourceVersion();
                    metrics.inc("execguard_node_writes_total", "object", "node-status");
                    applied.add("condition " + NodePlan.CONDITION_TYPE + "=" + plan.condition().getStatus());
                }
                return result(applied, cur, writtenRv, null, false);
            } catch (KubernetesClientException e) {
                last = e;
                if (e.getCode() == 409) {
                    LOG.debug("node {}: conflict, reading it again (attempt {})", name, attempt);
                    metrics.inc("execguard_node_conflicts_total");
                    try {
                        cur = client.nodes().withName(name).get();
                    } catch (KubernetesClientException readFailed) {
                        return result(applied, cur, writtenRv, readFailed, true);
                    }
                    if (cur == null) {
                        return result(applied, null, writtenRv, e, false);
                    }
                    continue;
                }
                boolean definite = e.getCode() >= 400 && e.getCode() < 500;
                LOG.warn("node {}: write failed ({}): {}{}", name, e.getCode(), e.getMessage(),
                        e.getCause() == null ? "" : " (" + e.getCause() + ")");
                return result(applied, cur, writtenRv, e, !definite);
            }
        }
        LOG.warn("node {}: still conflicting after {} attempts; the next reconcile tries again", name, ATTEMPTS);
        return result(applied, cur, writtenRv, last, false);
    }

    private static Result result(List<String> applied, Node node, String writtenRv, KubernetesClientException error,
                                 boolean ambiguous) {
        Fleet.Outcome o = ambiguous ? Fleet.Outcome.Ambiguous
                : applied.isEmpty() ? Fleet.Outcome.NotWritten : Fleet.Outcome.Written;
        return new Result(List.copyOf(applied), node, o, writtenRv, error);
    }

    private String json(Object o) {
        return client.getKubernetesSerialization().asJson(o);
    }

    /** The condition as it should be written: its transition time stays while its status does not change. */
    static NodeCondition keepTransitionTime(Node node, NodeCondition c) {
        NodeCondition prev = NodePlan.condition(node);
        if (prev != null && Objects.equals(prev.getStatus(), c.getStatus())) {
            c.setLastTransitionTime(prev.getLastTransitionTime());
        }
        return c;
    }

    /**
     * Our condition into status.conditions by a JSON patch of nodes/status: it replaces or appends only our entry,
     * by its index in the Node as read, with that read's resourceVersion (409 if anyone changed the Node since).
     */
    private Node patchCondition(Node read, NodeCondition c) {
        List<NodeCondition> conds = read.getStatus() == null || read.getStatus().getConditions() == null ? List.of()
                : read.getStatus().getConditions();
        int at = -1;
        for (int i = 0; i < conds.size(); i++) {
            if (NodePlan.CONDITION_TYPE.equals(conds.get(i).getType())) {
                at = i;
            }
        }
        List<Map<String, Object>> ops = new ArrayList<>();
        ops.add(Map.of("op", "replace", "path", "/metadata/resourceVersion",
                "value", read.getMetadata().getResourceVersion()));
        if (read.getStatus() == null) {
            ops.add(Map.of("op", "add", "path", "/status", "value", Map.of("conditions", List.of(c))));
        } else if (conds.isEmpty()) {
            // fabric8 reads an absent list as empty: "add .../conditions/-" would be 422 on a Node without
            // conditions, so set the whole list (safe: the resourceVersion above says it is still empty)
            ops.add(Map.of("op", "add", "path", "/status/conditions", "value", List.of(c)));
        } else if (at < 0) {
            ops.add(Map.of("op", "add", "path", "/status/conditions/-", "value", c));
        } else {
            ops.add(Map.of("op", "replace", "path", "/status/conditions/" + at, "value", c));
        }
        return client.nodes().resource(PatchTarget.node(read.getMetadata().getName())).subresource("status")
                .patch(PatchContext.of(PatchType.JSON), json(ops));
    }
}
