package io.execguard.controller.decide;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.execguard.api.Action;
import io.execguard.detect.Cause;
import io.execguard.detect.FindingType;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/** Everything the decision depends on, as plain values (read once, at the boundary, from the API objects). */
public final class DecisionInput {
    private DecisionInput() {
    }

    /** The part of a finding the decision uses; {@code backend} identifies a shared filesystem, or null. */
    public record FindingView(FindingType type, Severity severity, Scope scope, Cause cause, String backend) {
        /** {@code CephRequest@ceph 10.0.0.1:6789:/}: one incident per cause and backend; null for local causes. */
        public String incidentKey() {
            return backend == null ? null : cause + "@" + backend;
        }
    }

    /**
     * @param lastProbeTime null when the probe never reported, or its report cannot be read
     * @param findings      the report's findings
     */
    public record Report(Instant lastProbeTime, List<FindingView> findings) {
        public static final Report UNKNOWN = new Report(null, List.of());
    }

    /**
     * @param name    the Node's name
     * @param optOut  labelled {@code execguard.io/remediation=disabled}
     * @param applied what execguard's marks on the Node amount to now (its annotations, condition, taint, cordon):
     *                the truth about what is held, whatever any report says
     */
    public record Node(String name, boolean optOut, Action applied) {
    }

    /**
     * @param key           the policy's name, or {@code ""} for the defaults
     * @param ladder        action per severity and scope
     * @param actedOn       finding types execguard acts on (the policy's unhealthy and degraded types); others
     *                      are reported only
     * @param releaseAfter  how long a node must not need its action before execguard steps down
     * @param staleAfter    how old lastProbeTime may get before the report counts as stale
     * @param dryRun        compute and report, never touch Nodes
     * @param valid         false when a field of the stored policy cannot be read: nothing new, nothing released
     */
    public record Policy(String key, Map<Severity, Map<Scope, Action>> ladder, Set<FindingType> actedOn,
                         Duration releaseAfter, Duration staleAfter, boolean dryRun, boolean valid) {

        public Action actionFor(Severity severity, Scope scope) {
            return ladder.getOrDefault(severity, Map.of()).getOrDefault(scope, Action.None);
        }
    }

    /** The answer of the hold ledger when a node would be newly marked unhealthy. */
    public enum Slot {
        /** Not asked yet: the decision says whether it needs one ({@link Decision#needsSlot}). */
        NotAsked,
        /** Reserved for this node: the cap and the rate limit allow it. */
        Granted,
        /** The policy's maxUnhealthy is reached. */
        Full,
        /** The policy's newHoldsPerMinute is used up. */
        RateLimited
    }

    /**
     * @param incidents incident keys (cause@backend) failing on at least the policy's incidentNodes nodes
     * @param storm     more of the policy's nodes are failing than its stormGuard.maxFailing allows
     * @param slot      the ledger's answer for a new mark
     */
    public record Fleet(Set<String> incidents, boolean storm, Slot slot) {
        public static final Fleet CALM = new Fleet(Set.of(), false, Slot.NotAsked);

        public Fleet withSlot(Slot s) {
            return new Fleet(incidents, storm, s);
        }
    }

    /**
     * What execguard recorded of its last decision ({@code status.remediation}, which only the operator may write):
     * timing only — what is applied comes from the Node.
     *
     * @param recorded     the action last recorded (in dry run: what would have been applied)
     * @param since        when it began, or null
     * @param healthySince when the node stopped needing it, null while it is needed
     */
    public record Prior(Action recorded, Instant since, Instant healthySince) {
        public static final Prior NONE = new Prior(Action.None, null, null);
    }
}
