package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.Phase;
import io.execguard.api.TestFleet;
import io.execguard.controller.write.EventRecorder;

/**
 * A benchmark on the real API server, not a timed test: {@code -Dexecguard.scale.nodes} (default 5,000) Node
 * objects with reports, 30 % of them Critical at node scope, default policy. First a trivial JOSDK reconciler
 * (the floor: it watches the same reports and Nodes and makes one Node patch per unhealthy report) twice - with
 * the patch alone, and as issue #11 measured it, with fabric8's GET before each patch - then the real
 * {@code operator} process with the chart's RBAC, heap and JVM flags. Prints converge time for both, API requests by
 * verb from the server's own {@code apiserver_request_total}, the operator's heap after a full GC, and its
 * writes on a second pass over the unchanged fleet. Asserts only correctness: the cap holds (10 % cordoned)
 * and the second pass writes nothing.
 */
class OperatorScaleKubeIT {

    static final String LABEL = "execguard.io/bench";
    static final int NODES = Integer.getInteger("execguard.scale.nodes", 5000);
    static final int UNHEALTHY = NODES * 30 / 100;
    /** {@code scattered} (default): each failing node on its own; {@code shared}: all on one ceph backend. */
    static final String BACKEND = System.getProperty("execguard.scale.backend", "scattered");
    static final String POLICY = "a-scale-bench";
    static final String TRIVIAL_ANNOTATION = "bench.execguard.io/trivial";
    /**
     * {@code -Dexecguard.scale.pprof=DIR}: a CPU profile of the API server in each phase (both floors for
     * {@link #FLOOR_PROFILE_SECONDS} from their start, the operator for {@link #OPERATOR_PROFILE_SECONDS} from its
     * first reconcile), written to DIR as {@code apiserver-PHASE-BACKEND-NODES.pprof}; read them with
     * {@code go tool pprof -top -cum FILE}. Needs the cluster started with {@code EXECGUARD_APISERVER_PROFILING=true}.
     */
    static final String PPROF = System.getProperty("execguard.scale.pprof", "");
    static final int FLOOR_PROFILE_SECONDS = 15;
    static final int OPERATOR_PROFILE_SECONDS = 20;

    /**
     * The operator's JVM as the chart runs it: {@code operator.jvmOptions} of values.yaml, and the container's
     * memory limit ({@code operator.resources.limits.memory}) as {@code -XX:MaxRAM}, which is what the limit does
     * to {@code MaxRAMPercentage} in a pod.
     */
    record ChartJvm(List<String> options, String memoryLimit) {
        static ChartJvm fromValues(Path values) {
            try {
                Map<?, ?> v = new io.fabric8.kubernetes.client.utils.KubernetesSerialization()
                        .unmarshal(Files.readString(values), Map.class);
                Map<?, ?> op = (Map<?, ?>) v.get("operator");
                Map<?, ?> limits = (Map<?, ?>) ((Map<?, ?>) op.get("resources")).get("limits");
                String limit = String.valueOf(limits.get("memory"));
                return new ChartJvm(List.of(String.valueOf(op.get("jvmOptions")).trim().split("\\s+")), limit);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        List<String> flags() {
            List<String> out = new ArrayList<>();
            out.add("-XX:MaxRAM=" + memoryLimit.replace("Mi", "m").replace("Gi", "g"));
            for (String o : options) {
                if (!o.startsWith("-XX:AOTCache=")) {
                    out.add(o);
                } else { // the image's AOT cache: one trained here as the Dockerfile trains it, for this runtime and jar
                    trainOperatorAotCache().ifPresent(aot -> out.add("-XX:AOTCache=" + aot));
                }
            }
            // -Dexecguard.scale.operator.jvmExtra="...": flags after the chart's (the later one wins), to compare
            String extra = System.getProperty("execguard.scale.operator.jvmExtra", "").trim();
            if (!extra.isEmpty()) {
                out.addAll(List.of(extra.split("\\s+")));
            }
            return out;
        }

        @Override
        public String toString() {
            String extra = System.getProperty("execguard.scale.operator.jvmExtra", "").trim();
            return "chart jvmOptions" + (extra.isEmpty() ? "" : " + " + extra) + ", memory limit " + memoryLimit;
        }
    }

    static final ChartJvm CHART_JVM = ChartJvm.fromValues(Path.of("helm", "execguard", "values.yaml"));

    /**
     * Trains the operator's AOT cache by hack/aot-train.sh, as the Dockerfile does; empty on a runtime without AOT
     * caches (JDK < 25), where the image's cache is empty too and the JVM runs without one.
     */
    static java.util.Optional<Path> trainOperatorAotCache() {
        Path jar = Path.of(System.getProperty("execguard.jar")).toAbsolutePath();
        Path out = jar.resolveSibling("scale-kube").resolve("operator.aot");
        Path log = out.resolveSibling("aot-train.log");
        try {
            Files.createDirectories(out.getParent());
            ProcessBuilder pb = new ProcessBuilder("bash", "hack/aot-train.sh",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), jar.toString(),
                    out.toString(), "20", "operator").redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("BUILD", jar.getParent().toString()); // its classes and class path
            Process p = pb.start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("hack/aot-train.sh operator took over 5 minutes");
            }
            if (p.exitValue() == 2 && Files.readString(log).contains("no AOT cache support")) {
                System.out.printf("[scale-kube] operator without an AOT cache: %s%n", Files.readString(log).strip());
                return java.util.Optional.empty();
            }
            if (p.exitValue() != 0 || !Files.isRegularFile(out)) {
                throw new AssertionError("hack/aot-train.sh operator failed (" + p.exitValue() + "): "
                        + Files.readString(log));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        System.out.printf("[scale-kube] operator AOT cache trained for this runtime and jar: %s (%d MB)%n", out,
                out.toFile().length() >> 20);
        return java.util.Optional.of(out);
    }

    static KubeCluster cluster;
    static KubernetesClient admin;
    static List<HasMetadata> chart = List.of();
    static final Map<String, String> figures = new LinkedHashMap<>();

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of());
    }

    @AfterAll
    static void down() {
        if (admin == null) {
            return;
        }
        admin.resources(io.execguard.api.ExecHealthPolicy.class).withName(POLICY).delete();
        admin.resources(NodeExecHealth.class).withLabel(LABEL, "scale").delete();
        admin.nodes().withLabel(LABEL, "scale").delete();
        cluster.deleteAll(admin, chart);
        admin.close();
    }

    @Test
    void operatorConvergesOnTheRealServer() throws Exception {
        // the defaults (maxUnhealthy 10 %, storm guard at 50 % failing), but no rate limit to speak of: the
        // benchmark measures the decisions and their writes, not the rate limit's patience
        io.execguard.api.ExecHealthPolicy policy = new io.execguard.api.ExecHealthPolicy();
        policy.getMetadata().setName(POLICY);
        policy.setSpec(new io.execguard.api.ExecHealthPolicySpec());
        policy.getSpec().setNodeSelector(Map.of(LABEL, "scale"));
        policy.getSpec().setDryRun(false);
        policy.getSpec().setStormGuard(new io.execguard.api.StormGuard());
        policy.getSpec().getStormGuard().setNewHoldsPerMinute(NODES);
        admin.resource(policy).create();
        Map<String, Long> r0 = cluster.requestsByVerb(null);
        long t0 = System.nanoTime();
        createFleet();
        Map<String, Long> r1 = cluster.requestsByVerb(null);
        Map<String, Long> c1 = cluster.requestsBy("code", null);
        figure("fleet created (Node + report + report status each)", "%.1f s, %s", secs(t0), diff(r0, r1));

        // the floors: a trivial JOSDK reconciler over the same objects, in this JVM, written two ways
        Map<String, double[]> f1 = cluster.flowControl();
        Map<String, double[]> d1 = cluster.requestDurations();
        Cpu cpu1 = Cpu.now();
        Process prof = profile("floor-patch", FLOOR_PROFILE_SECONDS);
        Floor patchOnly = floor(Floor.Kind.PatchOnly);
        Cpu cpu2a = Cpu.now();
        Map<String, Long> r2a = cluster.requestsByVerb(null);
        Map<String, double[]> f2a = cluster.flowControl();
        Map<String, double[]> d2a = cluster.requestDurations();
        figure("trivial reconciler (floor: one patch per unhealthy Node)", "converged in %.1f s, %s",
                patchOnly.secs(), diff(r1, r2a));
        figure("  its requests in the API server's flow control, by priority level", "%s",
                KubeCluster.flowControlDiff(f1, f2a));
        figure("  the API server's time for them", "%s", KubeCluster.durationDiff(d1, d2a));
        figure("  control-plane CPU for them", "%s", cpu1.until(cpu2a, total(diff(r1, r2a))));
        awaitProfile(prof);
        Cpu cpu2b = Cpu.now();
        Map<String, Long> r2b = cluster.requestsByVerb(null);
        Map<String, double[]> f2b = cluster.flowControl();
        Map<String, double[]> d2b = cluster.requestDurations();
        prof = profile("floor-getpatch", FLOOR_PROFILE_SECONDS);
        Floor getPatch = floor(Floor.Kind.GetPatch);
        Cpu cpu2 = Cpu.now();
        Map<String, Long> r2 = cluster.requestsByVerb(null);
        Map<String, double[]> f2 = cluster.flowControl();
        Map<String, double[]> d2 = cluster.requestDurations();
        figure("trivial reconciler as issue #11 measured it (withName(name).patch: GET + patch per unhealthy Node)",
                "converged in %.1f s, %s", getPatch.secs(), diff(r2b, r2));
        figure("  its requests in the API server's flow control, by priority level", "%s",
                KubeCluster.flowControlDiff(f2b, f2));
        figure("  the API server's time for them", "%s", KubeCluster.durationDiff(d2b, d2));
        figure("  control-plane CPU for them", "%s", cpu2b.until(cpu2, total(diff(r2b, r2))));
        awaitProfile(prof);
        List<String> operatorJvm = CHART_JVM.flags(); // trains the image's AOT cache first: not part of the figures
        Cpu cpu3a = Cpu.now();  // before the operator starts: its CPU counts from 0
        Map<String, Long> r3a = cluster.requestsByVerb(null);
        f2 = cluster.flowControl();
        d2 = cluster.requestDurations();

        // the real operator process, chart RBAC (its service account's token), the chart's heap
        String token = cluster.token(admin, "execguard", "execguard-operator");
        Path dir = Files.createDirectories(Path.of("target", "scale-kube"));
        Path kubeconfig = cluster.kubeconfigFor(token, dir.resolve("operator.kubeconfig"));
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(operatorJvm);
        cmd.add("-Xlog:gc:file=" + dir.resolve("operator-gc-" + BACKEND + "-" + NODES + ".log") + ":uptime"); // pauses
        if (!PPROF.isBlank()) { // the operator's own CPU by method: jfr view hot-methods DIR/operator-....jfr
            cmd.add("-XX:StartFlightRecording=settings=profile,dumponexit=true,filename="
                    + Path.of(PPROF, "operator-" + BACKEND + "-" + NODES + ".jfr").toAbsolutePath());
        }
        cmd.addAll(List.of("-jar", System.getProperty("execguard.jar"), "operator"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("operator.log").toFile());
        pb.environment().putAll(Map.of("KUBECONFIG", kubeconfig.toString(), "POD_NAMESPACE", "execguard",
                "LEADER_ELECTION", "false", "METRICS_PORT", String.valueOf(port), "RESYNC_INTERVAL", "60s",
                "PROBE_HEARTBEAT", "30m", "POD_NAME", "scale-bench"));
        // -Dexecguard.scale.operator.threads=N: RECONCILE_THREADS other than the chart's, to compare
        String threads = System.getProperty("execguard.scale.operator.threads", "").trim();
        if (!threads.isEmpty()) {
            pb.environment().put("RECONCILE_THREADS", threads);
        }
        long to = System.nanoTime();
        Process operator = pb.start();
        java.util.concurrent.ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        try {
            Metrics m = new Metrics(port);
            Path timeline = dir.resolve("timeline-" + BACKEND + "-" + NODES + ".txt");
            Files.writeString(timeline, "# s reconciles reconcile_s gather_s node_s report_s event_s snapshots "
                    + "snapshot_s writes held\n");
            sampler.scheduleAtFixedRate(() -> m.sample(timeline, to), 1, 2, TimeUnit.SECONDS);
            java.util.concurrent.atomic.AtomicReference<Process> opProf = new java.util.concurrent.atomic.AtomicReference<>();
            // polled every 250 ms, one scrape each (at 100 ms and three scrapes, serving /metrics was 6 % of the
            // operator's Java CPU samples while it converged)
            KubeCluster.await(Duration.ofMinutes(15), Duration.ofMillis(250),
                    "the operator to reconcile every report once and settle", () -> {
                        if (!PPROF.isBlank() && opProf.get() == null && m.lastReconciles() > 0) {
                            opProf.set(profile("operator", OPERATOR_PROFILE_SECONDS));
                        }
                        return operator.isAlive() && m.settled(NODES);
                    });
            double opSecs = (m.lastWriteSeen() - to) / 1e9; // the first poll that saw the final write count
            Cpu cpu3 = Cpu.now(operator);
            Map<String, Long> r3 = cluster.requestsByVerb(null);
            Map<String, Long> c3 = cluster.requestsBy("code", null);
            figure("execguard operator (process, chart RBAC, " + CHART_JVM + ")", "converged in %.1f s, %s, writes %d",
                    opSecs, diff(r3a, r3), m.writes());
            figure("  its requests in the API server's flow control, by priority level", "%s",
                    KubeCluster.flowControlDiff(f2, cluster.flowControl()));
            figure("  the API server's time for them", "%s", KubeCluster.durationDiff(d2, cluster.requestDurations()));
            figure("  control-plane CPU for them (until settled, " + Metrics.SETTLE.toSeconds() + " s idle included)",
                    "%s", cpu3a.until(cpu3, total(diff(r3a, r3))));
            awaitProfile(opProf.get());
            figure("operator reconciles until settled", "%s", m.sample(null, to));
            Map<String, Long> refused = diff(c1, c3);
            refused.keySet().removeIf(code -> code.startsWith("2") || code.equals("total"));
            figure("responses other than 2xx while the trivial reconciler and the operator ran", "%s", refused);
            long opRequests = total(diff(r3a, r3));
            figure("ratio operator/trivial (one patch)", "time %.2f×, requests %.2f×", opSecs / patchOnly.secs(),
                    (double) opRequests / total(diff(r1, r2a)));
            figure("ratio operator/trivial as issue #11 measured it (GET + patch)", "time %.2f×, requests %.2f×",
                    opSecs / getPatch.secs(), (double) opRequests / total(diff(r2b, r2)));
            figure("operator heap after full GC", "%s", heap(operator.pid()));

            // second pass: every report re-decided on resync, nothing changed, nothing written
            double before = m.value("execguard_reconciles_total");
            long writesBefore = m.writes();
            KubeCluster.await(Duration.ofMinutes(5), "a second pass over every report",
                    () -> m.value("execguard_reconciles_total") >= before + NODES);
            Map<String, Long> r4 = cluster.requestsByVerb(null);
            long second = m.writes() - writesBefore;
            figure("second pass", "%.0f reconciles, %d writes, %s",
                    m.value("execguard_reconciles_total") - before, second, diff(r3, r4));

            long cordoned = admin.nodes().withLabel(LABEL, "scale").list().getItems().stream()
                    .filter(n -> Boolean.TRUE.equals(n.getSpec().getUnschedulable())).count();
            figure("result", "%s backend: %d of %d unhealthy nodes cordoned (maxUnhealthy 10 %% of %d)", BACKEND,
                    cordoned, UNHEALTHY, NODES);
            // the Events are written by one thread after the writes they report: all of them by now (a resync later)
            double dropped = m.value("execguard_events_dropped_total");
            long holdEvents = admin.v1().events().inNamespace(EventRecorder.NAMESPACE).list().getItems().stream()
                    .filter(e -> e.getInvolvedObject() != null && "Node".equals(e.getInvolvedObject().getKind())
                            && e.getReason() != null && e.getReason().startsWith("ExecGuard")
                            && !e.getReason().equals("ExecGuardReleased") && !e.getReason().equals("ExecGuardDryRun"))
                    .count();
            figure("events", "%d Events on Nodes for holds (this cluster, this hour), %.0f dropped", holdEvents,
                    dropped);
            printFigures();
            assertTrue(operator.isAlive(), "operator died; see " + dir.resolve("operator.log"));
            // RBAC refusals are not counted in apiserver_request_total (the authorization filter answers before
            // the instrumented handlers), so the operator's own log is the evidence
            long forbidden;
            try (var lines = Files.lines(dir.resolve("operator.log"))) {
                forbidden = lines.filter(l -> l.contains("code=403") || l.contains(" is forbidden")).count();
            }
            assertEquals(null, refused.get("422"), "no request refused as invalid (see " + dir.resolve("operator.log") + ")");
            assertEquals(0, forbidden, "log lines with 403/forbidden: the chart's RBAC must grant every verb the "
                    + "operator uses (see " + dir.resolve("operator.log") + ")");
            if (BACKEND.equals("shared")) {
                assertTrue(cordoned <= 1, "one backend failing on " + UNHEALTHY + " nodes is an incident: "
                        + cordoned + " cordoned");
            } else {
                assertEquals(NODES / 10, cordoned, "maxUnhealthy: 10 % of the fleet");
            }
            assertEquals(0, second, "a second pass over an unchanged fleet writes nothing");
            assertEquals(0.0, dropped, "Events dropped: every hold is told (see " + dir.resolve("operator.log") + ")");
            assertTrue(holdEvents >= cordoned, holdEvents + " hold Events for " + cordoned + " cordoned nodes");
        } finally {
            sampler.shutdownNow();
            operator.destroy();
            if (!operator.waitFor(20, TimeUnit.SECONDS)) {
                operator.destroyForcibly();
            }
        }
    }

    /**
     * CPU seconds used so far by the API server and etcd (from /proc; NaN elsewhere), this test JVM (the floors and
     * its informers), the operator's process (0 when not running), and the whole machine (busy and total, from
     * /proc/stat), so that a phase says whether the server, the client or the machine was the bound.
     */
    record Cpu(long nanos, double apiserver, double etcd, double testJvm, double operator, double machineBusy,
               double machineTotal) {
        static Cpu now() {
            return now(null);
        }

        static Cpu now(Process operator) {
            double[] machine = machine();
            return new Cpu(System.nanoTime(), cluster.cpuSeconds("kube-apiserver"), cluster.cpuSeconds("etcd"),
                    cpuOf(ProcessHandle.current()), operator == null ? 0 : cpuOf(operator.toHandle()), machine[0],
                    machine[1]);
        }

        private static double cpuOf(ProcessHandle p) {
            return p.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
        }

        /** Busy and total CPU seconds of all CPUs since boot (USER_HZ 100). */
        private static double[] machine() {
            try {
                String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
                double total = 0;
                for (int i = 1; i < f.length && i <= 8; i++) {
                    total += Long.parseLong(f[i]);
                }
                double idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
                return new double[] {(total - idle) / 100.0, total / 100.0};
            } catch (IOException | RuntimeException e) {
                return new double[] {Double.NaN, Double.NaN};
            }
        }

        String until(Cpu later, long requests) {
            double wall = (later.nanos - nanos) / 1e9;
            double a = later.apiserver - apiserver;
            double e = later.etcd - etcd;
            double busy = later.machineBusy - machineBusy;
            double cpus = (later.machineTotal - machineTotal) / wall;
            return String.format("kube-apiserver %.1f s (%.1f ms a request, %.2f cores), etcd %.1f s (%.1f ms a "
                    + "request), test JVM %.1f s, operator %.1f s (%.1f ms a request), machine %.0f %% busy of %.0f "
                    + "CPUs (%.1f s busy in %.1f s), %d requests", a, 1000 * a / requests, a / wall, e,
                    1000 * e / requests, later.testJvm - testJvm, later.operator - operator,
                    1000 * (later.operator - operator) / requests, 100 * busy / (later.machineTotal - machineTotal),
                    cpus, busy, wall, requests);
        }
    }

    private static Process profile(String phase, int seconds) {
        if (PPROF.isBlank()) {
            return null;
        }
        return cluster.startCpuProfile(seconds, Path.of(PPROF, "apiserver-" + phase + "-" + BACKEND + "-" + NODES
                + ".pprof"));
    }

    /** Waits for a profile of {@link #profile} to be written; says so when the server refused it. */
    private static void awaitProfile(Process p) throws InterruptedException {
        if (p == null) {
            return;
        }
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            figure("profile", "kubectl get --raw /debug/pprof/profile did not finish in 90 s");
        } else if (p.exitValue() != 0) {
            figure("profile", "kubectl get --raw /debug/pprof/profile failed (%d): is the API server started with "
                    + "EXECGUARD_APISERVER_PROFILING=true?", p.exitValue());
        }
    }

    private static void createFleet() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            String now = Instant.now().toString();
            List<Future<?>> work = new ArrayList<>();
            for (int i = 0; i < NODES; i++) {
                int n = i;
                work.add(pool.submit(() -> createNodeAndReport(n, now)));
            }
            for (Future<?> f : work) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    private static void createNodeAndReport(int i, String now) {
        String name = String.format("scale-%05d", i);
        Node node = admin.nodes().resource(TestFleet.node(name, Map.of(LABEL, "scale"))).create();
        NodeExecHealth neh = NodeExecHealth.forNode(node);
        neh.getMetadata().setLabels(Map.of(LABEL, "scale"));
        neh = admin.resources(NodeExecHealth.class).resource(neh).create();
        neh.setStatus(TestFleet.status(i, Instant.parse(now),
                BACKEND.equals("shared") ? TestFleet.SHARED_CEPH : null));
        admin.resources(NodeExecHealth.class).resource(neh).updateStatus();
    }

    /** One floor's run: a trivial reconciler started, awaited until it patched every unhealthy Node, stopped. */
    record Floor(Kind kind, double secs) {
        enum Kind {
            /** {@code resource(node).patch(...)}: the patch alone */
            PatchOnly,
            /** {@code withName(name).patch(...)}: fabric8 GETs the Node first - the floor issue #11's 3.0k came from */
            GetPatch
        }
    }

    private static Floor floor(Floor.Kind kind) {
        AtomicLong patched = new AtomicLong();
        Operator trivial = new Operator(o -> o.withKubernetesClient(admin).withCloseClientOnStop(false));
        trivial.register(new TrivialReconciler(admin, patched, kind), c -> c.withName("trivial-" + kind));
        long tt = System.nanoTime();
        trivial.start();
        try {
            KubeCluster.await(Duration.ofMinutes(10), "the trivial reconciler (" + kind + ") to patch every unhealthy "
                    + "node", () -> patched.get() >= UNHEALTHY);
            return new Floor(kind, secs(tt));
        } finally {
            trivial.stop();
        }
    }

    /** The floor: reads the same reports and Nodes from informers, one merge patch per unhealthy node, once. */
    @ControllerConfiguration(name = "trivial")
    static final class TrivialReconciler implements Reconciler<NodeExecHealth> {
        private final KubernetesClient client;
        private final AtomicLong patched;
        private final Floor.Kind kind;
        private final String annotation;
        private InformerEventSource<Node, NodeExecHealth> nodes;

        TrivialReconciler(KubernetesClient client, AtomicLong patched, Floor.Kind kind) {
            this.client = client;
            this.patched = patched;
            this.kind = kind;
            this.annotation = TRIVIAL_ANNOTATION + "-" + kind.name().toLowerCase(java.util.Locale.ROOT);
        }

        @Override
        public List<EventSource<?, NodeExecHealth>> prepareEventSources(EventSourceContext<NodeExecHealth> ctx) {
            nodes = new InformerEventSource<>(InformerEventSourceConfiguration.from(Node.class, NodeExecHealth.class)
                    .withSecondaryToPrimaryMapper(n -> Set.of(new ResourceID(n.getMetadata().getName()))).build(), ctx);
            return List.of(nodes);
        }

        @Override
        public UpdateControl<NodeExecHealth> reconcile(NodeExecHealth neh, Context<NodeExecHealth> ctx) {
            Node node = nodes.get(new ResourceID(neh.getMetadata().getName())).orElse(null);
            boolean unhealthy = neh.getStatus() != null && neh.getStatus().getPhase() == Phase.Unhealthy;
            if (node != null && unhealthy && (node.getMetadata().getAnnotations() == null
                    || !node.getMetadata().getAnnotations().containsKey(annotation))) {
                String patch = "{\"metadata\":{\"annotations\":{\"" + annotation + "\":\"Unhealthy\"}}}";
                if (kind == Floor.Kind.PatchOnly) {
                    client.nodes().resource(node).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
                } else {
                    client.nodes().withName(node.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON_MERGE),
                            patch);
                }
                patched.incrementAndGet();
            }
            return UpdateControl.noUpdate();
        }
    }

    /** The operator's own /metrics, scraped over 127.0.0.1. */
    static final class Metrics {
        static final Duration SETTLE = Duration.ofSeconds(5);
        private static final Pattern LINE = Pattern.compile("^([a-z_]+)(\\{[^}]*})? ([0-9.eE+-]+)$");
        private final HttpClient http = HttpClient.newHttpClient();
        private final int port;
        private long lastWrites = -1;
        private long stableSince;

        Metrics(int port) {
            this.port = port;
        }

        Map<String, Double> scrape() {
            Map<String, Double> out = new TreeMap<>();
            try {
                String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
                for (String line : body.split("\n")) {
                    Matcher mm = LINE.matcher(line.trim());
                    if (mm.matches()) {
                        out.merge(mm.group(1) + (mm.group(2) == null ? "" : mm.group(2)),
                                Double.parseDouble(mm.group(3)), Double::sum);
                    }
                }
            } catch (IOException e) {
                return out; // not up yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return out;
        }

        double value(String name) {
            return scrape().entrySet().stream().filter(e -> e.getKey().equals(name) || e.getKey().startsWith(name + "{"))
                    .mapToDouble(Map.Entry::getValue).sum();
        }

        long writes() {
            return (long) value("execguard_node_writes_total");
        }

        /** One line of the operator's own timings since {@code t0}; appended to {@code file} unless null. */
        String sample(Path file, long t0) {
            Map<String, Double> v = scrape();
            java.util.function.Function<String, Double> sum = name -> v.entrySet().stream()
                    .filter(e -> e.getKey().equals(name) || e.getKey().startsWith(name + "{"))
                    .mapToDouble(Map.Entry::getValue).sum();
            String line = String.format("%.0f %.0f %.1f %.1f %.1f %.1f %.1f %.0f %.1f %.0f %.0f", secs(t0),
                    sum.apply("execguard_reconciles_total"), sum.apply("execguard_reconcile_seconds_total"),
                    v.getOrDefault("execguard_reconcile_phase_seconds_total{phase=\"gather\"}", 0.0),
                    v.getOrDefault("execguard_reconcile_phase_seconds_total{phase=\"node\"}", 0.0),
                    v.getOrDefault("execguard_reconcile_phase_seconds_total{phase=\"report\"}", 0.0),
                    v.getOrDefault("execguard_reconcile_phase_seconds_total{phase=\"event\"}", 0.0),
                    sum.apply("execguard_fleet_snapshots_total"), sum.apply("execguard_fleet_snapshot_seconds_total"),
                    sum.apply("execguard_node_writes_total"), sum.apply("execguard_nodes_held"));
            if (file != null) {
                try {
                    Files.writeString(file, line + "\n", java.nio.file.StandardOpenOption.APPEND);
                } catch (IOException e) {
                    // a lost sample
                }
            }
            return "t reconciles reconcile_s gather_s node_s report_s event_s snapshots snapshot_s writes held = "
                    + line;
        }

        private double lastReconciles;

        /** Reconciles at the last {@link #settled} call. */
        double lastReconciles() {
            return lastReconciles;
        }

        /** When {@link #settled} first saw the write count it settled at ({@code System.nanoTime()}). */
        long lastWriteSeen() {
            return stableSince;
        }

        /** Every report reconciled at least once and no write for {@link #SETTLE}; one scrape a call. */
        boolean settled(int reports) {
            Map<String, Double> v = scrape();
            java.util.function.Function<String, Double> sum = name -> v.entrySet().stream()
                    .filter(e -> e.getKey().equals(name) || e.getKey().startsWith(name + "{"))
                    .mapToDouble(Map.Entry::getValue).sum();
            lastReconciles = sum.apply("execguard_reconciles_total");
            long w = sum.apply("execguard_node_writes_total").longValue();
            long now = System.nanoTime();
            if (lastReconciles < reports) {
                lastWrites = w;
                stableSince = now;
                return false;
            }
            if (w != lastWrites) {
                lastWrites = w;
                stableSince = now;
                return false;
            }
            return now - stableSince >= SETTLE.toNanos();
        }
    }

    private static String heap(long pid) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        run(jcmd.toString(), String.valueOf(pid), "GC.run");
        String info = run(jcmd.toString(), String.valueOf(pid), "GC.heap_info");
        Matcher used = Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(info);
        long total = 0;
        long usedK = 0;
        while (used.find()) {
            total += Long.parseLong(used.group(1));
            usedK += Long.parseLong(used.group(2));
        }
        String rss = "?";
        try {
            for (String l : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (l.startsWith("VmRSS:") || l.startsWith("VmHWM:")) {
                    rss = (rss.equals("?") ? "" : rss + ", ") + l.replaceAll("\\s+", " ");
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return String.format("%.1f MiB used of %.1f MiB committed (%s); process %s", usedK / 1024.0, total / 1024.0,
                CHART_JVM, rss);
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    private static Map<String, Long> diff(Map<String, Long> a, Map<String, Long> b) {
        Map<String, Long> d = new TreeMap<>();
        b.forEach((k, v) -> {
            long x = v - a.getOrDefault(k, 0L);
            if (x > 0) {
                d.put(k, x);
            }
        });
        d.put("total", total(d));
        return d;
    }

    private static long total(Map<String, Long> d) {
        return d.entrySet().stream().filter(e -> !e.getKey().equals("total")).mapToLong(Map.Entry::getValue).sum();
    }

    private static double secs(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void figure(String what, String fmt, Object... args) {
        String v = String.format(fmt, args);
        figures.put(what, v);
        System.out.printf("[scale-kube] %s: %s%n", what, v);
    }

    private static void printFigures() throws IOException {
        StringBuilder sb = new StringBuilder("[scale-kube] " + NODES + " nodes, " + UNHEALTHY + " unhealthy\n");
        figures.forEach((k, v) -> sb.append("[scale-kube]   ").append(k).append(": ").append(v).append('\n'));
        System.out.print(sb);
        Files.writeString(Path.of("target", "scale-kube", "figures.txt"), sb.toString());
    }
}
