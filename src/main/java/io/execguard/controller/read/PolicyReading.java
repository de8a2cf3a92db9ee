package io.execguard.controller.read;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.execguard.api.Action;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.StormGuard;
import io.execguard.controller.decide.DecisionInput;
import io.execguard.detect.FindingType;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;
import io.execguard.probe.Durations;

/**
 * An effective {@link ExecHealthPolicySpec} read into the decision's values without throwing: a field that
 * cannot be read (stored before the CRD refused it) makes the policy invalid — no new mark, nothing released —
 * and its limits zero.
 *
 * @param policy  what the decision sees ({@link DecisionInput.Policy#valid()} false when {@code invalid} is not empty)
 * @param limits  the fleet-wide limits for the policy's nodes
 * @param invalid the fields that could not be read
 */
public record PolicyReading(DecisionInput.Policy policy, Limits limits, List<InvalidField> invalid) {

    /**
     * @param maxMarked         maxUnhealthy as a node count for this many selected nodes
     * @param maxFailing        stormGuard.maxFailing as a node count
     * @param incidentNodes     stormGuard.incidentNodes
     * @param newHoldsPerMinute stormGuard.newHoldsPerMinute
     */
    public record Limits(int maxMarked, int maxFailing, int incidentNodes, int newHoldsPerMinute) {
        public static final Limits NONE = new Limits(0, 0, Integer.MAX_VALUE, 0);
    }

    /**
     * @param key            the policy's name, "" for the defaults
     * @param spec           the effective spec (every field filled in)
     * @param selected       how many nodes the policy applies to (for percentages)
     * @param probeHeartbeat the probes' heartbeat, to judge staleness
     */
    public static PolicyReading of(String key, ExecHealthPolicySpec spec, int selected, Duration probeHeartbeat) {
        List<InvalidField> invalid = new ArrayList<>();
        int of = Math.max(1, selected);
        StormGuard g = spec.getStormGuard();
        int maxMarked = count(invalid, "spec.maxUnhealthy", text(spec.getMaxUnhealthy()),
                () -> spec.maxUnhealthyNodes(of));
        int maxFailing = count(invalid, "spec.stormGuard.maxFailing", text(g.getMaxFailing()),
                () -> g.maxFailingNodes(of));
        Duration releaseAfter = Duration.ZERO;
        try {
            releaseAfter = Durations.parse(spec.getReleaseAfter());
        } catch (IllegalArgumentException e) {
            invalid.add(new InvalidField("spec.releaseAfter", spec.getReleaseAfter(), e.getMessage()));
        }
        Set<FindingType> actedOn = EnumSet.noneOf(FindingType.class);
        actedOn.addAll(spec.getUnhealthyTypes());
        actedOn.addAll(spec.getDegradedTypes());
        boolean valid = invalid.isEmpty();
        DecisionInput.Policy policy = new DecisionInput.Policy(key, ladder(spec), actedOn, releaseAfter,
                probeHeartbeat.multipliedBy(spec.getStaleAfterHeartbeats()), Boolean.TRUE.equals(spec.getDryRun()),
                valid);
        Limits limits = valid ? new Limits(maxMarked, maxFailing, spec.getStormGuard().getIncidentNodes(),
                spec.getStormGuard().getNewHoldsPerMinute()) : Limits.NONE;
        return new PolicyReading(policy, limits, List.copyOf(invalid));
    }

    private static String text(io.fabric8.kubernetes.api.model.IntOrString v) {
        return v == null ? null : v.getIntVal() != null ? String.valueOf(v.getIntVal()) : v.getStrVal();
    }

    private static int count(List<InvalidField> invalid, String field, String value,
                             java.util.function.IntSupplier read) {
        try {
            return read.getAsInt();
        } catch (IllegalArgumentException e) {
            invalid.add(new InvalidField(field, value, e.getMessage()));
            return 0;
        }
    }

    private static Map<Severity, Map<Scope, Action>> ladder(ExecHealthPolicySpec spec) {
        Map<Severity, Map<Scope, Action>> ladder = new EnumMap<>(Severity.class);
        for (Severity s : Severity.values()) {
            Map<Scope, Action> row = new EnumMap<>(Scope.class);
            for (Scope sc : Scope.values()) {
                row.put(sc, spec.getActions().forFinding(s, sc));
            }
            ladder.put(s, row);
        }
        return ladder;
    }
}
