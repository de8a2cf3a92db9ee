package io.execguard.controller.decide;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.execguard.api.Action;
import io.execguard.api.Phase;
import io.execguard.api.Suppression;
import io.execguard.controller.decide.DecisionInput.FindingView;
import io.execguard.controller.decide.DecisionInput.Fleet;
import io.execguard.controller.decide.DecisionInput.Node;
import io.execguard.controller.decide.DecisionInput.Policy;
import io.execguard.controller.decide.DecisionInput.Prior;
import io.execguard.controller.decide.DecisionInput.Report;
import io.execguard.controller.decide.DecisionInput.Slot;
import io.execguard.detect.Cause;
import io.execguard.detect.FindingType;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/** The decision table of docs/ARCHITECTURE.md, one row per rule and edge. */
class DecisionTest {

    static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
    static final Map<Severity, Map<Scope, Action>> LADDER = Map.of(
            Severity.Critical, Map.of(Scope.Node, Action.Cordon, Scope.Container, Action.Annotate,
                    Scope.Unknown, Action.Cordon),
            Severity.Warning, Map.of(Scope.Node, Action.Condition, Scope.Container, Action.Annotate,
                    Scope.Unknown, Action.Condition));
    static final Set<FindingType> ALL = EnumSet.allOf(FindingType.class);
    static final Policy POLICY = new Policy("p", LADDER, ALL, Duration.ofMinutes(5), Duration.ofMinutes(3), false, true);
    static final Policy DRY = new Policy("p", LADDER, ALL, Duration.ofMinutes(5), Duration.ofMinutes(3), true, true);
    static final Policy INVALID = new Policy("p", LADDER, ALL, Duration.ofMinutes(5), Duration.ofMinutes(3), false,
            false);
    static final Policy AGGRESSIVE = new Policy("p", Map.of(Severity.Critical, Map.of(Scope.Container, Action.Cordon,
            Scope.Unknown, Action.Cordon)), ALL, Duration.ofMinutes(5), Duration.ofMinutes(3), false, true);
    /** Acts only on the unhealthy types; HungTask is in neither list. */
    static final Policy NARROW = new Policy("p", LADDER, EnumSet.of(FindingType.StuckRuntimeInit), Duration.ofMinutes(5),
            Duration.ofMinutes(3), false, true);
    static final String CEPH = "CephRequest@ceph 10.0.0.1:6789:/";

    static FindingView f(Severity s, Scope scope) {
        return new FindingView(FindingType.StuckRuntimeInit, s, scope, Cause.FuseRequest, null);
    }

    static FindingView hung() {
        return new FindingView(FindingType.HungTask, Severity.Critical, Scope.Node, Cause.NfsRequest, null);
    }

    static FindingView ceph() {
        return new FindingView(FindingType.StuckRuntimeInit, Severity.Critical, Scope.Node, Cause.CephRequest,
                "ceph 10.0.0.1:6789:/");
    }

    static Report fresh(FindingView... fs) {
        return new Report(NOW.minusSeconds(10), List.of(fs));
    }

    static final Report HEALTHY = fresh();
    static final Report CRITICAL = fresh(f(Severity.Critical, Scope.Node));
    static final Node NONE = new Node("n1", false, Action.None);
    static final Fleet FREE = new Fleet(Set.of(), false, Slot.Granted);
    static final Prior P0 = Prior.NONE;

    static Node applied(Action a) {
        return new Node("n1", false, a);
    }

    static Prior healthyFor(Action recorded, Duration d) {
        return new Prior(recorded, NOW.minus(Duration.ofHours(1)), NOW.minus(d));
    }

    /** name, report, node, policy, fleet, prior → action, suppressed, needsSlot, touchNode */
    static Stream<Arguments> table() {
        return Stream.of(
                row("healthy: nothing", HEALTHY, NONE, POLICY, FREE, P0, Action.None, null, false, true),
                row("node critical: cordon (needs a slot)", CRITICAL, NONE, POLICY, FREE, P0, Action.Cordon, null, true,
                        true),
                row("node warning: condition", fresh(f(Severity.Warning, Scope.Node)), NONE, POLICY, FREE, P0,
                        Action.Condition, null, true, true),
                row("container critical: annotate", fresh(f(Severity.Critical, Scope.Container)), NONE, POLICY, FREE,
                        P0, Action.Annotate, null, false, true),
                row("container never cordons, whatever the ladder", fresh(f(Severity.Critical, Scope.Container)), NONE,
                        AGGRESSIVE, FREE, P0, Action.Taint, null, true, true),
                row("unknown scope never holds", fresh(f(Severity.Critical, Scope.Unknown)), NONE, AGGRESSIVE, FREE, P0,
                        Action.Condition, null, true, true),
                row("strongest finding wins", fresh(f(Severity.Warning, Scope.Container), f(Severity.Critical,
                        Scope.Node)), NONE, POLICY, FREE, P0, Action.Cordon, null, true, true),
                // types: degradedTypes ∪ unhealthyTypes are acted on, the rest only reported
                row("a type in neither list: report only", fresh(hung()), NONE, NARROW, FREE, P0, Action.None, null,
                        false, true),
                row("a degraded type is acted on", fresh(hung()), NONE, POLICY, FREE, P0, Action.Cordon, null, true,
                        true),
                // stale and unreadable evidence
                row("stale: keeps the cordon, touches nothing", new Report(NOW.minus(Duration.ofMinutes(4)),
                        List.of()), applied(Action.Cordon), POLICY, FREE, P0, Action.Cordon, Suppression.Stale, false,
                        false),
                row("unreadable report = stale: no new hold", Report.UNKNOWN, NONE, POLICY, FREE, P0, Action.None,
                        Suppression.Stale, false, false),
                // the cap and the rate limit (the ledger's answer)
                row("cap full: nothing new on the Node", CRITICAL, NONE, POLICY, FREE.withSlot(Slot.Full), P0, Action.None,
                        Suppression.MaxUnhealthy, false, true),
                row("rate limited: nothing new", CRITICAL, NONE, POLICY, FREE.withSlot(Slot.RateLimited), P0,
                        Action.None, Suppression.RateLimit, false, true),
                row("the condition respects the cap", fresh(f(Severity.Warning, Scope.Node)), NONE, POLICY,
                        FREE.withSlot(Slot.Full), P0, Action.None, Suppression.MaxUnhealthy, false, true),
                row("an annotated node keeps its annotation past the cap", CRITICAL, applied(Action.Annotate), POLICY,
                        FREE.withSlot(Slot.Full), P0, Action.Annotate, Suppression.MaxUnhealthy, false, true),
                row("already marked: a stronger mark needs no new slot", CRITICAL, applied(Action.Condition), POLICY,
                        FREE.withSlot(Slot.Full), P0, Action.Cordon, null, false, true),
                row("already held stays held past the cap", CRITICAL, applied(Action.Cordon), POLICY,
                        FREE.withSlot(Slot.Full), P0, Action.Cordon, null, false, true),
                // the storm guard
                row("incident: no new mark", fresh(ceph()), NONE, POLICY, new Fleet(Set.of(CEPH), false, Slot.Granted),
                        P0, Action.None, Suppression.Incident, false, true),
                row("incident: a marked node keeps its mark, gets no hold", fresh(ceph()), applied(Action.Condition),
                        POLICY, new Fleet(Set.of(CEPH), false, Slot.Granted), P0, Action.Condition,
                        Suppression.Incident, false, true),
                row("incident: a held node stays held", fresh(ceph()), applied(Action.Cordon), POLICY,
                        new Fleet(Set.of(CEPH), false, Slot.Granted), P0, Action.Cordon, null, false, true),
                row("other backend: not this incident", CRITICAL, NONE, POLICY,
                        new Fleet(Set.of(CEPH), false, Slot.Granted), P0, Action.Cordon, null, true, true),
                row("storm: no new mark", CRITICAL, NONE, POLICY, new Fleet(Set.of(), true, Slot.Granted), P0,
                        Action.None, Suppression.Incident, false, true),
                // stepping down
                row("recovering: held until releaseAfter", HEALTHY, applied(Action.Cordon), POLICY, FREE,
                        healthyFor(Action.Cordon, Duration.ofMinutes(2)), Action.Cordon, null, false, true),
                row("released after releaseAfter", HEALTHY, applied(Action.Cordon), POLICY, FREE,
                        healthyFor(Action.Cordon, Duration.ofMinutes(6)), Action.None, null, false, true),
                row("a weaker need steps down after releaseAfter", fresh(f(Severity.Warning, Scope.Node)),
                        applied(Action.Cordon), POLICY, FREE, healthyFor(Action.Cordon, Duration.ofMinutes(6)),
                        Action.Condition, null, false, true),
                row("first healthy scan starts the clock", HEALTHY, applied(Action.Cordon), POLICY, FREE,
                        new Prior(Action.Cordon, NOW.minusSeconds(600), null), Action.Cordon, null, false, true),
                // an unreadable policy: nothing new, nothing released
                row("invalid policy: no release", HEALTHY, applied(Action.Cordon), INVALID, FREE,
                        healthyFor(Action.Cordon, Duration.ofHours(1)), Action.Cordon, Suppression.InvalidPolicy,
                        false, true),
                row("invalid policy: no new mark", CRITICAL, NONE, INVALID, FREE, P0, Action.None,
                        Suppression.InvalidPolicy, false, true),
                row("invalid policy: a held node keeps its hold", CRITICAL, applied(Action.Cordon), INVALID, FREE, P0,
                        Action.Cordon, null, false, true),
                // opt-out and dry run
                row("opt-out: hands off", CRITICAL, new Node("n1", true, Action.None), POLICY, FREE, P0, Action.None,
                        Suppression.OptOut, false, false),
                row("opt-out keeps what is there", HEALTHY, new Node("n1", true, Action.Cordon), POLICY, FREE, P0,
                        Action.Cordon, Suppression.OptOut, false, false),
                row("dry run: computes, never touches", CRITICAL, NONE, DRY, FREE, P0, Action.Cordon,
                        Suppression.DryRun, true, false),
                row("dry run past the cap says maxUnhealthy", CRITICAL, NONE, DRY, FREE.withSlot(Slot.Full), P0,
                        Action.None, Suppression.MaxUnhealthy, false, false));
    }

    static Arguments row(String name, Report r, Node n, Policy p, Fleet f, Prior prior, Action action,
                         Suppression suppressed, boolean needsSlot, boolean touch) {
        return Arguments.of(name, r, n, p, f, prior, action, suppressed, needsSlot, touch);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void decides(String name, Report r, Node n, Policy p, Fleet f, Prior prior, Action action, Suppression suppressed,
                 boolean needsSlot, boolean touch) {
        Decision d = Decision.decide(r, n, p, f, prior, NOW);
        assertEquals(action, d.action(), name + ": " + d);
        assertEquals(suppressed, d.suppressed(), name + ": " + d);
        assertEquals(needsSlot, d.needsSlot(), name + ": " + d);
        assertEquals(touch, d.touchNode(), name + ": " + d);
    }

    @org.junit.jupiter.api.Test
    void timingIsKeptWhileTheActionStaysAndRestartsWhenItChanges() {
        Prior cordonedAnHourAgo = new Prior(Action.Cordon, NOW.minus(Duration.ofHours(1)), null);
        assertEquals(NOW.minus(Duration.ofHours(1)), Decision.decide(CRITICAL, applied(Action.Cordon), POLICY, FREE,
                cordonedAnHourAgo, NOW).since());
        assertEquals(NOW, Decision.decide(CRITICAL, applied(Action.Condition), POLICY, FREE,
                new Prior(Action.Condition, NOW.minusSeconds(60), null), NOW).since());
        Decision recovering = Decision.decide(HEALTHY, applied(Action.Cordon), POLICY, FREE, cordonedAnHourAgo, NOW);
        assertEquals(NOW, recovering.healthySince());
        assertEquals("Recovering", recovering.reason());
        Decision stale = Decision.decide(Report.UNKNOWN, applied(Action.Cordon), POLICY, FREE, cordonedAnHourAgo, NOW);
        assertEquals(Phase.Unknown, stale.phaseOverride());
    }
}
