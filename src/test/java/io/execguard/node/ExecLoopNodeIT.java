package io.execguard.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.execguard.kube.KubeCluster.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.KubernetesClient;

import io.execguard.api.Action;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeRepair;
import io.execguard.api.ReportedFinding;
import io.execguard.controller.decide.NodePlan;
import io.execguard.lab.Lab;
import io.execguard.lab.docker.DockerLab.FuseStack;

/**
 * The whole loop on a real node (#14): the chart installed with helm-java, the probe as its DaemonSet pod and the
 * operator as its Deployment pod on the kubelet of {@code hack/cluster.sh up --node} (Debian's containerd and runc),
 * workloads from {@code lab/busybox:1}, faults made for real, and every claim read where a user reads it: the
 * {@code NodeExecHealth} through the API server, the Node's taint and cordon, {@code kubectl exec} of the
 * release's kubectl through the API server and the kubelet. Prints {@code [node-e2e] LATENCY} lines.
 *
 * <p>On this machine the VM is shared: the probe (hostPID) also sees other tenants' processes, outside this node's
 * cgroups ({@link NodeE2E#cgroupRoot()}). Those findings are listed, never counted as this node's, and the FUSE
 * repair is turned on only while the report has no stuck task outside the test's pod.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExecLoopNodeIT {

    static final String NS = "node-e2e";
    static final String POLICY = NS;
    static final int RELEASE_AFTER_SECONDS = 20;

    static NodeE2E e2e;
    static NodeRelease chart;
    static KubernetesClient admin;

    @BeforeAll
    static void install() throws Exception {
        e2e = NodeE2E.fromSystemProperties();
        Lab.assumeLab();
        Lab.skipUnless(Lab.which("bindfs").isPresent(), "bindfs is not installed (bash hack/lab-deps.sh)");
        Lab.skipUnless(Files.exists(Lab.FUSECTL.resolve("..")) && Lab.mounts()
                .anyMatch(m -> m.mountPoint().equals(Lab.FUSECTL.toString())), "fusectl is not mounted at " + Lab.FUSECTL);
        // the probe's DaemonSet pod (placed by the DaemonSet controller) and the operator's (bound by the binder)
        chart = NodeRelease.install(e2e, NS, values(), "app.kubernetes.io/component=probe",
                "app.kubernetes.io/component=operator");
        admin = chart.admin();
        NodeExecHealth first = chart.report();
        System.out.println("[node-e2e] node " + e2e.node() + ": first report phase " + first.getStatus().getPhase()
                + ", " + first.getStatus().getTasksScanned() + " tasks scanned; foreign findings (other tenants of this "
                + "VM, outside " + e2e.cgroupRoot() + "): " + describe(foreign(first)));
    }

    /** The values a user of such a node sets (docs/INSTALL.md, "Nodes without a pod network"). */
    static Map<String, Object> values() {
        Map<String, Object> v = NodeRelease.values(e2e, NS, 5);
        v.put("probe.podStuckTerminating", "5s");
        v.put("probe.repairs", true);
        v.put("operator.resyncInterval", "5s");
        v.put("policy.dryRun", false);
        v.put("policy.releaseAfter", RELEASE_AFTER_SECONDS + "s");
        // the strongest action a container-scope finding gets (the operator never cordons for one: Decision)
        v.put("policy.actions.containerCritical", "Taint");
        v.put("policy.thresholds.stuckRuntimeInitSeconds", 5);
        v.put("policy.thresholds.unkillableTaskSeconds", 5);
        v.put("policy.thresholds.pidNamespaceTeardownSeconds", 5);
        v.put("policy.thresholds.podStuckTerminatingSeconds", 5);
        v.put("policy.thresholds.leakedExecSessionSeconds", 10);
        v.put("policy.remediation.dryRun", false);
        return v;
    }

    @AfterAll
    static void tearDown() {
        if (chart != null) {
            chart.close();
        }
    }

    // ---- 5. the healthy baseline ------------------------------------------------------------------

    @Test
    @Order(1)
    void aHundredExecsIntoRunningPodsGiveNoFinding() throws Exception {
        List<Pod> pods = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            pods.add(workload("node-e2e-baseline-" + i, null, null));
        }
        List<Long> millis = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            String pod = pods.get(i % pods.size()).getMetadata().getName();
            NodeE2E.Result r = e2e.kubectl(Duration.ofSeconds(30), "exec", "-n", NS, pod, "--", "sh", "-c",
                    "echo exec-" + i);
            assertEquals(0, r.exit(), r.stderr());
            assertEquals("exec-" + i, r.stdout().strip());
            millis.add(r.millis());
            if (i % 10 == 9) {
                ours(chart.report()).forEach(f -> seen.add(f.getType() + " " + f.getPodName() + ": " + f.getMessage()));
            }
        }
        long scans = chart.report().getStatus().getObservedScanCount();
        chart.awaitReport(Duration.ofSeconds(30), "two more scans", r -> r.getStatus().getObservedScanCount() >= scans + 2);
        NodeExecHealth after = chart.report();
        ours(after).forEach(f -> seen.add(f.getType() + " " + f.getPodName() + ": " + f.getMessage()));
        List<Long> sorted = millis.stream().sorted().toList();
        System.out.printf("[node-e2e] LATENCY baseline kubectl exec (100 calls in %.1f s): p50 %d ms, p95 %d ms, max %d ms%n",
                (System.nanoTime() - start) / 1e9, sorted.get(49), sorted.get(94), sorted.get(99));
        System.out.println("[node-e2e] baseline: phase " + after.getStatus().getPhase() + ", foreign findings: "
                + describe(foreign(after)));
        System.out.println("[node-e2e] baseline: " + chart.probeFootprint());
        assertEquals(List.of(), seen, "findings of this node during and after 100 healthy execs");
        for (Pod p : pods) {
            deletePod(p.getMetadata().getName());
        }
    }

    // ---- 3. pids limit ----------------------------------------------------------------------------

    @Test
    @Order(2)
    void aPodAtItsPidsLimitFailsExecAndIsReported() throws Exception {
        Pod pod = workload("node-e2e-pids", null, null);
        String name = pod.getMetadata().getName();
        String cid = pod.getStatus().getContainerStatuses().get(0).getContainerID().replace("containerd://", "");
        Path cg = e2e.pidsCgroupOf(pod, cid);
        String max = Files.readString(cg.resolve("pids.max")).strip();
        chart.cleanup().add("restore pids.max of " + name, () -> {
            if (Files.exists(cg.resolve("pids.max"))) {
                Files.writeString(cg.resolve("pids.max"), max);
            }
        });
        Files.writeString(cg.resolve("pids.max"), "2");
        long t0 = System.nanoTime();
        NodeE2E.Result r = e2e.kubectl(Duration.ofSeconds(30), "exec", "-n", NS, name, "--", "sh", "-c",
                "sleep 1 & wait");
        System.out.println("[node-e2e] kubectl exec at the pids limit: exit " + r.exit() + ": " + r.stderr().strip());
        assertNotEquals(0, r.exit(), "kubectl exec must fail at the pids limit");
        assertTrue(r.stderr().contains("can't fork") || r.stderr().contains("Resource temporarily unavailable"),
                r.stderr());
        ReportedFinding f = awaitFinding(Duration.ofSeconds(60), "PidsLimitReached", name);
        chart.latency("3 pids limit: refused fork -> PidsLimitReached in NodeExecHealth", t0);
        assertEquals(NS, f.getPodNamespace());
        assertEquals(cid, f.getContainerId());
        assertEquals(pod.getMetadata().getUid(), f.getPodUid());
        Files.writeString(cg.resolve("pids.max"), max);
        deletePod(name);
        chart.awaitReport(Duration.ofSeconds(60), "PidsLimitReached of " + name + " gone with its pod",
                rep -> findings(rep, "PidsLimitReached", name).isEmpty());
    }

    // ---- 4. leaked exec -it ------------------------------------------------------------------------

    @Test
    @Order(3)
    void aLeakedExecShellIsReported() throws Exception {
        Pod pod = workload("node-e2e-leaked", null, null);
        String name = pod.getMetadata().getName();
        List<String> argv = new ArrayList<>(List.of("script", "-qc", String.join(" ",
                e2e.kubectlArgv("exec", "-it", "-n", NS, name, "--", "sh")), "/dev/null"));
        Process script = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(chart.logs().resolve("leaked-script.log").toFile()).start();
        chart.cleanup().add("kill script (pid " + script.pid() + ")", () -> Lab.killAndWait(script, Duration.ofSeconds(10)));
        ProcessHandle client = awaitDescendant(script, "kubectl", Duration.ofSeconds(10));
        Thread.sleep(3000); // the shell is up in the container
        client.destroyForcibly(); // SIGKILL: the client vanishes without closing the session
        long t0 = System.nanoTime();
        ReportedFinding f = awaitFinding(Duration.ofSeconds(90), "LeakedExecSession", name);
        chart.latency("4 leaked exec: kubectl exec -it client killed -> LeakedExecSession (threshold 10 s + the 8 s tty "
                + "time granularity)", t0);
        assertEquals(NS, f.getPodNamespace());
        assertEquals("sh", f.getComm());
        deletePod(name);
    }

    // ---- 1. exec stuck on a FUSE volume: finding, taint, repair, release ---------------------------

    @Test
    @Order(5) // last: the probe re-reads the policy at most once a minute, so abortStuckFuse stays on that long
    void aHungExecIsReportedTaintedRepairedAndReleased() throws Exception {
        awaitNode(Duration.ofSeconds(RELEASE_AFTER_SECONDS + 60), "not held (a clean start)", n -> !hasTaint(n));
        Path dir = fuseDir("stuck"); // a fixed path: it is in README's example
        FuseStack fuse = FuseStack.create(chart.cleanup(), dir);
        Files.createDirectories(fuse.src.resolve("work"));
        Pod pod = workload("node-e2e-stuck", fuse.upper, "/data/work");
        String name = pod.getMetadata().getName();
        chart.cleanup().add("delete pod " + name, () -> deletePod(name));
        Thread.sleep(1500); // past bindfs' entry timeout: the next chdir into /data/work asks the daemon
        fuse.freeze(chart.cleanup());
        long t0 = System.nanoTime();
        Process exec = e2e.startKubectl(chart.logs().resolve("stuck-exec.log"), "exec", "-n", NS, name, "--", "ls");
        chart.cleanup().add("kill the hung kubectl exec", () -> Lab.killAndWait(exec, Duration.ofSeconds(10)));

        ReportedFinding f = awaitFinding(Duration.ofSeconds(60), "StuckRuntimeInit", name);
        chart.latency("1 exec stuck: kubectl exec started -> StuckRuntimeInit in NodeExecHealth (threshold 5 s, scan 2 s)", t0);
        assertEquals(NS, f.getPodNamespace());
        assertEquals("runc:[2:INIT]", f.getComm());
        assertEquals("FuseRequest", String.valueOf(f.getCause()));
        assertEquals("/data", f.getMount().getMountPoint());
        assertEquals(fuse.upperConn, f.getMount().getFuseConnection());
        assertTrue(exec.isAlive(), "kubectl exec hangs");
        NodeE2E.Result get = e2e.kubectl(Duration.ofSeconds(20), "get", "nodeexechealth");
        System.out.println("[node-e2e] $ kubectl get nodeexechealth\n" + get.stdout());

        // the policy's action: containerCritical Taint (with the condition and annotations below it); the cap
        // (maxUnhealthy 10% of one node, rounded up to 1) allows holding this, the only node
        long tf = System.nanoTime();
        // the taint (a patch of the Node) and the condition (of nodes/status) are two writes: wait for both
        Node held = awaitNode(Duration.ofSeconds(60), "tainted, annotated and conditioned by the operator",
                n -> hasTaint(n) && execHealthy(n).equals("False")
                        && "Unhealthy".equals(n.getMetadata().getAnnotations().get(NodePlan.ANNOTATION_HEALTH)));
        chart.latency("1 exec stuck: finding reported -> node tainted, annotated, ExecHealthy=False", tf);
        assertEquals("Unhealthy", held.getMetadata().getAnnotations().get(NodePlan.ANNOTATION_HEALTH), "annotation");
        assertNotEquals(Boolean.TRUE, held.getSpec().getUnschedulable(), "a container-scope finding never cordons");
        NodeExecHealth tainted = chart.awaitReport(Duration.ofSeconds(30), "remediation Taint in the report",
                r -> r.getStatus().getRemediation() != null && r.getStatus().getRemediation().getAction() == Action.Taint);
        ReadmeExamples.capture(e2e, tainted);
        assertTrue(exec.isAlive(), "still hung: the operator only holds the node");

        // the repair: abortStuckFuse on, while nothing outside this pod is stuck on FUSE
        List<ReportedFinding> others = foreign(chart.report()).stream().filter(x -> x.getMount() != null
                && x.getMount().getFuseConnection() != null).toList();
        Assumptions.assumeTrue(others.isEmpty(), "[node-e2e] not enabling abortStuckFuse: other tenants' tasks on this "
                + "VM are stuck on FUSE and the probe would repair them too: " + describe(others));
        chart.cleanup().add("abortStuckFuse off", () -> setAbortStuckFuse(false));
        long tr = System.nanoTime();
        setAbortStuckFuse(true);
        // the probe re-reads its policy at most once a minute (ProbeCommand), then needs two scans with the
        // connection busy: up to 60 s + 2 × 2 s, so wait 90 s
        NodeExecHealth repaired;
        try {
            repaired = chart.awaitReport(Duration.ofSeconds(90), "the AbortFuseConnection repair",
                    r -> repairs(r).stream().anyMatch(x -> x.getAction().equals("AbortFuseConnection")));
        } catch (AssertionError e) {
            printDiagnostics(); // the probe's log says why it did not abort
            throw e;
        }
        chart.latency("1 repair: abortStuckFuse enabled -> AbortFuseConnection in status.repairs", tr);
        NodeRepair repair = repairs(repaired).stream().filter(x -> x.getAction().equals("AbortFuseConnection"))
                .findFirst().orElseThrow();
        assertEquals("Done", repair.getResult(), repair::toString);
        assertEquals("fuse connection " + fuse.upperConn, repair.getTarget(), repair::toString);
        long tx = System.nanoTime();
        assertTrue(exec.waitFor(30, TimeUnit.SECONDS), "the hung kubectl exec returns once the connection is aborted");
        chart.latency("1 repair reported -> the hung kubectl exec returns (exit " + exec.exitValue() + ")", tx);
        setAbortStuckFuse(false);
        long tc = System.nanoTime();
        chart.awaitReport(Duration.ofSeconds(30), "the stuck-init finding gone",
                r -> findings(r, "StuckRuntimeInit", name).isEmpty());
        chart.latency("1 repair reported -> StuckRuntimeInit gone from the report", tx);
        fuse.release();
        Node released = awaitNode(Duration.ofSeconds(RELEASE_AFTER_SECONDS + 60), "released after releaseAfter",
                n -> !hasTaint(n));
        chart.latency("1 findings cleared -> node untainted (releaseAfter " + RELEASE_AFTER_SECONDS + " s)", tc);
        assertNotNull(released);
        deletePod(name);
    }

    // ---- 2. pod deletion stuck on an unkillable task -----------------------------------------------

    @Test
    @Order(4)
    void deletingAPodWhoseTaskIsUnkillableIsReported() throws Exception {
        Path dir = fuseDir("unkillable");
        FuseStack fuse = FuseStack.create(chart.cleanup(), dir);
        Pod pod = workload("node-e2e-unkillable", fuse.upper, null);
        String name = pod.getMetadata().getName();
        chart.cleanup().add("delete pod " + name, () -> deletePod(name));
        Thread.sleep(1500);
        Files.createDirectories(fuse.src.resolve("new"));
        fuse.freeze(chart.cleanup());
        Process exec = e2e.startKubectl(chart.logs().resolve("unkillable-exec.log"), "exec", "-n", NS, name, "--", "ls",
                "/data/new");
        chart.cleanup().add("kill the hung kubectl exec", () -> Lab.killAndWait(exec, Duration.ofSeconds(10)));
        Thread.sleep(2000); // the ls waits on the frozen mount
        long t0 = System.nanoTime();
        NodeE2E.Result del = e2e.kubectl(Duration.ofSeconds(30), "delete", "pod", "-n", NS, name, "--wait=false");
        assertEquals(0, del.exit(), del.stderr());
        NodeExecHealth withLs = chart.awaitReport(Duration.ofSeconds(60), "UnkillableTask of the ls in " + name,
                r -> findings(r, "UnkillableTask", name).stream().anyMatch(f -> "ls".equals(f.getComm())));
        ReportedFinding unkillable = findings(withLs, "UnkillableTask", name).stream()
                .filter(f -> "ls".equals(f.getComm())).findFirst().orElseThrow();
        chart.latency("2 kubectl delete pod -> UnkillableTask (threshold 5 s)", t0);
        ReportedFinding terminating = awaitFinding(Duration.ofSeconds(60), "PodStuckTerminating", name);
        chart.latency("2 kubectl delete pod -> PodStuckTerminating (grace 1 s + threshold 5 s)", t0);
        assertEquals(NS, unkillable.getPodNamespace());
        assertEquals("ls", unkillable.getComm());
        assertTrue(unkillable.getSignalsPending() != null && unkillable.getSignalsPending().contains("SIGKILL"),
                String.valueOf(unkillable.getSignalsPending()));
        assertEquals(NS, terminating.getPodNamespace());
        Pod live = admin.pods().inNamespace(NS).withName(name).get();
        assertNotNull(live, "the pod is still there");
        assertNotNull(live.getMetadata().getDeletionTimestamp(), "and Terminating");
        // the operator holds the node for the UnkillableTask (container scope: Taint)
        awaitNode(Duration.ofSeconds(60), "tainted for the unkillable task", ExecLoopNodeIT::hasTaint);
        chart.latency("2 kubectl delete pod -> node tainted by the operator", t0);
        long tr = System.nanoTime();
        fuse.release();
        await(Duration.ofSeconds(60), "pod " + name + " gone once the FUSE connection is aborted",
                () -> admin.pods().inNamespace(NS).withName(name).get() == null);
        chart.latency("2 FUSE connections aborted by the test -> the pod's deletion completes", tr);
        // and lets go after releaseAfter
        awaitNode(Duration.ofSeconds(RELEASE_AFTER_SECONDS + 60), "released after the unkillable task",
                n -> !hasTaint(n));
        long held = (System.nanoTime() - tr) / 1_000_000_000L;
        chart.latency("2 connections aborted -> node untainted (releaseAfter " + RELEASE_AFTER_SECONDS + " s)", tr);
        assertTrue(held >= RELEASE_AFTER_SECONDS - 2, "released only after releaseAfter, was " + held + " s");
    }

    // ---- helpers -----------------------------------------------------------------------------------

    static Pod workload(String name, Path hostPath, String workingDir) {
        PodBuilder b = new PodBuilder().withNewMetadata().withName(name).withNamespace(NS).endMetadata()
                .withNewSpec().withNodeName(e2e.node()).withHostNetwork(true).withTerminationGracePeriodSeconds(1L)
                .withAutomountServiceAccountToken(false)
                .addNewContainer().withName("c").withImage("lab/busybox:1").withImagePullPolicy("Never")
                .withCommand("sleep", "100000").withWorkingDir(workingDir).endContainer().endSpec();
        if (hostPath != null) {
            b.editSpec().editFirstContainer().addNewVolumeMount().withName("data").withMountPath("/data").endVolumeMount()
                    .endContainer().addNewVolume().withName("data").withNewHostPath().withPath(hostPath.toString())
                    .withType("Directory").endHostPath().endVolume().endSpec();
        }
        admin.pods().inNamespace(NS).resource(b.build()).create();
        chart.cleanup().add("delete pod " + name, () -> deletePod(name));
        await(Duration.ofSeconds(60), "pod " + name + " Running", () -> {
            Pod p = admin.pods().inNamespace(NS).withName(name).get();
            return p != null && p.getStatus() != null && "Running".equals(p.getStatus().getPhase());
        });
        return admin.pods().inNamespace(NS).withName(name).get();
    }

    /** /tmp/execguard-node-e2e-NAME, empty, deleted at the end (refused while anything is mounted there). */
    static Path fuseDir(String name) throws Exception {
        Path dir = Path.of("/tmp/execguard-node-e2e-" + name);
        Lab.deleteTree(dir);
        Files.createDirectories(dir);
        chart.cleanup().add("delete " + dir, () -> Lab.deleteTree(dir));
        return dir;
    }

    static void deletePod(String name) {
        admin.pods().inNamespace(NS).withName(name).withGracePeriod(1).delete();
        await(Duration.ofSeconds(60), "pod " + name + " deleted",
                () -> admin.pods().inNamespace(NS).withName(name).get() == null);
    }

    static void setAbortStuckFuse(boolean on) throws Exception {
        NodeE2E.Result r = e2e.kubectl(Duration.ofSeconds(20), "patch", "exechealthpolicy", POLICY, "--type=merge",
                "-p", "{\"spec\":{\"remediation\":{\"abortStuckFuse\":" + on + "}}}");
        assertEquals(0, r.exit(), r.stderr());
    }

    static ReportedFinding awaitFinding(Duration timeout, String type, String pod) {
        NodeExecHealth r = chart.awaitReport(timeout, type + " for pod " + NS + "/" + pod,
                rep -> !findings(rep, type, pod).isEmpty());
        return findings(r, type, pod).get(0);
    }

    static List<ReportedFinding> findings(NodeExecHealth r, String type, String pod) {
        return all(r).stream().filter(f -> String.valueOf(f.getType()).equals(type) && pod.equals(f.getPodName())
                && NS.equals(f.getPodNamespace())).toList();
    }

    static List<ReportedFinding> all(NodeExecHealth r) {
        return r.getStatus() == null || r.getStatus().getFindings() == null ? List.of() : r.getStatus().getFindings();
    }

    /** Findings of this node: node-wide ones and those of tasks in its cgroups. */
    static List<ReportedFinding> ours(NodeExecHealth r) {
        return all(r).stream().filter(f -> f.getCgroup() == null || f.getCgroup().startsWith(e2e.cgroupRoot() + "/"))
                .toList();
    }

    /** Findings of tasks outside this node's cgroups: other tenants of the shared VM. */
    static List<ReportedFinding> foreign(NodeExecHealth r) {
        return all(r).stream().filter(f -> !ours(r).contains(f)).toList();
    }

    static List<NodeRepair> repairs(NodeExecHealth r) {
        return r.getStatus().getRepairs() == null ? List.of() : r.getStatus().getRepairs();
    }

    static String describe(List<ReportedFinding> fs) {
        return fs.isEmpty() ? "none" : fs.stream().map(f -> f.getType() + " pid " + f.getPid() + " (" + f.getComm()
                + ", cgroup " + f.getCgroup() + ")").toList().toString();
    }

    static Node awaitNode(Duration timeout, String what, Predicate<Node> cond) throws Exception {
        Node[] last = new Node[1];
        try {
            await(timeout, "node " + e2e.node() + " " + what, () -> {
                last[0] = e2e.nodeObject(admin);
                return last[0] != null && cond.test(last[0]);
            });
        } catch (AssertionError e) {
            printDiagnostics();
            throw e;
        }
        return last[0];
    }

    /** What a failed wait on the operator needs: the report's findings and remediation, the operator's log. */
    static void printDiagnostics() throws Exception {
        NodeExecHealth r = chart.report();
        if (r != null && r.getStatus() != null) {
            System.out.println("[node-e2e] report: phase " + r.getStatus().getPhase() + ", remediation "
                    + r.getStatus().getRemediation() + ", findings " + all(r).stream().map(f -> f.getType() + "/"
                    + f.getSeverity() + "/" + f.getScope() + " " + f.getPodNamespace() + "/" + f.getPodName()).toList());
        }
        NodeE2E.Result logs = e2e.kubectl(Duration.ofSeconds(20), "logs", "-n", NS, "-l",
                "app.kubernetes.io/component=operator", "--tail=40");
        System.out.println("[node-e2e] operator log (last 40 lines):\n" + logs.stdout() + logs.stderr());
        NodeE2E.Result probe = e2e.kubectl(Duration.ofSeconds(20), "logs", "-n", NS, "-l",
                "app.kubernetes.io/component=probe", "--tail=40");
        System.out.println("[node-e2e] probe log (last 40 lines; why a repair was not made is logged here):\n"
                + probe.stdout() + probe.stderr());
    }

    static String execHealthy(Node n) {
        return n.getStatus().getConditions().stream().filter(c -> c.getType().equals("ExecHealthy"))
                .map(c -> c.getStatus()).findFirst().orElse("absent");
    }

    static boolean hasTaint(Node n) {
        List<Taint> taints = n.getSpec().getTaints();
        return taints != null && taints.stream().anyMatch(t -> t.getKey().equals(NodePlan.TAINT_KEY));
    }

    static ProcessHandle awaitDescendant(Process parent, String commandContains, Duration timeout) {
        Optional<ProcessHandle>[] found = new Optional[] {Optional.empty()};
        await(timeout, "a " + commandContains + " below pid " + parent.pid(), () -> {
            found[0] = parent.descendants().filter(h -> h.info().command().orElse("").contains(commandContains))
                    .findFirst();
            return found[0].isPresent();
        });
        return found[0].orElseThrow();
    }
}
