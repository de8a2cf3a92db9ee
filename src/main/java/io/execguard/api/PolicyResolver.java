package io.execguard.api;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Which {@link ExecHealthPolicy} applies to a node: the one rule the probe and the operator share. Of the
 * policies whose {@code nodeSelector} selects the node's labels, the first by name applies; the others are
 * overlapping (reported on their status, never applied to that node). A node no policy selects gets the
 * documented defaults, exactly as if there were no policy at all.
 */
public final class PolicyResolver {

    /** The key of the defaults, where a per-policy value (held count, cap) needs a name. */
    public static final String DEFAULTS = "";

    private final List<ExecHealthPolicy> byName;
    private final List<ExecHealthPolicySpec> specs;

    /**
     * @param policies the policies as stored; those being deleted are ignored
     */
    public PolicyResolver(Collection<ExecHealthPolicy> policies) {
        List<ExecHealthPolicy> live = new ArrayList<>();
        for (ExecHealthPolicy p : policies) {
            if (p.getMetadata().getDeletionTimestamp() == null) {
                live.add(p);
            }
        }
        live.sort(Comparator.comparing(p -> p.getMetadata().getName()));
        this.byName = List.copyOf(live);
        List<ExecHealthPolicySpec> s = new ArrayList<>();
        for (ExecHealthPolicy p : byName) {
            s.add(ExecHealthPolicySpec.effective(p));
        }
        this.specs = List.copyOf(s);
    }

    /**
     * @param policy      the policy that applies, or null for the defaults
     * @param spec        its effective spec (every field filled in)
     * @param overlapping the names of other policies that select the node too (not applied to it)
     */
    public record Resolution(ExecHealthPolicy policy, ExecHealthPolicySpec spec, List<String> overlapping) {
        /** The policy's name, or {@link #DEFAULTS}. */
        public String key() {
            return policy == null ? DEFAULTS : policy.getMetadata().getName();
        }
    }

    public Resolution resolve(Map<String, String> nodeLabels) {
        ExecHealthPolicy winner = null;
        ExecHealthPolicySpec spec = null;
        List<String> others = List.of();
        for (int i = 0; i < byName.size(); i++) {
            if (!specs.get(i).selects(nodeLabels)) {
                continue;
            }
            if (winner == null) {
                winner = byName.get(i);
                spec = specs.get(i);
            } else {
                if (others.isEmpty()) {
                    others = new ArrayList<>();
                }
                others.add(byName.get(i).getMetadata().getName());
            }
        }
        return winner == null ? new Resolution(null, ExecHealthPolicySpec.defaults(), List.of())
                : new Resolution(winner, spec, List.copyOf(others));
    }

    public List<ExecHealthPolicy> policies() {
        return byName;
    }
}
