package io.execguard.probe;

import java.time.Duration;
import java.util.Set;

import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.detect.FindingType;
import io.execguard.detect.Thresholds;

/**
 * The parts of the {@code ExecHealthPolicy} selecting this node that the probe applies: detector
 * thresholds, which types make the node Unhealthy (the rest Degraded), and when a terminating pod is overdue.
 */
public record ProbePolicy(Thresholds thresholds, Set<FindingType> unhealthyTypes, Duration podStuckTerminating) {

    public static ProbePolicy from(ExecHealthPolicySpec effective) {
        ExecHealthPolicySpec s = effective.effective();
        return new ProbePolicy(s.getThresholds().toDetectorThresholds(), s.unhealthyTypeSet(),
                Duration.ofSeconds(s.getThresholds().getPodStuckTerminatingSeconds()));
    }

    /** The documented defaults, as with no ExecHealthPolicy at all. */
    public static ProbePolicy defaults() {
        return from(ExecHealthPolicySpec.effective(null));
    }

    /** The defaults, with the probe's own POD_STUCK_TERMINATING. */
    public static ProbePolicy defaults(ProbeConfig config) {
        ProbePolicy d = defaults();
        return new ProbePolicy(d.thresholds(), d.unhealthyTypes(), config.podStuckTerminating());
    }
}
