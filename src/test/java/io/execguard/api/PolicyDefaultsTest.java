package io.execguard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.execguard.detect.FindingType;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;
import io.execguard.detect.Thresholds;
import io.execguard.probe.Durations;
import io.fabric8.kubernetes.api.model.IntOrString;

class PolicyDefaultsTest {

    @Test
    void documentedDefaults() {
        ExecHealthPolicySpec d = ExecHealthPolicySpec.defaults();
        PolicyThresholds t = d.getThresholds();
        assertEquals(30L, t.getStuckRuntimeInitSeconds());
        assertEquals(10L, t.getUnkillableTaskSeconds());
        assertEquals(10L, t.getPidNamespaceTeardownSeconds());
        assertEquals(120L, t.getHungTaskSeconds());
        assertEquals(3600L, t.getLeakedExecSessionSeconds());
        assertEquals(120L, t.getPodStuckTerminatingSeconds());
        assertEquals(95, t.getPidsPercent());
        assertEquals(90, t.getPtyPercent());
        assertEquals(4096L, t.getPipeUserPagesSoftMin());
        assertEquals(List.of(FindingType.StuckRuntimeInit, FindingType.UnkillableTask,
                FindingType.PidNamespaceTeardownStuck, FindingType.PodStuckTerminating, FindingType.ExecPathStuck),
                d.getUnhealthyTypes());
        assertEquals(List.of(FindingType.HungTask, FindingType.PidsLimitReached, FindingType.LeakedExecSession,
                FindingType.PtyExhaustionRisk, FindingType.PipeBufferExhaustionRisk, FindingType.ExecPathSlow,
                FindingType.RuntimeUnresponsive), d.getDegradedTypes());
        assertEquals(new ActionLadder(Action.Cordon, Action.Condition, Action.Annotate, Action.Annotate), d.getActions());
        assertEquals("5m", d.getReleaseAfter());
        assertEquals("60s", d.getCanaryInterval());
        assertEquals(3, d.getStaleAfterHeartbeats());
        assertEquals(new IntOrString("10%"), d.getMaxUnhealthy());
        assertFalse(d.getDryRun());
        assertFalse(d.getRemediation().getAbortStuckFuse());
        assertFalse(d.getRemediation().getKillLeakedExecSessions());
        assertEquals("24h", d.getRemediation().getLeakedExecSessionTtl());
        assertTrue(d.getRemediation().getDryRun());
        assertEquals(Map.of(), d.getNodeSelector());
    }

    @Test
    void thresholdDefaultsAreTheDetectorDefaults() {
        assertEquals(Thresholds.DEFAULTS, ExecHealthPolicySpec.defaults().getThresholds().toDetectorThresholds());
        assertEquals(Thresholds.DEFAULTS, new PolicyThresholds().toDetectorThresholds());
    }

    @Test
    void defaultsAreFreshEachCall() {
        ExecHealthPolicySpec a = ExecHealthPolicySpec.defaults();
        a.getThresholds().setHungTaskSeconds(1L);
        a.getUnhealthyTypes().clear();
        assertEquals(120L, ExecHealthPolicySpec.defaults().getThresholds().getHungTaskSeconds());
        assertEquals(5, ExecHealthPolicySpec.defaults().getUnhealthyTypes().size());
    }

    @Test
    void emptySpecAndNoPolicyMeanTheDefaults() {
        assertEquals(ExecHealthPolicySpec.defaults(), new ExecHealthPolicySpec().effective());
        assertEquals(ExecHealthPolicySpec.defaults(), ExecHealthPolicySpec.effective(null));
        ExecHealthPolicy empty = new ExecHealthPolicy();
        assertEquals(ExecHealthPolicySpec.defaults(), ExecHealthPolicySpec.effective(empty));
    }

    @Test
    void effectiveKeepsWhatIsSetFillsTheRestAndDoesNotMutate() {
        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        PolicyThresholds t = new PolicyThresholds();
        t.setHungTaskSeconds(300L);
        s.setThresholds(t);
        ActionLadder ladder = new ActionLadder();
        ladder.setContainerCritical(Action.Taint);
        s.setActions(ladder);
        s.setMaxUnhealthy(new IntOrString(5));
        s.setDryRun(true);
        NodeRemediation r = new NodeRemediation();
        r.setDryRun(false);
        s.setRemediation(r);

        ExecHealthPolicySpec e = s.effective();

        assertEquals(300L, e.getThresholds().getHungTaskSeconds());
        assertEquals(30L, e.getThresholds().getStuckRuntimeInitSeconds());
        assertEquals(Action.Taint, e.getActions().getContainerCritical());
        assertEquals(Action.Cordon, e.getActions().getNodeCritical());
        assertEquals(new IntOrString(5), e.getMaxUnhealthy());
        assertTrue(e.getDryRun());
        assertFalse(e.getRemediation().getDryRun());
        assertEquals("24h", e.getRemediation().getLeakedExecSessionTtl());
        assertEquals("5m", e.getReleaseAfter());
        // the original is untouched
        assertNull(s.getReleaseAfter());
        assertNull(s.getThresholds().getStuckRuntimeInitSeconds());
        assertNull(s.getActions().getNodeCritical());
        assertNull(s.getRemediation().getLeakedExecSessionTtl());
        assertNotSame(s.getThresholds(), e.getThresholds());
        // effective is idempotent
        assertEquals(e, e.effective());
    }

    @Test
    void degradedTypesDefaultToTheComplementOfUnhealthyTypes() {
        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        s.setUnhealthyTypes(List.of(FindingType.StuckRuntimeInit, FindingType.PidsLimitReached));
        ExecHealthPolicySpec e = s.effective();
        EnumSet<FindingType> degraded = EnumSet.copyOf(e.getDegradedTypes());
        assertEquals(EnumSet.complementOf(EnumSet.of(FindingType.StuckRuntimeInit, FindingType.PidsLimitReached)), degraded);
        assertEquals(EnumSet.of(FindingType.StuckRuntimeInit, FindingType.PidsLimitReached), s.unhealthyTypeSet());
    }

    @Test
    void phaseFollowsTheTypeLists() {
        ExecHealthPolicySpec d = new ExecHealthPolicySpec();
        assertEquals(Phase.Healthy, d.phaseFor(List.of()));
        assertEquals(Phase.Degraded, d.phaseFor(List.of(FindingType.HungTask, FindingType.LeakedExecSession)));
        assertEquals(Phase.Unhealthy, d.phaseFor(List.of(FindingType.HungTask, FindingType.UnkillableTask)));
        assertEquals(Phase.Unhealthy, d.phaseFor(List.of(FindingType.PodStuckTerminating)));

        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        s.setUnhealthyTypes(List.of(FindingType.UnkillableTask));
        s.setDegradedTypes(List.of(FindingType.HungTask, FindingType.UnkillableTask));
        assertEquals(Phase.Healthy, s.phaseFor(List.of(FindingType.LeakedExecSession)), "in neither list");
        assertEquals(Phase.Unhealthy, s.phaseFor(List.of(FindingType.UnkillableTask)), "in both lists");
        assertEquals(Phase.Degraded, s.phaseFor(List.of(FindingType.StuckRuntimeInit, FindingType.HungTask)));
    }

    @Test
    void actionLadderDefaults() {
        ActionLadder none = new ActionLadder();
        assertEquals(Action.Cordon, none.forFinding(Severity.Critical, Scope.Node));
        assertEquals(Action.Condition, none.forFinding(Severity.Warning, Scope.Node));
        assertEquals(Action.Annotate, none.forFinding(Severity.Critical, Scope.Container));
        assertEquals(Action.Annotate, none.forFinding(Severity.Warning, Scope.Container));
        ActionLadder l = new ActionLadder();
        l.setNodeCritical(Action.Taint);
        assertEquals(Action.Taint, l.forFinding(Severity.Critical, Scope.Node));
        assertTrue(Action.Cordon.atLeast(Action.Taint));
        assertTrue(Action.Taint.holdsNode());
        assertFalse(Action.Condition.holdsNode());
        assertEquals(Action.Cordon, Action.max(Action.Annotate, Action.Cordon));
    }

    @Test
    void maxUnhealthy() {
        ExecHealthPolicySpec d = new ExecHealthPolicySpec();
        assertEquals(500, d.maxUnhealthyNodes(5000));
        assertEquals(1, d.maxUnhealthyNodes(3), "a percentage rounds down but holds at least one node");
        assertEquals(1, d.maxUnhealthyNodes(0));
        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        s.setMaxUnhealthy(new IntOrString("25%"));
        assertEquals(2, s.maxUnhealthyNodes(10));
        s.setMaxUnhealthy(new IntOrString("100%"));
        assertEquals(7, s.maxUnhealthyNodes(7));
        s.setMaxUnhealthy(new IntOrString(0));
        assertEquals(0, s.maxUnhealthyNodes(100), "an explicit 0 never holds a node");
        s.setMaxUnhealthy(new IntOrString(12));
        assertEquals(12, s.maxUnhealthyNodes(100));
        s.setMaxUnhealthy(new IntOrString("ten"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.maxUnhealthyNodes(10));
        assertTrue(e.getMessage().contains("'ten'"), e.getMessage());
        s.setMaxUnhealthy(new IntOrString(-1));
        assertThrows(IllegalArgumentException.class, () -> s.maxUnhealthyNodes(10));
        for (String refused : List.of("150%", "101%", "10 %", " 10%", "-1%", "010%", "5", "%")) {
            s.setMaxUnhealthy(new IntOrString(refused));
            assertThrows(IllegalArgumentException.class, () -> s.maxUnhealthyNodes(10), refused);
        }
        s.setMaxUnhealthy(new IntOrString("0%"));
        assertEquals(1, s.maxUnhealthyNodes(10), "0% rounds down to 0 but, as documented, holds at least one node");
    }

    @Test
    void nodeSelector() {
        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        assertTrue(s.selects(Map.of("a", "b")));
        assertTrue(s.selects(null));
        s.setNodeSelector(Map.of("pool", "gpu"));
        assertTrue(s.selects(Map.of("pool", "gpu", "zone", "a")));
        assertFalse(s.selects(Map.of("pool", "cpu")));
        assertFalse(s.selects(null));
    }

    /** The duration pattern in the schema accepts exactly what the code parses. */
    @Test
    void durationPatternMatchesTheParser() {
        Pattern p = Pattern.compile(PolicyDefaults.DURATION_PATTERN);
        for (String ok : List.of("5m", "24h", "90s", "1h30m", "500ms", "2d", "300")) {
            assertTrue(p.matcher(ok).matches(), ok);
            Durations.parse(ok);
        }
        assertEquals(Duration.ofMinutes(5), Durations.parse(PolicyDefaults.RELEASE_AFTER));
        assertEquals(Duration.ofHours(24), Durations.parse(PolicyDefaults.LEAKED_EXEC_SESSION_TTL));
        for (String bad : List.of("5 m", "5min", "", "m5", "1.5h", "-5m")) {
            assertFalse(p.matcher(bad).matches(), bad);
            assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
        }
    }
}
