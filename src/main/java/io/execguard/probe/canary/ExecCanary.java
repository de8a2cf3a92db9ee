package io.execguard.probe.canary;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.execguard.detect.CanaryObservation;
import io.execguard.detect.ExecStage;
import io.execguard.host.HostPaths;
import io.execguard.probe.Metrics;

/**
 * The exec canary: every interval, one {@code ExecSync} of a tiny static command ({@code /app/canary}, prints
 * {@code ok}) into the probe's own container through the runtime's CRI socket, with a deadline, its stdout checked.
 * One run at a time, on one thread: a run that hangs is never piled on (the runs it spans are skipped and counted)
 * and is itself the evidence; it is abandoned (the connection closed) after {@link Settings#abandonAfter()}.
 *
 * <p>A run is stuck from its deadline on, until a later run answers correctly within the deadline; runs that fail
 * in time (an error, a wrong output) neither start nor end that. {@link #observe()} hands the state to the scan
 * ({@link io.execguard.detect.ExecPathRules}); the scan hands back the stage it found ({@link #stage}).
 */
public final class ExecCanary implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ExecCanary.class);

    /** The command, its expected stdout, the deadline, when a hung run is abandoned, and the slow rule. */
    public record Settings(List<String> command, String expectedStdout, Duration deadline, Duration abandonAfter,
                           Duration slow, int slowRuns) {
        public static Settings defaults(Duration deadline) {
            return new Settings(List.of("/app/canary"), "ok", deadline, Duration.ofMinutes(5), Duration.ofSeconds(2), 3);
        }
    }

    /** How a run ended. */
    public enum Outcome { Ok, Slow, Late, Failed, Abandoned, Skipped }

    private final CriClient client;
    private final CanaryTarget target;
    private final Settings settings;
    private final Supplier<Duration> interval;
    private final HostPaths host;
    private final Metrics metrics;
    private final Clock clock;
    private final String nodeName;
    private final Thread thread;

    private Instant inFlightSince;
    private Instant stuckSince;
    private ExecStage lastStage;
    private int slowRuns;
    private double lastLatency = Double.NaN;
    private Outcome lastOutcome;
    private volatile boolean closed;
    /** The daemon check of the current stuck episode (null: none yet), and whether one is running. */
    private CanaryObservation.DaemonCheck daemon;
    private Instant daemonCheckedAt;
    private boolean daemonChecking;
    private final Thread.Builder checker = Thread.ofPlatform().daemon().name("execguard-canary-version");
    private static final Duration DAEMON_WAIT = Duration.ofSeconds(2);

    public ExecCanary(CriClient client, CanaryTarget target, Settings settings, Supplier<Duration> interval,
                      HostPaths host, Metrics metrics, Clock clock, String nodeName) {
        this.client = client;
        this.target = target;
        this.settings = settings;
        this.interval = interval;
        this.host = host;
        this.metrics = metrics;
        this.clock = clock;
        this.nodeName = nodeName;
        register(metrics);
        this.thread = new Thread(this::loop, "execguard-canary");
        this.thread.setDaemon(true);
    }

    static void register(Metrics m) {
        m.histogram("execguard_canary_latency_seconds", "Latency of exec canaries that were answered (CRI ExecSync "
                        + "into the probe's container).", 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10,
                        30)
                .counter("execguard_canary_runs_total", "Exec canary runs by outcome (Ok, Slow, Late: answered after "
                        + "the deadline, Failed: an error or a wrong output in time, Abandoned, Skipped: not started "
                        + "because the previous run was still in flight).")
                .counter("execguard_canary_stuck_total", "Exec canary runs found stuck, by the stage they stopped at "
                        + "(counted once per stage a stuck run is seen at).");
    }

    public CanaryTarget target() {
        return target;
    }

    public ExecCanary start() {
        LOG.info("node {}: exec canary into container {} (shim pid {}) through {}, deadline {}s", nodeName,
                target.containerId().substring(0, 12), target.shimPid(), client.socket(),
                settings.deadline().toSeconds());
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
            Instant started = clock.instant();
            runOnce();
            Duration every = interval.get();
            Instant ended = clock.instant();
            long skipped = Math.max(0, Duration.between(started, ended).toMillis() / Math.max(1, every.toMillis()));
            if (skipped > 0) {
                metrics.add("execguard_canary_runs_total", skipped, "outcome", Outcome.Skipped.name());
            }
            next = started.plus(every.multipliedBy(skipped + 1));
        }
    }

    /** One run, synchronously; returns its outcome. Public for tests. */
    public Outcome runOnce() {
        Instant start = clock.instant();
        synchronized (this) {
            inFlightSince = start;
        }
        long t0 = System.nanoTime();
        Outcome outcome;
        String detail;
        try {
            CriClient.ExecResult r = client.execSync(target.containerId(), settings.command(), settings.deadline(),
                    settings.abandonAfter());
            double seconds = (System.nanoTime() - t0) / 1e9;
            metrics.observe("execguard_canary_latency_seconds", seconds);
            boolean right = r.exitCode() == 0 && r.stdoutText().strip().equals(settings.expectedStdout());
            detail = "exit " + r.exitCode() + ", stdout '" + r.stdoutText().strip() + "', stderr '"
                    + new String(r.stderr(), StandardCharsets.UTF_8).strip() + "'";
            outcome = seconds >= settings.deadline().toNanos() / 1e9 ? Outcome.Late
                    : !right ? Outcome.Failed
                    : seconds > settings.slow().toNanos() / 1e9 ? Outcome.Slow : Outcome.Ok;
            record(outcome, seconds, start);
        } catch (CriClient.TimeoutException e) {
            outcome = Outcome.Abandoned;
            detail = e.getMessage();
            record(outcome, Double.NaN, start);
        } catch (IOException | RuntimeException e) {
            double seconds = (System.nanoTime() - t0) / 1e9;
            outcome = seconds >= settings.deadline().toNanos() / 1e9 ? Outcome.Late : Outcome.Failed;
            detail = e.toString();
            record(outcome, Double.NaN, start);
        }
        metrics.inc("execguard_canary_runs_total", "outcome", outcome.name());
        if (outcome != Outcome.Ok && outcome != Outcome.Slow) {
            LOG.info("node {}: exec canary {} after {} ms: {}", nodeName, outcome, (System.nanoTime() - t0) / 1_000_000,
                    detail);
        }
        return outcome;
    }

    private synchronized void record(Outcome outcome, double seconds, Instant start) {
        inFlightSince = null;
        lastOutcome = outcome;
        switch (outcome) {
            case Ok, Slow -> {
                stuckSince = null;
                lastStage = null;
                daemon = null;
                daemonCheckedAt = null;
                lastLatency = seconds;
                slowRuns = outcome == Outcome.Slow ? slowRuns + 1 : 0;
            }
            case Late, Abandoned -> {
                stuckSince = stuckSince == null ? start : stuckSince;
                slowRuns = 0;
                if (!Double.isNaN(seconds)) {
                    lastLatency = seconds;
                }
            }
            default -> {
                // Failed in time: says nothing about a hang either way
            }
        }
    }

    /** The state for this scan's detection. */
    public CanaryObservation observe() {
        Instant now = clock.instant();
        Instant inFlight;
        Instant stuck;
        ExecStage stage;
        int slow;
        double latency;
        CanaryObservation.DaemonCheck check;
        boolean overdue;
        synchronized (this) {
            inFlight = inFlightSince;
            stuck = stuckSince;
            stage = lastStage;
            slow = slowRuns;
            latency = lastLatency;
            overdue = inFlight != null && !now.isBefore(inFlight.plus(settings.deadline()));
            check = daemon;
            if (overdue && !daemonChecking && (daemonCheckedAt == null
                    || !now.isBefore(daemonCheckedAt.plus(settings.deadline())))) {
                daemonChecking = true;
                daemonCheckedAt = now;
                checker.start(this::checkDaemon);
            }
        }
        Instant since = overdue && (stuck == null || inFlight.isBefore(stuck)) ? inFlight : stuck;
        CanaryObservation.Task shim = null;
        CanaryObservation.Task task = null;
        if (overdue) {
            shim = task(target.shimPid()).orElse(null);
            task = canaryTask().orElse(null);
        }
        return new CanaryObservation(target.containerId(), target.shimPid(), shim, task,
                since == null ? null : Duration.between(since, now).toMillis() / 1000.0, overdue,
                settings.deadline().toMillis() / 1000.0, stage, slow, settings.slowRuns(),
                settings.slow().toMillis() / 1000.0, latency, overdue ? check : null);
    }

    /** CRI Version with a short wait, on its own thread: does the daemon answer while the exec is stuck? */
    private void checkDaemon() {
        long t0 = System.nanoTime();
        boolean answered;
        try {
            client.version(DAEMON_WAIT);
            answered = true;
        } catch (IOException | RuntimeException e) {
            answered = false;
        }
        CanaryObservation.DaemonCheck c = new CanaryObservation.DaemonCheck(answered, (System.nanoTime() - t0) / 1e9,
                DAEMON_WAIT.toMillis() / 1000.0);
        synchronized (this) {
            daemonChecking = false;
            if (daemonCheckedAt != null) { // not cleared by an answer meanwhile
                daemon = c;
            }
        }
    }

    /** The stage the scan found for the stuck run: counted once per stage, kept for after the run has ended. */
    public synchronized void stage(ExecStage stage) {
        if (stage != null && stage != lastStage) {
            metrics.inc("execguard_canary_stuck_total", "stage", stage.name());
            lastStage = stage;
        }
    }

    public synchronized Outcome lastOutcome() {
        return lastOutcome;
    }

    /** The canary's process among the shim's children (comm is the command's file name, cut at 15 bytes). */
    private Optional<CanaryObservation.Task> canaryTask() {
        if (target.shimPid() <= 0) {
            return Optional.empty();
        }
        String name = Path.of(settings.command().get(0)).getFileName().toString();
        String comm = name.length() > 15 ? name.substring(0, 15) : name;
        return ProcessHandle.of(target.shimPid()).stream().flatMap(ProcessHandle::children)
                .map(p -> task((int) p.pid())).flatMap(Optional::stream)
                .filter(t -> t.comm().equals(comm)).findFirst();
    }

    /** pid, comm, state and wchan from the host's /proc, or empty when gone. */
    Optional<CanaryObservation.Task> task(int pid) {
        if (pid <= 0) {
            return Optional.empty();
        }
        try {
            String stat = Files.readString(host.proc(pid + "/stat"));
            int open = stat.indexOf('(');
            int close = stat.lastIndexOf(')');
            if (open < 0 || close < open || close + 2 >= stat.length()) {
                return Optional.empty();
            }
            String wchan;
            try {
                wchan = Files.readString(host.proc(pid + "/wchan")).strip();
                wchan = wchan.isEmpty() || wchan.equals("0") ? null : wchan;
            } catch (IOException e) {
                wchan = null;
            }
            return Optional.of(new CanaryObservation.Task(pid, stat.substring(open + 1, close), stat.charAt(close + 2),
                    wchan));
        } catch (IOException e) {
            return Optional.empty();
        }
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
    }
}
