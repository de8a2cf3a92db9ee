package io.execguard.probe;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.execguard.detect.DetectorSuite;
import io.execguard.detect.Finding;
import io.execguard.host.HostReader;
import io.execguard.host.HostSnapshot;

/**
 * One scan: read the host, run the detectors, then (if a confirmation window is set) re-read every
 * task a finding names and keep the finding only if the task is the same one (same start time), still
 * in the same state, and has not been scheduled in between (context switch counters unchanged where
 * the kernel exposes them). A task caught mid-I/O is not reported.
 */
public final class Scanner {

    /** Sleeps for the confirmation window; injected so tests need not wait. */
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private static final Logger LOG = LoggerFactory.getLogger(Scanner.class);

    private final HostReader reader;
    private final DetectorSuite detectors;
    private final Clock clock;
    private final Sleeper sleeper;

    public Scanner(HostReader reader, DetectorSuite detectors, Clock clock, Sleeper sleeper) {
        this.reader = reader;
        this.detectors = detectors;
        this.clock = clock;
        this.sleeper = sleeper;
    }

    public ScanReport scan(Duration confirm) throws InterruptedException {
        long start = clock.millis();
        HostSnapshot snapshot = reader.read();
        List<Finding> findings = detectors.detect(snapshot);
        long duration = clock.millis() - start;
        if (!confirm.isZero() && findings.stream().anyMatch(f -> f.pid() != null)) {
            List<HostReader.Recheck> before = new ArrayList<>();
            for (Finding f : findings) {
                before.add(f.pid() == null ? null : reader.recheck(f.pid(), tidOf(f)));
            }
            sleeper.sleep(confirm);
            long again = clock.millis();
            List<Finding> kept = new ArrayList<>();
            for (int i = 0; i < findings.size(); i++) {
                Finding f = findings.get(i);
                if (f.pid() == null || stillStuck(before.get(i), reader.recheck(f.pid(), tidOf(f)))) {
                    kept.add(f);
                } else {
                    LOG.debug("{} of pid {} did not persist through the {} confirmation window; dropped",
                            f.type(), f.pid(), confirm);
                }
            }
            findings = List.copyOf(kept);
            duration += clock.millis() - again;
        }
        return new ScanReport(snapshot.host(), snapshot.tasksScanned(), duration, findings, snapshot.warnings());
    }

    private static int tidOf(Finding f) {
        return f.tid() != null ? f.tid() : f.pid();
    }

    static boolean stillStuck(HostReader.Recheck before, HostReader.Recheck after) {
        if (before == null || after == null) {
            return false;
        }
        if (before.startTime() != after.startTime() || before.state() != after.state()) {
            return false;
        }
        return before.contextSwitches() < 0 || before.contextSwitches() == after.contextSwitches();
    }
}
