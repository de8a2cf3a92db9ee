package io.execguard.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

import io.execguard.detect.FindingType;
import io.fabric8.kubernetes.api.model.IntOrString;

/**
 * The documented defaults of {@link ExecHealthPolicySpec}, in one place. They apply to every field a
 * policy leaves out, and to every node when there is no policy at all. The CRD schema carries no
 * {@code default:} values on purpose: an absent field means "execguard's default", so a new release
 * can improve a default without rewriting stored policies. The field descriptions quote these
 * constants (compile-time concatenation), and {@code ExecHealthPolicySpec.effective()} applies them.
 *
 * <p>All constants are immutable; {@link #spec()} returns a fresh, fully populated spec each call.
 */
public final class PolicyDefaults {

    // thresholds (seconds and percent), the same values as the detectors' Thresholds.DEFAULTS
    public static final long STUCK_RUNTIME_INIT_SECONDS = 30;
    public static final long UNKILLABLE_TASK_SECONDS = 10;
    public static final long PID_NAMESPACE_TEARDOWN_SECONDS = 10;
    public static final long HUNG_TASK_SECONDS = 120;
    public static final long LEAKED_EXEC_SESSION_SECONDS = 3600;
    public static final long POD_STUCK_TERMINATING_SECONDS = 120;
    public static final int PIDS_PERCENT = 95;
    public static final int PTY_PERCENT = 90;
    public static final long PIPE_USER_PAGES_SOFT_MIN = 4096;

    /** Finding types that make a node Unhealthy. */
    public static final List<FindingType> UNHEALTHY_TYPES = List.of(FindingType.StuckRuntimeInit,
            FindingType.UnkillableTask, FindingType.PidNamespaceTeardownStuck, FindingType.PodStuckTerminating,
            FindingType.ExecPathStuck);

    /** Finding types that make a node Degraded: every type not in {@link #UNHEALTHY_TYPES}. */
    public static final List<FindingType> DEGRADED_TYPES = complementOf(UNHEALTHY_TYPES);

    // the action ladder
    public static final Action NODE_CRITICAL = Action.Cordon;
    public static final Action NODE_WARNING = Action.Condition;
    public static final Action CONTAINER_CRITICAL = Action.Annotate;
    public static final Action CONTAINER_WARNING = Action.Annotate;

    // release and safety
    public static final String RELEASE_AFTER = "5m";
    /** How often the probe runs its exec canary. */
    public static final String CANARY_INTERVAL = "60s";
    public static final int STALE_AFTER_HEARTBEATS = 3;
    public static final String MAX_UNHEALTHY = "10%";
    public static final boolean DRY_RUN = false;

    // the storm guard (NodeHealthCheck stops at minHealthy 51%: more than half failing is not the nodes' fault)
    public static final int INCIDENT_NODES = 2;
    public static final String MAX_FAILING = "50%";
    public static final int NEW_HOLDS_PER_MINUTE = 10;

    // node-local remediation switches
    public static final boolean ABORT_STUCK_FUSE = false;
    public static final List<String> FUSE_TYPES_ALLOWED = List.of();
    public static final List<String> FUSE_TYPES_DENIED = List.of("fuse.lxcfs");
    /** For descriptions (annotation values must be constants). */
    static final String FUSE_TYPES_DENIED_TEXT = "[fuse.lxcfs]";
    public static final boolean KILL_LEAKED_EXEC_SESSIONS = false;
    public static final String LEAKED_EXEC_SESSION_TTL = "24h";
    public static final boolean NODE_REMEDIATION_DRY_RUN = true;

    /**
     * Accepted by duration fields: Go-style {@code 500ms}, {@code 90s}, {@code 5m}, {@code 1h30m},
     * {@code 2d}; a bare number is seconds (what {@code io.execguard.probe.Durations} parses).
     */
    public static final String DURATION_PATTERN = "^([0-9]+|([0-9]+(ms|s|m|h|d))+)$";
    /**
     * Accepted by {@code maxUnhealthy} as a string: a whole percentage from {@code 0%} to
     * {@code 100%}, no sign, space or leading zero. The CRD's CEL rule on the field uses it too.
     */
    public static final String PERCENT_PATTERN = "^(100|[1-9]?[0-9])%$";

    private PolicyDefaults() {
    }

    /** A new spec with every field set to its default. */
    public static ExecHealthPolicySpec spec() {
        ExecHealthPolicySpec s = new ExecHealthPolicySpec();
        s.setNodeSelector(new LinkedHashMap<>());
        s.setThresholds(thresholds());
        s.setUnhealthyTypes(new ArrayList<>(UNHEALTHY_TYPES));
        s.setDegradedTypes(new ArrayList<>(DEGRADED_TYPES));
        s.setActions(actions());
        s.setReleaseAfter(RELEASE_AFTER);
        s.setCanaryInterval(CANARY_INTERVAL);
        s.setStaleAfterHeartbeats(STALE_AFTER_HEARTBEATS);
        s.setMaxUnhealthy(new IntOrString(MAX_UNHEALTHY));
        s.setDryRun(DRY_RUN);
        s.setStormGuard(stormGuard());
        s.setRemediation(nodeRemediation());
        return s;
    }

    public static PolicyThresholds thresholds() {
        PolicyThresholds t = new PolicyThresholds();
        t.setStuckRuntimeInitSeconds(STUCK_RUNTIME_INIT_SECONDS);
        t.setUnkillableTaskSeconds(UNKILLABLE_TASK_SECONDS);
        t.setPidNamespaceTeardownSeconds(PID_NAMESPACE_TEARDOWN_SECONDS);
        t.setHungTaskSeconds(HUNG_TASK_SECONDS);
        t.setLeakedExecSessionSeconds(LEAKED_EXEC_SESSION_SECONDS);
        t.setPodStuckTerminatingSeconds(POD_STUCK_TERMINATING_SECONDS);
        t.setPidsPercent(PIDS_PERCENT);
        t.setPtyPercent(PTY_PERCENT);
        t.setPipeUserPagesSoftMin(PIPE_USER_PAGES_SOFT_MIN);
        return t;
    }

    public static ActionLadder actions() {
        return new ActionLadder(NODE_CRITICAL, NODE_WARNING, CONTAINER_CRITICAL, CONTAINER_WARNING);
    }

    public static StormGuard stormGuard() {
        StormGuard g = new StormGuard();
        g.setIncidentNodes(INCIDENT_NODES);
        g.setMaxFailing(new IntOrString(MAX_FAILING));
        g.setNewHoldsPerMinute(NEW_HOLDS_PER_MINUTE);
        return g;
    }

    public static NodeRemediation nodeRemediation() {
        NodeRemediation r = new NodeRemediation();
        r.setAbortStuckFuse(ABORT_STUCK_FUSE);
        r.setFuseTypesAllowed(new ArrayList<>(FUSE_TYPES_ALLOWED));
        r.setFuseTypesDenied(new ArrayList<>(FUSE_TYPES_DENIED));
        r.setKillLeakedExecSessions(KILL_LEAKED_EXEC_SESSIONS);
        r.setLeakedExecSessionTtl(LEAKED_EXEC_SESSION_TTL);
        r.setDryRun(NODE_REMEDIATION_DRY_RUN);
        return r;
    }

    private static List<FindingType> complementOf(List<FindingType> types) {
        List<FindingType> rest = new ArrayList<>();
        for (FindingType t : FindingType.values()) {
            if (!types.contains(t)) {
                rest.add(t);
            }
        }
        return List.copyOf(rest);
    }

    static List<FindingType> complement(List<FindingType> types) {
        return complementOf(types);
    }
}
