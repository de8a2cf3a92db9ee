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
            DockerLab.PidsFault pf = DockerLab.refuseForkAtPidsLimit(cleanup, id);
            Path cg = pf.cgroup();
            long fault = pf.faultNanos();
            DockerLab.Result r = pf.exec();
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
