package io.execguard.controller;

import io.execguard.api.Action;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.execguard.detect.Cause;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/** Everything the decision depends on, as plain values (built by the reconciler from the API objects). */
public final class DecisionInput {
    private DecisionInput() {
    }

    /** The part of a finding the decision uses; {@code backend} identifies a shared filesystem, or null. */
    public record FindingView(Severity severity, Scope scope, Cause cause, String backend) {
    }

    /**
     * @param lastProbeTime null when the probe never reported
     * @param findings      the report's findings
     */
    public record Report(Instant lastProbeTime, List<FindingView> findings) {
        public boolean healthy() {
            return findings.isEmpty();
        }
    }

    /**
     * @param optOut labelled {@code execguard.io/remediation=disabled}; ownership of taint and cordon is
     *               {@link NodePlan}'s business, read from the Node itself
     */
    public record Node(String name, boolean optOut) {
    }

    /**
     * @param ladder       action per severity and scope
     * @param releaseAfter how long a node must stay healthy before execguard releases it
     * @param staleAfter   how old lastProbeTime may get before the report counts as stale
     * @param maxHeld      how many nodes execguard may hold (taint or cordon) at once
     * @param dryRun       compute and report, never touch Nodes
     * @param valid        false when a field of the stored policy cannot be read: no new hold, no release
     */
    public record Policy(Map<Severity, Map<Scope, Action>> ladder, Duration releaseAfter, Duration staleAfter,
                         int maxHeld, boolean dryRun, boolean valid) {

        public Policy(Map<Severity, Map<Scope, Action>> ladder, Duration releaseAfter, Duration staleAfter,
                      int maxHeld, boolean dryRun) {
            this(ladder, releaseAfter, staleAfter, maxHeld, dryRun, true);
        }

        public Action actionFor(Severity severity, Scope scope) {
            return ladder.getOrDefault(severity, Map.of()).getOrDefault(scope, Action.None);
        }
    }

    /**
     * What execguard decided for this node last time (from {@code status.remediation}).
     *
     * @param action       the action applied to the Node
     * @param since        when it was first applied
     * @param healthySince when the node's reports turned healthy, null while unhealthy
     */
    public record Prior(Action action, Instant since, Instant healthySince) {
        public static final Prior NONE = new Prior(Action.None, null, null);
    }

    /**
     * @param heldByUs         nodes other than this one that execguard holds now
     * @param sharedBackends   backends (cause + source) failing on two or more nodes: one incident each
     */
    public record Fleet(Set<String> heldByUs, Set<String> sharedBackends) {
    }
}
