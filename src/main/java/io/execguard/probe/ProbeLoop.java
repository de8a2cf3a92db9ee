package io.execguard.probe;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.execguard.detect.CanaryObservation;
import io.execguard.detect.CauseRules;
import io.execguard.detect.DetectorSuite;
import io.execguard.detect.ExecPathRules;
import io.execguard.detect.ExecStage;
import io.execguard.detect.FindingType;
import io.execguard.detect.Finding;
import io.execguard.detect.RuntimeCallObservation;
import io.execguard.detect.RuntimeCallRules;
import io.execguard.host.DeadlineReader;
import io.execguard.host.HostSnapshot;
import io.execguard.probe.canary.ExecCanary;
import io.execguard.probe.canary.RuntimeSweep;
import io.execguard.repair.Repair;
import io.execguard.repair.Repairer;

/**
 * One probe iteration: read the host (a {@code HostReader::read} in production), detect, add overdue pod deletions, track across scans,
 * attribute to pods, and hand the report to the publisher. Never touches the API server: the pod
 * index comes from the informer's cache and the report goes to a non-blocking sink.
 */
public final class ProbeLoop {

    private static final Logger LOG = LoggerFactory.getLogger(ProbeLoop.class);

    private final ProbeConfig config;
    private final Supplier<HostSnapshot> host;
    private final FindingTracker tracker;
    private final Supplier<PodIndex> pods;
    private final Supplier<ProbePolicy> policy;
    private final Consumer<ProbeReport> sink;
    private final Repairer repairer;
    private final Metrics metrics;
    private final Clock clock;
    private final ExecCanary canary;
    private final RuntimeSweep sweep;
    private final ExecPathRules execPath = new ExecPathRules(CauseRules.defaults());
    private final RuntimeCallRules runtimeCalls = new RuntimeCallRules();
    private final Instant started;
    private volatile Instant lastScan;
    private volatile String blockedReads = "no scan completed yet";
    private long scans;

    public ProbeLoop(ProbeConfig config, Supplier<HostSnapshot> host, FindingTracker tracker,
                     Supplier<PodIndex> pods, Supplier<ProbePolicy> policy, Consumer<ProbeReport> sink,
                     Repairer repairer, Metrics metrics, Clock clock) {
        this(config, host, tracker, pods, policy, sink, repairer, metrics, clock, null);
    }

    /** With the exec canary whose state each scan turns into findings (null: none). */
    public ProbeLoop(ProbeConfig config, Supplier<HostSnapshot> host, FindingTracker tracker,
                     Supplier<PodIndex> pods, Supplier<ProbePolicy> policy, Consumer<ProbeReport> sink,
                     Repairer repairer, Metrics metrics, Clock clock, ExecCanary canary) {
        this(config, host, tracker, pods, policy, sink, repairer, metrics, clock, canary, null);
    }

    /** With the exec canary and the per-container runtime sweep (either null: none). */
    public ProbeLoop(ProbeConfig config, Supplier<HostSnapshot> host, FindingTracker tracker,
                     Supplier<PodIndex> pods, Supplier<ProbePolicy> policy, Consumer<ProbeReport> sink,
                     Repairer repairer, Metrics metrics, Clock clock, ExecCanary canary, RuntimeSweep sweep) {
        this.canary = canary;
        this.sweep = sweep;
        this.config = config;
        this.host = host;
        this.tracker = tracker;
        this.pods = pods;
        this.policy = policy;
        this.sink = sink;
        this.repairer = repairer;
        this.metrics = metrics;
        this.clock = clock;
        this.started = clock.instant();
        register(metrics);
    }

    static void register(Metrics m) {
        m.gauge("execguard_scan_duration_seconds", "Duration of the last host scan.")
                .gauge("execguard_tasks_scanned", "Tasks (threads) whose stat the last scan read.")
                .gauge("execguard_findings", "Current findings by type, cause and severity.")
                .counter("execguard_scans_total", "Scans completed.")
                .counter("execguard_scan_errors_total", "Scans that failed.")
                .counter("execguard_repairs_total", "Node-local repairs, by action and result (Done, DryRun, Failed).")
                .gauge("execguard_blocked_reads", "Deadline reads (cgroup, mountinfo, cmdline, files, terminal) "
                        + "abandoned and still blocked in the kernel at the end of the last scan, by kind.");
    }

    /** Runs one scan; never throws (a failed scan is logged and counted). */
    public ProbeReport runOnce() {
        try {
            Instant start = clock.instant();
            ProbePolicy p = policy.get();
            HostSnapshot snapshot = host.get();
            DetectorSuite detectors = DetectorSuite.standard(FindingTracker.detectorThresholds(p.thresholds()));
            List<Finding> raw = new ArrayList<>(detectors.detect(snapshot));
            PodIndex index = pods.get();
            raw.addAll(index.stuckTerminating(start, p.podStuckTerminating(), raw));
            CanaryObservation observed = canary == null ? null : canary.observe();
            if (observed != null) {
                raw.addAll(execPath.findings(observed, snapshot, List.copyOf(raw)));
            }
            RuntimeCallObservation calls = sweep == null ? null : sweep.observe();
            if (calls != null) {
                raw.addAll(runtimeCalls.findings(calls, snapshot));
            }
            List<TrackedFinding> tracked = linkCanary(tracker.update(raw, snapshot, start, p.thresholds()), observed);
            Map<String, Finding> current = new LinkedHashMap<>();
            tracked.forEach(t -> current.put(t.id(), t.finding()));
            for (Repair r : repairer.run(current, snapshot, p.repair(), start)) {
                metrics.inc("execguard_repairs_total", "action", r.action().kind().name(), "result", r.result().name());
            }
            long millis = Duration.between(start, clock.instant()).toMillis();
            ProbeReport report = ProbeReport.build(tracked, index, snapshot.host(), p.unhealthyTypes(), p.degradedTypes(),
                    config.maxFindings(), millis, snapshot.tasksScanned()).of(++scans, repairer.history());
            recordMetrics(report, tracked, millis);
            recordBlockedReads(snapshot.blockedReads());
            for (String w : snapshot.warnings()) {
                LOG.debug("node {}: {}", config.nodeName(), w);
            }
            lastScan = clock.instant();
            sink.accept(report);
            return report;
        } catch (RuntimeException e) {
            metrics.inc("execguard_scan_errors_total");
            LOG.warn("node {}: scan of {} failed: {}", config.nodeName(), config.hostRoot(), e.toString());
            return null;
        }
    }

    /**
     * Links an ExecPathStuck at runc init to the StuckRuntimeInit of the canary's container (by its tracked id), and
     * hands the stage back to the canary.
     */
    private List<TrackedFinding> linkCanary(List<TrackedFinding> tracked, CanaryObservation observed) {
        if (observed == null) {
            return tracked;
        }
        String runtimeInit = null;
        for (TrackedFinding t : tracked) {
            if (t.finding().type() == FindingType.StuckRuntimeInit
                    && observed.containerId().equals(t.finding().containerId())) {
                runtimeInit = t.id();
            }
        }
        List<TrackedFinding> out = new ArrayList<>(tracked.size());
        for (TrackedFinding t : tracked) {
            Finding f = t.finding();
            if (f.type() == FindingType.ExecPathStuck) {
                canary.stage(f.stage());
                if (runtimeInit != null && f.stage() == ExecStage.RuncInit) {
                    t = new TrackedFinding(t.id(), f.withRelatedFinding(runtimeInit), t.firstSeen());
                }
            }
            out.add(t);
        }
        return out;
    }

    private void recordMetrics(ProbeReport report, List<TrackedFinding> tracked, long millis) {
        metrics.set("execguard_scan_duration_seconds", millis / 1000.0);
        metrics.set("execguard_tasks_scanned", report.tasksScanned());
        metrics.inc("execguard_scans_total");
        Map<String, Double> series = new HashMap<>();
        for (TrackedFinding t : tracked) {
            Finding f = t.finding();
            series.merge(Metrics.labelString("type", f.type().name(), "cause", f.cause().name(), "severity",
                    f.severity().name()), 1.0, Double::sum);
        }
        metrics.replace("execguard_findings", series);
    }

    private void recordBlockedReads(Map<DeadlineReader.Kind, Integer> blocked) {
        Map<String, Double> series = new HashMap<>();
        StringBuilder text = new StringBuilder();
        int total = 0;
        for (DeadlineReader.Kind k : DeadlineReader.Kind.values()) {
            int n = blocked.getOrDefault(k, 0);
            String kind = k.name().toLowerCase(java.util.Locale.ROOT);
            series.put(Metrics.labelString("kind", kind), (double) n);
            if (n > 0) {
                text.append(total == 0 ? "" : ", ").append(kind).append(' ').append(n);
            }
            total += n;
        }
        metrics.replace("execguard_blocked_reads", series);
        blockedReads = total == 0 ? "no deadline read blocked"
                : total + " deadline read" + (total == 1 ? "" : "s") + " blocked in the kernel (" + text + ")";
    }

    /**
     * What {@code /healthz} says besides progress: how many deadline reads are blocked in the kernel, by
     * kind. Blocked reads do not make the probe unhealthy (a restart would not unblock the tasks).
     */
    public String healthDetail() {
        return blockedReads;
    }

    /** Healthy while scans keep completing: the last one within three intervals. */
    public boolean healthy() {
        Instant last = lastScan == null ? started : lastScan;
        return Duration.between(last, clock.instant()).compareTo(config.scanInterval().multipliedBy(3)
                .plusSeconds(30)) < 0;
    }

    public boolean ready() {
        return lastScan != null;
    }
}
