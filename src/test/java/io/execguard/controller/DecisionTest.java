package io.execguard.controller;

import io.execguard.api.Action;
import io.execguard.api.RemediationStatus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.execguard.controller.DecisionInput.FindingView;
import io.execguard.controller.DecisionInput.Fleet;
import io.execguard.controller.DecisionInput.Node;
import io.execguard.controller.DecisionInput.Policy;
import io.execguard.controller.DecisionInput.Prior;
import io.execguard.controller.DecisionInput.Report;
import io.execguard.detect.Cause;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/** Every transition of the decision, one row each. */
class DecisionTest {

    static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
    static final Policy POLICY = new Policy(Map.of(
            Severity.Critical, Map.of(Scope.Node, Action.Cordon, Scope.Container, Action.Annotate),
            Severity.Warning, Map.of(Scope.Node, Action.Condition, Scope.Container, Action.Annotate)),
            Duration.ofMinutes(5), Duration.ofMinutes(3), 2, false);
    static final Node NODE = new Node("n1", false);
    static final Fleet EMPTY = new Fleet(Set.of(), Set.of());

    static Report report(FindingView... fs) {
        return new Report(NOW.minusSeconds(10), List.of(fs));
    }

    static FindingView f(Severity s, Scope scope) {
        return new FindingView(s, scope, Cause.FuseRequest, null);
    }

    @Test
    void healthyNodeGetsNothing() {
        Decision d = Decision.decide(report(), NODE, POLICY, EMPTY, Prior.NONE, NOW);
        assertEquals(Action.None, d.action());
        assertEquals("True", d.condition());
        assertEquals(NOW, d.healthySince());
    }

    @Test
    void ladderBySeverityAndScope() {
        assertEquals(Action.Cordon, Decision.decide(report(f(Severity.Critical, Scope.Node)), NODE, POLICY, EMPTY,
                Prior.NONE, NOW).action());
        assertEquals(Action.Condition, Decision.decide(report(f(Severity.Warning, Scope.Node)), NODE, POLICY, EMPTY,
                Prior.NONE, NOW).action());
        assertEquals(Action.Annotate, Decision.decide(report(f(Severity.Critical, Scope.Container)), NODE, POLICY,
                EMPTY, Prior.NONE, NOW).action());
        // the strongest finding wins
        Decision both = Decision.decide(report(f(Severity.Warning, Scope.Container), f(Severity.Critical, Scope.Node)),
                NODE, POLICY, EMPTY, Prior.NONE, NOW);
        assertEquals(Action.Cordon, both.action());
        assertEquals("False", both.condition());
        assertEquals(NOW, both.since());
    }

    @Test
    void containerScopeAloneNeverCordonsEvenIfThePolicySaysSo() {
        Policy aggressive = new Policy(Map.of(Severity.Critical, Map.of(Scope.Container, Action.Cordon)),
                Duration.ofMinutes(5), Duration.ofMinutes(3), 2, false);
        assertEquals(Action.Taint, Decision.decide(report(f(Severity.Critical, Scope.Container)), NODE, aggressive,
                EMPTY, Prior.NONE, NOW).action());
    }

    @Test
    void releaseOnlyAfterReleaseAfterOfContinuousHealth() {
        Prior held = new Prior(Action.Cordon, NOW.minusSeconds(600), null);
        Decision first = Decision.decide(report(), NODE, POLICY, EMPTY, held, NOW);
        assertEquals(Action.Cordon, first.action());
        assertEquals("Recovering", first.reason());
        Prior recovering = new Prior(Action.Cordon, held.since(), NOW);
        assertEquals(Action.Cordon, Decision.decide(report(), NODE, POLICY, EMPTY, recovering,
                NOW.plusSeconds(299)).action());
        Decision released = Decision.decide(new Report(NOW.plusSeconds(300), List.of()), NODE, POLICY, EMPTY,
                recovering, NOW.plusSeconds(300));
        assertEquals(Action.None, released.action());
        assertEquals("True", released.condition());
        // a relapse resets the healthy stretch
        Decision relapse = Decision.decide(report(f(Severity.Critical, Scope.Node)), NODE, POLICY, EMPTY, recovering, NOW);
        assertNull(relapse.healthySince());
        assertEquals(held.since(), relapse.since());
    }

    @Test
    void staleReportIsUnknownWithNoNewActionAndNoRelease() {
        Report stale = new Report(NOW.minusSeconds(181), List.of());
        Prior held = new Prior(Action.Taint, NOW.minusSeconds(900), NOW.minusSeconds(899));
        Decision d = Decision.decide(stale, NODE, POLICY, EMPTY, held, NOW);
        assertEquals(Action.Taint, d.action());
        assertEquals("Unknown", d.condition());
        assertEquals("Unknown", d.phaseOverride());
        assertFalse(d.touchNode());
        Decision never = Decision.decide(new Report(null, List.of(f(Severity.Critical, Scope.Node))), NODE, POLICY,
                EMPTY, Prior.NONE, NOW);
        assertEquals(Action.None, never.action());
        assertEquals("stale", never.suppressed());
    }

    @Test
    void optOutLabelAndDryRunNeverTouchTheNodeButStillDecide() {
        Node optOut = new Node("n1", true);
        Decision d = Decision.decide(report(f(Severity.Critical, Scope.Node)), optOut, POLICY, EMPTY, Prior.NONE, NOW);
        assertEquals(Action.Cordon, d.wanted());
        assertFalse(d.touchNode());
        assertEquals("optOut", d.suppressed());
        Policy dry = new Policy(POLICY.ladder(), POLICY.releaseAfter(), POLICY.staleAfter(), 2, true);
        Decision dd = Decision.decide(report(f(Severity.Critical, Scope.Node)), NODE, dry, EMPTY, Prior.NONE, NOW);
        assertEquals(Action.Cordon, dd.action());
        assertFalse(dd.touchNode());
        assertEquals("dryRun", dd.suppressed());
    }

    @Test
    void maxUnhealthyCapsNewHoldsButKeepsExistingOnes() {
        Fleet full = new Fleet(Set.of("n7", "n8"), Set.of());
        Decision capped = Decision.decide(report(f(Severity.Critical, Scope.Node)), NODE, POLICY, full, Prior.NONE, NOW);
        assertEquals(Action.Cordon, capped.wanted());
        assertEquals(Action.Condition, capped.action());
        assertEquals("maxUnhealthy", capped.suppressed());
        assertTrue(capped.touchNode());
        Decision kept = Decision.decide(report(f(Severity.Critical, Scope.Node)), NODE, POLICY, full,
                new Prior(Action.Cordon, NOW.minusSeconds(60), null), NOW);
        assertEquals(Action.Cordon, kept.action());
        assertNull(kept.suppressed());
    }

    @Test
    void sharedBackendIsNamedAsOneIncident() {
        FindingView ceph = new FindingView(Severity.Critical, Scope.Node, Cause.CephRequest, "10.0.0.1:6789:/");
        Fleet fleet = new Fleet(Set.of(), Set.of("CephRequest@10.0.0.1:6789:/"));
        Decision d = Decision.decide(report(ceph), NODE, POLICY, fleet, Prior.NONE, NOW);
        assertEquals("CephRequest@10.0.0.1:6789:/", d.incident());
        assertNull(Decision.decide(report(ceph), NODE, POLICY, EMPTY, Prior.NONE, NOW).incident());
    }

    // ---- an unreadable policy (issue 11 point 4): no new hold, no release, until it is fixed ----

    static final Policy INVALID = new Policy(POLICY.ladder(), POLICY.releaseAfter(), POLICY.staleAfter(), 0, false,
            false);

    @Test
    void invalidPolicyStartsNoHoldButStillSetsTheCondition() {
        Decision d = Decision.decide(report(f(Severity.Critical, Scope.Node)), NODE, INVALID, EMPTY, Prior.NONE, NOW);
        assertEquals(Action.Cordon, d.wanted());
        assertEquals(Action.Condition, d.action());
        assertEquals("False", d.condition());
        assertEquals(RemediationStatus.SUPPRESSED_MAX_UNHEALTHY, d.suppressed());
        // what holds no node is still decided as usual
        Decision annotate = Decision.decide(report(f(Severity.Critical, Scope.Container)), NODE, INVALID, EMPTY,
                Prior.NONE, NOW);
        assertEquals(Action.Annotate, annotate.action());
        assertNull(annotate.suppressed());
    }

    @Test
    void invalidPolicyKeepsAnExistingHoldAsItIs() {
        Prior tainted = new Prior(Action.Taint, NOW.minusSeconds(60), null);
        Decision stronger = Decision.decide(report(f(Severity.Critical, Scope.Node)), NODE, INVALID, EMPTY, tainted, NOW);
        assertEquals(Action.Taint, stronger.action(), "no escalation to a cordon either");
        assertEquals(tainted.since(), stronger.since());
        Decision weaker = Decision.decide(report(f(Severity.Warning, Scope.Node)), NODE, INVALID, EMPTY, tainted, NOW);
        assertEquals(Action.Taint, weaker.action(), "no release because the findings weakened");
        assertNull(weaker.suppressed());
    }

    @Test
    void invalidPolicyReleasesNothingEvenAfterReleaseAfterOfHealth() {
        Prior recovering = new Prior(Action.Cordon, NOW.minusSeconds(3600), NOW.minusSeconds(1800));
        Decision d = Decision.decide(report(), NODE, INVALID, EMPTY, recovering, NOW);
        assertEquals(Action.Cordon, d.action());
        assertEquals("Recovering", d.reason());
        // the same under a readable policy is released
        assertEquals(Action.None, Decision.decide(report(), NODE, POLICY, EMPTY, recovering, NOW).action());
    }
}
