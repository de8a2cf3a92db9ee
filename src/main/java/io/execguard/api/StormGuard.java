package io.execguard.api;

import static io.execguard.api.PolicyDefaults.*;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.IntOrString;

/**
 * When execguard stops marking nodes because the failure is not the nodes': one backend failing on many of
 * them, too large a share of the policy's nodes failing at once, or too many new holds in a minute. Absent
 * fields take the defaults of {@link PolicyDefaults}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"incidentNodes", "maxFailing", "newHoldsPerMinute"})
public class StormGuard {

    @Min(2)
    @JsonPropertyDescription("Nodes failing with the same cause on the same backend (the same NFS or ceph source, the "
            + "same FUSE filesystem) from which on that failure is one incident: its nodes get no new condition, "
            + "taint or cordon (suppressed: incident) and the policy's status lists it. Nodes marked before stay "
            + "marked until they recover. Default: " + INCIDENT_NODES + ".")
    private Integer incidentNodes;

    @JsonPropertyDescription("The most of the policy's nodes that may be failing (wanting a condition, taint or "
            + "cordon) before execguard treats the failure as fleet-wide and marks no further node (suppressed: "
            + "incident): a count or a percentage (rounded down, at least 1). Like NodeHealthCheck's minHealthy "
            + "51%. Default: \"" + MAX_FAILING + "\".")
    @ValidationRule(value = "type(self) == int ? self >= 0 : self.matches('" + PERCENT_PATTERN + "')",
            message = "must be a count (0, 5) or a percentage from 0% to 100% (\"50%\")")
    private IntOrString maxFailing;

    @Min(0)
    @JsonPropertyDescription("The most nodes this policy newly marks unhealthy (condition, taint or cordon) in any "
            + "minute; the next ones wait (suppressed: rateLimit). Default: " + NEW_HOLDS_PER_MINUTE + ".")
    private Integer newHoldsPerMinute;

    StormGuard withDefaults(StormGuard d) {
        StormGuard g = new StormGuard();
        g.incidentNodes = incidentNodes != null ? incidentNodes : d.incidentNodes;
        g.maxFailing = maxFailing != null ? ExecHealthPolicySpec.copy(maxFailing) : d.maxFailing;
        g.newHoldsPerMinute = newHoldsPerMinute != null ? newHoldsPerMinute : d.newHoldsPerMinute;
        return g;
    }

    /**
     * How many of {@code selectedNodes} may be failing before the guard holds everything back.
     *
     * @throws IllegalArgumentException when maxFailing is neither a count nor a percentage
     */
    public int maxFailingNodes(int selectedNodes) {
        return ExecHealthPolicySpec.countOrPercent("stormGuard.maxFailing", maxFailing, selectedNodes);
    }

    public Integer getIncidentNodes() {
        return incidentNodes;
    }

    public void setIncidentNodes(Integer incidentNodes) {
        this.incidentNodes = incidentNodes;
    }

    public IntOrString getMaxFailing() {
        return maxFailing;
    }

    public void setMaxFailing(IntOrString maxFailing) {
        this.maxFailing = maxFailing;
    }

    public Integer getNewHoldsPerMinute() {
        return newHoldsPerMinute;
    }

    public void setNewHoldsPerMinute(Integer newHoldsPerMinute) {
        this.newHoldsPerMinute = newHoldsPerMinute;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StormGuard g && Objects.equals(incidentNodes, g.incidentNodes)
                && Objects.equals(maxFailing, g.maxFailing) && Objects.equals(newHoldsPerMinute, g.newHoldsPerMinute);
    }

    @Override
    public int hashCode() {
        return Objects.hash(incidentNodes, maxFailing, newHoldsPerMinute);
    }

    @Override
    public String toString() {
        return "StormGuard{incidentNodes=" + incidentNodes + ", maxFailing=" + maxFailing + ", newHoldsPerMinute="
                + newHoldsPerMinute + "}";
    }
}
