package io.execguard.controller;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Taint;

import io.execguard.api.Action;

/**
 * The changes a {@link Decision} asks of one Node, computed against the Node as it is. Pure.
 * Ownership: execguard only removes what carries its mark — its own annotations, its own taint key,
 * and a cordon recorded with {@code execguard.io/cordoned-by}; a node someone else cordoned stays cordoned.
 *
 * @param annotations   annotations to set (value) or remove (null value)
 * @param taint         true to add execguard's taint, false to remove it, null to leave taints alone
 * @param cordon        true to cordon (and record it), false to uncordon (only our cordon), null to leave it
 * @param condition     the {@code ExecHealthy} condition to write, or null to leave it
 */
public record NodePlan(Map<String, String> annotations, Boolean taint, Boolean cordon, NodeCondition condition) {

    public static final String ANNOTATION_HEALTH = "execguard.io/exec-health";
    public static final String ANNOTATION_REASON = "execguard.io/exec-health-reason";
    public static final String ANNOTATION_CORDONED_BY = "execguard.io/cordoned-by";
    public static final String OWNER = "execguard";
    public static final String TAINT_KEY = "execguard.io/exec-unhealthy";
    public static final String CONDITION_TYPE = "ExecHealthy";
    public static final String OPT_OUT_LABEL = "execguard.io/remediation";

    public boolean touchesSpecOrMetadata() {
        return !annotations.isEmpty() || taint != null || cordon != null;
    }

    public boolean isEmpty() {
        return !touchesSpecOrMetadata() && condition == null;
    }

    /** Human list of changes, for Events and logs: "cordoned, tainted, annotated". */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        if (cordon != null) {
            out.add(cordon ? "cordoned" : "uncordoned");
        }
        if (taint != null) {
            out.add(taint ? "tainted " + TAINT_KEY + ":NoSchedule" : "removed taint " + TAINT_KEY);
        }
        if (!annotations.isEmpty()) {
            out.add(annotations.containsValue(null) && annotations.values().stream().allMatch(Objects::isNull)
                    ? "removed annotations" : "annotated");
        }
        if (condition != null) {
            out.add("condition " + CONDITION_TYPE + "=" + condition.getStatus());
        }
        return out;
    }

    public static NodePlan plan(Node node, Decision d, String phase, String message, String now) {
        Map<String, String> have = node.getMetadata().getAnnotations() == null ? Map.of()
                : node.getMetadata().getAnnotations();
        NodeCondition current = condition(node);
        if (!d.touchNode()) {
            // Only a silent probe may still move our condition, to Unknown; otherwise hands off.
            boolean stale = io.execguard.api.RemediationStatus.SUPPRESSED_STALE.equals(d.suppressed()) && current != null && !"Unknown".equals(current.getStatus());
            return new NodePlan(Map.of(), null, null,
                    stale ? newCondition("Unknown", "ProbeNotReporting", message, now) : null);
        }
        Action a = d.action();
        Map<String, String> ann = new HashMap<>();
        if (a.atLeast(Action.Annotate)) {
            put(ann, have, ANNOTATION_HEALTH, phase);
            put(ann, have, ANNOTATION_REASON, d.reason());
        } else {
            remove(ann, have, ANNOTATION_HEALTH);
            remove(ann, have, ANNOTATION_REASON);
        }
        boolean tainted = hasTaint(node);
        Boolean taint = a.atLeast(Action.Taint) ? (tainted ? null : Boolean.TRUE) : (tainted ? Boolean.FALSE : null);
        boolean unschedulable = node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable());
        boolean ours = OWNER.equals(have.get(ANNOTATION_CORDONED_BY));
        Boolean cordon = null;
        if (a == Action.Cordon && !unschedulable) {
            cordon = Boolean.TRUE;
            put(ann, have, ANNOTATION_CORDONED_BY, OWNER);
        } else if (a != Action.Cordon && ours) {
            cordon = Boolean.FALSE;
            remove(ann, have, ANNOTATION_CORDONED_BY);
        }
        NodeCondition cond = null;
        if (a.atLeast(Action.Condition)) {
            if (current == null || !"False".equals(current.getStatus()) || !Objects.equals(current.getReason(), d.reason())) {
                cond = newCondition("False", d.reason(), message, now);
            }
        } else if (current != null && !"True".equals(current.getStatus())) {
            cond = newCondition("True", "ExecHealthy", "execguard finds exec and kill working on this node.", now);
        }
        return new NodePlan(ann, taint, cordon, cond);
    }

    private static void put(Map<String, String> ann, Map<String, String> have, String k, String v) {
        if (!Objects.equals(have.get(k), v)) {
            ann.put(k, v);
        }
    }

    private static void remove(Map<String, String> ann, Map<String, String> have, String k) {
        if (have.containsKey(k)) {
            ann.put(k, null);
        }
    }

    public static boolean hasTaint(Node node) {
        return node.getSpec() != null && node.getSpec().getTaints() != null
                && node.getSpec().getTaints().stream().anyMatch(t -> TAINT_KEY.equals(t.getKey()));
    }

    public static NodeCondition condition(Node node) {
        if (node.getStatus() == null || node.getStatus().getConditions() == null) {
            return null;
        }
        return node.getStatus().getConditions().stream().filter(c -> CONDITION_TYPE.equals(c.getType())).findFirst()
                .orElse(null);
    }

    static NodeCondition newCondition(String status, String reason, String message, String now) {
        NodeCondition c = new NodeCondition();
        c.setType(CONDITION_TYPE);
        c.setStatus(status);
        c.setReason(reason.replaceAll("[^A-Za-z0-9]", ""));
        c.setMessage(message);
        c.setLastTransitionTime(now);
        c.setLastHeartbeatTime(now);
        return c;
    }

    /** Applies the metadata/spec part to a Node object in place (the caller updates it with its resourceVersion). */
    public void applyTo(Node node) {
        Map<String, String> ann = node.getMetadata().getAnnotations() == null ? new HashMap<>()
                : new HashMap<>(node.getMetadata().getAnnotations());
        annotations.forEach((k, v) -> {
            if (v == null) {
                ann.remove(k);
            } else {
                ann.put(k, v);
            }
        });
        node.getMetadata().setAnnotations(ann);
        if (taint != null) {
            List<Taint> taints = node.getSpec().getTaints() == null ? new ArrayList<>()
                    : new ArrayList<>(node.getSpec().getTaints());
            taints.removeIf(t -> TAINT_KEY.equals(t.getKey()));
            if (taint) {
                taints.add(new Taint("NoSchedule", TAINT_KEY, null, "true"));
            }
            node.getSpec().setTaints(taints);
        }
        if (cordon != null) {
            node.getSpec().setUnschedulable(cordon ? Boolean.TRUE : null);
        }
    }
}
