package io.execguard.lab.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Scenario 6: a busy, healthy runtime — 30 containers, 150 short execs running while scans run, and an
 * interactive exec that is still attached and in use — gives no findings with every time threshold lowered,
 * except node-level sysctl risks that this host really has (none on a default host).
 */
class BaselineDockerIT {

    private static final int CONTAINERS = 30;
    private static final int EXECS = 150;

    @BeforeEach
    void lab() throws Exception {
        DockerLab.assumeDockerLab();
        DockerLab.skipUnless(DockerLab.which("script").isPresent(), "script (bsdutils) is not installed");
    }

    @Test
    void aBusyHealthyRuntimeHasNoFindings() throws Exception {
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (DockerLab.Cleanup cleanup = new DockerLab.Cleanup("BaselineDockerIT")) {
            cleanup.add("stop exec pool", () -> {
                pool.shutdownNow();
                pool.awaitTermination(60, TimeUnit.SECONDS);
            });
            Path dir = DockerLab.tempDir(cleanup, "execguard-dlab-base");
            List<Future<String>> runs = new ArrayList<>();
            for (int i = 0; i < CONTAINERS; i++) {
                int n = i;
                runs.add(pool.submit(() -> DockerLab.container(cleanup, "base" + n, List.of(),
                        n % 3 == 0 ? new String[] {"sh", "-c", "while true; do sleep 1; done"}
                                : new String[] {"sleep", "100000"})));
            }
            List<String> ids = new ArrayList<>();
            for (Future<String> f : runs) {
                ids.add(f.get(120, TimeUnit.SECONDS));
            }
            System.out.printf("[docker-lab] baseline: %d containers up after %d ms%n", ids.size(),
                    (System.nanoTime() - t0) / 1_000_000);

            // the long interactive exec, attached and in use throughout
            Process script = LeakedExecDockerIT.Interactive.start(cleanup, dir, ids.get(0));
            long shell = LeakedExecDockerIT.Interactive.awaitShell(ids.get(0));
            OutputStream typing = script.getOutputStream();

            AtomicInteger failed = new AtomicInteger();
            List<Future<?>> execs = new ArrayList<>();
            for (int i = 0; i < EXECS; i++) {
                String id = ids.get(i % ids.size());
                int n = i;
                execs.add(pool.submit(() -> {
                    DockerLab.Result r = DockerLab.docker(Duration.ofSeconds(60), "exec", id, "sh", "-c",
                            n % 2 == 0 ? "ls / >/dev/null" : "echo $$ > /tmp/x; cat /tmp/x >/dev/null");
                    if (r.exit() != 0) {
                        failed.incrementAndGet();
                        System.err.println("[docker-lab] exec failed: " + r.stderr());
                    }
                    return null;
                }));
            }
            List<String> args = DockerLab.args(DockerLab.FAST, "--threshold", "LeakedExecSession=5");
            Set<String> allowed = nodeRisksOfThisHost();
            int scans = 0;
            long end = System.nanoTime() + Duration.ofSeconds(12).toNanos();
            boolean execsDone = false;
            while (!execsDone || System.nanoTime() < end) {
                typing.write("echo tick >/dev/null\n".getBytes(StandardCharsets.UTF_8));
                typing.flush();
                DockerLab.Scan scan = DockerLab.scan(args);
                scans++;
                List<JsonNode> unexpected = scan.all().stream()
                        .filter(f -> !allowed.contains(f.path("type").asText())).toList();
                assertTrue(unexpected.isEmpty(), () -> "healthy runtime, but findings: " + unexpected + "\n" + scan);
                execsDone = execs.stream().allMatch(Future::isDone);
            }
            for (Future<?> f : execs) {
                f.get();
            }
            assertEquals(0, failed.get(), "some healthy execs failed");
            assertTrue(DockerLab.state(shell) != '?', "the interactive shell is gone");
            System.out.printf("[docker-lab] baseline: %d scans, %d execs, 0 findings (allowed node risks: %s)%n",
                    scans, EXECS, allowed);
        } finally {
            System.out.printf("[docker-lab] BaselineDockerIT took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** The node-level types this host's sysctls really warrant (DETECTION.md's rules); none by default. */
    private static Set<String> nodeRisksOfThisHost() throws Exception {
        Set<String> allowed = new HashSet<>();
        long soft = DockerLab.sysctl("fs/pipe-user-pages-soft");
        if (soft > 0 && soft < 4096) {
            allowed.add("PipeBufferExhaustionRisk");
        }
        long nr = DockerLab.sysctl("kernel/pty/nr");
        long max = DockerLab.sysctl("kernel/pty/max");
        if (nr + 2 >= 0.9 * max) {
            allowed.add("PtyExhaustionRisk");
        }
        return allowed;
    }
}
