package io.execguard.controller;

import io.execguard.api.Action;
import io.execguard.api.RemediationStatus;

import java.time.Duration;
import java.time.Instant;

import io.execguard.controller.DecisionInput.FindingView;
import io.execguard.controller.DecisionInput.Fleet;
import io.execguard.controller.DecisionInput.Node;
import io.execguard.controller.DecisionInput.Policy;
import io.execguard.controller.DecisionInput.Prior;
import io.execguard.controller.DecisionInput.Report;
import io.execguard.detect.Scope;

/**
 * What a node deserves: a pure function of (report, node, policy, fleet, prior decision, clock).
 *
 * @param wanted        what the findings call for under the policy, before safety limits
 * @param action        what the Node should carry now (applied unless {@link #touchNode} is false)
 * @param reason        why, in a word or two (e.g. {@code UnkillableTask/FuseRequest})
 * @param suppressed    why less than {@code wanted} is applied: {@code maxUnhealthy} (also when the policy
 *                      cannot be read, see {@link Policy#valid()}), {@code optOut},
 *                      {@code dryRun}, {@code stale}, or null
 * @param condition     {@code True}, {@code False} or {@code Unknown} for the Node condition ExecHealthy
 * @param phaseOverride {@code Unknown} for stale reports, else null
 * @param since         when the current action began
 * @param healthySince  start of the current healthy stretch, null while unhealthy
 * @param touchNode     whether the reconciler may change the Node at all
 * @param incident      the shared backend this node's failure belongs to, or null
 */
public record Decision(Action wanted, Action action, String reason, String suppressed, String condition,
                       String phaseOverride, Instant since, Instant healthySince, boolean touchNode, String incident) {

    public static Decision decide(Report report, Node node, Policy policy, Fleet fleet, Prior prior, Instant now) {
        // 1. A silent probe: say so, change nothing, release nothing.
        if (report.lastProbeTime() == null
                || Duration.between(report.lastProbeTime(), now).compareTo(policy.staleAfter()) > 0) {
            return new Decision(prior.action(), prior.action(), "ProbeNotReporting", RemediationStatus.SUPPRESSED_STALE, "Unknown", "Unknown",
                    prior.since(), prior.healthySince(), false, null);
        }
        // 2. What the findings call for. Container-scope findings alone never cordon a node.
        Action wanted = Action.None;
        FindingView worst = null;
        String incident = null;
        for (FindingView f : report.findings()) {
            Action a = policy.actionFor(f.severity(), f.scope());
            if (f.scope() == Scope.Container && a.atLeast(Action.Cordon)) {
                a = Action.Taint;
            }
            a = f.scope() == Scope.Unknown && a.holdsNode() ? Action.Condition : a; // unknown scope never holds
            if (worst == null || a.compareTo(wanted) > 0) {
                wanted = Action.max(a, wanted);
                worst = f;
            }
            if (f.backend() != null && fleet.sharedBackends().contains(key(f))) {
                incident = key(f);
            }
        }
        String reason = worst == null ? "Healthy" : worst.cause().name();
        // 3. Healthy: keep what is applied until the node has been healthy for releaseAfter.
        if (report.healthy()) {
            Instant healthySince = prior.healthySince() != null ? prior.healthySince() : now;
            boolean hold = prior.action() != Action.None && (!policy.valid()
                    || Duration.between(healthySince, now).compareTo(policy.releaseAfter()) < 0);
            Action action = hold ? prior.action() : Action.None;
            return finish(wanted, action, hold ? "Recovering" : "Healthy", null, "True", hold ? prior.since() : null,
                    healthySince, node, policy, incident);
        }
        // 4. Safety cap: a new hold only while fewer than maxHeld nodes are held, and only under a policy
        //    that can be read (an unreadable cap is no cap to trust: what is held stays, nothing new).
        Action action = wanted;
        String suppressed = null;
        if (!policy.valid()) {
            action = underInvalidPolicy(wanted, prior.action());
            suppressed = action.compareTo(wanted) < 0 ? RemediationStatus.SUPPRESSED_MAX_UNHEALTHY : null;
        } else if (wanted.holdsNode() && !prior.action().holdsNode() && fleet.heldByUs().size() >= policy.maxHeld()) {
            action = Action.Condition;
            suppressed = RemediationStatus.SUPPRESSED_MAX_UNHEALTHY;
        }
        Instant since = prior.action() == action && prior.since() != null ? prior.since() : now;
        String condition = action.atLeast(Action.Condition) ? "False" : null;
        return finish(wanted, action, reason, suppressed, condition, since, null, node, policy, incident);
    }

    /** Under an unreadable policy a held node keeps its hold as it is; any other gets at most the condition. */
    static Action underInvalidPolicy(Action wanted, Action prior) {
        if (prior.holdsNode()) {
            return prior;
        }
        return wanted.holdsNode() ? Action.Condition : wanted;
    }

    private static Decision finish(Action wanted, Action action, String reason, String suppressed,
                                   String condition, Instant since, Instant healthySince, Node node, Policy policy,
                                   String incident) {
        if (node.optOut()) {
            return new Decision(wanted, action, reason, RemediationStatus.SUPPRESSED_OPT_OUT, condition, null, since, healthySince, false, incident);
        }
        if (policy.dryRun()) {
            return new Decision(wanted, action, reason, suppressed == null ? RemediationStatus.SUPPRESSED_DRY_RUN : suppressed, condition, null,
                    since, healthySince, false, incident);
        }
        return new Decision(wanted, action, reason, suppressed, condition, null, since, healthySince, true, incident);
    }

    /** {@code CephRequest@10.0.0.1:6789:/} — one incident per cause and backend. */
    public static String key(FindingView f) {
        return f.cause() + "@" + f.backend();
    }
}
