package io.execguard.probe;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.execguard.repair.Repair;

/**
 * Publishes the latest {@link ProbeReport}: writes the status only when its content changed
 * ({@link ProbeReport#fingerprint()}) or the heartbeat is due, so an unchanged node costs one write
 * per heartbeat. Emits an Event when a Critical finding appears or clears, once per transition, and one
 * for every node-local repair. When the API fails it backs off (1 s doubling to 60 s) and then publishes
 * whatever is latest by then: the scan loop only ever hands reports over ({@link #accept}) and never waits.
 */
public final class ReportPublisher implements Consumer<ProbeReport> {

    private static final Logger LOG = LoggerFactory.getLogger(ReportPublisher.class);
    private static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    private final StatusWriter writer;
    private final Duration heartbeat;
    private final String nodeName;
    private final Metrics metrics;
    private final Clock clock;
    private final AtomicReference<ProbeReport> latest = new AtomicReference<>();
    private final java.util.concurrent.Semaphore wake = new java.util.concurrent.Semaphore(0);

    private String lastFingerprint;
    private Instant lastWrite;
    private Map<String, ProbeReport.Item> lastCritical = new HashMap<>();
    private long lastRepairEvented;
    private Duration backoff = Duration.ZERO;
    private Instant nextAttempt = Instant.MIN;

    public ReportPublisher(StatusWriter writer, Duration heartbeat, String nodeName, Metrics metrics, Clock clock) {
        this.writer = writer;
        this.heartbeat = heartbeat;
        this.nodeName = nodeName;
        this.metrics = metrics;
        this.clock = clock;
        metrics.counter("execguard_api_writes_total", "Status writes to the API server, by reason.")
                .counter("execguard_api_errors_total", "Failed API calls.")
                .counter("execguard_events_total", "Events emitted for Critical findings, by transition.");
    }

    @Override
    public void accept(ProbeReport report) {
        latest.set(report);
        wake.release();
    }

    /**
     * Publishes if something is due. Returns true when the API is in a good state (nothing to do or
     * the write succeeded), false when it failed and a retry is scheduled.
     */
    public synchronized boolean publishOnce() {
        ProbeReport r = latest.get();
        Instant now = clock.instant();
        if (r == null || now.isBefore(nextAttempt)) {
            return r == null || backoff.isZero();
        }
        String fp = r.fingerprint();
        boolean changed = !fp.equals(lastFingerprint);
        boolean heartbeatDue = lastWrite == null || !now.isBefore(lastWrite.plus(heartbeat));
        try {
            if (changed || heartbeatDue) {
                writer.write(r, now);
                metrics.inc("execguard_api_writes_total", "reason", changed ? "changed" : "heartbeat");
                lastFingerprint = fp;
                lastWrite = now;
            }
            emitEvents(r, now);
            if (!backoff.isZero()) {
                LOG.info("node {}: API reachable again; status caught up", nodeName);
            }
            backoff = Duration.ZERO;
            nextAttempt = Instant.MIN;
            return true;
        } catch (RuntimeException e) {
            metrics.inc("execguard_api_errors_total");
            backoff = backoff.isZero() ? MIN_BACKOFF : min(backoff.multipliedBy(2), MAX_BACKOFF);
            nextAttempt = now.plus(backoff);
            LOG.warn("node {}: publishing status failed ({}); retrying in {}s with the latest report", nodeName,
                    e.toString(), backoff.toSeconds());
            return false;
        }
    }

    private void emitEvents(ProbeReport r, Instant now) {
        Map<String, ProbeReport.Item> critical = new HashMap<>();
        for (ProbeReport.Item i : r.findings()) {
            if (r.criticalIds().contains(i.tracked().id())) {
                critical.put(i.tracked().id(), i);
            }
        }
        Set<String> appeared = new TreeSet<>(critical.keySet());
        appeared.removeAll(lastCritical.keySet());
        Set<String> cleared = new TreeSet<>(lastCritical.keySet());
        cleared.removeAll(critical.keySet());
        for (String id : appeared) {
            writer.event(critical.get(id), true, now);
            metrics.inc("execguard_events_total", "transition", "appeared");
        }
        for (String id : cleared) {
            writer.event(lastCritical.get(id), false, now);
            metrics.inc("execguard_events_total", "transition", "cleared");
        }
        lastCritical = critical;
        List<Repair> fresh = new ArrayList<>(r.repairs().stream().filter(x -> x.seq() > lastRepairEvented).toList());
        fresh.sort(Comparator.comparingLong(Repair::seq));
        for (Repair x : fresh) {
            writer.repairEvent(x);
            lastRepairEvented = x.seq();
            metrics.inc("execguard_events_total", "transition", "repair");
        }
    }

    /** Runs until interrupted: publishes on every new report, heartbeat, or retry deadline. */
    public void runLoop() {
        while (!Thread.currentThread().isInterrupted()) {
            publishOnce();
            try {
                if (wake.tryAcquire(Math.max(100, Math.min(heartbeat.toMillis(), waitMillis())),
                        java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    wake.drainPermits();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private synchronized long waitMillis() {
        return nextAttempt.equals(Instant.MIN) ? heartbeat.toMillis()
                : Math.max(0, Duration.between(clock.instant(), nextAttempt).toMillis());
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
