package io.execguard.node;

import static io.execguard.kube.KubeCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import io.execguard.api.NodeExecHealth;
import io.execguard.controller.decide.NodePlan;
import io.execguard.lab.Lab.Cleanup;

/**
 * The chart installed on the test node for one node IT, as a user of such a node installs it (docs/INSTALL.md,
 * "Nodes without a pod network"), and everything it is torn down with: the release, its pods, the namespace (named
 * after the release), and the node handed back unheld (the chart leaves a held node held: README, Uninstall). The
 * probe's and the operator's logs are kept under {@code <buildDir>/<release>/}. Also the node IT's common reads: the
 * node's report, the probe's metrics, a container's processes on the host.
 */
final class NodeRelease implements AutoCloseable {

    static final Path CHART = Path.of("helm/execguard");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final NodeE2E e2e;
    private final String name;
    private final KubernetesClient admin;
    private final Cleanup cleanup;
    private final Path logs;
    private final int probeMetricsPort;

    private NodeRelease(NodeE2E e2e, String name, KubernetesClient admin, Cleanup cleanup, Path logs,
                        int probeMetricsPort) {
        this.e2e = e2e;
        this.name = name;
        this.admin = admin;
        this.cleanup = cleanup;
        this.logs = logs;
        this.probeMetricsPort = probeMetricsPort;
    }

    /**
     * The values every node IT sets: the lab image, the node's API server, host networking, the probe's and the
     * operator's metrics ports at the API server's port + {@code portOffset} and + {@code portOffset + 1} (each IT
     * its own pair: pods run on the host network), a 2 s scan with a 4 s heartbeat, the policy named after the release.
     */
    static Map<String, Object> values(NodeE2E e2e, String name, int portOffset) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("image.repository", "lab/execguard");
        v.put("image.tag", "dev");
        v.put("image.pullPolicy", "Never");
        v.put("kubernetesApi.host", "127.0.0.1");
        v.put("kubernetesApi.port", Integer.toString(e2e.port()));
        v.put("probe.hostNetwork", true);
        v.put("probe.mountPropagation", "None"); // this host's /sys is a private mount (no systemd)
        v.put("operator.hostNetwork", true);
        v.put("operator.replicas", 1);
        v.put("probe.metricsPort", e2e.port() + portOffset);
        v.put("operator.metricsPort", e2e.port() + portOffset + 1);
        v.put("probe.scanInterval", "2s");
        v.put("probe.heartbeat", "4s"); // a report every 4 s even when nothing changed (observedScanCount moves)
        v.put("policy.name", name);
        return v;
    }

    /**
     * Imports the image built from the jar, installs the release {@code name} into namespace {@code name} with
     * {@code values} (from {@link #values}), binds its operator pod (the node has no scheduler), waits for the pods of
     * each selector to be Ready and for the probe's first report. What it set up is torn down if it fails part way.
     */
    static NodeRelease install(NodeE2E e2e, String name, Map<String, Object> values, String... readySelectors)
            throws Exception {
        Path logs = Path.of(System.getProperty("execguard.buildDir", "target"), name);
        Files.createDirectories(logs);
        KubernetesClient admin = e2e.cluster().admin();
        Cleanup cleanup = new Cleanup(name);
        NodeRelease r = new NodeRelease(e2e, name, admin, cleanup, logs,
                Integer.parseInt(String.valueOf(values.get("probe.metricsPort"))));
        try {
            e2e.importImage(Path.of(System.getProperty("execguard.jar")));
            long t0 = System.nanoTime();
            InstallCommand install = new Helm(CHART).install().withName(name).withNamespace(name).createNamespace()
                    .withKubeConfig(e2e.cluster().kubeconfig());
            values.forEach((k, v) -> install.set(k, v));
            cleanup.add("helm uninstall " + name, r::uninstall);
            assertEquals("deployed", install.call().getStatus());
            Binder binder = new Binder(admin, name, e2e.node()).start();
            cleanup.add("stop the binder", binder::close);
            for (String selector : readySelectors) {
                r.awaitReady(selector, Duration.ofSeconds(120));
            }
            r.awaitReport(Duration.ofSeconds(60), "the probe's first report", x -> x.getStatus().getLastProbeTime() != null);
            r.latency("helm install -> pods Ready, first NodeExecHealth", t0);
            return r;
        } catch (Throwable t) {
            try {
                r.close();
            } catch (Throwable c) {
                t.addSuppressed(c); // the install's failure is the one to see
            }
            throw t;
        }
    }

    KubernetesClient admin() {
        return admin;
    }

    String namespace() {
        return name;
    }

    Cleanup cleanup() {
        return cleanup;
    }

    Path logs() {
        return logs;
    }

    NodeExecHealth report() {
        return admin.resources(NodeExecHealth.class).withName(e2e.node()).get();
    }

    /** The node's report once {@code cond} holds for it (it has a status). */
    NodeExecHealth awaitReport(Duration timeout, String what, Predicate<NodeExecHealth> cond) {
        NodeExecHealth[] last = new NodeExecHealth[1];
        await(timeout, what, () -> {
            last[0] = report();
            return last[0] != null && last[0].getStatus() != null && cond.test(last[0]);
        });
        assertNotNull(last[0]);
        return last[0];
    }

    /** Waits for the release's pods of {@code selector} to be Ready; prints the namespace's events if they are not. */
    void awaitReady(String selector, Duration timeout) throws Exception {
        try {
            await(timeout, "pods " + selector + " Ready", () -> {
                List<Pod> pods = admin.pods().inNamespace(name).withLabelSelector(selector).list().getItems();
                return !pods.isEmpty() && pods.stream().allMatch(p -> p.getStatus() != null
                        && p.getStatus().getConditions() != null && p.getStatus().getConditions().stream()
                        .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True")));
            });
        } catch (AssertionError e) {
            System.out.println("[" + name + "] pods " + selector + " not Ready; their events:\n" + e2e.kubectl(
                    Duration.ofSeconds(20), "get", "events", "-n", name, "--sort-by=.lastTimestamp").stdout());
            throw e;
        }
    }

    /** The probe's Prometheus metrics, by series (name with labels). */
    Map<String, Double> metrics() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + probeMetricsPort
                + "/metrics")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        Map<String, Double> m = new TreeMap<>();
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                int sp = line.lastIndexOf(' ');
                m.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
            }
        }
        return m;
    }

    /**
     * The probe JVM's RSS and threads as the host sees them, and whether its exec canary and runtime sweep ran (they
     * run only with a CRI socket): one line to compare the footprint of releases with and without them.
     */
    String probeFootprint() throws Exception {
        Pod probe = admin.pods().inNamespace(name).withLabel("app.kubernetes.io/component", "probe").list().getItems()
                .get(0);
        long jvm = containerInit(containerId(probe));
        List<String> status = Files.readAllLines(Path.of("/proc/" + jvm + "/status")).stream()
                .filter(l -> l.startsWith("VmRSS:") || l.startsWith("Threads:")).map(l -> l.replaceAll("\\s+", " "))
                .toList();
        Map<String, Double> m = metrics();
        double canaries = m.entrySet().stream().filter(e -> e.getKey().startsWith("execguard_canary_runs_total{"))
                .mapToDouble(Map.Entry::getValue).sum();
        return "the probe's JVM (pid " + jvm + "): " + String.join(", ", status) + "; canary runs " + (long) canaries
                + ", runtime sweeps " + m.getOrDefault("execguard_runtime_sweeps_total", 0.0).longValue()
                + ", scans " + m.getOrDefault("execguard_scans_total", 0.0).longValue();
    }

    /**
     * The host pid of the container's own process: of its processes whose parent is not one of them (the init and
     * anything exec'd into it, such as a canary run, which the shim reaps too), the one that started first.
     */
    static long containerInit(String cid) throws Exception {
        List<Long> pids = new ArrayList<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path d : dirs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    if (Files.readString(d.resolve("cgroup")).contains(cid)) {
                        pids.add(Long.parseLong(d.getFileName().toString()));
                    }
                } catch (java.io.IOException gone) {
                    // exited
                }
            }
        }
        return pids.stream().filter(p -> ProcessHandle.of(p).flatMap(ProcessHandle::parent)
                .map(pp -> !pids.contains(pp.pid())).orElse(false))
                .min(java.util.Comparator.comparingLong(NodeRelease::startTicks).thenComparingLong(p -> p))
                .orElseThrow(() -> new AssertionError("no process of container " + cid));
    }

    /** The process's start time (clock ticks since boot); a process gone meanwhile sorts last. */
    static long startTicks(long pid) {
        try {
            byte[] stat = Files.readAllBytes(Path.of("/proc/" + pid + "/stat"));
            return io.execguard.host.ProcStat.parse(stat, stat.length).startTime();
        } catch (java.io.IOException | RuntimeException gone) {
            return Long.MAX_VALUE;
        }
    }

    /** The container's shim: the parent of its init, checked to be this node's containerd-shim. */
    long shimOf(String cid) throws Exception {
        long init = containerInit(cid);
        long shim = ProcessHandle.of(init).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElseThrow();
        String cmd = Files.readString(Path.of("/proc/" + shim + "/cmdline")).replace('\0', ' ');
        assertTrue(cmd.contains("containerd-shim") && cmd.contains(e2e.dir().toString()),
                "the container's parent is this node's shim: " + cmd);
        return shim;
    }

    /** The first container's id of a pod, without the runtime's prefix. */
    static String containerId(Pod p) {
        return p.getStatus().getContainerStatuses().get(0).getContainerID().replace("containerd://", "");
    }

    /** Sends a signal to a process the node started for this test (by pid; never by name). */
    void signal(String sig, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).redirectErrorStream(true).start();
        assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "kill -" + sig);
        assertEquals(0, p.exitValue(), "kill -" + sig + " " + pid + ": " + new String(p.getInputStream().readAllBytes()));
        System.out.println("[" + name + "] SIG" + sig + " pid " + pid);
    }

    void latency(String what, long t0Nanos) {
        System.out.printf("[%s] LATENCY %s: %.1f s%n", name, what, (System.nanoTime() - t0Nanos) / 1e9);
    }

    private void saveLog(String component, int lines) {
        try {
            NodeE2E.Result r = e2e.kubectl(Duration.ofSeconds(20), "logs", "-n", name, "-l",
                    "app.kubernetes.io/component=" + component, "--tail=" + lines);
            Files.writeString(logs.resolve(component + ".log"), r.stdout() + r.stderr());
        } catch (Exception e) {
            System.out.println("[" + name + "] could not keep the " + component + "'s log: " + e);
        }
    }

    private void uninstall() throws Exception {
        saveLog("probe", 300);
        saveLog("operator", 300);
        Helm.uninstall(name).withNamespace(name).withKubeConfig(e2e.cluster().kubeconfig()).ignoreNotFound().call();
        admin.pods().inNamespace(name).withGracePeriod(0).delete();
        admin.namespaces().withName(name).delete();
        // the chart leaves a held node held (README, Uninstall): a test node is handed back as it was
        Node n = e2e.nodeObject(admin);
        for (int attempt = 1; n != null; attempt++) {
            try {
                admin.nodes().withName(e2e.node()).edit(x -> {
                    x.getSpec().setUnschedulable(null);
                    if (x.getSpec().getTaints() != null) {
                        x.getSpec().getTaints().removeIf(t -> t.getKey().equals(NodePlan.TAINT_KEY));
                    }
                    if (x.getMetadata().getAnnotations() != null) {
                        x.getMetadata().getAnnotations().keySet().removeIf(k -> k.startsWith("execguard.io/"));
                    }
                    return x;
                });
                break;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == 5) {
                    throw e; // the kubelet updates its Node too: read it again and retry a conflict
                }
            }
        }
        await(Duration.ofSeconds(60), "namespace " + name + " gone", () -> admin.namespaces().withName(name).get() == null);
    }

    /** Tears down what {@link #install} set up and what the test added to {@link #cleanup()}, last first. */
    @Override
    public void close() {
        try {
            cleanup.close();
        } finally {
            admin.close();
        }
    }
}
