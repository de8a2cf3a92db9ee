package io.execguard.controller.read;

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
import io.execguard.api.Suppression;
import io.execguard.api.TestFindings;
import io.execguard.controller.decide.Decision;
import io.execguard.controller.decide.DecisionInput;
import io.execguard.controller.fleet.PublishedIncidents;
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
        s.setFindings(List.of(TestFindings.finding(Severity.Critical, Scope.Node, Cause.FuseRequest, null)));
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
        assertEquals(Instant.parse("2026-11-23T08:00:00Z"), r.prior().since(), "RFC 3339 with an offset");
        assertEquals(Action.Cordon, r.prior().recorded());
    }

    @Test
    void unparsableLastProbeTimeIsUnknownEvidenceNamingTheField() {
        ReportReading r = ReportReading.of(neh("yesterday", "2026-11-23T09:00:00Z"));
        assertNull(r.report().lastProbeTime(), "reads as a report that never arrived: stale to the decision");
        assertTrue(r.report().findings().isEmpty(), "its findings count for nothing, not even an incident");
        assertEquals(List.of(new InvalidField("status.lastProbeTime", "yesterday", "not an RFC 3339 date-time")),
                r.invalid());
        assertEquals(Instant.parse("2026-11-23T09:00:00Z"), r.prior().since());
    }

    @Test
    void unparsableRemediationSinceIsUnknownEvidenceToo() {
        ReportReading r = ReportReading.of(neh("2026-11-23T10:00:00Z", "10:00"));
        assertNull(r.report().lastProbeTime());
        assertNull(r.prior().since());
        assertEquals("status.remediation.since", r.invalid().get(0).field());
    }

    @Test
    void aStaleReadingMakesNoNewHold() {
        ReportReading r = ReportReading.of(neh("not-a-time", null));
        PolicyReading policy = PolicyReading.of("p", spec(null, null), 10, Duration.ofSeconds(60));
        Decision d = Decision.decide(r.report(), new DecisionInput.Node("r1", false, Action.None), policy.policy(),
                new DecisionInput.Fleet(Set.of(), false, DecisionInput.Slot.Granted), DecisionInput.Prior.NONE,
                Instant.parse("2026-11-23T10:00:00Z"));
        assertEquals(Action.None, d.action());
        assertEquals(Suppression.Stale, d.suppressed());
    }

    static ExecHealthPolicySpec spec(IntOrString maxUnhealthy, String releaseAfter) {
        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        s.setMaxUnhealthy(maxUnhealthy);
        s.setReleaseAfter(releaseAfter);
        return s.effective();
    }

    @Test
    void policyWithATypoInMaxUnhealthyIsInvalidInsteadOfThrowing() {
        PolicyReading p = PolicyReading.of("p", spec(new IntOrString("ten"), null), 10, Duration.ofSeconds(60));
        assertFalse(p.policy().valid());
        assertEquals(PolicyReading.Limits.NONE, p.limits(), "an unreadable cap is no cap to trust: nothing new");
        assertEquals("spec.maxUnhealthy", p.invalid().get(0).field());
        assertEquals("ten", p.invalid().get(0).value());
        PolicyReading negative = PolicyReading.of("p", spec(new IntOrString(-1), null), 10, Duration.ofSeconds(60));
        assertFalse(negative.policy().valid());
    }

    @Test
    void policyWithAnUnreadableReleaseAfterIsInvalid() {
        PolicyReading p = PolicyReading.of("p", spec(null, "five minutes"), 10, Duration.ofSeconds(60));
        assertFalse(p.policy().valid());
        assertEquals(List.of("spec.releaseAfter"), p.invalid().stream().map(InvalidField::field).toList());
    }

    @Test
    void soundPolicyIsValidWithItsCap() {
        PolicyReading p = PolicyReading.of("p", spec(new IntOrString("20%"), "90s"), 10, Duration.ofSeconds(60));
        assertTrue(p.policy().valid());
        assertTrue(p.invalid().isEmpty());
        assertEquals(2, p.limits().maxMarked());
        assertEquals(5, p.limits().maxFailing(), "stormGuard.maxFailing 50% of 10");
        assertEquals(2, p.limits().incidentNodes());
        assertEquals(10, p.limits().newHoldsPerMinute());
        assertEquals(Duration.ofSeconds(90), p.policy().releaseAfter());
        assertEquals(Action.Cordon, p.policy().actionFor(Severity.Critical, Scope.Node));
    }

    @Test
    void aTypoInTheStormGuardIsInvalidToo() {
        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        io.execguard.api.StormGuard g = new io.execguard.api.StormGuard();
        g.setMaxFailing(new IntOrString("half"));
        s.setStormGuard(g);
        PolicyReading p = PolicyReading.of("p", s.effective(), 10, Duration.ofSeconds(60));
        assertFalse(p.policy().valid());
        assertEquals("spec.stormGuard.maxFailing", p.invalid().get(0).field());
    }

    @Test
    void degradedAndUnhealthyTypesAreActedOnTheRestOnlyReported() {
        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        s.setUnhealthyTypes(List.of(io.execguard.detect.FindingType.StuckRuntimeInit));
        s.setDegradedTypes(List.of(io.execguard.detect.FindingType.PidsLimitReached));
        PolicyReading p = PolicyReading.of("p", s.effective(), 10, Duration.ofSeconds(60));
        assertEquals(Set.of(io.execguard.detect.FindingType.StuckRuntimeInit,
                io.execguard.detect.FindingType.PidsLimitReached), p.policy().actedOn());
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
        PublishedIncidents.Change grown = published.update("pa", Map.of("CephRequest@ceph a:/", Set.of("n1", "n2", "n3",
                "n6"), "NfsRequest@nfs b:/", Set.of("n4", "n5"))).orElseThrow();
        assertEquals(Set.of("CephRequest@ceph a:/"), grown.changed(), "a node joined: the status changes");
        assertTrue(grown.added().isEmpty(), "but no Event: one per incident, not one per joining node");
        PublishedIncidents.Change c = published.update("pa", gone).orElseThrow();
        assertTrue(c.changed().isEmpty(), "an incident that ended changes the status, no Event");
        assertEquals(gone, c.incidents());
    }

    /** The fast path for {@code ...Z} timestamps reads what java.time reads, and leaves everything else to it. */
    @Test
    void timestampsReadAsJavaTimeReadsThem() {
        java.util.Random random = new java.util.Random(11);
        for (int i = 0; i < 20_000; i++) {
            Instant t = Instant.ofEpochSecond(random.nextLong(-62_000_000_000L, 253_000_000_000L),
                    i % 4 == 0 ? 0 : random.nextInt(1_000_000_000));
            int digits = i % 10; // 0-9 fraction digits, trailing zeros included
            String text = java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss"
                    + (digits == 0 ? "" : "." + "S".repeat(digits)) + "'Z'").withZone(java.time.ZoneOffset.UTC).format(t);
            if (text.startsWith("-") || text.startsWith("+")) {
                continue;
            }
            assertEquals(Instant.parse(text), ReportReading.utc(text), text);
            assertEquals(Optional.of(Instant.parse(text)), ReportReading.timestamp("f", text, new java.util.ArrayList<>()));
        }
        // left to java.time: the same answer as before, whatever it is
        for (String text : List.of("2026-12-02T05:31:33+01:00", "2026-12-02t05:31:33z", "2016-12-31T23:59:60Z",
                "2026-02-29T00:00:00Z", "2024-02-29T00:00:00.Z", "2026-12-02T24:00:00Z", "2026-12-02T05:31:33",
                "2026-12-02 05:31:33Z", "2026-13-02T05:31:33Z", "2026-12-02T05:31:33.1234567890Z", "yesterday",
                "2026-12-0xT05:31:33Z", "+2026-12-02T05:31:33Z", "2026-12-02T05:61:33Z", "")) {
            assertNull(ReportReading.utc(text), text);
        }
        assertEquals(Optional.of(Instant.parse("2026-12-02T04:31:33Z")),
                ReportReading.timestamp("f", "2026-12-02T05:31:33+01:00", new java.util.ArrayList<>()));
        assertEquals(Instant.parse("2024-02-29T00:00:00Z"), ReportReading.utc("2024-02-29T00:00:00Z"));
        assertEquals(Instant.parse("2026-12-02T05:31:33.120Z"), ReportReading.utc("2026-12-02T05:31:33.12Z"));
        List<InvalidField> invalid = new java.util.ArrayList<>();
        assertEquals(Optional.empty(), ReportReading.timestamp("f", "2026-02-29T00:00:00Z", invalid));
        assertEquals(List.of(new InvalidField("f", "2026-02-29T00:00:00Z", "not an RFC 3339 date-time")), invalid);
    }
}
