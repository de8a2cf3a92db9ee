package io.execguard.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Taint;

import io.execguard.api.Action;

/** What a decision asks of a Node, given the Node as it is: ownership rules, one row each. */
class NodePlanTest {

    static Node node(boolean unschedulable, Map<String, String> annotations, Taint... taints) {
        return new NodeBuilder().withNewMetadata().withName("n1").withAnnotations(new HashMap<>(annotations))
                .endMetadata().withNewSpec().withUnschedulable(unschedulable ? true : null).withTaints(taints).endSpec()
                .build();
    }

    static Decision d(Action a) {
        return new Decision(a, a, "FuseRequest", null, a.atLeast(Action.Condition) ? "False" : null, null, null, null,
                true, null);
    }

    @Test
    void cordonRecordsOwnershipAndTaintsWithoutTouchingOtherTaints() {
        Node n = node(false, Map.of(), new Taint("NoSchedule", "gpu", null, "true"));
        NodePlan p = NodePlan.plan(n, d(Action.Cordon), "Unhealthy", "stuck", "t");
        assertEquals(Boolean.TRUE, p.cordon());
        assertEquals(Boolean.TRUE, p.taint());
        assertEquals("execguard", p.annotations().get(NodePlan.ANNOTATION_CORDONED_BY));
        p.applyTo(n);
        assertTrue(n.getSpec().getUnschedulable());
        assertEquals(2, n.getSpec().getTaints().size());
        assertEquals("False", p.condition().getStatus());
        // applying the same decision again asks for nothing but an unchanged condition
        NodePlan again = NodePlan.plan(n, d(Action.Cordon), "Unhealthy", "stuck", "t");
        assertFalse(again.touchesSpecOrMetadata());
    }

    @Test
    void someoneElsesCordonIsNeitherClaimedNorUndone() {
        Node theirs = node(true, Map.of());
        NodePlan p = NodePlan.plan(theirs, d(Action.Cordon), "Unhealthy", "stuck", "t");
        assertNull(p.cordon());
        assertFalse(p.annotations().containsKey(NodePlan.ANNOTATION_CORDONED_BY));
        NodePlan release = NodePlan.plan(theirs, d(Action.None), "Healthy", "ok", "t");
        assertNull(release.cordon(), "not ours to uncordon");
    }

    @Test
    void releaseRemovesOnlyWhatIsOurs() {
        Node ours = node(true, Map.of(NodePlan.ANNOTATION_CORDONED_BY, "execguard", NodePlan.ANNOTATION_HEALTH,
                "Unhealthy", NodePlan.ANNOTATION_REASON, "FuseRequest", "team", "storage"),
                new Taint("NoSchedule", NodePlan.TAINT_KEY, null, "true"), new Taint("NoSchedule", "gpu", null, "true"));
        NodePlan p = NodePlan.plan(ours, d(Action.None), "Healthy", "ok", "t");
        assertEquals(Boolean.FALSE, p.cordon());
        assertEquals(Boolean.FALSE, p.taint());
        p.applyTo(ours);
        assertNull(ours.getSpec().getUnschedulable());
        assertEquals("gpu", ours.getSpec().getTaints().get(0).getKey());
        assertEquals(Map.of("team", "storage"), ours.getMetadata().getAnnotations());
    }

    @Test
    void untouchableDecisionsChangeNothingButAStaleConditionGoesUnknown() {
        Node n = node(false, Map.of());
        Decision optOut = new Decision(Action.Cordon, Action.Cordon, "FuseRequest", "optOut", "False", null, null, null,
                false, null);
        assertTrue(NodePlan.plan(n, optOut, "Unhealthy", "m", "t").isEmpty());
        n.setStatus(new io.fabric8.kubernetes.api.model.NodeStatus());
        n.getStatus().setConditions(new java.util.ArrayList<>(java.util.List.of(
                NodePlan.newCondition("False", "FuseRequest", "m", "t0"))));
        Decision stale = new Decision(Action.Cordon, Action.Cordon, "ProbeNotReporting", "stale", "Unknown", "Unknown",
                null, null, false, null);
        NodePlan p = NodePlan.plan(n, stale, "Unknown", "silent", "t");
        assertFalse(p.touchesSpecOrMetadata());
        assertEquals("Unknown", p.condition().getStatus());
    }
}
