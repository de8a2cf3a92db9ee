package io.execguard.controller.decide;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Taint;

import io.execguard.api.Action;
import io.execguard.api.ConditionStatus;
import io.execguard.api.Suppression;

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

    /**
     * What execguard's marks on this Node amount to: the strongest of its cordon (with the cordoned-by mark),
     * its taint, its condition (False, or Unknown after a False) and its annotation. This — not any report —
     * is what execguard holds.
     */
    public static Action applied(Node node) {
        Map<String, String> have = node.getMetadata().getAnnotations() == null ? Map.of()
                : node.getMetadata().getAnnotations();
        if (OWNER.equals(have.get(ANNOTATION_CORDONED_BY)) && node.getSpec() != null
                && Boolean.TRUE.equals(node.getSpec().getUnschedulable())) {
            return Action.Cordon;
        }
        if (hasTaint(node)) {
            return Action.Taint;
        }
        NodeCondition c = condition(node);
        ConditionStatus status = c == null ? null : ConditionStatus.of(c.getStatus());
        if (status == ConditionStatus.False || status == ConditionStatus.Unknown) {
            return Action.Condition;
        }
        return have.containsKey(ANNOTATION_HEALTH) ? Action.Annotate : Action.None;
    }

    public static NodePlan plan(Node node, Decision d, String phase, String message, String now) {
        Map<String, String> have = node.getMetadata().getAnnotations() == null ? Map.of()
                : node.getMetadata().getAnnotations();
        NodeCondition current = condition(node);
        if (!d.touchNode()) {
            // Only a silent probe may still move our condition, from False to Unknown (never True to Unknown: a
            // probe rollout that stops every probe would otherwise mark the whole fleet); otherwise hands off.
            boolean stale = d.suppressed() == Suppression.Stale && current != null
                    && ConditionStatus.of(current.getStatus()) == ConditionStatus.False;
            return new NodePlan(Map.of(), null, null,
                    stale ? newCondition(ConditionStatus.Unknown, "ProbeNotReporting", message, now) : null);
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
        ConditionStatus have0 = current == null ? null : ConditionStatus.of(current.getStatus());
        if (a.marksUnhealthy()) {
            if (have0 != ConditionStatus.False || !Objects.equals(current.getReason(), reason(d.reason()))) {
                cond = newCondition(ConditionStatus.False, d.reason(), message, now);
            }
        } else if (current != null && have0 != ConditionStatus.True) {
            cond = newCondition(ConditionStatus.True, "ExecHealthy", "execguard finds exec and kill working on this node.",
                    now);
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

    private static String reason(String r) {
        return r.replaceAll("[^A-Za-z0-9]", "");
    }

    static NodeCondition newCondition(ConditionStatus status, String reason, String message, String now) {
        NodeCondition c = new NodeCondition();
        c.setType(CONDITION_TYPE);
        c.setStatus(status.name());
        c.setReason(reason(reason));
        c.setMessage(message);
        c.setLastTransitionTime(now);
        c.setLastHeartbeatTime(now);
        return c;
    }

    /**
     * The metadata/spec part as one JSON patch (RFC 6902) against the Node as read. Its resourceVersion makes it
     * conditional — 409 when the Node changed since — which is also what makes each operation exact: annotations
     * are set or removed key by key (a Node without any gets the map whole), the taint list, an atomic list, is
     * set as a whole — the taints as read, with ours added or removed — and the cordon is set or removed.
     */
    public List<Map<String, Object>> metadataPatch(Node read) {
        List<Map<String, Object>> ops = new ArrayList<>();
        ops.add(op("replace", "/metadata/resourceVersion", read.getMetadata().getResourceVersion()));
        Map<String, String> have = read.getMetadata().getAnnotations();
        if (have == null || have.isEmpty()) {
            Map<String, String> set = new java.util.TreeMap<>();
            annotations.forEach((k, v) -> {
                if (v != null) {
                    set.put(k, v);
                }
            });
            if (!set.isEmpty()) {
                ops.add(op("add", "/metadata/annotations", set));
            }
        } else {
            new java.util.TreeMap<>(annotations).forEach((k, v) -> {
                String path = "/metadata/annotations/" + k.replace("~", "~0").replace("/", "~1");
                if (v != null) {
                    ops.add(op("add", path, v));
                } else if (have.containsKey(k)) {
                    ops.add(Map.of("op", "remove", "path", path));
                }
            });
        }
        if (taint != null) {
            List<Taint> after = new ArrayList<>(read.getSpec() == null || read.getSpec().getTaints() == null
                    ? List.of() : read.getSpec().getTaints());
            after.removeIf(t -> TAINT_KEY.equals(t.getKey()));
            if (taint) {
                after.add(new Taint("NoSchedule", TAINT_KEY, null, "true"));
            }
            ops.add(op("add", "/spec/taints", after)); // "add" sets a member whether or not it exists
        }
        if (cordon != null) {
            if (cordon) {
                ops.add(op("add", "/spec/unschedulable", true));
            } else if (read.getSpec() != null && read.getSpec().getUnschedulable() != null) {
                ops.add(Map.of("op", "remove", "path", "/spec/unschedulable"));
            }
        }
        return ops;
    }

    private static Map<String, Object> op(String op, String path, Object value) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("op", op);
        m.put("path", path);
        m.put("value", value);
        return m;
    }
}
