package io.execguard.controller.decide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeStatus;
import io.fabric8.kubernetes.api.model.Taint;

import io.execguard.api.Action;
import io.execguard.api.ConditionStatus;
import io.execguard.api.Suppression;

/** What a decision asks of a Node, given the Node as it is: ownership rules, one row each. */
class NodePlanTest {

    static Node node(boolean unschedulable, Map<String, String> annotations, Taint... taints) {
        return new NodeBuilder().withNewMetadata().withName("n1").withResourceVersion("7")
                .withAnnotations(new HashMap<>(annotations)).endMetadata().withNewSpec()
                .withUnschedulable(unschedulable ? true : null).withTaints(taints).endSpec().build();
    }

    static Decision d(Action a) {
        return new Decision(a, a, "FuseRequest", null, null, null, null, true, null, false);
    }

    /** The value of the patch operation on {@code path}, or "absent" / "removed". */
    static Object at(List<Map<String, Object>> patch, String path) {
        for (Map<String, Object> op : patch) {
            if (path.equals(op.get("path"))) {
                return "remove".equals(op.get("op")) ? "removed" : op.get("value");
            }
        }
        return "absent";
    }

    @Test
    void cordonRecordsOwnershipAndTaintsWithoutTouchingOtherTaints() {
        Node n = node(false, Map.of(), new Taint("NoSchedule", "gpu", null, "true"));
        NodePlan p = NodePlan.plan(n, d(Action.Cordon), "Unhealthy", "stuck", "t");
        assertEquals(Boolean.TRUE, p.cordon());
        assertEquals(Boolean.TRUE, p.taint());
        assertEquals("execguard", p.annotations().get(NodePlan.ANNOTATION_CORDONED_BY));
        assertEquals("False", p.condition().getStatus());
        List<Map<String, Object>> patch = p.metadataPatch(n);
        assertEquals("7", at(patch, "/metadata/resourceVersion"), "conditional on the version planned from");
        assertEquals(2, ((List<?>) at(patch, "/spec/taints")).size(), "the whole atomic list: theirs and ours");
        assertEquals(true, at(patch, "/spec/unschedulable"));
        assertEquals(Map.of(NodePlan.ANNOTATION_CORDONED_BY, "execguard", NodePlan.ANNOTATION_HEALTH, "Unhealthy",
                NodePlan.ANNOTATION_REASON, "FuseRequest"), at(patch, "/metadata/annotations"),
                "a Node without annotations gets the map whole");
        // the same decision on the Node as patched asks for nothing more
        n.getSpec().setUnschedulable(true);
        n.getSpec().setTaints(new ArrayList<>(List.of(new Taint("NoSchedule", "gpu", null, "true"),
                new Taint("NoSchedule", NodePlan.TAINT_KEY, null, "true"))));
        n.getMetadata().getAnnotations().putAll(Map.of(NodePlan.ANNOTATION_CORDONED_BY, "execguard",
                NodePlan.ANNOTATION_HEALTH, "Unhealthy", NodePlan.ANNOTATION_REASON, "FuseRequest"));
        assertFalse(NodePlan.plan(n, d(Action.Cordon), "Unhealthy", "stuck", "t").touchesSpecOrMetadata());
        assertEquals(Action.Cordon, NodePlan.applied(n));
    }

    @Test
    void someoneElsesCordonIsNeitherClaimedNorUndoneNorCounted() {
        Node theirs = node(true, Map.of());
        NodePlan p = NodePlan.plan(theirs, d(Action.Cordon), "Unhealthy", "stuck", "t");
        assertNull(p.cordon());
        assertFalse(p.annotations().containsKey(NodePlan.ANNOTATION_CORDONED_BY));
        assertNull(NodePlan.plan(theirs, d(Action.None), "Healthy", "ok", "t").cordon(), "not ours to uncordon");
        assertEquals(Action.None, NodePlan.applied(theirs), "someone else's cordon is not execguard's hold");
    }

    @Test
    void releaseRemovesOnlyWhatIsOurs() {
        Node ours = node(true, Map.of(NodePlan.ANNOTATION_CORDONED_BY, "execguard", NodePlan.ANNOTATION_HEALTH,
                "Unhealthy", NodePlan.ANNOTATION_REASON, "FuseRequest", "team", "storage"),
                new Taint("NoSchedule", NodePlan.TAINT_KEY, null, "true"), new Taint("NoSchedule", "gpu", null, "true"));
        NodePlan p = NodePlan.plan(ours, d(Action.None), "Healthy", "ok", "t");
        assertEquals(Boolean.FALSE, p.cordon());
        assertEquals(Boolean.FALSE, p.taint());
        List<Map<String, Object>> patch = p.metadataPatch(ours);
        assertEquals("removed", at(patch, "/metadata/annotations/execguard.io~1cordoned-by"));
        assertEquals("removed", at(patch, "/metadata/annotations/execguard.io~1exec-health"));
        assertEquals("absent", at(patch, "/metadata/annotations/team"), "others' annotations are not touched");
        assertEquals(List.of(new Taint("NoSchedule", "gpu", null, "true")), at(patch, "/spec/taints"));
        assertEquals("removed", at(patch, "/spec/unschedulable"));
    }

    @Test
    void appliedComesFromTheMarksOnTheNode() {
        assertEquals(Action.None, NodePlan.applied(node(false, Map.of())));
        assertEquals(Action.Annotate, NodePlan.applied(node(false, Map.of(NodePlan.ANNOTATION_HEALTH, "Degraded"))));
        assertEquals(Action.Taint, NodePlan.applied(node(false, Map.of(),
                new Taint("NoSchedule", NodePlan.TAINT_KEY, null, "true"))));
        Node cond = node(false, Map.of());
        cond.setStatus(new NodeStatus());
        cond.getStatus().setConditions(new ArrayList<>(List.of(
                NodePlan.newCondition(ConditionStatus.False, "FuseRequest", "m", "t0"))));
        assertEquals(Action.Condition, NodePlan.applied(cond));
        cond.getStatus().getConditions().get(0).setStatus("Unknown");
        assertEquals(Action.Condition, NodePlan.applied(cond), "an Unknown after a False still counts");
        cond.getStatus().getConditions().get(0).setStatus("True");
        assertEquals(Action.None, NodePlan.applied(cond));
    }

    @Test
    void untouchableDecisionsChangeNothingButAStaleFalseConditionGoesUnknown() {
        Node n = node(false, Map.of());
        Decision optOut = new Decision(Action.Cordon, Action.None, "FuseRequest", Suppression.OptOut, null, null, null,
                false, null, false);
        assertTrue(NodePlan.plan(n, optOut, "Unhealthy", "m", "t").isEmpty());
        n.setStatus(new NodeStatus());
        n.getStatus().setConditions(new ArrayList<>(List.of(
                NodePlan.newCondition(ConditionStatus.False, "FuseRequest", "m", "t0"))));
        Decision stale = new Decision(Action.Cordon, Action.Cordon, "ProbeNotReporting", Suppression.Stale,
                io.execguard.api.Phase.Unknown, null, null, false, null, false);
        NodePlan p = NodePlan.plan(n, stale, "Unknown", "silent", "t");
        assertFalse(p.touchesSpecOrMetadata());
        assertEquals("Unknown", p.condition().getStatus());
        n.getStatus().getConditions().get(0).setStatus("True");
        assertNull(NodePlan.plan(n, stale, "Unknown", "silent", "t").condition(),
                "a silent probe never turns True into Unknown (a probe rollout would mark the whole fleet)");
    }
}
