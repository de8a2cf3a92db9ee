package io.execguard.lab.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeRemediation;
import io.execguard.api.NodeRepair;
import io.execguard.api.ReportedFinding;

/**
 * The node-local repairs, proven on the real runtime by the probe running as the DaemonSet does with
 * {@code probe.repairs=true} (the host's fusectl read-write, CAP_KILL and CAP_DAC_OVERRIDE on top of the
 * chart's capabilities), driven by an ExecHealthPolicy in the mock API server:
 * <ul>
 *   <li>{@code abortStuckFuse}: a SIGKILLed runc init stuck on a frozen FUSE mount keeps {@code docker kill}
 *   from completing (seed 004's shape); the probe aborts exactly that connection, then {@code docker kill}
 *   completes, {@code docker inspect} answers, and the findings are gone from the next scan's report.</li>
 *   <li>{@code killLeakedExecSessions}: a shell whose {@code docker exec -it} client was killed is ended,
 *   and {@code kernel.pty.nr} drops.</li>
 * </ul>
 */
class RepairDockerIT {

    private static final Duration SCAN = Duration.ofSeconds(2);
    /** What the chart adds with probe.repairs=true: CAP_KILL, CAP_DAC_OVERRIDE and the host's fusectl read-write. */
    private static final List<String> REPAIR_CAPS = List.of("--cap-add", "KILL", "--cap-add", "DAC_OVERRIDE");
    private static final List<String> REPAIRS = DockerLab.args(REPAIR_CAPS, "-v",
            "/sys/fs/fuse/connections:/host/sys/fs/fuse/connections");
    private static String image;

    @BeforeEach
    void lab() throws Exception {
        DockerLab.assumeDockerLab();
    }

    @BeforeAll
    static void buildImage() throws Exception {
        DockerLab.assumeDockerLab();
        image = LabProbe.buildImage(LabProbe.DEFAULT_IMAGE);
    }

    private static ExecHealthPolicySpec repairing(boolean abortFuse, boolean endSessions) {
        ExecHealthPolicySpec spec = LabProbe.fastPolicy();
        spec.getThresholds().setLeakedExecSessionSeconds(2L);
        NodeRemediation r = new NodeRemediation();
        r.setAbortStuckFuse(abortFuse);
        r.setKillLeakedExecSessions(endSessions);
        r.setLeakedExecSessionTtl("2s");
        r.setDryRun(false);
        spec.setRemediation(r);
        return spec;
    }

    private static List<NodeRepair> repairs(NodeExecHealth n) {
        return n.getStatus().getRepairs() == null ? List.of() : n.getStatus().getRepairs();
    }

    @Test
    void abortingTheStuckFuseConnectionLetsDockerKillCompleteAndClearsTheFindings() throws Exception {
        DockerLab.assumeFuse();
        long t0 = System.nanoTime();
        try (DockerLab.Cleanup cleanup = new DockerLab.Cleanup("RepairDockerIT.abort")) {
            Path dir = DockerLab.tempDir(cleanup, "execguard-dlab-repair-fuse");
            DockerLab.FuseStack fuse = DockerLab.FuseStack.create(cleanup, dir);
            String id = DockerLab.container(cleanup, "repair", List.of("-v", fuse.upper + ":/data"), "sleep", "100000");
            Files.createDirectory(fuse.src.resolve("fresh"));
            fuse.freeze(cleanup); // registered after the container: released before its docker rm -f
            DockerLab.start(cleanup, dir, "exec", DockerLab.docker(), "exec", "-w", "/data/fresh", id, "ls");
            long init = awaitStuckInit(id);
            // the probe acts on the whole host: never let it near someone else's stuck FUSE task
            assumeNothingElse(DockerLab.scan(DockerLab.FAST), id, "UnkillableTask", "StuckRuntimeInit",
                    "PidNamespaceTeardownStuck");
            DockerLab.signal(init, "KILL"); // the one runtime process this test signals: its own exec's init
            assertTrue(DockerLab.await(Duration.ofSeconds(5), () -> (DockerLab.pendingSignals(init) & 0x100) != 0),
                    "SIGKILL not pending on " + init);

            // the impact: docker kill does not complete (it runs on as our child until the repair)
            Process kill = DockerLab.start(cleanup, dir, "docker-kill", DockerLab.docker(), "kill", id);
            assertFalse(kill.waitFor(5, TimeUnit.SECONDS), "docker kill completed before any repair");
            System.out.println("[docker-lab] docker kill " + id.substring(0, 12) + ": not done within 5 s (expected)");
            int otherConn = fuse.lowerConn;

            LabProbe.Api api = LabProbe.Api.start(cleanup, "lab-node-repair-fuse");
            api.policy("repair", repairing(true, false));
            long probeStart = System.nanoTime();
            LabProbe.Container probe = LabProbe.start(cleanup, api, image, SCAN,
                    REPAIRS);
            NodeExecHealth repaired = LabProbe.pollUntil("repair abortStuckFuse", probeStart, Duration.ofSeconds(60),
                    api, probe, n -> repairs(n).stream().anyMatch(r -> r.getAction().equals("AbortFuseConnection")));
            NodeRepair r = repairs(repaired).stream().filter(x -> x.getAction().equals("AbortFuseConnection"))
                    .findFirst().orElseThrow();
            assertEquals("Done", r.getResult(), r::toString);
            assertEquals("fuse connection " + fuse.upperConn, r.getTarget(), r::toString);
            assertEquals(id, r.getContainerId(), r::toString);
            assertTrue(r.getReason().contains("/data") && r.getReason().contains("UnkillableTask pid " + init),
                    r.getReason());
            assertEquals(1, repairs(repaired).size(), () -> "only the proven connection: " + repairs(repaired));
            long repairedAt = System.nanoTime();
            Instant repairTime = Instant.parse(r.getTime());
            System.out.println("[docker-lab] repair: " + r.getAction() + " " + r.getTarget() + " at " + repairTime
                    + ": " + r.getDetail());

            // docker kill completes, docker inspect answers
            assertTrue(kill.waitFor(30, TimeUnit.SECONDS), "docker kill still not done 30 s after the abort");
            System.out.printf(Locale.ROOT, "[docker-lab] docker kill completed %.1f s after the repair was reported "
                    + "(exit %d)%n", (System.nanoTime() - repairedAt) / 1e9, kill.exitValue());
            Optional<DockerLab.Result> inspect = DockerLab.runDeadline(Duration.ofSeconds(10), DockerLab.docker(),
                    "inspect", "--format", "{{.State.Running}}", id);
            assertTrue(inspect.isPresent() && inspect.get().exit() == 0, () -> "docker inspect: " + inspect);
            assertEquals("false", inspect.get().stdout().strip(), "the container is not stopped");

            // the findings are gone from the report of the scan after the repair
            long repairScan = repaired.getStatus().getObservedScanCount();
            NodeExecHealth clean = LabProbe.pollUntil("findings cleared after abortStuckFuse", repairedAt,
                    Duration.ofSeconds(30), api, probe, n -> LabProbe.findings(n).stream()
                            .noneMatch(f -> id.equals(f.getContainerId())));
            long cleanScan = clean.getStatus().getObservedScanCount();
            assertTrue(cleanScan <= repairScan + 1, () -> "findings still reported " + (cleanScan - repairScan)
                    + " scans after the repair (scan " + repairScan + " repaired, first clean report from scan "
                    + cleanScan + ")");
            System.out.printf(Locale.ROOT, "[docker-lab] findings cleared in the report of scan %d; the repair was "
                    + "made in scan %d (interval %d s)%n", cleanScan, repairScan, SCAN.toSeconds());
            // the lower connection, on which no container task waits, was left alone: an aborted connection
            // has nothing waiting, this one still holds the upper daemon's request to the frozen lower daemon
            assertTrue(fuse.waiting(otherConn) > 0, "the lower connection was aborted");
        } finally {
            System.out.printf("[docker-lab] RepairDockerIT.abort took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    @Test
    void aLeakedSessionIsEndedAndItsPtyFreed() throws Exception {
        DockerLab.skipUnless(DockerLab.which("script").isPresent(), "script (bsdutils) is not installed");
        // the probe image's runtime is this JVM's: SIGHUP needs the Java 22+ (foreign-function) Signals
        DockerLab.skipUnless(Runtime.version().feature() >= 22, "the leaked-session repair needs Java 22+ in the "
                + "probe image (this JVM is " + Runtime.version().feature() + ")");
        long t0 = System.nanoTime();
        try (DockerLab.Cleanup cleanup = new DockerLab.Cleanup("RepairDockerIT.leak")) {
            Path dir = DockerLab.tempDir(cleanup, "execguard-dlab-repair-leak");
            String id = DockerLab.container(cleanup, "repleak", List.of(), "sleep", "100000");
            Process script = LeakedExecDockerIT.Interactive.start(cleanup, dir, id);
            long shell = LeakedExecDockerIT.Interactive.awaitShell(id);
            long client = LeakedExecDockerIT.Interactive.client(script);
            DockerLab.signal(client, "KILL"); // our own descendant: the docker exec client
            assertTrue(DockerLab.await(Duration.ofSeconds(5), () -> DockerLab.state(client) == '?'
                    || DockerLab.state(client) == 'Z'), "docker client did not die");
            Thread.sleep(500);
            assertTrue(DockerLab.state(shell) != '?', "the shell went away with its client: nothing leaked");
            long ptyBefore = DockerLab.sysctl("kernel/pty/nr");
            // the probe acts on the whole host: never let it near someone else's idle exec session
            assumeNothingElse(DockerLab.scan(DockerLab.args(DockerLab.FAST, "--threshold", "LeakedExecSession=2")),
                    id, "LeakedExecSession");

            LabProbe.Api api = LabProbe.Api.start(cleanup, "lab-node-repair-leak");
            api.policy("repair", repairing(false, true));
            long probeStart = System.nanoTime();
            LabProbe.Container probe = LabProbe.start(cleanup, api, image, SCAN, REPAIR_CAPS);
            NodeExecHealth repaired = LabProbe.pollUntil("repair killLeakedExecSessions", probeStart,
                    Duration.ofSeconds(60), api, probe, n -> repairs(n).stream()
                            .anyMatch(r -> r.getAction().equals("HangUpLeakedSession")));
            NodeRepair r = repairs(repaired).stream().filter(x -> x.getAction().equals("HangUpLeakedSession"))
                    .findFirst().orElseThrow();
            assertEquals("Done", r.getResult(), r::toString);
            assertEquals("pid " + shell, r.getTarget(), r::toString);
            assertEquals(id, r.getContainerId(), r::toString);
            assertEquals("sent SIGHUP to pid " + shell, r.getDetail(), r::toString);
            long repairedAt = System.nanoTime();

            // the shell is gone (SIGHUP, or SIGKILL 10 s later if it ignored the hangup) and its pty is freed
            assertTrue(DockerLab.await(Duration.ofSeconds(30), () -> DockerLab.state(shell) == '?'),
                    () -> "the shell " + shell + " is still there: " + DockerLab.state(shell));
            double gone = (System.nanoTime() - repairedAt) / 1e9;
            // the pty is freed when the runtime reaps the exec and closes its master: after a SIGKILL (the shell
            // ignored the hangup) and on a loaded machine that took longer than 10 s
            assertTrue(DockerLab.await(Duration.ofSeconds(30), () -> {
                try {
                    return DockerLab.sysctl("kernel/pty/nr") < ptyBefore;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }), "kernel.pty.nr did not drop below " + ptyBefore);
            long ptyAfter = DockerLab.sysctl("kernel/pty/nr");
            System.out.printf(Locale.ROOT, "[docker-lab] leaked shell %d gone %.1f s after the repair was reported; "
                    + "kernel.pty.nr %d -> %d; repairs: %s%n", shell, gone, ptyBefore, ptyAfter,
                    repairs(api.report().orElseThrow()).stream().map(x -> x.getAction() + " " + x.getResult()).toList());
            NodeExecHealth clean = LabProbe.pollUntil("leaked session cleared", repairedAt, Duration.ofSeconds(30), api,
                    probe, n -> LabProbe.findings(n).stream().noneMatch(f -> f.getPid() != null && f.getPid() == shell));
            assertTrue(LabProbe.findings(clean).stream().map(ReportedFinding::getType)
                    .noneMatch(t -> t.name().equals("LeakedExecSession")), () -> LabProbe.yaml(clean));
        } finally {
            System.out.printf("[docker-lab] RepairDockerIT.leak took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** Skips when the host has findings of these types outside our container: the probe would repair them too. */
    private static void assumeNothingElse(DockerLab.Scan scan, String id, String... types) {
        for (String type : types) {
            for (var f : scan.findings(type)) {
                DockerLab.skipUnless(id.equals(f.path("containerId").asText()), "this host has a " + type
                        + " outside the test's container (" + f.path("message").asText() + "): the repairing probe "
                        + "would act on it too");
            }
        }
    }

    /** The runc init our exec created, once a host scan reports it stuck (as in ExecStuckDockerIT). */
    private static long awaitStuckInit(String id) throws Exception {
        DockerLab.Scan scan = DockerLab.pollUntil("repair setup: exec stuck", System.nanoTime(), Duration.ofSeconds(40),
                DockerLab.FAST, s -> s.findings("StuckRuntimeInit").stream()
                        .anyMatch(f -> id.equals(f.path("containerId").asText())));
        long pid = scan.findings("StuckRuntimeInit").stream().filter(f -> id.equals(f.path("containerId").asText()))
                .findFirst().orElseThrow().path("pid").asLong();
        assertEquals("runc:[2:INIT]", DockerLab.comm(pid));
        assertTrue(DockerLab.comm(DockerLab.ppid(pid)).startsWith("runc"), "init's parent is not runc");
        return pid;
    }
}
