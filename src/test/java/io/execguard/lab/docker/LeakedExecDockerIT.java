package io.execguard.lab.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Scenario 5 (seed 003): {@code docker exec -it c sh} under {@code script}, the docker client SIGKILLed → the
 * shell stays, child of the shim, holding a pty → LeakedExecSession (threshold lowered to 2 s).
 */
class LeakedExecDockerIT {

    @BeforeEach
    void lab() throws Exception {
        DockerLab.assumeDockerLab();
        DockerLab.skipUnless(DockerLab.which("script").isPresent(), "script (bsdutils) is not installed");
    }

    @Test
    void aShellWhoseClientWasKilledIsALeakedSession() throws Exception {
        long t0 = System.nanoTime();
        try (DockerLab.Cleanup cleanup = new DockerLab.Cleanup("LeakedExecDockerIT")) {
            Path dir = DockerLab.tempDir(cleanup, "execguard-dlab-leak");
            String id = DockerLab.container(cleanup, "leak", List.of(), "sleep", "100000");
            Process script = Interactive.start(cleanup, dir, id);
            long shell = Interactive.awaitShell(id);
            long client = Interactive.client(script);
            DockerLab.signal(client, "KILL"); // our own descendant: the docker exec client
            long fault = System.nanoTime();
            assertTrue(DockerLab.await(Duration.ofSeconds(5), () -> DockerLab.state(client) == '?'
                    || DockerLab.state(client) == 'Z'), "docker client did not die");
            Thread.sleep(500);
            assertTrue(DockerLab.state(shell) != '?', "the shell went away with its client: nothing leaked");

            DockerLab.Scan scan = DockerLab.pollUntil("5 leaked exec", fault, Duration.ofSeconds(40),
                    DockerLab.args(DockerLab.FAST, "--threshold", "LeakedExecSession=2"),
                    s -> s.findings("LeakedExecSession").stream().anyMatch(f -> f.path("pid").asLong() == shell));
            JsonNode f = scan.findings("LeakedExecSession").stream().filter(x -> x.path("pid").asLong() == shell)
                    .findFirst().orElseThrow();
            assertEquals(id, f.path("containerId").asText(), scan::toString);
            assertEquals("sh", f.path("comm").asText(), scan::toString);
            assertEquals("Warning", f.path("severity").asText(), scan::toString);
            // the container's own init (pid 1 in its namespace) is not a leaked session
            assertEquals(1, scan.findings("LeakedExecSession").stream()
                    .filter(x -> id.equals(x.path("containerId").asText())).count(), scan::toString);
        } finally {
            System.out.printf("[docker-lab] LeakedExecDockerIT took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** {@code script -qc "docker exec -it ID sh" /dev/null} with a stdin pipe kept open (no EOF to the shell). */
    static final class Interactive {
        private Interactive() {
        }

        static Process start(DockerLab.Cleanup cleanup, Path dir, String id) throws Exception {
            Process p = new ProcessBuilder("script", "-qfc", DockerLab.docker() + " exec -it " + id + " sh", "/dev/null")
                    .redirectOutput(dir.resolve("script.out").toFile())
                    .redirectError(dir.resolve("script.err").toFile())
                    .start(); // stdin stays a pipe we hold open
            cleanup.add("kill script (pid " + p.pid() + ")", () -> {
                p.getOutputStream().close();
                DockerLab.killAndWait(p, Duration.ofSeconds(10));
            });
            return p;
        }

        /** The exec'd shell: in the container's cgroup, not its init, parent a containerd shim. */
        static long awaitShell(String id) throws Exception {
            long[] found = {-1};
            assertTrue(DockerLab.await(Duration.ofSeconds(20), () -> {
                for (long pid : DockerLab.pidsInContainer(id)) {
                    if (DockerLab.comm(pid).equals("sh") && DockerLab.comm(DockerLab.ppid(pid)).startsWith("containerd-shim")) {
                        found[0] = pid;
                        return true;
                    }
                }
                return false;
            }), "the exec'd shell never appeared");
            return found[0];
        }

        static long client(Process script) {
            Optional<Long> c = DockerLab.descendants(script.pid()).stream()
                    .filter(p -> DockerLab.comm(p).equals("docker")).findFirst();
            assertTrue(c.isPresent(), "no docker client under script " + script.pid());
            return c.get();
        }
    }
}
