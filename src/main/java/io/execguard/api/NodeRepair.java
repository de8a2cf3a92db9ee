package io.execguard.api;

import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

import io.execguard.repair.Repair;
import io.execguard.repair.RepairKind;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Required;

/**
 * One node-local repair the probe made (or, in dry run, would have made), as listed in
 * {@code NodeExecHealth.status.repairs}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"time", "action", "target", "result", "reason", "detail", "containerId", "findingIds"})
public class NodeRepair {

    @Required
    @JsonPropertyDescription("When the repair was attempted (RFC 3339, UTC).")
    @JsonSerialize(using = Rfc3339.class)
    private String time;

    @Required
    @SchemaFrom(type = RepairKind.class)
    @JsonPropertyDescription("What was done. AbortFuseConnection: wrote 1 to /sys/fs/fuse/connections/<N>/abort. "
            + "HangUpLeakedSession: sent SIGHUP to a leaked exec session. KillLeakedSession: sent SIGKILL to a leaked "
            + "session still there after SIGHUP and a grace period.")
    private String action;

    @Required
    @JsonPropertyDescription("What it was done to: 'fuse connection <N>' or 'pid <PID>'.")
    private String target;

    @Required
    @SchemaFrom(type = Repair.Result.class)
    @JsonPropertyDescription("Done, DryRun (remediation.dryRun: nothing was changed) or Failed (see detail).")
    private String result;

    @JsonPropertyDescription("Why, with the evidence: the stuck tasks and the connection's waiting requests, or the "
            + "session's idle time against the TTL.")
    private String reason;

    @JsonPropertyDescription("What happened: the file written or signal sent, or the error.")
    private String detail;

    @JsonPropertyDescription("The container concerned, if one.")
    private String containerId;

    @JsonPropertyDescription("Ids of the findings that justified the repair.")
    private List<String> findingIds;

    public NodeRepair() {
    }

    public NodeRepair(String time, String action, String target, String result, String reason, String detail,
                      String containerId, List<String> findingIds) {
        this.time = time;
        this.action = action;
        this.target = target;
        this.result = result;
        this.reason = reason;
        this.detail = detail;
        this.containerId = containerId;
        this.findingIds = findingIds;
    }

    public String getTime() {
        return time;
    }

    public void setTime(String time) {
        this.time = time;
    }

    public String getAction() {
        return action;
    }

    public void setAction(String action) {
        this.action = action;
    }

    public String getTarget() {
        return target;
    }

    public void setTarget(String target) {
        this.target = target;
    }

    public String getResult() {
        return result;
    }

    public void setResult(String result) {
        this.result = result;
    }

    public String getReason() {
        return reason;
    }

    public void setReason(String reason) {
        this.reason = reason;
    }

    public String getDetail() {
        return detail;
    }

    public void setDetail(String detail) {
        this.detail = detail;
    }

    public String getContainerId() {
        return containerId;
    }

    public void setContainerId(String containerId) {
        this.containerId = containerId;
    }

    public List<String> getFindingIds() {
        return findingIds;
    }

    public void setFindingIds(List<String> findingIds) {
        this.findingIds = findingIds;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeRepair r && Objects.equals(time, r.time) && Objects.equals(action, r.action)
                && Objects.equals(target, r.target) && Objects.equals(result, r.result)
                && Objects.equals(reason, r.reason) && Objects.equals(detail, r.detail)
                && Objects.equals(containerId, r.containerId) && Objects.equals(findingIds, r.findingIds);
    }

    @Override
    public int hashCode() {
        return Objects.hash(time, action, target, result, reason, detail, containerId, findingIds);
    }

    @Override
    public String toString() {
        return "NodeRepair{" + time + " " + action + " " + target + " " + result + ": " + detail + "}";
    }
}
