package io.execguard.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.execguard.kube.KubeCluster.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.ReportedFinding;
import io.execguard.detect.FindingType;
import io.execguard.lab.Lab;

/**
 * RuntimeUnresponsive (#15, acceptance 4) on the real node of {@code hack/cluster.sh up --node}: the chart installed
 * with the node's containerd socket, the probe's runtime sweep (CRI ListContainers, then ContainerStats of each
 * running container) every canary interval. Two test pods; one pod's containerd-shim frozen (SIGSTOP by pid,
 * SIGCONT in finally): RuntimeUnresponsive for exactly that pod's container within one interval plus the deadline
 * plus a scan, none for the other pod's; resumed, cleared. Reads what a user reads: NodeExecHealth through the API
 * server and the probe's /metrics.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RuntimeCallNodeIT {

    static final String NS = "runtime-call-e2e";
    static final Duration DEADLINE = Duration.ofSeconds(5);
    static final Duration INTERVAL = Duration.ofSeconds(1);
    static final Duration SCAN = Duration.ofSeconds(2);

    static NodeE2E e2e;
    static NodeRelease chart;
    static KubernetesClient admin;
    static Pod frozen;
    static Pod other;

    @BeforeAll
    static void install() throws Exception {
        e2e = NodeE2E.fromSystemProperties();
        Lab.assumeLab();
        chart = NodeRelease.install(e2e, NS, values(), "app.kubernetes.io/component=probe");
        admin = chart.admin();
        frozen = sleeper("runtime-call-e2e-frozen");
        other = sleeper("runtime-call-e2e-other");
        chart.awaitReady("app=runtime-call-e2e-sleeper", Duration.ofSeconds(60));
        frozen = admin.pods().inNamespace(NS).withName(frozen.getMetadata().getName()).get();
        other = admin.pods().inNamespace(NS).withName(other.getMetadata().getName()).get();
    }

    static Map<String, Object> values() {
        // ports +9, +10: not the chart's defaults, nor ExecLoopNodeIT's (+5, +6), CanaryNodeIT's (+7, +8)
        Map<String, Object> v = NodeRelease.values(e2e, NS, 9);
        v.put("probe.scanInterval", SCAN.toSeconds() + "s");
        v.put("probe.criSocket", e2e.dir().resolve("node").resolve("containerd.sock").toString());
        v.put("probe.canaryDeadline", "10s");
        v.put("probe.runtimeCallDeadline", DEADLINE.toSeconds() + "s");
        v.put("policy.canaryInterval", INTERVAL.toSeconds() + "s");
        return v;
    }

    /** A busybox pod on the node (spec.nodeName: no scheduler), host network, sleeping. */
    static Pod sleeper(String name) {
        Pod p = new PodBuilder().withNewMetadata().withName(name).withNamespace(NS)
                .addToLabels("app", "runtime-call-e2e-sleeper").endMetadata()
                .withNewSpec().withNodeName(e2e.node()).withHostNetwork(true).withTerminationGracePeriodSeconds(0L)
                .addNewContainer().withName("main").withImage("lab/busybox:1").withImagePullPolicy("Never")
                .withCommand("sleep", "100000").endContainer().endSpec().build();
        return admin.pods().inNamespace(NS).resource(p).create();
    }

    @AfterAll
    static void tearDown() {
        if (chart != null) {
            chart.close();
        }
    }

    // ---- healthy: sweeps answer, no finding ---------------------------------------------------------------------

    @Test
    @Order(1)
    void sweepsOnAHealthyNodeGiveNoFindingAndTheirCostIsBounded() throws Exception {
        Map<String, Double> m0 = chart.metrics();
        double sweeps0 = m0.getOrDefault("execguard_runtime_sweeps_total", 0.0);
        List<String> seen = new ArrayList<>();
        long t0 = System.nanoTime();
        await(Duration.ofSeconds(60), "20 more sweeps", () -> {
            findings(chart.report(), FindingType.RuntimeUnresponsive).forEach(f -> seen.add(f.getMessage()));
            try {
                return chart.metrics().getOrDefault("execguard_runtime_sweeps_total", 0.0) - sweeps0 >= 20;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        Map<String, Double> m = chart.metrics();
        double sweeps = m.get("execguard_runtime_sweeps_total") - sweeps0;
        double stats = calls(m, "ContainerStats", "Answered") - calls(m0, "ContainerStats", "Answered");
        double lists = calls(m, "ListContainers", "Answered") - calls(m0, "ListContainers", "Answered");
        double containers = m.get("execguard_runtime_sweep_containers");
        System.out.printf("[runtime-call-e2e] COST %d sweeps in %.1f s (interval %s): %d running containers, last sweep "
                        + "%.1f ms, %.2f ContainerStats + %.2f ListContainers per sweep; calls %s%n", (long) sweeps,
                seconds, INTERVAL, (long) containers, m.get("execguard_runtime_sweep_duration_seconds") * 1000,
                stats / sweeps, lists / sweeps, series(m, "execguard_runtime_calls_total"));
        System.out.println("[runtime-call-e2e] after " + m.get("execguard_runtime_sweeps_total").longValue()
                + " sweeps and their canaries: " + chart.probeFootprint());
        // the probe, the operator and the two sleepers at least
        assertTrue(containers >= 4, "running containers swept: " + containers);
        assertEquals(0.0, series(m, "execguard_runtime_calls_total").entrySet().stream()
                .filter(e -> !e.getKey().contains("Answered")).mapToDouble(Map.Entry::getValue).sum()
                - series(m0, "execguard_runtime_calls_total").entrySet().stream()
                .filter(e -> !e.getKey().contains("Answered")).mapToDouble(Map.Entry::getValue).sum(),
                "calls not answered on a healthy node: " + series(m, "execguard_runtime_calls_total"));
        assertTrue(stats / sweeps >= containers - 1 && stats / sweeps <= containers + 1,
                "one ContainerStats per container per sweep: " + stats / sweeps);
        assertEquals(List.of(), seen, "RuntimeUnresponsive findings on a healthy node");
    }

    // ---- one pod's shim frozen ------------------------------------------------------------------------------------

    @Test
    @Order(2)
    void aFrozenShimGivesRuntimeUnresponsiveForThatContainerOnlyAndResumingClearsIt() throws Exception {
        String cid = NodeRelease.containerId(frozen);
        String otherCid = NodeRelease.containerId(other);
        long shim = chart.shimOf(cid);
        long otherShim = chart.shimOf(otherCid);
        assertTrue(shim != otherShim, "one shim per pod: " + shim + ", " + otherShim);
        chart.awaitReport(Duration.ofSeconds(30), "no RuntimeUnresponsive before",
                x -> findings(x, FindingType.RuntimeUnresponsive).isEmpty());
        ReportedFinding f;
        NodeExecHealth r;
        long t0 = System.nanoTime();
        chart.signal("STOP", shim);
        try {
            r = chart.awaitReport(Duration.ofSeconds(DEADLINE.toSeconds() + 40), "RuntimeUnresponsive",
                    x -> !findings(x, FindingType.RuntimeUnresponsive).isEmpty());
            double seconds = (System.nanoTime() - t0) / 1e9;
            chart.latency("shim SIGSTOP -> RuntimeUnresponsive in NodeExecHealth (interval " + INTERVAL.toSeconds()
                    + " s, deadline " + DEADLINE.toSeconds() + " s, scan " + SCAN.toSeconds() + " s)", t0);
            // a sweep starts within the interval, the call is unanswered at its deadline, the Version check answers at
            // once, the next scan sees it and publishes (a changed report); 5 s of slack for the shared machine
            assertTrue(seconds <= INTERVAL.toSeconds() + DEADLINE.toSeconds() + SCAN.toSeconds() + 5,
                    "RuntimeUnresponsive after " + seconds + " s");
            // a few more scans: still exactly that container, nothing for the other
            long scans = r.getStatus().getObservedScanCount();
            r = chart.awaitReport(Duration.ofSeconds(20), "two more scans", x -> x.getStatus().getObservedScanCount()
                    >= scans + 2);
            System.out.println("[runtime-call-e2e] findings while frozen: " + r.getStatus().getFindings().stream()
                    .map(x -> x.getType() + " " + x.getContainerId()).toList());
        } finally {
            chart.signal("CONT", shim);
        }
        long t1 = System.nanoTime();
        List<ReportedFinding> ru = findings(r, FindingType.RuntimeUnresponsive);
        assertEquals(List.of(cid), ru.stream().map(ReportedFinding::getContainerId).toList(),
                "RuntimeUnresponsive for exactly the frozen pod's container");
        f = ru.get(0);
        System.out.println("[runtime-call-e2e] RuntimeUnresponsive: pod " + f.getPodNamespace() + "/" + f.getPodName()
                + ", container " + f.getContainerName() + ", pid " + f.getPid() + ", state " + f.getState() + ": "
                + f.getMessage());
        assertEquals(frozen.getMetadata().getUid(), f.getPodUid());
        assertEquals(NS, f.getPodNamespace());
        assertEquals(frozen.getMetadata().getName(), f.getPodName());
        assertEquals("main", f.getContainerName());
        assertEquals(Long.valueOf(shim).intValue(), f.getPid(), "the frozen shim named");
        assertEquals("T", f.getState());
        assertEquals("Warning", String.valueOf(f.getSeverity()));
        assertEquals("Container", String.valueOf(f.getScope()));
        assertTrue(f.getMessage().contains("ContainerStats"), f.getMessage());
        assertTrue(findings(r, FindingType.ExecPathStuck).isEmpty(), "the probe's own exec path is fine: "
                + findings(r, FindingType.ExecPathStuck));
        chart.awaitReport(Duration.ofSeconds(30), "RuntimeUnresponsive cleared",
                x -> findings(x, FindingType.RuntimeUnresponsive).isEmpty());
        chart.latency("shim SIGCONT -> RuntimeUnresponsive cleared", t1);
        Map<String, Double> m = chart.metrics();
        System.out.println("[runtime-call-e2e] calls after: " + series(m, "execguard_runtime_calls_total"));
        assertTrue(calls(m, "ContainerStats", "NoAnswer") >= 1, "unanswered calls counted");
        assertEquals(0.0, calls(m, "Version", "NoAnswer"), "the daemon answered Version throughout");
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    static double calls(Map<String, Double> m, String call, String outcome) {
        return m.getOrDefault("execguard_runtime_calls_total{call=\"" + call + "\",outcome=\"" + outcome + "\"}", 0.0);
    }

    static Map<String, Double> series(Map<String, Double> m, String family) {
        return CanaryNodeIT.series(m, family);
    }

    static List<ReportedFinding> findings(NodeExecHealth r, FindingType type) {
        return CanaryNodeIT.findings(r, type);
    }
}
