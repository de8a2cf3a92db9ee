package io.execguard.probe.canary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.execguard.detect.CanaryObservation;
import io.execguard.detect.RuntimeCallObservation;
import io.execguard.host.HostPaths;
import io.execguard.probe.Metrics;

/**
 * The sweep against a CRI server whose ContainerStats hangs for chosen containers: which containers are unanswered,
 * since when, that a container's unanswered state ends when it answers or is gone, that a daemon that does not answer
 * Version blames no container, and that no more than the pool's calls are in flight.
 */
class RuntimeSweepTest {

    @TempDir
    Path dir;

    final Set<String> running = ConcurrentHashMap.newKeySet();
    final Set<String> hanging = ConcurrentHashMap.newKeySet();
    volatile boolean versionHangs;
    final Metrics metrics = new Metrics();

    FakeCri.Reply handle(String path, byte[] request) {
        return switch (path) {
            case CriClient.LIST_CONTAINERS -> {
                CriContainersTest.Pb list = new CriContainersTest.Pb();
                running.stream().sorted().forEach(id -> list.msg(1, CriContainersTest.container(id, "sb-" + id, "main",
                        CriContainersTest.podLabels("ns", "pod-" + id, "uid-" + id, "main"))));
                yield new FakeCri.Answer(list.done());
            }
            case CriClient.CONTAINER_STATS -> {
                String id = new String(request, 2, request.length - 2, StandardCharsets.UTF_8);
                if (hanging.contains(id)) {
                    yield new FakeCri.Hang();
                }
                sleep(30); // let calls overlap: the pool bound is what keeps them few
                yield running.contains(id) ? new FakeCri.Answer(new byte[0])
                        : new FakeCri.Fail(5, "container " + id + " not found");
            }
            case CriClient.CONTAINER_STATUS -> {
                // verbose: containerd's info JSON names the init's host pid (4000 + the container's number)
                String id = new String(request, 2, request[1], StandardCharsets.UTF_8);
                String json = "{\"sandboxID\":\"sb-" + id + "\",\"pid\":" + (4000 + Integer.parseInt(id.substring(1)))
                        + ",\"runtimeSpec\":{\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}}";
                yield new FakeCri.Answer(new CriContainersTest.Pb().msg(1, new CriContainersTest.Pb().str(1, id))
                        .map(2, java.util.Map.of("info", json)).done());
            }
            case CriClient.VERSION -> versionHangs ? new FakeCri.Hang() : new FakeCri.Answer(new byte[0]);
            default -> new FakeCri.Fail(12, "unimplemented");
        };
    }

    /** A host /proc with each container's init (pid 4000 + n) under its shim (pid 7000 + n), the shims stopped. */
    HostPaths proc() throws Exception {
        Path root = dir.resolve("host");
        for (int n = 0; n < 10; n++) {
            write(root.resolve("proc/" + (4000 + n) + "/stat"), (4000 + n) + " (sleep) S " + (7000 + n) + " 1 1 0");
            write(root.resolve("proc/" + (7000 + n) + "/stat"), (7000 + n) + " (containerd-shim) T 1 1 1 0");
            write(root.resolve("proc/" + (7000 + n) + "/wchan"), "do_signal_stop");
        }
        return new HostPaths(root);
    }

    static void write(Path p, String text) throws Exception {
        java.nio.file.Files.createDirectories(p.getParent());
        java.nio.file.Files.writeString(p, text);
    }

    RuntimeSweep sweep(FakeCri cri) throws Exception {
        return new RuntimeSweep(new CriClient(cri.socket()), proc(), new RuntimeSweep.Settings(Duration.ofMillis(400), 3,
                Duration.ofMillis(300)), () -> Duration.ofSeconds(60), metrics, Clock.systemUTC(), "n");
    }

    List<String> unanswered(RuntimeCallObservation o) {
        return o.unanswered().stream().map(RuntimeCallObservation.Unanswered::containerId).toList();
    }

    @Test
    void aHungContainerIsUnansweredUntilItAnswersOrIsGoneAndOthersAreFine() throws Exception {
        for (int i = 0; i < 10; i++) {
            running.add("c" + i);
        }
        hanging.add("c3");
        try (FakeCri cri = new FakeCri(dir, this::handle); RuntimeSweep s = sweep(cri)) {
            s.sweepOnce();
            RuntimeCallObservation o = s.observe();
            assertTrue(o.runtimeAnswers());
            assertEquals(List.of("c3"), unanswered(o));
            RuntimeCallObservation.Unanswered u = o.unanswered().get(0);
            assertEquals("uid-c3", u.podUid());
            assertEquals("ns/pod-c3", u.podName());
            assertEquals("sb-c3", u.sandboxId());
            assertEquals("main", u.containerName());
            assertEquals("ContainerStats", u.call());
            assertEquals(1, u.calls());
            assertEquals(new CanaryObservation.Task(7003, "containerd-shim", 'T', "do_signal_stop"), u.shim(),
                    "the shim: the parent of the init ContainerStatus names");
            assertTrue(u.unansweredSeconds() >= 0.4, "unanswered for " + u.unansweredSeconds());
            assertTrue(cri.maxInFlight.get() <= 3, "calls in flight at most the pool's: " + cri.maxInFlight.get());
            assertEquals(9.0, metrics.value("execguard_runtime_calls_total", "call", "ContainerStats", "outcome",
                    "Answered"));
            assertEquals(1.0, metrics.value("execguard_runtime_calls_total", "call", "ContainerStats", "outcome",
                    "NoAnswer"));
            assertEquals(1.0, metrics.value("execguard_runtime_calls_total", "call", "Version", "outcome", "Answered"));
            // still hung: the same episode, counted on from its first call
            double first = u.unansweredSeconds();
            s.sweepOnce();
            RuntimeCallObservation.Unanswered again = s.observe().unanswered().get(0);
            assertEquals(2, again.calls());
            assertTrue(again.unansweredSeconds() > first + 0.3, first + " -> " + again.unansweredSeconds());
            // answers again: cleared
            hanging.clear();
            s.sweepOnce();
            assertEquals(List.of(), unanswered(s.observe()));
            // hung, then gone from the list: cleared too
            hanging.add("c5");
            s.sweepOnce();
            assertEquals(List.of("c5"), unanswered(s.observe()));
            running.remove("c5");
            s.sweepOnce();
            assertEquals(List.of(), unanswered(s.observe()));
            assertEquals(9.0, metrics.value("execguard_runtime_sweep_containers"));
        }
    }

    @Test
    void whenTheDaemonDoesNotAnswerVersionNoContainerIsBlamed() throws Exception {
        running.addAll(List.of("a", "b"));
        hanging.addAll(List.of("a", "b"));
        versionHangs = true;
        try (FakeCri cri = new FakeCri(dir, this::handle); RuntimeSweep s = sweep(cri)) {
            s.sweepOnce();
            RuntimeCallObservation o = s.observe();
            assertFalse(o.runtimeAnswers());
            assertTrue(o.runtimeDetail().startsWith("CRI Version"), o.runtimeDetail());
            assertEquals(1.0, metrics.value("execguard_runtime_calls_total", "call", "Version", "outcome", "NoAnswer"));
        }
    }

    @Test
    void aFailedListMakesNoEvidence() throws Exception {
        running.add("a");
        try (FakeCri cri = new FakeCri(dir, (path, req) -> path.equals(CriClient.LIST_CONTAINERS) ? new FakeCri.Hang()
                : handle(path, req)); RuntimeSweep s = sweep(cri)) {
            s.sweepOnce();
            RuntimeCallObservation o = s.observe();
            assertFalse(o.runtimeAnswers());
            assertEquals(List.of(), unanswered(o));
            assertEquals(1.0, metrics.value("execguard_runtime_calls_total", "call", "ListContainers", "outcome",
                    "NoAnswer"));
            assertFalse(cri.calls.contains(CriClient.CONTAINER_STATS), "no container called without a list");
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
