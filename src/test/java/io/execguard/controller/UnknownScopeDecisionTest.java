package io.execguard.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.execguard.api.Action;
import io.execguard.api.ActionLadder;
import io.execguard.controller.DecisionInput.FindingView;
import io.execguard.controller.DecisionInput.Fleet;
import io.execguard.controller.DecisionInput.Node;
import io.execguard.controller.DecisionInput.Policy;
import io.execguard.controller.DecisionInput.Prior;
import io.execguard.controller.DecisionInput.Report;
import io.execguard.detect.Cause;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/** Issue #12 point 1: a finding whose scope is unknown (its cgroup went unread) never holds a node. */
class UnknownScopeDecisionTest {

    static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");

    private static Decision decide(Policy policy, Severity severity) {
        return Decision.decide(new Report(NOW.minusSeconds(10),
                        List.of(new FindingView(severity, Scope.Unknown, Cause.NfsRequest, null))),
                new Node("n1", false), policy, new Fleet(Set.of(), Set.of()), Prior.NONE, NOW);
    }

    @Test
    void unknownScopeNeverTaintsOrCordonsWhateverThePolicyLadderSays() {
        Policy aggressive = new Policy(Map.of(Severity.Critical, Map.of(Scope.Unknown, Action.Cordon),
                Severity.Warning, Map.of(Scope.Unknown, Action.Taint)), Duration.ofMinutes(5), Duration.ofMinutes(3),
                5, false);
        for (Severity s : Severity.values()) {
            Decision d = decide(aggressive, s);
            assertFalse(d.action().holdsNode(), s + ": " + d);
            assertEquals(Action.Condition, d.action(), s + ": " + d);
        }
    }

    @Test
    void theLadderGivesUnknownScopeTheWeakerRungAndNeverAHold() {
        ActionLadder defaults = new ActionLadder();
        // defaults: nodeCritical Cordon, containerCritical Annotate
        assertEquals(Action.Annotate, defaults.forFinding(Severity.Critical, Scope.Unknown));
        assertEquals(Action.Cordon, defaults.forFinding(Severity.Critical, Scope.Node));
        ActionLadder strong = new ActionLadder(Action.Cordon, Action.Cordon, Action.Cordon, Action.Taint);
        for (Severity s : Severity.values()) {
            assertEquals(Action.Condition, strong.forFinding(s, Scope.Unknown), s.name());
        }
        ActionLadder quiet = new ActionLadder(Action.Cordon, Action.None, Action.Taint, Action.Annotate);
        assertEquals(Action.None, quiet.forFinding(Severity.Warning, Scope.Unknown));
    }
}
