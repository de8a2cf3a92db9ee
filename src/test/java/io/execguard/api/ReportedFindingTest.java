package io.execguard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.execguard.detect.Finding;
import io.execguard.host.HostInfo;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/** The status carries every field of a detector Finding, under the same JSON names and values. */
class ReportedFindingTest {

    private static final KubernetesSerialization SERDE = new KubernetesSerialization();

    @Test
    void everyFindingFieldIsCarriedUnderTheSameName() {
        Finding u = ApiTestData.unkillableOnFuse();
        // every field set, the canary's too (no detector sets them all at once)
        Finding f = new Finding(u.type(), u.cause(), u.severity(), u.scope(), u.message(), u.pid(), u.tid(), u.comm(),
                u.state(), u.wchan(), u.kernelStack(), u.signalsPending(), u.ageSeconds(), u.containerId(), u.podUid(),
                u.cgroup(), u.mount(), io.execguard.detect.ExecStage.RuncInit, "StuckRuntimeInit/9c4e2a71b0d3/24790@1");
        for (RecordComponent c : Finding.class.getRecordComponents()) {
            try {
                assertTrue(c.getAccessor().invoke(f) != null, "test data must set " + c.getName());
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
        JsonNode finding = SERDE.convertValue(f, JsonNode.class);
        ObjectNode reported = (ObjectNode) SERDE.convertValue(ReportedFinding.from(f, "id-1", ApiTestData.T0), JsonNode.class);
        List<String> missing = new ArrayList<>();
        for (Iterator<String> it = finding.fieldNames(); it.hasNext();) {
            String name = it.next();
            if (!finding.get(name).equals(reported.get(name))) {
                missing.add(name + ": " + finding.get(name) + " vs " + reported.get(name));
            }
        }
        assertEquals(List.of(), missing);
        assertEquals(Finding.class.getRecordComponents().length, finding.size(), "all components serialized");
        assertEquals("id-1", reported.get("id").asText());
        assertEquals("2026-11-23T09:57:12Z", reported.get("firstSeen").asText());
    }

    @Test
    void podAttributionAndRoundTrip() {
        ReportedFinding r = ReportedFinding.from(ApiTestData.teardown(), "id-2", ApiTestData.T0)
                .setPod("batch", "report-gen", "report");
        JsonNode json = SERDE.convertValue(r, JsonNode.class);
        assertEquals("batch", json.get("podNamespace").asText());
        assertEquals("report-gen", json.get("podName").asText());
        assertEquals("report", json.get("containerName").asText());
        assertFalse(json.has("signalsPending"), "empty lists and nulls are omitted");
        assertFalse(json.has("mount"));
        assertFalse(json.has("tid"));
        assertEquals(r, SERDE.convertValue(json, ReportedFinding.class));
    }

    @Test
    void hostStatusDropsUnreadableSysctls() {
        HostStatus h = HostStatus.from(new HostInfo("n", "6.1", "v1", List.of("dockerd"), -1, 4096, 1024, 16384, -1, 1048576, 5));
        assertNull(h.getPtyNr());
        assertEquals(4096L, h.getPtyMax());
        assertNull(h.getPipeUserPagesHard());
        JsonNode json = SERDE.convertValue(h, JsonNode.class);
        assertFalse(json.has("ptyNr"));
        assertFalse(json.has("uptimeSeconds"), "uptime changes every scan and is not published");
    }

    @Test
    void statusRoundTripsAndOmitsEmptyFields() {
        NodeExecHealthStatus s = ApiTestData.unhealthyStatus();
        JsonNode json = SERDE.convertValue(s, JsonNode.class);
        assertFalse(json.has("remediation"), "the probe's status leaves remediation out");
        assertEquals(s, SERDE.convertValue(json, NodeExecHealthStatus.class));
        assertEquals("False", s.condition(ConditionTypes.KILL_HEALTHY).getStatus());
        assertNull(s.condition("Nope"));
        assertEquals("{}", SERDE.asJson(new NodeExecHealthStatus()));
    }
}
