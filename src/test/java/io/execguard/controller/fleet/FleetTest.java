package io.execguard.controller.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Taint;

import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.MountStatus;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.PolicyResolver;
import io.execguard.api.TestFindings;
import io.execguard.controller.decide.DecisionInput.Slot;
import io.execguard.controller.decide.NodePlan;
import io.execguard.controller.read.PolicyReading;
import io.execguard.detect.Cause;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/** The hold ledger and the fleet snapshot: what is counted, when a slot is taken and when it is freed. */
class FleetTest {

    static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
    final Map<String, Node> nodes = new ConcurrentHashMap<>();
    final Map<String, NodeExecHealth> reports = new ConcurrentHashMap<>();
    final List<ExecHealthPolicy> policies = new ArrayList<>();
    final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    Fleet fleet;
    int rv = 1;

    @BeforeEach
    void setUp() {
        fleet = new Fleet(Fleet.source(() -> nodes.values().stream(), () -> reports.values().stream(), () -> policies),
                Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofSeconds(60), Duration.ofSeconds(1), nanos::get);
    }

    void tick(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    Node node(String name, Map<String, String> labels, boolean held) {
        Node n = new NodeBuilder().withNewMetadata().withName(name).withLabels(labels)
                .withResourceVersion(String.valueOf(rv++)).endMetadata().withNewSpec().endSpec().build();
        if (held) {
            n.getSpec().setTaints(new ArrayList<>(List.of(new Taint("NoSchedule", NodePlan.TAINT_KEY, null, "true"))));
        }
        nodes.put(name, n);
        return n;
    }

    void failing(String name, MountStatus mount) {
        NodeExecHealth r = new NodeExecHealth();
        r.getMetadata().setName(name);
        NodeExecHealthStatus s = new NodeExecHealthStatus();
        s.setLastProbeTime(NOW.toString());
        s.setFindings(List.of(TestFindings.finding(Severity.Critical, Scope.Node,
                mount == null ? Cause.FuseRequest : Cause.CephRequest, mount)));
        r.setStatus(s);
        reports.put(name, r);
    }

    static PolicyReading.Limits cap(int n) {
        return new PolicyReading.Limits(n, 1000, 2, 1000);
    }

    ExecHealthPolicy policy(String name, Map<String, String> selector, int max) {
        ExecHealthPolicy p = new ExecHealthPolicy();
        p.getMetadata().setName(name);
        p.setSpec(new ExecHealthPolicySpec());
        p.getSpec().setNodeSelector(selector);
        p.getSpec().setMaxUnhealthy(new IntOrString(max));
        policies.add(p);
        fleet.invalidate();
        return p;
    }

    @Test
    void heldNodesAreCountedFromTheNodesNotFromAnyReport() {
        node("a", Map.of(), true);
        node("b", Map.of(), false);
        // a report claiming b is cordoned changes nothing: the ledger never reads status.remediation
        failing("b", null);
        reports.get("b").getStatus().setRemediation(new io.execguard.api.RemediationStatus(
                io.execguard.api.Action.Cordon, NOW.toString(), "x", null));
        assertEquals(1, fleet.marked(PolicyResolver.DEFAULTS));
        assertEquals(Slot.Full, fleet.reserve("", "b", "2", false, cap(1)), "a holds the only slot");
        assertEquals(Slot.Granted, fleet.reserve("", "b", "2", false, cap(2)));
    }

    @Test
    void aSlotIsReservedBeforeTheWriteAndCountsUntilTheCacheShowsIt() {
        node("a", Map.of(), false);
        node("b", Map.of(), false);
        assertEquals(Slot.Granted, fleet.reserve("", "a", "1", false, cap(1)));
        assertEquals(Slot.Full, fleet.reserve("", "b", "2", false, cap(1)), "the reservation counts at once");
        fleet.settle("a", Fleet.Outcome.Written, "10");
        tick(Duration.ofSeconds(2));
        assertEquals(Slot.Full, fleet.reserve("", "b", "2", false, cap(1)), "cache still at rv 1: still counted");
        // the informer delivers the write: from now on the Node itself is what counts
        Node a = node("a", Map.of(), true);
        a.getMetadata().setResourceVersion("10");
        tick(Duration.ofSeconds(2));
        assertEquals(Slot.Full, fleet.reserve("", "b", "2", false, cap(1)));
        assertEquals(1, fleet.marked(""));
    }

    @Test
    void aFailedWriteFreesItsSlotAndAnAmbiguousOneHoldsItAWhile() {
        node("a", Map.of(), false);
        node("b", Map.of(), false);
        assertEquals(Slot.Granted, fleet.reserve("", "a", "1", false, cap(1)));
        fleet.settle("a", Fleet.Outcome.NotWritten, null);
        assertEquals(Slot.Granted, fleet.reserve("", "b", "2", false, cap(1)), "refused write: slot free again");
        fleet.settle("b", Fleet.Outcome.Ambiguous, null);
        tick(Duration.ofSeconds(5));
        assertEquals(Slot.Full, fleet.reserve("", "a", "1", false, cap(1)), "a timeout may have written: counted");
        tick(Fleet.AMBIGUOUS_HOLD);
        assertEquals(Slot.Granted, fleet.reserve("", "a", "1", false, cap(1)), "the cache shows it did not");
    }

    @Test
    void anAmbiguousWriteHoldsItsSlotUntilTheCacheShowsTheNodePastItsVersion() {
        node("a", Map.of(), false); // rv 1
        node("b", Map.of(), false); // rv 2
        assertEquals(Slot.Granted, fleet.reserve("", "a", "1", false, cap(1)));
        fleet.settle("a", Fleet.Outcome.Ambiguous, null); // a timed-out cordon: it may land later
        tick(Duration.ofSeconds(30));
        assertEquals(Slot.Full, fleet.reserve("", "b", "2", false, cap(1)),
                "30 s on: the cordon may still be queued at the API server or not in the cache yet");
        node("a", Map.of(), true); // it landed: the cache shows a, cordoned, at a later version
        tick(Duration.ofSeconds(2));
        assertEquals(Slot.Full, fleet.reserve("", "b", "2", false, cap(1)), "counted from the Node itself");
        node("a", Map.of(), false); // released later (or someone else's write won): a newer version, unmarked
        tick(Duration.ofSeconds(2));
        assertEquals(Slot.Granted, fleet.reserve("", "b", "2", false, cap(1)),
                "past the version it was made against, the lost write can no longer land");
    }

    @Test
    void aDeletedNodeFreesItsSlot() {
        node("a", Map.of(), true);
        node("b", Map.of(), false);
        assertEquals(Slot.Full, fleet.reserve("", "b", "2", false, cap(1)));
        nodes.remove("a"); // the autoscaler deleted the bad node (and its report)
        tick(Duration.ofSeconds(2));
        assertEquals(Slot.Granted, fleet.reserve("", "b", "2", false, cap(1)));
        // and a reserved node deleted before its write landed frees its reservation too
        node("c", Map.of(), false);
        fleet.settle("b", Fleet.Outcome.Written, "99");
        nodes.remove("b");
        tick(Duration.ofSeconds(2));
        assertEquals(Slot.Granted, fleet.reserve("", "c", "3", false, cap(1)));
    }

    @Test
    void aReservationWhoseWriteNeverEndedIsFreedWhenItsNodeIsDeleted() {
        node("a", Map.of(), false);
        node("b", Map.of(), false);
        assertEquals(Slot.Granted, fleet.reserve("", "a", "1", false, cap(1))); // and its reconcile died: no settle
        tick(Duration.ofSeconds(2));
        assertEquals(Slot.Full, fleet.reserve("", "b", "2", false, cap(1)), "its write may still be on its way");
        nodes.remove("a");
        tick(Duration.ofSeconds(2));
        assertEquals(Slot.Granted, fleet.reserve("", "b", "2", false, cap(1)), "a deleted Node takes no write");
    }

    @Test
    void aReleasedNodeFreesItsSlotOnlyOnceTheCacheShowsTheRelease() {
        Node a = node("a", Map.of(), true);
        node("b", Map.of(), false);
        assertEquals(Slot.Full, fleet.reserve("", "b", "2", false, cap(1)));
        tick(Duration.ofSeconds(2));
        assertEquals(Slot.Full, fleet.reserve("", "b", "2", false, cap(1)), "release written but not seen: held");
        a.getSpec().setTaints(new ArrayList<>());
        tick(Duration.ofSeconds(2));
        assertEquals(Slot.Granted, fleet.reserve("", "b", "2", false, cap(1)));
    }

    @Test
    void eachPolicyHasItsOwnCapAndUnselectedNodesTheDefaults() {
        policy("gpu", Map.of("pool", "gpu"), 1);
        node("g1", Map.of("pool", "gpu"), true);
        node("g2", Map.of("pool", "gpu"), false);
        node("w1", Map.of("pool", "web"), false);
        Fleet.Snapshot s = fleet.snapshot();
        assertEquals("gpu", s.nodes().get("g1").policyKey());
        assertEquals(PolicyResolver.DEFAULTS, s.nodes().get("w1").policyKey(), "no policy selects w1: the defaults");
        assertEquals(Slot.Full, fleet.reserve("gpu", "g2", "2", false, cap(1)));
        assertEquals(Slot.Granted, fleet.reserve("", "w1", "3", false, cap(1)), "the gpu hold is not the defaults'");
        assertEquals(1, fleet.marked("gpu"));
        assertEquals(2, fleet.markedAll(), "the metric: g1 marked under gpu, w1 reserved under the defaults");
        fleet.settle("w1", Fleet.Outcome.NotWritten, null);
        assertEquals(1, fleet.markedAll(), "a reservation that wrote nothing is not held");
        assertEquals(Slot.Granted, fleet.reserve("gpu", "g1", "1", false, cap(1)), "already marked: its own slot");
        assertEquals(1, fleet.markedAll(), "a marked node asks no new slot");
        assertEquals(Slot.Granted, fleet.reserve("", "w1", "3", false, cap(1)));
        node("w1", Map.of("pool", "web"), true); // its write landed; the reservation is not settled yet
        tick(Duration.ofSeconds(2));
        fleet.snapshot();
        assertEquals(2, fleet.markedAll(), "a reservation whose Node the cache shows marked counts once");
    }

    @Test
    void overlappingPoliciesAreResolvedByNameAndReported() {
        policy("b-wide", Map.of(), 5);
        policy("a-gpu", Map.of("pool", "gpu"), 5);
        node("g1", Map.of("pool", "gpu"), false);
        node("w1", Map.of("pool", "web"), false);
        Fleet.Snapshot s = fleet.snapshot();
        assertEquals("a-gpu", s.nodes().get("g1").policyKey());
        assertEquals("b-wide", s.nodes().get("w1").policyKey());
        assertEquals(Map.of("b-wide", 1), s.policy("a-gpu").overlapping());
        assertEquals(Map.of("a-gpu", 1), s.policy("b-wide").overlapping());
    }

    @Test
    void theRateLimitCountsGrantsPerMinute() {
        for (int i = 0; i < 5; i++) {
            node("n" + i, Map.of(), false);
        }
        PolicyReading.Limits twoPerMinute = new PolicyReading.Limits(10, 1000, 2, 2);
        assertEquals(Slot.Granted, fleet.reserve("", "n0", "1", false, twoPerMinute));
        assertEquals(Slot.Granted, fleet.reserve("", "n1", "2", false, twoPerMinute));
        assertEquals(Slot.RateLimited, fleet.reserve("", "n2", "3", false, twoPerMinute));
        assertEquals(Slot.Granted, fleet.reserve("", "n0", "1", false, twoPerMinute), "already counted: no new grant");
        tick(Duration.ofSeconds(61));
        assertEquals(Slot.Granted, fleet.reserve("", "n2", "3", false, twoPerMinute));
    }

    @Test
    void dryRunCountsWouldBeMarksApartFromRealOnes() {
        node("a", Map.of(), false);
        node("b", Map.of(), false);
        assertEquals(Slot.Granted, fleet.reserve("", "a", "1", true, cap(1)));
        assertEquals(Slot.Full, fleet.reserve("", "b", "2", true, cap(1)), "the dry run reports the cap as it would be");
        assertEquals(Slot.Granted, fleet.reserve("", "b", "2", false, cap(1)), "a real mark ignores would-be ones");
        fleet.forgetDry("a");
        fleet.settle("b", Fleet.Outcome.NotWritten, null);
        assertEquals(Slot.Granted, fleet.reserve("", "b", "2", true, cap(1)));
    }

    @Test
    void incidentsAndTheFailingShareComeFromFreshReports() {
        policy("p", Map.of(), 5);
        MountStatus ceph = new MountStatus("ceph", "10.0.0.1:6789:/", "/data", null);
        for (String n : List.of("c1", "c2", "c3", "h1")) {
            node(n, Map.of(), false);
        }
        failing("c1", ceph);
        failing("c2", ceph);
        failing("c3", null);
        Fleet.Snapshot s = fleet.snapshot();
        assertEquals(Map.of("CephRequest@ceph 10.0.0.1:6789:/", java.util.Set.of("c1", "c2")), s.incidents());
        assertEquals(java.util.Set.of("CephRequest@ceph 10.0.0.1:6789:/"), s.incidentsFor("p"));
        assertEquals(3, s.policy("p").failing());
        assertTrue(s.policy("p").storm(), "3 of 4 failing is more than the default 50%");
        // a stale report is not failing (and not an incident)
        reports.get("c2").getStatus().setLastProbeTime(NOW.minus(Duration.ofHours(1)).toString());
        fleet.invalidate();
        s = fleet.snapshot();
        assertEquals(2, s.policy("p").failing());
        assertFalse(s.policy("p").storm(), "2 of 4 is not more than 50%");
        assertTrue(s.incidentsFor("p").isEmpty());
    }

    @Test
    void resourceVersionsCompareNumericallyWhenTheyAreNumbers() {
        assertTrue(Fleet.atOrPast("12", "9"));
        assertTrue(Fleet.atOrPast("9", "9"));
        assertFalse(Fleet.atOrPast("8", "9"));
        assertFalse(Fleet.atOrPast("abc", "9"));
        assertTrue(Fleet.atOrPast("abc", "abc"));
    }
}
