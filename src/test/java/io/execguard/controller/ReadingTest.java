package io.execguard.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.IntOrString;

import io.execguard.api.Action;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.RemediationStatus;
import io.execguard.detect.Cause;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/** Stored objects the CRD would refuse today: read without throwing, and reported (issue 11 points 4 and 6). */
class ReadingTest {

    static NodeExecHealth neh(String lastProbeTime, String since) {
        NodeExecHealth n = new NodeExecHealth();
        n.getMetadata().setName("r1");
        NodeExecHealthStatus s = new NodeExecHealthStatus();
        s.setLastProbeTime(lastProbeTime);
        s.setFindings(List.of(OperatorMockServerTest.finding(Severity.Critical, Scope.Node, Cause.FuseRequest, null)));
        s.setRemediation(new RemediationStatus(Action.Cordon, since, "FuseRequest", null));
        n.setStatus(s);
        return n;
    }

    @Test
    void soundReportIsReadAsIs() {
        ReportReading r = ReportReading.of(neh("2026-11-23T10:00:00Z", "2026-11-23T09:00:00+01:00"));
        assertTrue(r.invalid().isEmpty());
        assertEquals(Instant.parse("2026-11-23T10:00:00Z"), r.report().lastProbeTime());
        assertEquals(1, r.report().findings().size());
        assertEquals(Instant.parse("2026-11-23T08:00:00Z"), r.remediationSince(), "RFC 3339 with an offset");
    }

    @Test
    void unparsableLastProbeTimeIsUnknownEvidenceNamingTheField() {
        ReportReading r = ReportReading.of(neh("yesterday", "2026-11-23T09:00:00Z"));
        assertNull(r.report().lastProbeTime(), "reads as a report that never arrived: stale to the decision");
        assertTrue(r.report().findings().isEmpty(), "its findings count for nothing, not even an incident");
        assertEquals(List.of(new InvalidField("status.lastProbeTime", "yesterday", "not an RFC 3339 date-time")),
                r.invalid());
        assertEquals(Instant.parse("2026-11-23T09:00:00Z"), r.remediationSince());
    }

    @Test
    void unparsableRemediationSinceIsUnknownEvidenceToo() {
        ReportReading r = ReportReading.of(neh("2026-11-23T10:00:00Z", "10:00"));
        assertNull(r.report().lastProbeTime());
        assertNull(r.remediationSince());
        assertEquals("status.remediation.since", r.invalid().get(0).field());
    }

    @Test
    void aStaleReadingMakesNoNewHold() {
        ReportReading r = ReportReading.of(neh("not-a-time", null));
        Decision d = Decision.decide(r.report(), DecisionTest.NODE, DecisionTest.POLICY, DecisionTest.EMPTY,
                DecisionInput.Prior.NONE, DecisionTest.NOW);
        assertEquals(Action.None, d.action());
        assertEquals(RemediationStatus.SUPPRESSED_STALE, d.suppressed());
    }

    static ExecHealthPolicySpec spec(IntOrString maxUnhealthy, String releaseAfter) {
        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        s.setMaxUnhealthy(maxUnhealthy);
        s.setReleaseAfter(releaseAfter);
        return s.effective();
    }

    @Test
    void policyWithATypoInMaxUnhealthyIsInvalidInsteadOfThrowing() {
        PolicyReading p = PolicyReading.of(spec(new IntOrString("ten"), null), true, 10, Duration.ofSeconds(60));
        assertFalse(p.policy().valid());
        assertEquals(0, p.policy().maxHeld());
        assertEquals("spec.maxUnhealthy", p.invalid().get(0).field());
        assertEquals("ten", p.invalid().get(0).value());
        PolicyReading negative = PolicyReading.of(spec(new IntOrString(-1), null), true, 10, Duration.ofSeconds(60));
        assertFalse(negative.policy().valid());
    }

    @Test
    void policyWithAnUnreadableReleaseAfterIsInvalid() {
        PolicyReading p = PolicyReading.of(spec(null, "five minutes"), true, 10, Duration.ofSeconds(60));
        assertFalse(p.policy().valid());
        assertEquals(List.of("spec.releaseAfter"), p.invalid().stream().map(InvalidField::field).toList());
    }

    @Test
    void soundPolicyIsValidWithItsCap() {
        PolicyReading p = PolicyReading.of(spec(new IntOrString("20%"), "90s"), true, 10, Duration.ofSeconds(60));
        assertTrue(p.policy().valid());
        assertTrue(p.invalid().isEmpty());
        assertEquals(2, p.policy().maxHeld());
        assertEquals(Duration.ofSeconds(90), p.policy().releaseAfter());
        assertEquals(Action.Cordon, p.policy().actionFor(Severity.Critical, Scope.Node));
    }

    @Test
    void incidentsArePublishedOncePerPolicyAndAgainOnlyWhenTheyChange() {
        PublishedIncidents published = new PublishedIncidents();
        Map<String, Set<String>> one = Map.of("CephRequest@ceph a:/", Set.of("n1", "n2"));
        assertEquals(Set.of("CephRequest@ceph a:/"), published.update("pa", one).orElseThrow().changed());
        assertEquals(Set.of("CephRequest@ceph a:/"), published.update("pb", one).orElseThrow().changed());
        // reconciles of nodes under the two policies interleave: nothing new to say
        assertEquals(Optional.empty(), published.update("pa", one));
        assertEquals(Optional.empty(), published.update("pb", one));
        // one incident grows and another appears: only those two are announced
        Map<String, Set<String>> two = Map.of("CephRequest@ceph a:/", Set.of("n1", "n2", "n3"),
                "NfsRequest@nfs b:/", Set.of("n4", "n5"));
        assertEquals(Set.of("CephRequest@ceph a:/", "NfsRequest@nfs b:/"), published.update("pa", two).orElseThrow()
                .changed());
        Map<String, Set<String>> gone = Map.of("NfsRequest@nfs b:/", Set.of("n4", "n5"));
        PublishedIncidents.Change c = published.update("pa", gone).orElseThrow();
        assertTrue(c.changed().isEmpty(), "an incident that ended changes the status, no Event");
        assertEquals(gone, c.incidents());
    }
}
