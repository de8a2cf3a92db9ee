package io.execguard.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.detect.FindingType;

/**
 * The probe writes the api classes with a plain Jackson mapper, the operator reads them through fabric8's: one
 * model, the same JSON. And the status patch holds every probe-owned field and never remediation.
 */
class KubeStatusWriterJsonTest {

    private final KubeStatusWriter writer = new KubeStatusWriter(ProbeTestData.api("http://127.0.0.1:1"), "node-a",
            "1.2.3");
    private final KubernetesSerialization fabric8 = new KubernetesSerialization();
    private final ObjectMapper plain = new ObjectMapper();

    @Test
    void theProbesStatusIsWhatFabric8WouldWriteAndItsPatchLeavesRemediationAlone() throws Exception {
        var tracked = List.of(new TrackedFinding("StuckRuntimeInit/42",
                ProbeTestData.finding(FindingType.StuckRuntimeInit, 42, ProbeTestData.CID),
                Instant.parse("2026-11-23T10:00:00Z")));
        ProbeReport report = ProbeReport.build(tracked, new PodIndex(List.of(ProbeTestData.pod("shop", "web-1", "u1",
                "app", "containerd://" + ProbeTestData.CID, null))), ProbeTestData.HOST,
                Set.of(FindingType.StuckRuntimeInit), 50, 12, 100);
        Instant now = Instant.parse("2026-11-23T10:00:05Z");
        ObjectNode status = writer.probeStatus(report, now);

        NodeExecHealthStatus same = new NodeExecHealthStatus();
        new KubeStatusWriter(ProbeTestData.api("http://127.0.0.1:1"), "node-a", "1.2.3").fill(same, report, now);
        ObjectNode viaFabric8 = (ObjectNode) plain.readTree(fabric8.asJson(same));
        assertEquals(viaFabric8, plain.readTree(plain.writeValueAsString(status)));
        assertFalse(status.has("remediation"), "never the controller's field");
        assertTrue(Set.copyOf(KubeStatusWriter.PROBE_FIELDS).containsAll(fieldNames(status)), status.toString());
        // against a status with repairs and the controller's remediation: set all, remove repairs, keep remediation
        ObjectNode current = plain.createObjectNode();
        current.putArray("repairs").addObject().put("action", "HangUpLeakedSession");
        current.putObject("remediation").put("action", "Cordon");
        var ops = writer.jsonPatch(current, status);
        List<String> paths = new java.util.ArrayList<>();
        ops.forEach(o -> paths.add(o.get("op").asText() + " " + o.get("path").asText()));
        assertTrue(paths.contains("remove /status/repairs"), paths.toString());
        assertTrue(paths.contains("add /status/findings"), paths.toString());
        assertFalse(paths.stream().anyMatch(x -> x.contains("remediation")), paths.toString());
        assertEquals("add /status", paths(writer.jsonPatch(null, status)).get(0));
        assertEquals("StuckRuntimeInit", status.get("findings").get(0).get("type").asText());
        assertEquals("2026-11-23T10:00:05Z", status.get("lastProbeTime").asText());
        // and fabric8 reads it back into the operator's model
        NodeExecHealthStatus back = fabric8.unmarshal(plain.writeValueAsString(status), NodeExecHealthStatus.class);
        assertEquals(same.getFindings(), back.getFindings());
    }

    @Test
    void theNewReportIsNodeExecHealthForNode() throws Exception {
        var node = new NodeBuilder().withNewMetadata().withName("node-a").withUid("uid-1").endMetadata().build();
        JsonNode expected = plain.readTree(fabric8.asJson(NodeExecHealth.forNode(node)));
        assertEquals(expected, writer.forNode("node-a", "uid-1"));
    }

    private static List<String> paths(JsonNode ops) {
        List<String> out = new java.util.ArrayList<>();
        ops.forEach(o -> out.add(o.get("op").asText() + " " + o.get("path").asText()));
        return out;
    }

    private static Set<String> fieldNames(JsonNode n) {
        Set<String> s = new java.util.TreeSet<>();
        n.fieldNames().forEachRemaining(s::add);
        return s;
    }
}
