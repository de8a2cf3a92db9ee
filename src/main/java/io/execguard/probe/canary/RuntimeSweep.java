package io.execguard.probe.canary;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.execguard.detect.CanaryObservation;
import io.execguard.detect.RuntimeCallObservation;
import io.execguard.host.HostPaths;
import io.execguard.probe.Metrics;

/**
 * The per-container runtime sweep: every interval, CRI {@code ListContainers} (running ones) and then, for each
 * container, {@code ContainerStats}, the cheapest call that reaches the container's shim (containerd 1.6 answers
 * {@code ListContainers} and {@code ContainerStatus} from its own store, so they answer while the shim is frozen;
 * docs/DETECTION.md has the measurement). Each call has the deadline; at most {@link Settings#parallel()} are in
 * flight (a fixed pool); a container has at most one call outstanding, and a call with no answer by its deadline
 * is closed (so the runtime drops it) and counts as unanswered: the container is unanswered from that call's start
 * until a later call answers, or it is gone from the list. When a container's call went unanswered, CRI
 * {@code Version} tells whether the daemon itself answers; when it does not (or the list failed), the sweep says so
 * and no container is blamed. One sweep at a time on its own thread; {@link #observe()} hands the last completed
 * sweep to the scan ({@link io.execguard.detect.RuntimeCallRules}).
 */
public final class RuntimeSweep implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RuntimeSweep.class);
    static final String POD_NAMESPACE = "io.kubernetes.pod.namespace";
    static final String POD_NAME = "io.kubernetes.pod.name";
    static final String POD_UID = "io.kubernetes.pod.uid";
    static final String CONTAINER_NAME = "io.kubernetes.container.name";

    /** Each call's deadline, how many calls at once, and the wait of the daemon's Version check. */
    public record Settings(Duration deadline, int parallel, Duration versionWait) {
        public Settings {
            if (parallel < 1) {
                throw new IllegalArgumentException("parallel must be >= 1");
            }
        }

        public static Settings defaults(Duration deadline) {
            return new Settings(deadline, 4, Duration.ofSeconds(2));
        }
    }

    /** How one call ended. */
    public enum Outcome { Answered, Error, NoAnswer }

    /** A container the sweep has seen unanswered, since when, and its init's host pid (0: unknown). */
    private record Unanswered(CriClient.Container container, String call, Instant since, int calls, int initPid) {
    }

    /** The state of the last completed sweep. */
    private record State(boolean runtimeAnswers, String runtimeDetail, Map<String, Unanswered> unanswered) {
    }

    private final CriClient client;
    private final HostPaths host;
    private final Settings settings;
    private final Supplier<Duration> interval;
    private final Metrics metrics;
    private final Clock clock;
    private final String nodeName;
    private final ExecutorService pool;
    private final Thread thread;
    private volatile boolean closed;
    private volatile State state = new State(true, null, Map.of());

    public RuntimeSweep(CriClient client, HostPaths host, Settings settings, Supplier<Duration> interval,
                        Metrics metrics, Clock clock, String nodeName) {
        this.client = client;
        this.host = host;
        this.settings = settings;
        this.interval = interval;
        this.metrics = metrics;
        this.clock = clock;
        this.nodeName = nodeName;
        // the calls' threads end 5 s after a sweep (the sweep runs once a canary interval, 60 s by default): the
        // probe does not keep them between sweeps (measured on the node: the canary and the sweep added 7 threads)
        java.util.concurrent.ThreadPoolExecutor calls = new java.util.concurrent.ThreadPoolExecutor(settings.parallel(),
                settings.parallel(), 5, java.util.concurrent.TimeUnit.SECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(),
                Thread.ofPlatform().daemon().name("execguard-runtime-call-", 0).factory());
        calls.allowCoreThreadTimeOut(true);
        this.pool = calls;
        this.thread = Thread.ofPlatform().daemon().name("execguard-runtime-sweep").unstarted(this::loop);
        register(metrics);
    }

    static void register(Metrics m) {
        m.counter("execguard_runtime_calls_total", "CRI calls of the per-container runtime sweep, by call "
                        + "(ListContainers, ContainerStats, Version; ContainerStatus: an unanswered container's init "
                        + "pid) and outcome (Answered, Error: an answer that is an "
                        + "error, NoAnswer: none within the deadline).")
                .counter("execguard_runtime_sweeps_total", "Runtime sweeps completed.")
                .gauge("execguard_runtime_sweep_duration_seconds", "Duration of the last runtime sweep.")
                .gauge("execguard_runtime_sweep_containers", "Running containers the last runtime sweep called.")
                .gauge("execguard_runtime_unanswered_containers", "Containers whose runtime call is unanswered after "
                        + "the last sweep.");
    }

    public RuntimeSweep start() {
        LOG.info("node {}: runtime sweep (CRI ListContainers, then ContainerStats per container) through {}, deadline "
                + "{}s, {} calls at a time", nodeName, client.socket(), settings.deadline().toSeconds(),
                settings.parallel());
        thread.start();
        return this;
    }

    private void loop() {
        Instant next = clock.instant();
        while (!closed) {
            Instant now = clock.instant();
            if (now.isBefore(next)) {
                sleep(Duration.between(now, next));
                continue;
            }
            try {
                sweepOnce();
            } catch (RuntimeException e) {
                LOG.warn("node {}: runtime sweep failed: {}", nodeName, e.toString());
            }
            next = now.plus(interval.get()); // a sweep longer than the interval: the next starts at once, none piles up
        }
    }

    /** One sweep, synchronously. Public for tests. */
    public void sweepOnce() {
        long t0 = System.nanoTime();
        List<CriClient.Container> containers;
        try {
            containers = client.runningContainers(settings.deadline());
            count(CriClient.LIST_CONTAINERS, Outcome.Answered);
        } catch (IOException e) {
            Outcome o = e instanceof CriClient.TimeoutException ? Outcome.NoAnswer : Outcome.Error;
            count(CriClient.LIST_CONTAINERS, o);
            // the containers unanswered so far stay, but while the daemon does not list, none is blamed
            State before = state;
            state = new State(false, "CRI ListContainers: " + e.getMessage(), before.unanswered());
            finish(t0, 0, before.unanswered().size());
            LOG.info("node {}: runtime sweep: {}", nodeName, state.runtimeDetail());
            return;
        }
        Map<String, Future<Call>> calls = new LinkedHashMap<>();
        for (CriClient.Container c : containers) {
            calls.put(c.id(), pool.submit(() -> stats(c)));
        }
        Map<String, Unanswered> before = state.unanswered();
        Map<String, Unanswered> now = new LinkedHashMap<>();
        boolean anyUnanswered = false;
        // the whole sweep is bounded too: each call has the deadline once it runs, `parallel` run at a time, plus a
        // second each for what the deadline does not cover (a connect() to a socket whose backlog is full blocks)
        long rounds = (containers.size() + settings.parallel() - 1) / settings.parallel();
        long sweepEnd = System.nanoTime() + rounds * (settings.deadline().toNanos() + 1_000_000_000L);
        for (CriClient.Container c : containers) {
            Call call = outcome(calls.get(c.id()), sweepEnd);
            if (call.outcome() == Outcome.NoAnswer) {
                anyUnanswered = true;
                Unanswered u = before.get(c.id());
                now.put(c.id(), u == null ? new Unanswered(c, "ContainerStats", call.started(), 1, 0)
                        : new Unanswered(c, u.call(), u.since(), u.calls() + 1, u.initPid()));
            }
        }
        boolean answers = true;
        String detail = null;
        if (anyUnanswered) {
            try {
                client.version(settings.versionWait());
                count(CriClient.VERSION, Outcome.Answered);
            } catch (IOException e) {
                count(CriClient.VERSION, e instanceof CriClient.TimeoutException ? Outcome.NoAnswer : Outcome.Error);
                answers = false;
                detail = "CRI Version: " + e.getMessage();
            }
        }
        if (answers) {
            now.replaceAll((id, u) -> u.initPid() > 0 ? u : new Unanswered(u.container(), u.call(), u.since(),
                    u.calls(), initPid(id)));
        }
        for (Unanswered u : now.values()) {
            if (!before.containsKey(u.container().id())) {
                LOG.info("node {}: runtime sweep: no answer to ContainerStats of {} ({}/{}) within {}s{}", nodeName,
                        u.container().id().substring(0, Math.min(12, u.container().id().length())),
                        u.container().label(POD_NAMESPACE), u.container().label(POD_NAME),
                        settings.deadline().toSeconds(), answers ? "" : "; " + detail);
            }
        }
        for (Unanswered u : before.values()) {
            if (!now.containsKey(u.container().id())) {
                LOG.info("node {}: runtime sweep: {} ({}/{}) {} after {} s unanswered", nodeName,
                        u.container().id().substring(0, Math.min(12, u.container().id().length())),
                        u.container().label(POD_NAMESPACE), u.container().label(POD_NAME),
                        calls.containsKey(u.container().id()) ? "answers again" : "is no longer running",
                        Duration.between(u.since(), clock.instant()).toSeconds());
            }
        }
        state = new State(answers, detail, now);
        finish(t0, containers.size(), now.size());
    }

    /**
     * The container's init pid (CRI ContainerStatus verbose: containerd answers it from its own store, also while the
     * shim hangs), through which the scan finds the shim (the init's parent); 0 when not known.
     */
    private int initPid(String containerId) {
        try {
            int pid = client.containerPid(containerId, settings.deadline());
            count(CriClient.CONTAINER_STATUS, Outcome.Answered);
            return pid;
        } catch (IOException e) {
            count(CriClient.CONTAINER_STATUS, e instanceof CriClient.TimeoutException ? Outcome.NoAnswer : Outcome.Error);
            return 0;
        }
    }

    /** One call's outcome and when it was made. */
    private record Call(Outcome outcome, Instant started) {
    }

    private Call stats(CriClient.Container c) {
        Instant started = clock.instant();
        Outcome o;
        try {
            client.containerStats(c.id(), settings.deadline());
            o = Outcome.Answered;
        } catch (CriClient.TimeoutException e) {
            o = Outcome.NoAnswer;
        } catch (java.nio.channels.ClosedByInterruptException e) {
            return new Call(Outcome.NoAnswer, started); // the sweep gave up on it and counted it (outcome)
        } catch (IOException | RuntimeException e) {
            o = Outcome.Error; // e.g. NotFound: the container ended after the list; an answer all the same
        }
        count(CriClient.CONTAINER_STATS, o);
        return new Call(o, started);
    }

    private Call outcome(Future<Call> f, long sweepEndNanos) {
        try {
            return f.get(Math.max(0, sweepEndNanos - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            f.cancel(true); // interrupts the call: its channel closes (an interruptible channel), its thread is freed
            count(CriClient.CONTAINER_STATS, Outcome.NoAnswer);
            return new Call(Outcome.NoAnswer, clock.instant());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Call(Outcome.Error, clock.instant());
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
            return new Call(Outcome.Error, clock.instant());
        }
    }

    private void finish(long t0, int containers, int unanswered) {
        metrics.set("execguard_runtime_sweep_duration_seconds", (System.nanoTime() - t0) / 1e9);
        metrics.set("execguard_runtime_sweep_containers", containers);
        metrics.set("execguard_runtime_unanswered_containers", unanswered);
        metrics.inc("execguard_runtime_sweeps_total");
    }

    private void count(String method, Outcome o) {
        metrics.inc("execguard_runtime_calls_total", "call", method.substring(method.lastIndexOf('/') + 1),
                "outcome", o.name());
    }

    /** The last completed sweep, for this scan's detection. */
    public RuntimeCallObservation observe() {
        State s = state;
        Instant now = clock.instant();
        List<RuntimeCallObservation.Unanswered> out = new ArrayList<>(s.unanswered().size());
        for (Unanswered u : s.unanswered().values()) {
            CriClient.Container c = u.container();
            String ns = c.label(POD_NAMESPACE);
            String pod = c.label(POD_NAME);
            String name = c.label(CONTAINER_NAME);
            // the init's parent only if it is a shim: a dead init's pid reused, or an init reparented, names another
            // process (then the rule looks for the shim by the sandbox's -id)
            CanaryObservation.Task shim = u.initPid() <= 0 ? null
                    : ProcTasks.task(host, ProcTasks.parent(host, u.initPid()))
                    .filter(t -> io.execguard.host.RuntimeNames.isShim(t.comm())).orElse(null);
            out.add(new RuntimeCallObservation.Unanswered(c.id(), c.podSandboxId(), c.label(POD_UID),
                    ns == null || pod == null ? null : ns + "/" + pod, name != null ? name : c.name(), u.call(),
                    Duration.between(u.since(), now).toMillis() / 1000.0, u.calls(), shim));
        }
        return new RuntimeCallObservation(s.runtimeAnswers(), s.runtimeDetail(),
                settings.deadline().toMillis() / 1000.0, out);
    }

    private void sleep(Duration d) {
        if (!Naps.nap(d)) {
            closed = true;
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        pool.shutdownNow();
    }
}
