package io.execguard.lab.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Scenarios 2 and 3 (seeds 002, 004): {@code docker exec -w} into a directory on a stacked bindfs mount whose
 * lower daemon is frozen → runc init stuck in {@code chdir} → StuckRuntimeInit/FuseRequest naming container,
 * connection and mount, and {@code docker inspect} hangs. Then SIGKILL that init → UnkillableTask with SIGKILL
 * pending, and {@code docker kill} does not complete.
 */
class ExecStuckDockerIT {

    @BeforeEach
    void lab() throws Exception {
        DockerLab.assumeDockerLab();
        DockerLab.assumeFuse();
    }

    /** The stuck-exec setup shared by both tests; returns the StuckRuntimeInit finding. */
    private static JsonNode stuckExec(DockerLab.Cleanup cleanup, String test, String scenario, String[] idOut,
            DockerLab.FuseStack[] stackOut) throws Exception {
        Path dir = DockerLab.tempDir(cleanup, "execguard-dlab-" + test);
        DockerLab.FuseStack fuse = DockerLab.FuseStack.create(cleanup, dir);
        String id = DockerLab.container(cleanup, test, List.of("-v", fuse.upper + ":/data"), "sleep", "100000");
        Files.createDirectory(fuse.src.resolve("fresh"));
        fuse.freeze(cleanup); // registered after the container: released before its docker rm -f
        long fault = System.nanoTime();
        DockerLab.start(cleanup, dir, "exec", DockerLab.docker(), "exec", "-w", "/data/fresh", id, "ls");

        DockerLab.Scan scan = DockerLab.pollUntil(scenario, fault, Duration.ofSeconds(40), DockerLab.FAST,
                s -> s.findings("StuckRuntimeInit").stream().anyMatch(f -> id.equals(f.path("containerId").asText())));
        JsonNode f = scan.findings("StuckRuntimeInit").stream()
                .filter(x -> id.equals(x.path("containerId").asText())).findFirst().orElseThrow();
        assertEquals("FuseRequest", f.path("cause").asText(), scan::toString);
        assertEquals("runc:[2:INIT]", f.path("comm").asText(), scan::toString);
        assertEquals("/data", f.path("mount").path("mountPoint").asText(), scan::toString);
        assertEquals(fuse.upperConn, f.path("mount").path("fuseConnection").asInt(), scan::toString);
        assertTrue(f.path("mount").path("fsType").asText().startsWith("fuse"), scan::toString);
        assertTrue(f.path("kernelStack").toString().contains("request_wait_answer"), scan::toString);
        assertTrue(f.path("message").asText().contains("/sys/fs/fuse/connections/" + fuse.upperConn + "/abort"),
                scan::toString);
        idOut[0] = id;
        stackOut[0] = fuse;
        return f;
    }

    @Test
    void execIntoAHungFuseDirectoryIsAStuckRuntimeInitAndInspectHangs() throws Exception {
        long t0 = System.nanoTime();
        try (DockerLab.Cleanup cleanup = new DockerLab.Cleanup("ExecStuckDockerIT.exec")) {
            String[] id = new String[1];
            stuckExec(cleanup, "exec", "2 exec stuck", id, new DockerLab.FuseStack[1]);
            // the user-visible impact: dockerd holds the container's lock, so inspect does not answer
            Optional<DockerLab.Result> inspect = DockerLab.runDeadline(Duration.ofSeconds(5), DockerLab.docker(),
                    "inspect", id[0]);
            assertTrue(inspect.isEmpty(), () -> "docker inspect answered: " + inspect);
            System.out.println("[docker-lab] docker inspect " + id[0].substring(0, 12) + ": no answer within 5 s (expected)");
        } finally {
            System.out.printf("[docker-lab] ExecStuckDockerIT.exec took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    @Test
    void sigkilledStuckInitIsUnkillableAndDockerKillHangs() throws Exception {
        long t0 = System.nanoTime();
        try (DockerLab.Cleanup cleanup = new DockerLab.Cleanup("ExecStuckDockerIT.kill")) {
            String[] id = new String[1];
            DockerLab.FuseStack[] fuse = new DockerLab.FuseStack[1];
            JsonNode stuck = stuckExec(cleanup, "kill", "2 exec stuck (setup of 3)", id, fuse);
            long init = stuck.path("pid").asLong();
            // the one runtime process this scenario signals: the runc init our own docker exec created
            assertEquals("runc:[2:INIT]", DockerLab.comm(init));
            assertTrue(DockerLab.comm(DockerLab.ppid(init)).startsWith("runc"), "init's parent is not runc");
            DockerLab.signal(init, "KILL");
            long fault = System.nanoTime();
            assertTrue(DockerLab.await(Duration.ofSeconds(5), () -> (DockerLab.pendingSignals(init) & 0x100) != 0),
                    "SIGKILL not pending on " + init);

            DockerLab.Scan scan = DockerLab.pollUntil("3 kill stuck", fault, Duration.ofSeconds(40), DockerLab.FAST,
                    s -> s.findings("UnkillableTask").stream().anyMatch(f -> f.path("pid").asLong() == init));
            JsonNode f = scan.findings("UnkillableTask").stream().filter(x -> x.path("pid").asLong() == init)
                    .findFirst().orElseThrow();
            assertEquals("FuseRequest", f.path("cause").asText(), scan::toString);
            assertTrue(f.path("signalsPending").toString().contains("SIGKILL"), scan::toString);
            assertEquals(id[0], f.path("containerId").asText(), scan::toString);
            assertEquals(fuse[0].upperConn, f.path("mount").path("fuseConnection").asInt(), scan::toString);
            assertEquals("D", f.path("state").asText(), scan::toString);

            Optional<DockerLab.Result> kill = DockerLab.runDeadline(Duration.ofSeconds(5), DockerLab.docker(), "kill",
                    id[0]);
            assertTrue(kill.isEmpty(), () -> "docker kill completed: " + kill);
            System.out.println("[docker-lab] docker kill " + id[0].substring(0, 12) + ": not done within 5 s (expected)");
            assertEquals('D', DockerLab.state(init), "the SIGKILLed init died");
        } finally {
            System.out.printf("[docker-lab] ExecStuckDockerIT.kill took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }
}
