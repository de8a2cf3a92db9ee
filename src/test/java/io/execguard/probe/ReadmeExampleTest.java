package io.execguard.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.RemediationStatus;
import io.execguard.detect.DetectorSuite;
import io.execguard.detect.Thresholds;
import io.execguard.host.DeadlineReader;
import io.execguard.host.HostPaths;
import io.execguard.host.HostReader;
import io.execguard.repair.ProcHostRepairs;
import io.execguard.repair.Repairer;

/**
 * Produces the seed 004 example of docs/examples ({@code kubectl get nodeexechealth} and {@code -o yaml}) from a
 * real run: the seed 004 fixture tree scanned by the probe pipeline and written to the mock API server. Fails
 * when docs/examples differ; {@code -Dexecguard.golden.update=true} rewrites them. (README's examples come from a
 * real node: io.execguard.node.ReadmeExamples.)
 */
@EnableKubernetesMockClient(crud = true, https = false)
class ReadmeExampleTest {

    KubernetesMockServer server;
    KubernetesClient client;

    private static final Path FIXTURE = Path.of("src/test/resources/fixtures/seed004-pidns-fuse");
    private static final Path EXAMPLES = Path.of("docs/examples");

    @Test
    void readmeShowsWhatTheProbeReallyWrites() throws Exception {
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(NodeExecHealth.class));
        String node = "worker-7";
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName(node).endMetadata().build()).create();
        Instant t = Instant.parse("2026-11-23T10:00:00Z");
        Clock clock = Clock.fixed(t, java.time.ZoneOffset.UTC);
        ProbeConfig config = ProbeConfig.fromEnv(Map.of("NODE_NAME", node));
        Metrics metrics = new Metrics();
        ReportPublisher publisher = new ReportPublisher(new KubeStatusWriter(ProbeTestData.api("http://127.0.0.1:" + server.getPort()), node, "0.1.0"), config.heartbeat(),
                node, metrics, clock);
        try (DeadlineReader slow = new DeadlineReader(Duration.ofSeconds(1), 4)) {
            ProbeLoop loop = new ProbeLoop(config, new HostReader(new HostPaths(FIXTURE), slow, clock)::read,
                    new FindingTracker(), () -> new PodIndex(List.of()),
                    ProbePolicy::defaults, publisher,
                    new Repairer(new ProcHostRepairs(FIXTURE), node), metrics,
                    clock);
            loop.runOnce();
            publisher.publishOnce();
        }
        // what the controller (#4) adds, so the Action column is shown filled in
        client.resources(NodeExecHealth.class).withName(node).editStatus(n -> {
            n.getStatus().setRemediation(new RemediationStatus(io.execguard.api.Action.Cordon, t.toString(),
                    "PidNamespaceTeardownStuck/PidNamespaceTeardown", null));
            return n;
        });
        NodeExecHealth neh = client.resources(NodeExecHealth.class).withName(node).get();
        neh.getMetadata().setCreationTimestamp("2026-11-23T09:00:00Z");
        neh.getMetadata().setUid("6c1f0f9e-2d7a-4d7e-9a51-0c6b2b8f3f10");
        neh.getMetadata().setResourceVersion("4711");
        neh.getMetadata().setManagedFields(null);
        neh.getMetadata().getOwnerReferences().get(0).setUid("0b6d1c52-3c1e-4a8e-b1f7-2f6f1a9d2c44");

        String table = kubectlGet(neh, t);
        String yaml = client.getKubernetesSerialization().asYaml(neh);
        assertTrue(table.contains("Unhealthy"), table);
        assertTrue(yaml.contains("PidNamespaceTeardownStuck"), yaml);

        Path tableFile = EXAMPLES.resolve("kubectl-get-nodeexechealth.txt");
        Path yamlFile = EXAMPLES.resolve("nodeexechealth-seed004.yaml");
        if (Boolean.getBoolean("execguard.golden.update")) {
            Files.createDirectories(EXAMPLES);
            Files.writeString(tableFile, table);
            Files.writeString(yamlFile, yaml);
        }
        assertEquals(read(tableFile), table, "run mvn test -Dexecguard.golden.update=true to refresh docs/examples");
        assertEquals(read(yamlFile), yaml, "run mvn test -Dexecguard.golden.update=true to refresh docs/examples");
        // README shows the node e2e's live output (io.execguard.node.ReadmeExamples) and links this one
        assertTrue(read(Path.of("README.md")).contains("docs/examples/nodeexechealth-seed004.yaml"),
                "README.md links docs/examples/nodeexechealth-seed004.yaml");
    }

    /** The printer columns of the CRD, rendered the way kubectl does. */
    private static String kubectlGet(NodeExecHealth n, Instant now) {
        var s = n.getStatus();
        String[] head = {"NAME", "STATUS", "STUCK-EXEC", "STUCK-KILL", "TOP-CAUSE", "ACTION", "LAST-PROBE", "AGE"};
        String[] row = {n.getMetadata().getName(), s.getPhase().name(), String.valueOf(s.getSummary().getStuckExec()),
            String.valueOf(s.getSummary().getStuckKill()), s.getSummary().getTopCause(),
            s.getRemediation() == null ? "<none>" : s.getRemediation().getAction().name(),
            age(Instant.parse(s.getLastProbeTime()), now), age(Instant.parse(n.getMetadata().getCreationTimestamp()), now)};
        StringBuilder b = new StringBuilder();
        for (String[] line : new String[][] {head, row}) {
            for (int i = 0; i < line.length; i++) {
                int w = Math.max(head[i].length(), row[i].length()) + 3;
                b.append(i == line.length - 1 ? line[i] : String.format("%-" + w + "s", line[i]));
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String age(Instant then, Instant now) {
        long s = Duration.between(then, now).toSeconds();
        return s < 120 ? s + "s" : s < 7200 ? (s / 60) + "m" : (s / 3600) + "h";
    }

    private static String read(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    }
}
