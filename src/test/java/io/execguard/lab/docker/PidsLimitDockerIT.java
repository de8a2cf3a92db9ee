package io.execguard.lab.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Scenario 1 (seed 000): a real container at its pids limit, a fork refused → PidsLimitReached for its id. */
class PidsLimitDockerIT {

    @BeforeEach
    void lab() throws Exception {
        DockerLab.assumeDockerLab();
    }

    @Test
    void aContainerAtItsPidsLimitIsReported() throws Exception {
        long t0 = System.nanoTime();
        try (DockerLab.Cleanup cleanup = new DockerLab.Cleanup("PidsLimitDockerIT")) {
            String id = DockerLab.container(cleanup, "pids", List.of(), "sleep", "100000");
            Path cg = DockerLab.PIDS_V1.resolve("docker").resolve(id);
            DockerLab.skipUnless(Files.isDirectory(cg), "no cgroup v1 pids cgroup at " + cg + " (cgroupfs driver)");
            String before = Files.readString(cg.resolve("pids.max")).strip();
            cleanup.add("restore pids.max of " + id, () -> {
                if (Files.exists(cg.resolve("pids.max"))) {
                    Files.writeString(cg.resolve("pids.max"), before);
                }
            });
            Files.writeString(cg.resolve("pids.max"), "2");
            long fault = System.nanoTime();
            DockerLab.Result r = DockerLab.docker(Duration.ofSeconds(30), "exec", id, "sh", "-c", "sleep 1 & wait");
            System.out.println("[docker-lab] exec at the limit: exit " + r.exit() + ", " + r.stderr().strip()
                    + r.stdout().strip());
            assertNotEquals(0, r.exit(), "the fork at the limit should have failed");
            assertTrue(Files.readString(cg.resolve("pids.events")).matches("(?s)max [1-9].*"),
                    "pids.events shows no refused fork");

            DockerLab.Scan scan = DockerLab.pollUntil("1 pids limit", fault, Duration.ofSeconds(30), DockerLab.FAST,
                    s -> s.findings("PidsLimitReached").stream().anyMatch(f -> id.equals(f.path("containerId").asText())));
            JsonNode f = scan.findings("PidsLimitReached").stream()
                    .filter(x -> id.equals(x.path("containerId").asText())).findFirst().orElseThrow();
            assertEquals("PidsLimit", f.path("cause").asText(), scan::toString);
            assertEquals("Container", f.path("scope").asText(), scan::toString);
            assertEquals("/docker/" + id, f.path("cgroup").asText(), scan::toString);
        } finally {
            System.out.printf("[docker-lab] PidsLimitDockerIT took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }
}
