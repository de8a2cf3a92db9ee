package io.execguard.lab.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.PolicyThresholds;
import io.execguard.api.ReportedFinding;

/**
 * The probe as the Helm DaemonSet runs it, on the lab's dockerd: the image {@code hack/lab-image.sh} builds
 * from the jar under test, in a container with the chart's security context (root, only SYS_PTRACE,
 * DAC_READ_SEARCH and SYS_ADMIN, default seccomp), the host's PID namespace and network, the host's
 * {@code /proc} and {@code /sys} read-only under {@code /host} ({@code HOST_ROOT=/host}), a read-only root
 * with a 16 MiB {@code /tmp} tmpfs and the chart's memory limit; reporting to fabric8's mock API server (CRUD
 * mode, plain HTTP on 127.0.0.1) in this JVM, which holds the Node and, optionally, an ExecHealthPolicy.
 * Everything it starts is undone by the test's {@link DockerLab.Cleanup}: the container by {@code docker rm -f},
 * the server by its shutdown; it signals no process.
 */
final class LabProbe {

    static final String DEFAULT_IMAGE = "lab/execguard:dev";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The mock API server and a client of it. */
    record Api(KubernetesMockServer server, KubernetesClient client, int port, String node) {

        /** Starts the server, registers its shutdown, and creates the Node {@code node}. */
        static Api start(DockerLab.Cleanup cleanup, String node) {
            KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                    new KubernetesCrudDispatcher(List.of()), false);
            server.start(InetAddress.getLoopbackAddress(), 0);
            cleanup.add("stop the mock API server", server::shutdown);
            server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(NodeExecHealth.class));
            server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(ExecHealthPolicy.class));
            KubernetesClient client = server.createClient(b -> b.editOrNewConfig().withRequestRetryBackoffLimit(0)
                    .endConfig());
            cleanup.add("close the mock API client", client::close);
            client.nodes().resource(new NodeBuilder().withNewMetadata().withName(node).endMetadata().build()).create();
            return new Api(server, client, server.getPort(), node);
        }

        /** Creates an ExecHealthPolicy selecting every node; the probe reads it on its first scan. */
        void policy(String name, ExecHealthPolicySpec spec) {
            ExecHealthPolicy p = new ExecHealthPolicy();
            p.getMetadata().setName(name);
            p.setSpec(spec);
            client.resources(ExecHealthPolicy.class).resource(p).create();
        }

        Optional<NodeExecHealth> report() {
            return Optional.ofNullable(client.resources(NodeExecHealth.class).withName(node).get());
        }
    }

    /**
     * A policy whose time thresholds are 1 s, like the host scans' {@link DockerLab#FAST}, so a fault is
     * reportable a scan or two after it is injected. (The probe has no confirmation window: a finding is
     * reported on the first scan that sees it past its threshold.)
     */
    static ExecHealthPolicySpec fastPolicy() {
        PolicyThresholds t = new PolicyThresholds();
        t.setStuckRuntimeInitSeconds(1L);
        t.setUnkillableTaskSeconds(1L);
        t.setPidNamespaceTeardownSeconds(1L);
        t.setHungTaskSeconds(1L);
        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        s.setThresholds(t);
        return s;
    }

    /** The probe container. */
    record Container(String id, String name) {

        /** {@code docker logs} (stdout and stderr), or why they could not be read. */
        String logs() {
            try {
                Optional<DockerLab.Result> r = DockerLab.runDeadline(Duration.ofSeconds(20), DockerLab.docker(),
                        "logs", "--tail", "200", id);
                return r.map(x -> x.stdout() + x.stderr()).orElse("(docker logs timed out)");
            } catch (Exception e) {
                return "(docker logs failed: " + e + ")";
            }
        }

        boolean running() throws Exception {
            Optional<DockerLab.Result> r = DockerLab.runDeadline(Duration.ofSeconds(20), DockerLab.docker(), "inspect",
                    "--format", "{{.State.Running}}", id);
            return r.isPresent() && r.get().stdout().strip().equals("true");
        }
    }

    private LabProbe() {
    }

    /**
     * Builds (or finds up to date) the probe image from the jar under test with {@code hack/lab-image.sh},
     * using this JVM's JDK for jlink. Prints how long it took.
     */
    static String buildImage(String tag) throws Exception {
        Path script = Path.of(System.getProperty("basedir", ".")).resolve("hack/lab-image.sh");
        if (!Files.isRegularFile(script)) {
            fail("no " + script + " (run the tests from the project directory)");
        }
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), System.getProperty("execguard.jar"), tag)
                .redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Path log = Files.createTempFile("execguard-lab-image", ".log");
        try {
            Process p = pb.redirectOutput(log.toFile()).start();
            if (!p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly); // jlink, docker import: ours too
                p.destroyForcibly();
                fail("hack/lab-image.sh did not finish within 300 s: " + Files.readString(log));
            }
            String out = Files.readString(log);
            assertEquals(0, p.exitValue(), () -> "hack/lab-image.sh failed: " + out);
            System.out.print(out.lines().map(l -> "[docker-lab] " + l + "\n").reduce("", String::concat));
            System.out.printf(Locale.ROOT, "[docker-lab] image %s ready in %.1f s%n", tag, (System.nanoTime() - t0) / 1e9);
            return tag;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /**
     * {@code docker run -d} the probe for {@code api.node()}, scanning every {@code scanInterval}; {@code extra}
     * goes before the image (more mounts, environment: later {@code -e}s win). Registers its {@code docker rm -f}
     * (bounded); {@link Container#logs()} reads what it printed, the waits below fail with it, and with
     * {@code -Dexecguard.probeLogs=true} the cleanup prints it before removing the container.
     */
    static Container start(DockerLab.Cleanup cleanup, Api api, String image, Duration scanInterval,
            List<String> extra) throws Exception {
        String name = "eglab-probe-" + HexFormat.of().formatHex(DockerLab.randomBytes(3));
        // the probe's own API access reads a kubeconfig (fabric8's KUBERNETES_MASTER is not its convention)
        java.nio.file.Path kubeconfig = java.nio.file.Files.createTempFile("eglab-kubeconfig-", ".json");
        cleanup.add("rm " + kubeconfig, () -> java.nio.file.Files.deleteIfExists(kubeconfig));
        java.nio.file.Files.writeString(kubeconfig, "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"clusters\":[{\"name\":"
                + "\"mock\",\"cluster\":{\"server\":\"http://127.0.0.1:" + api.port() + "\"}}],\"users\":[{\"name\":\"mock\","
                + "\"user\":{}}],\"contexts\":[{\"name\":\"mock\",\"context\":{\"cluster\":\"mock\",\"user\":\"mock\","
                + "\"namespace\":\"default\"}}],\"current-context\":\"mock\"}");
        kubeconfig.toFile().setReadable(true, false);
        List<String> argv = new ArrayList<>(List.of(DockerLab.docker(), "run", "-d", "--label", DockerLab.LABEL,
                "--name", name,
                // the DaemonSet (helm/execguard/templates/probe-daemonset.yaml): root, capabilities dropped
                // but the chart's three (kernelStacks on), docker's default seccomp profile (RuntimeDefault),
                // hostPID, host /proc and /sys read-only under HOST_ROOT, read-only root, /tmp an emptyDir in
                // memory (16Mi), the memory limit of values.yaml. Not --privileged: the chart does not ask for
                // it, and runc cannot grant "all capabilities" where the bounding set lacks one (this lab's
                // lacks CAP_SYS_RESOURCE). Host network only so the container reaches the mock API server.
                "--user", "0:0", "--cap-drop", "ALL", "--cap-add", "SYS_PTRACE", "--cap-add", "DAC_READ_SEARCH",
                "--cap-add", "SYS_ADMIN", "--pid=host", "--network=host",
                "-v", "/proc:/host/proc:ro", "-v", "/sys:/host/sys:ro",
                "--read-only", "--tmpfs", "/tmp:rw,size=16m", "--memory", "256m",
                "-e", "NODE_NAME=" + api.node(), "-e", "HOST_ROOT=/host",
                "-e", "SCAN_INTERVAL=" + scanInterval.toMillis() + "ms",
                "-e", "METRICS_PORT=0", // any free port: the host network is shared
                "-v", kubeconfig + ":/kube/config:ro", "-e", "KUBECONFIG=/kube/config",
                "-e", "KUBERNETES_MASTER=http://127.0.0.1:" + api.port(),
                "-e", "KUBERNETES_AUTH_TRYKUBECONFIG=false", "-e", "KUBERNETES_AUTH_TRYSERVICEACCOUNT=false",
                "-e", "KUBERNETES_NAMESPACE=default"));
        argv.addAll(extra);
        argv.addAll(List.of(image, "probe"));
        // registered before the run: a container that was created but failed to start is removed too
        cleanup.add("docker rm -f " + name, () -> {
            Optional<DockerLab.Result> rm = DockerLab.runDeadline(Duration.ofSeconds(60), DockerLab.docker(), "rm",
                    "-f", name);
            if (rm.isEmpty() || rm.get().exit() != 0 && !rm.get().stderr().contains("No such container")) {
                throw new java.io.IOException("docker rm -f " + name + ": "
                        + rm.map(DockerLab.Result::stderr).orElse("timed out"));
            }
        });
        DockerLab.Result r = DockerLab.run(Duration.ofSeconds(60), argv.toArray(String[]::new));
        assertEquals(0, r.exit(), () -> "docker run of the probe failed: " + r.stderr());
        Container c = new Container(r.stdout().strip(), name);
        if (Boolean.getBoolean("execguard.probeLogs")) { // runs before the docker rm -f
            cleanup.add("print the logs of " + name, () -> System.out.println("[docker-lab] probe " + name
                    + " logs:\n" + c.logs()));
        }
        return c;
    }

    /** Waits until the probe has published its first report (ProbeReporting True); fails with its logs if not. */
    static NodeExecHealth awaitFirstReport(Api api, Container probe, Duration timeout) throws Exception {
        long t0 = System.nanoTime();
        long end = t0 + timeout.toNanos();
        while (System.nanoTime() < end) {
            Optional<NodeExecHealth> n = api.report().filter(LabProbe::reporting);
            if (n.isPresent()) {
                System.out.printf(Locale.ROOT, "[docker-lab] probe %s: first report %.1f s after docker run%n",
                        probe.name(), (System.nanoTime() - t0) / 1e9);
                return n.get();
            }
            if (!probe.running()) {
                fail("the probe container exited before reporting:\n" + probe.logs());
            }
            Thread.sleep(200);
        }
        fail("no NodeExecHealth/" + api.node() + " with ProbeReporting=True within " + timeout + "; last: "
                + api.report().map(LabProbe::yaml).orElse("none") + "\nprobe logs:\n" + probe.logs());
        throw new AssertionError("unreachable");
    }

    private static boolean reporting(NodeExecHealth n) {
        return n.getStatus() != null && n.getStatus().getConditions() != null && n.getStatus().getConditions().stream()
                .anyMatch(c -> "ProbeReporting".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /**
     * Polls the node's NodeExecHealth (every 100 ms) until {@code found} holds; prints the latency from
     * {@code sinceNanos} (the fault, or its release) to the first report satisfying it, like
     * {@link DockerLab#pollUntil}. Fails with the last report and the probe's logs.
     */
    static NodeExecHealth pollUntil(String scenario, long sinceNanos, Duration timeout, Api api, Container probe,
            Predicate<NodeExecHealth> found) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        NodeExecHealth last = null;
        int reads = 0;
        while (System.nanoTime() < end) {
            last = api.report().orElse(null);
            reads++;
            if (last != null && last.getStatus() != null && found.test(last)) {
                System.out.printf(Locale.ROOT, "[docker-lab] LATENCY probe-in-container %s: %.1f s (-> first "
                        + "NodeExecHealth showing it; %d reads, report of scan %s, scan took %s ms)%n", scenario,
                        (System.nanoTime() - sinceNanos) / 1e9, reads, last.getStatus().getObservedScanCount(),
                        last.getStatus().getScanDurationMillis());
                return last;
            }
            Thread.sleep(100);
        }
        fail("probe-in-container " + scenario + ": not reported within " + timeout + "; last report: "
                + (last == null ? "none" : yaml(last)) + "\nprobe logs:\n" + probe.logs());
        throw new AssertionError("unreachable");
    }

    /** The report's findings. */
    static List<ReportedFinding> findings(NodeExecHealth n) {
        return n.getStatus() == null || n.getStatus().getFindings() == null ? List.of() : n.getStatus().getFindings();
    }

    /** A published finding as JSON, field names as in {@code scan --output json}. */
    static JsonNode json(ReportedFinding f) {
        return JSON.valueToTree(f);
    }

    static String yaml(NodeExecHealth n) {
        try {
            return io.fabric8.kubernetes.client.utils.Serialization.asYaml(n);
        } catch (RuntimeException e) {
            return String.valueOf(n);
        }
    }

    /**
     * Asserts the probe's finding and the host scan's agree on every field that identifies the fault and its
     * evidence ({@code fields}: JSON pointers); absent and null count as the same. Prints the compared values.
     */
    static void assertSameFinding(String scenario, JsonNode host, JsonNode probe, List<String> fields) {
        List<String> diffs = new ArrayList<>();
        for (String field : fields) {
            String h = text(host.at(field));
            String p = text(probe.at(field));
            if (!h.equals(p)) {
                diffs.add(field + ": host scan " + h + ", probe " + p);
            }
        }
        if (!diffs.isEmpty()) {
            fail(scenario + ": the probe in the container and the host scan disagree on " + diffs + "\nhost scan: "
                    + host.toPrettyString() + "\nprobe: " + probe.toPrettyString());
        }
        System.out.println("[docker-lab] " + scenario + ": probe-in-container = host scan on " + fields.size()
                + " fields: " + fields.stream().map(f -> f.substring(1) + "=" + text(host.at(f)))
                        .filter(s -> !s.endsWith("=-")).map(s -> s.length() > 90 ? s.substring(0, 87) + "..." : s)
                        .toList());
    }

    private static String text(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return "-";
        }
        return n.isValueNode() ? n.asText() : n.toString();
    }
}
