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
 * Seed 000 on the real kernel: a container's pids cgroup at {@code pids.max} after the kernel refused a
 * fork ({@code pids.events} max &gt;= 1). The scanner must report {@code PidsLimitReached} for that
 * container id.
 */
class PidsLimitIT {

    @BeforeEach
    void lab() {
        Lab.assumeLab();
    }

    @Test
    void containerCgroupAtItsPidsLimitIsReported() throws Exception {
        long t0 = System.nanoTime();
        Path helper = Lab.helper();
        String id = Lab.randomContainerId();
        List<Process> ours = new ArrayList<>();
        try (Lab.Cleanup cleanup = new Lab.Cleanup("PidsLimitIT")) {
            Path logs = Lab.tempDir(cleanup, "execguard-lab-pids");
            Path cgroup = Lab.dockerPidsCgroup(cleanup, id, ours);
            Files.writeString(cgroup.resolve("pids.max"), "1");
            Process p = Lab.start(cleanup, logs, "forker", helper.toString(), "forkfail",
                    cgroup.resolve("cgroup.procs").toString());
            ours.add(p);

            Path out = logs.resolve("forker.out");
            assertTrue(Lab.await(Duration.ofSeconds(5), () -> {
                String s = Lab.read(out);
                return s != null && s.contains("fork");
            }), "helper did not report its fork: " + Lab.read(logs.resolve("forker.err")));
            assertEquals("fork-failed 11", Lab.read(out).strip(), "the kernel should refuse the fork with EAGAIN");
            assertEquals("1", Lab.read(cgroup.resolve("pids.current")).strip());
            String events = Lab.read(cgroup.resolve("pids.events"));
            assertTrue(events.matches("(?s).*\\bmax [1-9]\\d*.*"), "pids.events: " + events);

            Lab.Scan scan = Lab.scan("--confirm-seconds", "1", "--threshold", "StuckRuntimeInit=1",
                    "--threshold", "UnkillableTask=1", "--threshold", "HungTask=1");

            assertEquals(1, scan.exit(), scan::toString);
            List<JsonNode> hits = scan.findings("PidsLimitReached").stream()
                    .filter(f -> id.equals(f.path("containerId").asText())).toList();
            assertEquals(1, hits.size(), () -> "no PidsLimitReached for container " + id + ": " + scan);
            JsonNode f = hits.get(0);
            assertEquals("PidsLimit", f.path("cause").asText());
            assertEquals("Critical", f.path("severity").asText(), "at pids.max, so exec is already failing");
            assertEquals("Container", f.path("scope").asText());
            assertEquals("/docker/" + id, f.path("cgroup").asText());
            assertTrue(f.path("message").asText().contains("1/1 pids"), f.path("message").asText());
        } finally {
            System.out.printf("[lab] PidsLimitIT took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
        assertFalse(Files.exists(Lab.PIDS_V1.resolve("docker").resolve(id)), "cgroup left behind");
    }
}
