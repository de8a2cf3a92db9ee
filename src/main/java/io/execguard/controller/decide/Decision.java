package io.execguard.controller.decide;

import java.time.Duration;
import java.time.Instant;

import io.execguard.api.Action;
import io.execguard.api.Phase;
import io.execguard.api.Suppression;
import io.execguard.controller.decide.DecisionInput.FindingView;
import io.execguard.controller.decide.DecisionInput.Fleet;
import io.execguard.controller.decide.DecisionInput.Node;
import io.execguard.controller.decide.DecisionInput.Policy;
import io.execguard.controller.decide.DecisionInput.Prior;
import io.execguard.controller.decide.DecisionInput.Report;
import io.execguard.controller.decide.DecisionInput.Slot;
import io.execguard.detect.Scope;

/**
 * What a node deserves: a pure function of (report, node, policy, fleet, prior, clock). The rules, in order
 * (docs/ARCHITECTURE.md has them as a table):
 * <ol>
 *   <li>A stale or unreadable report changes nothing and releases nothing.</li>
 *   <li>An opted-out node keeps what it has; nothing new.</li>
 *   <li>Wanted: the strongest ladder action over the findings of acted-on types; a container finding holds at
 *       most with the taint, a finding of unknown scope at most with the condition.</li>
 *   <li>Less wanted than applied: keep it until the node has not needed it for releaseAfter (never under an
 *       unreadable policy), then step down.</li>
 *   <li>More wanted than applied: a new condition, taint or cordon is refused under an unreadable policy, in an
 *       incident or a storm; a new mark needs a slot of the hold ledger (cap, rate limit). Refused, the node keeps
 *       what it has and gets nothing new, not even the annotation: past a safety rule execguard writes only the
 *       report (its {@code suppressed}) — in a Ceph outage, one write per failing node, not two.</li>
 *   <li>Dry run: all of that is computed and reported, nothing is touched.</li>
 * </ol>
 *
 * @param wanted        what the findings call for under the policy, before safety rules
 * @param action        what the Node should carry now
 * @param reason        why, in a word (the worst finding's cause, Healthy, Recovering, ProbeNotReporting)
 * @param suppressed    the safety rule that applied less than wanted, or null
 * @param phaseOverride {@link Phase#Unknown} for stale reports, else null
 * @param since         when the current action began
 * @param healthySince  since when the node has not needed its action, null while it does
 * @param touchNode     whether the Node may be changed (false: dry run, opt-out, stale)
 * @param incident      the incident (cause@backend) this node's failure belongs to, or null
 * @param needsSlot     the action newly marks the node unhealthy: the ledger must grant a slot first
 */
public record Decision(Action wanted, Action action, String reason, Suppression suppressed, Phase phaseOverride,
                       Instant since, Instant healthySince, boolean touchNode, String incident, boolean needsSlot) {

    public static Decision decide(Report report, Node node, Policy policy, Fleet fleet, Prior prior, Instant now) {
        Action applied = node.applied();
        // 1. A silent probe: say so, change nothing, release nothing.
        if (stale(report, policy, now)) {
            return new Decision(applied, applied, "ProbeNotReporting", Suppression.Stale, Phase.Unknown,
                    prior.since(), prior.healthySince(), false, null, false);
        }
        // 3. What the findings call for.
        Want want = want(report, policy, fleet.incidents());
        Action wanted = want.action();
        String incident = want.incident();
        String reason = want.worst() == null ? "Healthy" : want.worst().cause().name();
        // 2. Opted out: hands off.
        if (node.optOut()) {
            return new Decision(wanted, applied, reason, wanted == applied ? null : Suppression.OptOut, null,
                    since(prior, applied, now), null, false, incident, false);
        }
        Action action = wanted;
        Suppression suppressed = null;
        Instant healthySince = null;
        if (wanted.compareTo(applied) < 0) {
            // 4. Step down only after releaseAfter without need.
            healthySince = prior.healthySince() != null ? prior.healthySince() : now;
            boolean keep = !policy.valid() || Duration.between(healthySince, now).compareTo(policy.releaseAfter()) < 0;
            if (keep) {
                action = applied;
                reason = "Recovering";
                suppressed = policy.valid() ? null : Suppression.InvalidPolicy;
            } else {
                healthySince = null;
            }
        } else if (wanted.compareTo(applied) > 0) {
            // 5. A stronger mark: only what the safety rules allow; refused, nothing new at all.
            Action allowed = applied;
            boolean newMark = wanted.marksUnhealthy() && !applied.marksUnhealthy();
            boolean newHold = wanted.holdsNode() && !applied.holdsNode();
            if (!policy.valid() && (newMark || newHold)) {
                action = allowed;
                suppressed = Suppression.InvalidPolicy;
            } else if ((incident != null || fleet.storm()) && (newMark || newHold)) {
                action = allowed;
                suppressed = Suppression.Incident;
            } else if (newMark && fleet.slot() == Slot.Full) {
                action = allowed;
                suppressed = Suppression.MaxUnhealthy;
            } else if (newMark && fleet.slot() == Slot.RateLimited) {
                action = allowed;
                suppressed = Suppression.RateLimit;
            }
        }
        boolean needsSlot = action.marksUnhealthy() && !applied.marksUnhealthy();
        if (policy.dryRun()) {
            suppressed = suppressed == null && action != applied ? Suppression.DryRun : suppressed;
        }
        return new Decision(wanted, action, reason, suppressed, null, since(prior, action, now), healthySince,
                !policy.dryRun(), incident, needsSlot);
    }

    /** Whether the report is too old (or unreadable) to act on. */
    public static boolean stale(Report report, Policy policy, Instant now) {
        return report.lastProbeTime() == null
                || Duration.between(report.lastProbeTime(), now).compareTo(policy.staleAfter()) > 0;
    }

    /**
     * What the findings of a report call for under a policy, before any safety rule.
     *
     * @param action   the strongest ladder action over the findings of acted-on types
     * @param worst    the finding that called for it, or null
     * @param incident the incident among {@code incidents} that a finding calling for a mark belongs to, or null
     */
    public record Want(Action action, FindingView worst, String incident) {
    }

    public static Want want(Report report, Policy policy, java.util.Set<String> incidents) {
        Action wanted = Action.None;
        FindingView worst = null;
        String incident = null;
        for (FindingView f : report.findings()) {
            if (!policy.actedOn().contains(f.type())) {
                continue;
            }
            Action a = policy.actionFor(f.severity(), f.scope());
            if (f.scope() == Scope.Container) {
                a = Action.min(a, Action.Taint); // a container's problem never cordons its node
            } else if (f.scope() == Scope.Unknown) {
                a = Action.min(a, Action.Condition); // missing evidence never holds a node
            }
            if (worst == null || a.compareTo(wanted) > 0) {
                wanted = Action.max(a, wanted);
                worst = f;
            }
            if (a.marksUnhealthy() && f.incidentKey() != null && incidents.contains(f.incidentKey())) {
                incident = f.incidentKey();
            }
        }
        return new Want(wanted, worst, incident);
    }

    /** The start of the current action: kept while it stays what was recorded, now when it changes; none for None. */
    private static Instant since(Prior prior, Action action, Instant now) {
        if (action == Action.None) {
            return null;
        }
        return action == prior.recorded() && prior.since() != null ? prior.since() : now;
    }
}
