package io.execguard.api;

import static io.execguard.api.PolicyDefaults.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import io.fabric8.generator.annotation.Pattern;

/**
 * Node-local remediation switches: what the probe itself may do on the host to unstick tasks. All
 * off (and in dry run) by default. Absent fields take the defaults of {@link PolicyDefaults}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"abortStuckFuse", "fuseTypesAllowed", "fuseTypesDenied", "killLeakedExecSessions",
    "leakedExecSessionTtl", "dryRun"})
public class NodeRemediation {

    @JsonPropertyDescription("Let the probe abort a FUSE connection (echo 1 > /sys/fs/fuse/connections/<N>/abort) "
            + "whose requests keep a task unkillable or a runc init stuck. Pending requests fail with ENOTCONN and "
            + "the filesystem must be remounted. Default: " + ABORT_STUCK_FUSE + ".")
    private Boolean abortStuckFuse;

    @JsonPropertyDescription("FUSE filesystem types abortStuckFuse may abort, as mountinfo shows them (fuse.sshfs, "
            + "fuse.bindfs) or by subtype (sshfs matches fuse.sshfs). Empty or absent: every type not in "
            + "fuseTypesDenied. Default: [].")
    private List<String> fuseTypesAllowed;

    @JsonPropertyDescription("FUSE filesystem types abortStuckFuse never aborts (wins over fuseTypesAllowed); same "
            + "matching. Default: " + FUSE_TYPES_DENIED_TEXT + " (lxcfs serves /proc files of every container on the "
            + "node). An empty list denies none.")
    private List<String> fuseTypesDenied;

    @JsonPropertyDescription("Let the probe send SIGHUP to exec sessions leaked longer than leakedExecSessionTtl. "
            + "Default: " + KILL_LEAKED_EXEC_SESSIONS + ".")
    private Boolean killLeakedExecSessions;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription("How long a leaked exec session must have been idle before killLeakedExecSessions ends "
            + "it, as a duration (90s, 30m, 24h, 1h30m, 2d). Default: " + LEAKED_EXEC_SESSION_TTL + ".")
    private String leakedExecSessionTtl;

    @JsonPropertyDescription("When true, the probe logs and reports (Events) the node-local remediation it would do "
            + "but does nothing. Default: " + NODE_REMEDIATION_DRY_RUN + ".")
    private Boolean dryRun;

    NodeRemediation withDefaults(NodeRemediation d) {
        NodeRemediation r = new NodeRemediation();
        r.abortStuckFuse = abortStuckFuse != null ? abortStuckFuse : d.abortStuckFuse;
        r.fuseTypesAllowed = fuseTypesAllowed != null ? new ArrayList<>(fuseTypesAllowed) : copy(d.fuseTypesAllowed);
        r.fuseTypesDenied = fuseTypesDenied != null ? new ArrayList<>(fuseTypesDenied) : copy(d.fuseTypesDenied);
        r.killLeakedExecSessions = killLeakedExecSessions != null ? killLeakedExecSessions : d.killLeakedExecSessions;
        r.leakedExecSessionTtl = leakedExecSessionTtl != null ? leakedExecSessionTtl : d.leakedExecSessionTtl;
        r.dryRun = dryRun != null ? dryRun : d.dryRun;
        return r;
    }

    public Boolean getAbortStuckFuse() {
        return abortStuckFuse;
    }

    public void setAbortStuckFuse(Boolean abortStuckFuse) {
        this.abortStuckFuse = abortStuckFuse;
    }

    private static List<String> copy(List<String> l) {
        return l == null ? null : new ArrayList<>(l);
    }

    public List<String> getFuseTypesAllowed() {
        return fuseTypesAllowed;
    }

    public void setFuseTypesAllowed(List<String> fuseTypesAllowed) {
        this.fuseTypesAllowed = fuseTypesAllowed;
    }

    public List<String> getFuseTypesDenied() {
        return fuseTypesDenied;
    }

    public void setFuseTypesDenied(List<String> fuseTypesDenied) {
        this.fuseTypesDenied = fuseTypesDenied;
    }

    public Boolean getKillLeakedExecSessions() {
        return killLeakedExecSessions;
    }

    public void setKillLeakedExecSessions(Boolean killLeakedExecSessions) {
        this.killLeakedExecSessions = killLeakedExecSessions;
    }

    public String getLeakedExecSessionTtl() {
        return leakedExecSessionTtl;
    }

    public void setLeakedExecSessionTtl(String leakedExecSessionTtl) {
        this.leakedExecSessionTtl = leakedExecSessionTtl;
    }

    public Boolean getDryRun() {
        return dryRun;
    }

    public void setDryRun(Boolean dryRun) {
        this.dryRun = dryRun;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeRemediation r && Objects.equals(abortStuckFuse, r.abortStuckFuse)
                && Objects.equals(fuseTypesAllowed, r.fuseTypesAllowed)
                && Objects.equals(fuseTypesDenied, r.fuseTypesDenied)
                && Objects.equals(killLeakedExecSessions, r.killLeakedExecSessions)
                && Objects.equals(leakedExecSessionTtl, r.leakedExecSessionTtl) && Objects.equals(dryRun, r.dryRun);
    }

    @Override
    public int hashCode() {
        return Objects.hash(abortStuckFuse, fuseTypesAllowed, fuseTypesDenied, killLeakedExecSessions, leakedExecSessionTtl, dryRun);
    }

    @Override
    public String toString() {
        return "NodeRemediation{abortStuckFuse=" + abortStuckFuse + ", fuseTypesAllowed=" + fuseTypesAllowed
                + ", fuseTypesDenied=" + fuseTypesDenied + ", killLeakedExecSessions=" + killLeakedExecSessions
                + ", leakedExecSessionTtl=" + leakedExecSessionTtl + ", dryRun=" + dryRun + "}";
    }
}
