package io.execguard.probe;

import java.time.Duration;
import java.util.Set;

import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.NodeRemediation;
import io.execguard.detect.FindingType;
import io.execguard.detect.Thresholds;
import io.execguard.repair.RepairPolicy;

/**
 * The parts of the {@code ExecHealthPolicy} selecting this node that the probe applies: detector
 * thresholds, which types make the node Unhealthy (the rest Degraded), when a terminating pod is overdue, and
 * which node-local repairs it may make.
 */
public record ProbePolicy(Thresholds thresholds, Set<FindingType> unhealthyTypes, Set<FindingType> degradedTypes,
                          Duration podStuckTerminating, RepairPolicy repair, Duration canaryInterval) {

    /** The default canary interval ({@code canaryInterval} of the policy). */
    public static final Duration CANARY_INTERVAL = Durations.parse(io.execguard.api.PolicyDefaults.CANARY_INTERVAL);

    public ProbePolicy(Thresholds thresholds, Set<FindingType> unhealthyTypes, Set<FindingType> degradedTypes,
                       Duration podStuckTerminating, RepairPolicy repair) {
        this(thresholds, unhealthyTypes, degradedTypes, podStuckTerminating, repair, CANARY_INTERVAL);
    }

    public ProbePolicy(Thresholds thresholds, Set<FindingType> unhealthyTypes, Duration podStuckTerminating,
                       RepairPolicy repair) {
        this(thresholds, unhealthyTypes, complement(unhealthyTypes), podStuckTerminating, repair);
    }

    private static Set<FindingType> complement(Set<FindingType> types) {
        Set<FindingType> rest = java.util.EnumSet.allOf(FindingType.class);
        rest.removeAll(types);
        return rest;
    }

    public static ProbePolicy from(ExecHealthPolicySpec effective) {
        ExecHealthPolicySpec s = effective.effective();
        NodeRemediation r = s.getRemediation();
        RepairPolicy repair = new RepairPolicy(Boolean.TRUE.equals(r.getAbortStuckFuse()),
                Boolean.TRUE.equals(r.getKillLeakedExecSessions()), Durations.parse(r.getLeakedExecSessionTtl()),
                !Boolean.FALSE.equals(r.getDryRun()), RepairPolicy.HANG_UP_GRACE,
                r.getFuseTypesAllowed() == null ? Set.of() : Set.copyOf(r.getFuseTypesAllowed()),
                r.getFuseTypesDenied() == null ? RepairPolicy.DEFAULT_FUSE_TYPES_DENIED : Set.copyOf(r.getFuseTypesDenied()));
        Set<FindingType> degraded = java.util.EnumSet.noneOf(FindingType.class);
        degraded.addAll(s.getDegradedTypes());
        return new ProbePolicy(s.getThresholds().toDetectorThresholds(), s.unhealthyTypeSet(), degraded,
                Duration.ofSeconds(s.getThresholds().getPodStuckTerminatingSeconds()), repair,
                canaryInterval(s.getCanaryInterval()));
    }

    /** The documented defaults, as with no ExecHealthPolicy at all. */
    public static ProbePolicy defaults() {
        return from(ExecHealthPolicySpec.effective(null));
    }

    /** The defaults, with the probe's own POD_STUCK_TERMINATING. */
    public static ProbePolicy defaults(ProbeConfig config) {
        ProbePolicy d = defaults();
        return new ProbePolicy(d.thresholds(), d.unhealthyTypes(), d.degradedTypes(), config.podStuckTerminating(),
                d.repair(), d.canaryInterval());
    }

    /** The policy's canaryInterval; the default when it does not parse (the CRD's pattern keeps that rare). */
    private static Duration canaryInterval(String value) {
        try {
            return value == null ? CANARY_INTERVAL : Durations.parse(value);
        } catch (IllegalArgumentException e) {
            return CANARY_INTERVAL;
        }
    }
}
