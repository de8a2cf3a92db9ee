package io.execguard.probe;

import static io.execguard.probe.ProbeTestData.CID;
import static io.execguard.probe.ProbeTestData.finding;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import io.execguard.detect.Cause;
import io.execguard.detect.FindingType;
import io.execguard.detect.Severity;

class PodIndexTest {

    @Test
    void attributesByContainerIdWhateverTheRuntimePrefix() {
        PodIndex idx = new PodIndex(List.of(ProbeTestData.pod("shop", "web-1", "u1", "app", "containerd://" + CID, null),
                ProbeTestData.pod("shop", "web-2", "u2", "app", "docker://" + "a".repeat(64), null)));
        assertEquals(new PodRef("shop", "web-1", "u1", "app"), idx.attribute(finding(FindingType.HungTask, 1, CID)));
        assertEquals("web-2", idx.attribute(finding(FindingType.HungTask, 1, "a".repeat(64))).name());
        assertNull(idx.attribute(finding(FindingType.HungTask, 1, "b".repeat(64))));
    }

    @Test
    void podStuckTerminatingAfterDeletionTimestampPlusThresholdAndLinkedToHostEvidence() {
        Instant now = Instant.parse("2026-11-23T10:00:00Z");
        PodInfo overdue = ProbeTestData.pod("shop", "web-1", "u1", "app", "containerd://" + CID, "2026-11-23T09:57:00Z");
        PodInfo recent = ProbeTestData.pod("shop", "web-2", "u2", "app", "containerd://" + "a".repeat(64), "2026-11-23T09:58:30Z");
        PodIndex idx = new PodIndex(List.of(overdue, recent));
        var evidence = finding(FindingType.UnkillableTask, 77, CID);
        var stuck = idx.stuckTerminating(now, Duration.ofMinutes(2), List.of(evidence));
        assertEquals(1, stuck.size());
        var f = stuck.get(0);
        assertEquals(FindingType.PodStuckTerminating, f.type());
        assertEquals(Cause.FuseRequest, f.cause());
        assertEquals(Severity.Critical, f.severity());
        assertEquals("u1", f.podUid());
        assertEquals(77, f.pid());
        assertTrue(f.message().startsWith("pod shop/web-1 was deleted 3m00s past its grace period"), f.message());

        var noEvidence = idx.stuckTerminating(now, Duration.ofMinutes(2), List.of());
        assertEquals(Severity.Warning, noEvidence.get(0).severity());
        assertEquals(Cause.Unknown, noEvidence.get(0).cause());
        // the deletion timestamp already is the end of the 30 s grace period: not added again
        assertEquals(1, idx.stuckTerminating(Instant.parse("2026-11-23T09:59:00Z"), Duration.ofMinutes(2), List.of())
                .size());
        // two minutes later the second pod is overdue too
        assertEquals(2, idx.stuckTerminating(now.plusSeconds(120), Duration.ofMinutes(2), List.of()).size());
    }

    /** The probe reads pods from JSON (PodInfo), the operator through fabric8's model: both see the same pod. */
    @Test
    void readsAPodAsFabric8sModelWritesIt() throws Exception {
        Pod pod = new PodBuilder().withNewMetadata().withNamespace("shop").withName("web-1").withUid("u1")
                .withDeletionTimestamp("2026-11-23T09:57:00Z").withResourceVersion("42").endMetadata()
                .withNewSpec().withNodeName("node-a").endSpec()
                .withNewStatus()
                .addNewInitContainerStatus().withName("init").withContainerID("containerd://" + "b".repeat(64))
                .endInitContainerStatus()
                .addNewContainerStatus().withName("app").withContainerID("containerd://" + CID).endContainerStatus()
                .addNewContainerStatus().withName("waiting").endContainerStatus()
                .addNewEphemeralContainerStatus().withName("debug").withContainerID("docker://" + "c".repeat(64))
                .endEphemeralContainerStatus()
                .endStatus().build();
        String json = new KubernetesSerialization().asJson(pod);
        PodInfo p = PodInfo.from(io.execguard.probe.kube.KubeApi.mapper().readTree(json));
        assertEquals(new PodInfo("shop", "web-1", "u1", "node-a", "2026-11-23T09:57:00Z", List.of(
                new PodInfo.Container("init", "containerd://" + "b".repeat(64)),
                new PodInfo.Container("app", "containerd://" + CID), new PodInfo.Container("waiting", null),
                new PodInfo.Container("debug", "docker://" + "c".repeat(64)))), p);
        PodIndex idx = new PodIndex(List.of(p));
        assertEquals(new PodRef("shop", "web-1", "u1", "debug"), idx.attribute(finding(FindingType.HungTask, 1,
                "c".repeat(64))));
    }
}
