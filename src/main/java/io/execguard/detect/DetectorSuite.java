package io.execguard.detect;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import io.execguard.host.HostSnapshot;

/**
 * Runs every detector in order. {@link HungTaskDetector} runs after the task detectors so it only
 * reports what they did not explain; {@link PipeBufferDetector} and {@link PtyExhaustionDetector}
 * run last so they can cite the stuck writers and leaked sessions found before them.
 */
public final class DetectorSuite {

    private final List<Detector> detectors;

    public DetectorSuite(List<Detector> detectors) {
        this.detectors = List.copyOf(detectors);
    }

    public static DetectorSuite standard(Thresholds t) {
        CauseRules rules = CauseRules.defaults();
        return new DetectorSuite(List.of(
                new StuckRuntimeInitDetector(t, rules),
                new PidNamespaceTeardownDetector(t, rules),
                new UnkillableTaskDetector(t, rules),
                new PidsLimitDetector(t),
                new LeakedExecSessionDetector(t),
                new HungTaskDetector(t, rules),
                new PtyExhaustionDetector(t),
                new PipeBufferDetector(t)));
    }

    /** Findings, most severe first, then by type and pid. */
    public List<Finding> detect(HostSnapshot snapshot) {
        List<Finding> all = new ArrayList<>();
        for (Detector d : detectors) {
            all.addAll(d.detect(snapshot, List.copyOf(all)));
        }
        all.sort(ORDER);
        return List.copyOf(all);
    }

    public static final Comparator<Finding> ORDER = Comparator
            .comparing(Finding::severity, Comparator.reverseOrder())
            .thenComparing(Finding::type)
            .thenComparing(f -> f.pid() == null ? -1 : f.pid())
            .thenComparing(f -> f.cgroup() == null ? "" : f.cgroup());
}
