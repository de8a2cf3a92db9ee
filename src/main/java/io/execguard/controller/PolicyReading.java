package io.execguard.controller;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import io.execguard.api.Action;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;
import io.execguard.probe.Durations;

/**
 * An effective {@link ExecHealthPolicySpec} turned into the decision's {@link DecisionInput.Policy} without
 * throwing: a {@code maxUnhealthy} or {@code releaseAfter} that cannot be read (stored before the CRD refused
 * it) makes the policy invalid, and the decision then starts no new hold and releases none until it is fixed.
 *
 * @param policy  what the decision sees ({@link DecisionInput.Policy#valid()} false when {@code invalid} is not empty)
 * @param invalid the fields that could not be read
 */
record PolicyReading(DecisionInput.Policy policy, List<InvalidField> invalid) {

    /**
     * @param spec           the effective spec (every field filled in)
     * @param managed        whether a policy selects the node (or none exists): unmanaged nodes get no actions
     * @param selected       how many nodes the policy selects (for a percentage cap)
     * @param probeHeartbeat the probes' heartbeat, to judge staleness
     */
    static PolicyReading of(ExecHealthPolicySpec spec, boolean managed, int selected, Duration probeHeartbeat) {
        List<InvalidField> invalid = new ArrayList<>();
        int maxHeld = maxHeld(spec, selected, invalid);
        Duration releaseAfter = managed ? releaseAfter(spec, invalid) : Duration.ZERO;
        Duration stale = probeHeartbeat.multipliedBy(spec.getStaleAfterHeartbeats());
        DecisionInput.Policy policy = new DecisionInput.Policy(ladder(spec, managed), releaseAfter, stale, maxHeld,
                Boolean.TRUE.equals(spec.getDryRun()), invalid.isEmpty());
        return new PolicyReading(policy, List.copyOf(invalid));
    }

    private static int maxHeld(ExecHealthPolicySpec spec, int selected, List<InvalidField> invalid) {
        try {
            return spec.maxUnhealthyNodes(Math.max(1, selected));
        } catch (IllegalArgumentException e) {
            invalid.add(new InvalidField("spec.maxUnhealthy", String.valueOf(spec.getMaxUnhealthy() == null ? null
                    : spec.getMaxUnhealthy().getValue()), e.getMessage()));
            return 0;
        }
    }

    private static Duration releaseAfter(ExecHealthPolicySpec spec, List<InvalidField> invalid) {
        try {
            return Durations.parse(spec.getReleaseAfter());
        } catch (IllegalArgumentException e) {
            invalid.add(new InvalidField("spec.releaseAfter", spec.getReleaseAfter(), e.getMessage()));
            return Duration.ZERO;
        }
    }

    private static Map<Severity, Map<Scope, Action>> ladder(ExecHealthPolicySpec spec, boolean managed) {
        Map<Severity, Map<Scope, Action>> ladder = new EnumMap<>(Severity.class);
        for (Severity s : Severity.values()) {
            Map<Scope, Action> row = new EnumMap<>(Scope.class);
            for (Scope sc : Scope.values()) {
                row.put(sc, managed ? spec.getActions().forFinding(s, sc) : Action.None);
            }
            ladder.put(s, row);
        }
        return ladder;
    }
}
