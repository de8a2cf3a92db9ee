package io.execguard.detect;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Time thresholds in seconds, by finding type, plus the ratio thresholds. Defaults follow the
 * kernel's hung-task timeout (120 s) and what an interactive exec tolerates.
 */
public record Thresholds(long stuckRuntimeInit, long unkillableTask, long pidNamespaceTeardown, long hungTask,
                         long leakedExecSession, double pidsRatio, double ptyRatio, long pipeUserPagesSoftMin) {

    public static final Thresholds DEFAULTS = new Thresholds(30, 10, 10, 120, 3600, 0.95, 0.90, 4096);

    /** Names accepted by {@code --threshold NAME=SECONDS}, with their defaults. */
    public static Map<String, Long> secondsByName(Thresholds t) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put(FindingType.StuckRuntimeInit.name(), t.stuckRuntimeInit);
        m.put(FindingType.UnkillableTask.name(), t.unkillableTask);
        m.put(FindingType.PidNamespaceTeardownStuck.name(), t.pidNamespaceTeardown);
        m.put(FindingType.HungTask.name(), t.hungTask);
        m.put(FindingType.LeakedExecSession.name(), t.leakedExecSession);
        return m;
    }

    /** Returns a copy with one named time threshold replaced. */
    public Thresholds with(String name, long seconds) {
        if (seconds < 0) {
            throw new IllegalArgumentException("threshold " + name + " must be >= 0 seconds, got " + seconds);
        }
        return switch (name) {
            case "StuckRuntimeInit" -> new Thresholds(seconds, unkillableTask, pidNamespaceTeardown, hungTask,
                    leakedExecSession, pidsRatio, ptyRatio, pipeUserPagesSoftMin);
            case "UnkillableTask" -> new Thresholds(stuckRuntimeInit, seconds, pidNamespaceTeardown, hungTask,
                    leakedExecSession, pidsRatio, ptyRatio, pipeUserPagesSoftMin);
            case "PidNamespaceTeardownStuck" -> new Thresholds(stuckRuntimeInit, unkillableTask, seconds, hungTask,
                    leakedExecSession, pidsRatio, ptyRatio, pipeUserPagesSoftMin);
            case "HungTask" -> new Thresholds(stuckRuntimeInit, unkillableTask, pidNamespaceTeardown, seconds,
                    leakedExecSession, pidsRatio, ptyRatio, pipeUserPagesSoftMin);
            case "LeakedExecSession" -> new Thresholds(stuckRuntimeInit, unkillableTask, pidNamespaceTeardown,
                    hungTask, seconds, pidsRatio, ptyRatio, pipeUserPagesSoftMin);
            default -> throw new IllegalArgumentException("unknown threshold '" + name + "'; known: "
                    + String.join(", ", secondsByName(this).keySet()));
        };
    }
}
