package io.execguard.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.execguard.kube.KubeCluster.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.ReportedFinding;
import io.execguard.detect.ExecStage;
import io.execguard.detect.FindingType;
import io.execguard.lab.Lab;
import io.execguard.lab.Lab.Cleanup;

/**
 * The exec canary (#15) on the real node of {@code hack/cluster.sh up --node}: the chart installed with
 * {@code probe.criSocket} naming the node's containerd socket, the probe's canary running CRI ExecSync of
 * {@code /app/canary} in its own container. Acceptance 1: 200 canaries, latency printed, no canary finding.
 * Acceptance 2: the probe pod's containerd-shim frozen (SIGSTOP by pid, SIGCONT in finally) gives ExecPathStuck at
 * stage Shim within the canary interval plus the deadline; resumed, the next canary clears it; the same with the
 * node's containerd frozen, at stage RuntimeCall.
 * Reads what a user reads: NodeExecHealth through the API server and the probe's /metrics.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CanaryNodeIT {

    static final String NS = "canary-e2e";
    static final Duration DEADLINE = Duration.ofSeconds(5);
    static final String INTERVAL = "250ms";

    static NodeE2E e2e;
    static NodeRelease chart;
    static KubernetesClient admin;

    @BeforeAll
    static void install() throws Exception {
        e2e = NodeE2E.fromSystemProperties();
        Lab.assumeLab();
        chart = NodeRelease.install(e2e, NS, values(), "app.kubernetes.io/component=probe");
        admin = chart.admin();
    }

    static Map<String, Object> values() {
        Map<String, Object> v = NodeRelease.values(e2e, NS, 7); // not the chart's defaults, nor ExecLoopNodeIT's (+5)
        v.put("probe.criSocket", e2e.dir().resolve("node").resolve("containerd.sock").toString());
        v.put("probe.canaryDeadline", DEADLINE.toSeconds() + "s");
        v.put("policy.canaryInterval", INTERVAL);
        v.put("policy.thresholds.stuckRuntimeInitSeconds", 5);
        return v;
    }

    @AfterAll
    static void tearDown() {
        if (chart != null) {
            chart.close();
        }
    }

    // ---- 1. healthy: 200 canaries, no finding ------------------------------------------------------------------

    @Test
    @Order(1)
    void twoHundredCanariesOnAHealthyNodeGiveNoFinding() throws Exception {
        Pod probe = probePod();
        String cid = NodeRelease.containerId(probe);
        long jvm = NodeRelease.containerInit(cid);
        long shim = ProcessHandle.of(jvm).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElseThrow();
        long containerd = Long.parseLong(Files.readString(e2e.dir().resolve("node").resolve("containerd.pid")).strip());
        CanaryCost cost = new CanaryCost(jvm, shim, containerd, e2e.cgroupOf("pids", probe, cid),
                e2e.cgroupOf("memory", probe, cid));
        Map<String, Double> before = chart.metrics();
        double ok0 = runs(before, "Ok") + runs(before, "Slow");
        List<String> seen = new ArrayList<>();
        long t0 = System.nanoTime();
        await(Duration.ofSeconds(240), "200 more canaries answered", () -> {
            Map<String, Double> m;
            try {
                m = chart.metrics();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            canaryFindings(chart.report()).forEach(f -> seen.add(f.getType() + ": " + f.getMessage()));
            return runs(m, "Ok") + runs(m, "Slow") - ok0 >= 200;
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        Map<String, Double> after = chart.metrics();
        CanaryCost.Figures spent = cost.stop();
        double canaries = runs(after, "Ok") + runs(after, "Slow") + runs(after, "Failed")
                - runs(before, "Ok") - runs(before, "Slow") - runs(before, "Failed");
        System.out.println("[canary-e2e] COST " + spent.text((long) canaries));
        assertTrue(spent.pidsPeak() > spent.pidsBase(), "the 2 ms sampler saw no canary's task in the probe container "
                + "in " + (long) canaries + " canaries: " + spent);
        long scans = chart.report().getStatus().getObservedScanCount();
        chart.awaitReport(Duration.ofSeconds(30), "two more scans", r -> r.getStatus().getObservedScanCount() >= scans + 2);
        canaryFindings(chart.report()).forEach(f -> seen.add(f.getType() + ": " + f.getMessage()));
        Histogram h = Histogram.of(after, "execguard_canary_latency_seconds").minus(Histogram.of(before,
                "execguard_canary_latency_seconds"));
        System.out.printf("[canary-e2e] LATENCY 200 canaries (CRI ExecSync of /app/canary into the probe's container, "
                        + "%d answered in %.1f s at interval %s): mean %.1f ms, p50 <= %.0f ms, p99 <= %.0f ms "
                        + "(histogram bucket bounds); outcomes %s%n", (long) h.count(), seconds, INTERVAL,
                h.sum() / h.count() * 1000, h.quantile(0.50) * 1000, h.quantile(0.99) * 1000, outcomes(after));
        assertTrue(h.count() >= 200, "answered canaries counted in the histogram: " + h.count());
        assertEquals(0.0, runs(after, "Failed") - runs(before, "Failed"), "failed canaries");
        assertEquals(0.0, runs(after, "Late") + runs(after, "Abandoned"), "late or abandoned canaries");
        assertEquals(List.of(), seen, "canary findings during and after 200 healthy canaries");
    }

    // ---- 2. the runtime frozen: the probe pod's shim stopped ------------------------------------------------------

    @Test
    @Order(2)
    void aFrozenShimGivesExecPathStuckAtTheShimAndTheNextCanaryClearsIt() throws Exception {
        Pod probe = probePod();
        String cid = NodeRelease.containerId(probe);
        long shim = chart.shimOf(cid); // the probe's parent, checked to be this node's shim
        assertTrue(canaryFindings(chart.report()).isEmpty(), "no canary finding before: " + canaryFindings(chart.report()));
        ReportedFinding stuck;
        Map<String, Double> m0 = chart.metrics();
        long t0 = System.nanoTime();
        chart.signal("STOP", shim);
        try {
            NodeExecHealth r = chart.awaitReport(Duration.ofSeconds(DEADLINE.toSeconds() + 30), "ExecPathStuck",
                    x -> !findings(x, FindingType.ExecPathStuck).isEmpty());
            chart.latency("2 shim SIGSTOP -> ExecPathStuck in NodeExecHealth (interval " + INTERVAL + ", deadline "
                    + DEADLINE.toSeconds() + " s, scan 2 s, heartbeat 4 s)", t0);
            double seconds = (System.nanoTime() - t0) / 1e9;
            stuck = findings(r, FindingType.ExecPathStuck).get(0);
            // a run starts within the interval, is stuck at its deadline, is seen by the next scan (2 s) and
            // published at once (a changed report); 5 s of slack for the shared machine
            assertTrue(seconds <= 0.25 + DEADLINE.toSeconds() + 2 + 5, "ExecPathStuck after " + seconds + " s");
            System.out.println("[canary-e2e] ExecPathStuck: stage " + stuck.getStage() + ", pid " + stuck.getPid()
                    + ", state " + stuck.getState() + ": " + stuck.getMessage());
        } finally {
            chart.signal("CONT", shim);
        }
        long t1 = System.nanoTime();
        double frozen = (t1 - t0) / 1e9;
        assertEquals(ExecStage.Shim, stuck.getStage());
        assertEquals(Long.valueOf(shim).intValue(), stuck.getPid());
        assertEquals("T", stuck.getState());
        assertEquals("Critical", String.valueOf(stuck.getSeverity()));
        assertEquals("Node", String.valueOf(stuck.getScope()));
        assertEquals(cid, stuck.getContainerId());
        chart.awaitReport(Duration.ofSeconds(30), "ExecPathStuck cleared", x -> findings(x, FindingType.ExecPathStuck).isEmpty());
        chart.latency("2 shim SIGCONT -> ExecPathStuck cleared", t1);
        Map<String, Double> m = chart.metrics();
        System.out.println("[canary-e2e] outcomes after: " + outcomes(m) + ", stuck by stage: "
                + series(m, "execguard_canary_stuck_total"));
        assertTrue(series(m, "execguard_canary_stuck_total").getOrDefault("{stage=\"Shim\"}", 0.0) >= 1,
                "stuck by stage: " + series(m, "execguard_canary_stuck_total"));
        // one run was in flight the whole time, not piled on: exactly one ended late, the runs it spanned were skipped
        assertEquals(1.0, runs(m, "Late") + runs(m, "Abandoned") - runs(m0, "Late") - runs(m0, "Abandoned"),
                "runs that ended late: " + outcomes(m0) + " -> " + outcomes(m));
        assertEquals(0.0, runs(m, "Failed") - runs(m0, "Failed"), "failed runs");
        double skipped = runs(m, "Skipped") - runs(m0, "Skipped");
        System.out.printf("[canary-e2e] frozen %.1f s: %d runs skipped while one was in flight%n", frozen, (long) skipped);
        assertTrue(skipped >= frozen / 0.25 / 2, "runs skipped while one was in flight: " + skipped);
    }

    // ---- 2b. the runtime's daemon frozen ---------------------------------------------------------------------

    @Test
    @Order(3)
    void aFrozenContainerdGivesExecPathStuckAtTheRuntimeCall() throws Exception {
        long containerd = Long.parseLong(Files.readString(e2e.dir().resolve("node").resolve("containerd.pid")).strip());
        String cmd = Files.readString(Path.of("/proc/" + containerd + "/cmdline")).replace('\0', ' ');
        assertTrue(cmd.contains("containerd") && cmd.contains(e2e.dir().toString()), "this node's containerd: " + cmd);
        chart.awaitReport(Duration.ofSeconds(30), "no canary finding before", x -> canaryFindings(x).isEmpty());
        ReportedFinding stuck;
        // the runtime sweep (same socket) must not blame each container for the daemon's silence
        List<String> perContainer = new ArrayList<>();
        Predicate<NodeExecHealth> noneBlamed = x -> {
            findings(x, FindingType.RuntimeUnresponsive).forEach(f -> perContainer.add(f.getContainerId()));
            return true;
        };
        long t0 = System.nanoTime();
        chart.signal("STOP", containerd);
        try {
            NodeExecHealth r = chart.awaitReport(Duration.ofSeconds(DEADLINE.toSeconds() + 30), "ExecPathStuck",
                    x -> noneBlamed.test(x) && !findings(x, FindingType.ExecPathStuck).isEmpty());
            chart.latency("2b containerd SIGSTOP -> ExecPathStuck in NodeExecHealth", t0);
            // the daemon check (CRI Version, 2 s) runs beside the stuck exec; its verdict lands a scan or two later
            r = chart.awaitReport(Duration.ofSeconds(15), "ExecPathStuck naming the unresponsive daemon",
                    x -> noneBlamed.test(x) && findings(x, FindingType.ExecPathStuck).stream().anyMatch(f -> f
                            .getMessage().contains("CRI Version")));
            // past the runtime sweep's deadline (5 s) and its Version check (2 s), and a scan
            long scans = r.getStatus().getObservedScanCount();
            chart.awaitReport(Duration.ofSeconds(30), "four more scans while containerd is stopped",
                    x -> noneBlamed.test(x) && x.getStatus().getObservedScanCount() >= scans + 4);
            stuck = findings(r, FindingType.ExecPathStuck).get(0);
            System.out.println("[canary-e2e] ExecPathStuck: stage " + stuck.getStage() + ": " + stuck.getMessage());
        } finally {
            chart.signal("CONT", containerd);
        }
        long t1 = System.nanoTime();
        assertEquals(ExecStage.RuntimeCall, stuck.getStage());
        assertTrue(stuck.getMessage().contains("does not answer CRI Version either"), stuck.getMessage());
        assertEquals(null, stuck.getPid(), "no task below the daemon to name");
        assertEquals(List.of(), perContainer, "RuntimeUnresponsive while the daemon itself did not answer");
        chart.awaitReport(Duration.ofSeconds(30), "ExecPathStuck cleared", x -> findings(x, FindingType.ExecPathStuck).isEmpty());
        chart.latency("2b containerd SIGCONT -> ExecPathStuck cleared", t1);
        Map<String, Double> m = chart.metrics();
        assertTrue(series(m, "execguard_canary_stuck_total").getOrDefault("{stage=\"RuntimeCall\"}", 0.0) >= 1,
                "stuck by stage: " + series(m, "execguard_canary_stuck_total"));
    }

    // ---- 3. the canary's runc init stuck on a hung mount ----------------------------------------------------------

    @Test
    @Order(4)
    void aCanaryStuckInRuncInitOnAHungMountIsLinkedToTheStuckRuntimeInit() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Lab.which("bindfs").isPresent() && Lab.which("gcc").isPresent(),
                "bindfs and gcc are needed");
        Pod probe = probePod();
        String cid = NodeRelease.containerId(probe);
        long jvm = NodeRelease.containerInit(cid);
        chart.awaitReport(Duration.ofSeconds(30), "no canary finding before", x -> canaryFindings(x).isEmpty());
        try (Cleanup local = new Cleanup("CanaryNodeIT.runcInit")) {
            // /app/canary of the probe's container becomes a file on a bindfs-over-bindfs stack (the lab's FUSE
            // fault): a bind mount in the container's mount namespace only, undone in finally
            io.execguard.lab.docker.DockerLab.FuseStack fuse = io.execguard.lab.docker.DockerLab.FuseStack.create(local,
                    Files.createDirectories(chart.logs().toAbsolutePath().resolve("fuse")));
            Path copy = fuse.src.resolve("canary");
            run("gcc", "-static", "-Os", "-s", "-o", copy.toString(), Path.of("src/main/c/canary.c").toAbsolutePath()
                    .toString());
            // the container has no mount(8): src/test/c/mount-into.c clones the mount here and moves it there
            String mountInto = chart.logs().toAbsolutePath().resolve("mount-into").toString();
            run("gcc", "-O2", "-o", mountInto, Path.of("src/test/c/mount-into.c").toAbsolutePath().toString());
            run(mountInto, Long.toString(jvm), fuse.upper.resolve("canary").toString(), "/app/canary");
            local.add("umount /app/canary in the probe's container", () -> run(mountInto, Long.toString(jvm), "-u",
                    "/app/canary"));
            Thread.sleep(1500); // past bindfs' caches: the next open asks the (frozen) daemon
            long t0 = System.nanoTime();
            // frozen by hand, not FuseStack.freeze: its release aborts the connections, and this test resumes the
            // daemon instead (the hung run then answers late and the next one in time, through the same mount)
            local.add("SIGCONT the lower bindfs " + fuse.lowerDaemon.pid(), () -> {
                if (fuse.lowerDaemon.isAlive()) {
                    chart.signal("CONT", fuse.lowerDaemon.pid());
                }
            });
            chart.signal("STOP", fuse.lowerDaemon.pid());
            NodeExecHealth r = chart.awaitReport(Duration.ofSeconds(60), "ExecPathStuck at RuncInit linked to a StuckRuntimeInit",
                    x -> findings(x, FindingType.ExecPathStuck).stream().anyMatch(f -> f.getStage() == ExecStage.RuncInit
                            && f.getRelatedFinding() != null));
            chart.latency("3 canary binary on a frozen FUSE mount -> ExecPathStuck at RuncInit linked (threshold 5 s)", t0);
            ReportedFinding stuck = findings(r, FindingType.ExecPathStuck).get(0);
            ReportedFinding init = findings(r, FindingType.StuckRuntimeInit).stream()
                    .filter(f -> cid.equals(f.getContainerId())).findFirst().orElseThrow();
            System.out.println("[canary-e2e] ExecPathStuck: stage " + stuck.getStage() + ", related "
                    + stuck.getRelatedFinding() + ", cause " + stuck.getCause() + ": " + stuck.getMessage());
            System.out.println("[canary-e2e] StuckRuntimeInit " + init.getId() + ": " + init.getMessage());
            assertEquals(init.getId(), stuck.getRelatedFinding());
            assertEquals("FuseRequest", String.valueOf(stuck.getCause()));
            assertEquals("runc:[2:INIT]", stuck.getComm());
            assertEquals(init.getPid(), stuck.getPid());
            // resumed: the hung run finishes late, the next one answers in time and clears it
            long t1 = System.nanoTime();
            chart.signal("CONT", fuse.lowerDaemon.pid());
            chart.awaitReport(Duration.ofSeconds(30), "ExecPathStuck cleared",
                    x -> findings(x, FindingType.ExecPathStuck).isEmpty());
            chart.latency("3 FUSE daemon SIGCONT -> ExecPathStuck cleared", t1);
        }
    }

    static void run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), String.join(" ", argv));
        assertEquals(0, p.exitValue(), String.join(" ", argv) + ": " + new String(p.getInputStream().readAllBytes()));
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    static double runs(Map<String, Double> m, String outcome) {
        return m.getOrDefault("execguard_canary_runs_total{outcome=\"" + outcome + "\"}", 0.0);
    }

    static Map<String, Double> series(Map<String, Double> m, String family) {
        Map<String, Double> out = new TreeMap<>();
        m.forEach((k, v) -> {
            if (k.startsWith(family + "{")) {
                out.put(k.substring(family.length()), v);
            }
        });
        return out;
    }

    static Map<String, Double> outcomes(Map<String, Double> m) {
        return series(m, "execguard_canary_runs_total");
    }

    /** A Prometheus histogram's cumulative buckets. */
    record Histogram(TreeMap<Double, Double> buckets, double sum, double count) {
        private static final Pattern LE = Pattern.compile("_bucket\\{le=\"([^\"]+)\"}");

        static Histogram of(Map<String, Double> m, String name) {
            TreeMap<Double, Double> b = new TreeMap<>();
            m.forEach((k, v) -> {
                if (k.startsWith(name + "_bucket")) {
                    Matcher x = LE.matcher(k.substring(name.length()));
                    if (x.matches()) {
                        b.put(x.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(x.group(1)), v);
                    }
                }
            });
            return new Histogram(b, m.getOrDefault(name + "_sum", 0.0), m.getOrDefault(name + "_count", 0.0));
        }

        Histogram minus(Histogram o) {
            TreeMap<Double, Double> b = new TreeMap<>();
            buckets.forEach((le, v) -> b.put(le, v - o.buckets.getOrDefault(le, 0.0)));
            return new Histogram(b, sum - o.sum, count - o.count);
        }

        /** The upper bound of the bucket holding quantile q. */
        double quantile(double q) {
            for (Map.Entry<Double, Double> e : buckets.entrySet()) {
                if (e.getValue() >= q * count) {
                    return e.getKey();
                }
            }
            return Double.NaN;
        }
    }

    /** The probe's pod on the node (the DaemonSet's one). */
    static Pod probePod() {
        return admin.pods().inNamespace(NS).withLabel("app.kubernetes.io/component", "probe").list().getItems().get(0);
    }

    static List<ReportedFinding> canaryFindings(NodeExecHealth r) {
        List<ReportedFinding> out = new ArrayList<>(findings(r, FindingType.ExecPathStuck));
        out.addAll(findings(r, FindingType.ExecPathSlow));
        return out;
    }

    static List<ReportedFinding> findings(NodeExecHealth r, FindingType type) {
        return r == null || r.getStatus() == null || r.getStatus().getFindings() == null ? List.of()
                : r.getStatus().getFindings().stream().filter(f -> f.getType() == type).toList();
    }
}
