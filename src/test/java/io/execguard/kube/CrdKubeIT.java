package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.VersionInfo;

/**
 * crd/ on the real API server: it applies, and {@code kubectl get nodeexechealth} shows README's columns,
 * filled from the sample's status. The schema's refusals are in {@code io.execguard.api.CrdSchemaKubeIT}.
 */
class CrdKubeIT {

    private static final String REPORT = "crdkubeit-worker-7";

    static KubeCluster cluster;
    static KubernetesClient admin;

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
    }

    @AfterAll
    static void close() {
        cluster.kubectl(null, "delete", "nodeexechealth", REPORT, "--ignore-not-found").ok();
        admin.close();
    }

    @Test
    void serverIsTheBuiltRelease() {
        VersionInfo v = admin.getKubernetesVersion();
        assertEquals("1", v.getMajor());
        assertTrue(v.getGitVersion().startsWith("v1."), v.getGitVersion());
    }

    @Test
    void getShowsReadmeColumnsAndTheSamplesValues() throws IOException {
        NodeExecHealth sample = admin.getKubernetesSerialization().unmarshal(
                Files.readString(Path.of("crd/samples/nodeexechealth-unhealthy.yaml")), NodeExecHealth.class);
        NodeExecHealthStatus status = sample.getStatus();
        Instant probed = Instant.now().minusSeconds(90);
        status.setLastProbeTime(probed.toString());
        NodeExecHealth report = NodeExecHealth.forNode(new NodeBuilder().withNewMetadata().withName(REPORT)
                .withUid("no-such-node").endMetadata().build());
        report.getMetadata().setOwnerReferences(null); // no Node: the garbage collector would delete the report
        NodeExecHealth created = admin.resource(report).create();
        created.setStatus(status);
        admin.resource(created).updateStatus();

        String out = cluster.kubectl(null, "get", "nodeexechealth", REPORT).ok().stdout();
        List<List<String>> rows = out.lines().map(l -> Arrays.asList(l.trim().split("\\s+"))).toList();
        assertEquals(2, rows.size(), out);
        assertEquals(List.of("NAME", "STATUS", "STUCK-EXEC", "STUCK-KILL", "TOP-CAUSE", "ACTION", "LAST-PROBE", "AGE"),
                rows.get(0), out);
        List<String> row = rows.get(1);
        assertEquals(List.of(REPORT, status.getPhase().name(), status.getSummary().getStuckExec().toString(),
                status.getSummary().getStuckKill().toString(), status.getSummary().getTopCause(),
                status.getRemediation().getAction().name()), row.subList(0, 6), out);
        long lastProbe = seconds(row.get(6));
        long age = seconds(row.get(7));
        assertTrue(lastProbe >= 90 && lastProbe < 90 + 60, "LAST-PROBE is the age of lastProbeTime: " + out);
        assertTrue(age >= 0 && age < 60, "AGE is the age of the resource: " + out);
    }

    /** kubectl's short duration for ages under two minutes ("95s") or under ten ("3m5s"), in seconds. */
    private static long seconds(String human) {
        Matcher m = Pattern.compile("(?:(\\d+)m)?(?:(\\d+)s)?").matcher(human);
        assertTrue(!human.isEmpty() && m.matches(), "not a short kubectl duration: " + human);
        return (m.group(1) == null ? 0 : Long.parseLong(m.group(1)) * 60)
                + (m.group(2) == null ? 0 : Long.parseLong(m.group(2)));
    }
}
