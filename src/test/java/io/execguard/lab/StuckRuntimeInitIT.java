package io.execguard.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Seed 001 on the real kernel: a real process named {@code runc:[2:INIT]}, in a pids cgroup named like a
 * docker container, blocked writing a full pipe nobody reads. The scanner must call it a
 * {@code StuckRuntimeInit} caused by {@code PipeFull}, with its pid and the container id.
 */
class StuckRuntimeInitIT {

    @BeforeEach
    void lab() {
        Lab.assumeLab();
    }

    @Test
    void runcInitBlockedOnAFullPipeIsAStuckRuntimeInit() throws Exception {
        long t0 = System.nanoTime();
        Path helper = Lab.helper();
        String id = Lab.randomContainerId();
        List<Process> ours = new ArrayList<>();
        try (Lab.Cleanup cleanup = new Lab.Cleanup("StuckRuntimeInitIT")) {
            Path logs = Lab.tempDir(cleanup, "execguard-lab-pipe");
            Path cgroup = Lab.dockerPidsCgroup(cleanup, id, ours);
            Process init = Lab.start(cleanup, logs, "init", helper.toString(), "pipe", "runc:[2:INIT]",
                    cgroup.resolve("cgroup.procs").toString());
            ours.add(init);
            long pid = init.pid();

            assertTrue(Lab.await(Duration.ofSeconds(5), () -> Lab.state(pid) == 'S'
                            && Lab.wchan(pid).contains("pipe_write")),
                    "helper never blocked writing its pipe: state " + Lab.state(pid) + ", wchan " + Lab.wchan(pid)
                            + ", stderr " + Lab.read(logs.resolve("init.err")));
            assertEquals("runc:[2:INIT]", Lab.read(Path.of("/proc/" + pid + "/comm")).strip());
            assertTrue(Lab.read(Path.of("/proc/" + pid + "/cgroup")).contains("/docker/" + id),
                    "helper is not in its cgroup");
            Thread.sleep(1_500); // older than the lowered threshold

            Lab.Scan scan = Lab.scan("--confirm-seconds", "1", "--threshold", "StuckRuntimeInit=1",
                    "--threshold", "UnkillableTask=1", "--threshold", "HungTask=1");

            assertEquals(1, scan.exit(), scan::toString);
            List<JsonNode> stuck = scan.findings("StuckRuntimeInit").stream()
                    .filter(f -> f.path("pid").asLong() == pid).toList();
            assertEquals(1, stuck.size(), () -> "no StuckRuntimeInit for pid " + pid + ": " + scan);
            JsonNode f = stuck.get(0);
            assertEquals("PipeFull", f.path("cause").asText(), scan::toString);
            assertEquals("Critical", f.path("severity").asText());
            assertEquals("Container", f.path("scope").asText());
            assertEquals("runc:[2:INIT]", f.path("comm").asText());
            assertEquals("S", f.path("state").asText());
            assertEquals(id, f.path("containerId").asText(), scan::toString);
            assertEquals("/docker/" + id, f.path("cgroup").asText());
            assertTrue(f.path("ageSeconds").asLong() >= 1, scan::toString);
            assertTrue(f.path("kernelStack").toString().contains("pipe_write"), scan::toString);
            // a stuck pipe writer is also a node-level pipe-buffer risk, Critical because a writer is stuck
            List<JsonNode> risk = scan.findings("PipeBufferExhaustionRisk");
            assertEquals(1, risk.size(), scan::toString);
            assertEquals("Critical", risk.get(0).path("severity").asText(), scan::toString);
            // the sysctls behind that rule are read whole from the real /proc/sys (not just their first digit)
            JsonNode host = scan.report().path("host");
            assertEquals(Lab.sysctl("fs/pipe-user-pages-soft"), host.path("pipeUserPagesSoft").asLong(), scan::toString);
            assertEquals(Lab.sysctl("fs/pipe-max-size"), host.path("pipeMaxSize").asLong(), scan::toString);
            assertEquals(Lab.sysctl("kernel/pty/max"), host.path("ptyMax").asLong(), scan::toString);
            // nothing about this task is an unkillable or hung task: it sleeps interruptibly
            assertTrue(scan.findings("UnkillableTask").stream().noneMatch(x -> x.path("pid").asLong() == pid));
            assertTrue(scan.findings("HungTask").stream().noneMatch(x -> x.path("pid").asLong() == pid));
        } finally {
            System.out.printf("[lab] StuckRuntimeInitIT took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
        assertFalse(Files.exists(Lab.PIDS_V1.resolve("docker").resolve(id)), "cgroup left behind");
    }
}
