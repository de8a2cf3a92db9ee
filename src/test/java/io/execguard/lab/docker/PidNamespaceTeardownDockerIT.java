package io.execguard.lab.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Scenario 4 (seed 004's mechanism, LAB.md case 4): a container whose shell init has a child stuck on a
 * frozen FUSE mount; {@code docker kill} → the init blocks in {@code zap_pid_ns_processes} →
 * PidNamespaceTeardownStuck for that container, and the kill does not complete.
 */
class PidNamespaceTeardownDockerIT {

    @BeforeEach
    void lab() throws Exception {
        DockerLab.assumeDockerLab();
        DockerLab.assumeFuse();
    }

    @Test
    void killingAContainerWithAStuckChildLeavesItsInitInZapPidNs() throws Exception {
        long t0 = System.nanoTime();
        try (DockerLab.Cleanup cleanup = new DockerLab.Cleanup("PidNamespaceTeardownDockerIT")) {
            Path dir = DockerLab.tempDir(cleanup, "execguard-dlab-pidns");
            DockerLab.FuseStack fuse = DockerLab.FuseStack.create(cleanup, dir);
            String id = DockerLab.container(cleanup, "pidns", List.of("-v", fuse.upper + ":/data"),
                    "sh", "-c", "while true; do sleep 1; done");
            Files.createDirectory(fuse.src.resolve("fresh"));
            fuse.freeze(cleanup);
            DockerLab.Result exec = DockerLab.docker(Duration.ofSeconds(30), "exec", "-d", id, "ls", "/data/fresh");
            assertEquals(0, exec.exit(), exec::stderr);
            assertTrue(DockerLab.await(Duration.ofSeconds(10), () -> DockerLab.pidsInContainer(id).stream()
                    .anyMatch(p -> DockerLab.comm(p).equals("ls") && DockerLab.wchan(p).contains("request_wait_answer"))),
                    "the exec'd ls never blocked on the frozen mount");
            long fault = System.nanoTime();
            Process kill = DockerLab.start(cleanup, dir, "docker-kill", DockerLab.docker(), "kill", id);

            DockerLab.Scan scan = DockerLab.pollUntil("4 pid namespace teardown", fault, Duration.ofSeconds(40),
                    DockerLab.FAST, s -> s.findings("PidNamespaceTeardownStuck").stream()
                            .anyMatch(f -> id.equals(f.path("containerId").asText()))
                            // and the stuck child itself: it turns UnkillableTask once its SIGKILL has been
                            // pending past the threshold, which may be a scan after its init's teardown shows
                            && s.findings("UnkillableTask").stream().anyMatch(u -> id.equals(
                                    u.path("containerId").asText()) && "ls".equals(u.path("comm").asText())));
            JsonNode f = scan.findings("PidNamespaceTeardownStuck").stream()
                    .filter(x -> id.equals(x.path("containerId").asText())).findFirst().orElseThrow();
            assertEquals("PidNamespaceTeardown", f.path("cause").asText(), scan::toString);
            assertEquals("sh", f.path("comm").asText(), scan::toString);
            assertTrue(f.path("message").asText().contains("FuseRequest"), scan::toString);
            // the stuck child is reported too, on the right connection
            assertTrue(scan.findings("UnkillableTask").stream().anyMatch(u -> id.equals(u.path("containerId").asText())
                    && "ls".equals(u.path("comm").asText())
                    && u.path("mount").path("fuseConnection").asInt() == fuse.upperConn), scan::toString);
            assertTrue(kill.isAlive(), "docker kill completed although the namespace cannot be torn down");
            System.out.println("[docker-lab] docker kill " + id.substring(0, 12) + ": still running (expected)");
        } finally {
            System.out.printf("[docker-lab] PidNamespaceTeardownDockerIT took %d ms%n",
                    (System.nanoTime() - t0) / 1_000_000);
        }
    }
}
