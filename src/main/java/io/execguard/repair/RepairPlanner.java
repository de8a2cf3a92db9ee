package io.execguard.repair;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import io.execguard.detect.Cause;
import io.execguard.detect.Evidence;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.LeakedExecSessionDetector;
import io.execguard.host.FuseConnection;
import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;

/**
 * Decides the node-local repairs for one scan. Pure: the current findings (already past their
 * thresholds), the snapshot they came from, the policy, what was done before and the time in;
 * actions out.
 *
 * <p>Rules, from the kernel's behaviour:
 * <ul>
 *   <li><b>Abort a FUSE connection</b> only when a reported StuckRuntimeInit, UnkillableTask or
 *   PidNamespaceTeardownStuck finding has cause FuseRequest and names that connection, and the connection
 *   still has requests waiting in this snapshot. A connection no stuck task waits on is never touched; one
 *   already aborted is not aborted again (its {@code waiting} drops to 0 anyway).</li>
 *   <li><b>End a leaked exec session</b> when a reported LeakedExecSession's terminal has been idle for at
 *   least the TTL: SIGHUP first (the hangup the vanished client never delivered; a shell passes it on to
 *   its jobs), SIGKILL if the same process (PID and start time) is still there after the grace period.</li>
 * </ul>
 */
public final class RepairPlanner {

    private static final Set<FindingType> FUSE_STUCK = Set.of(FindingType.StuckRuntimeInit, FindingType.UnkillableTask,
            FindingType.PidNamespaceTeardownStuck);

    private RepairPlanner() {
    }

    /**
     * @param findings current findings by id
     * @param done     keys of earlier actions ({@link RepairAction#key()}) with when they were carried out
     */
    public static List<RepairAction> plan(Map<String, Finding> findings, HostSnapshot snapshot, RepairPolicy policy,
                                          Map<String, Instant> done, Instant now) {
        List<RepairAction> out = new ArrayList<>();
        if (policy.abortStuckFuse()) {
            out.addAll(fuseAborts(findings, snapshot, done));
        }
        if (policy.killLeakedExecSessions()) {
            out.addAll(sessionEnds(findings, snapshot, policy, done, now));
        }
        return out;
    }

    private static List<RepairAction> fuseAborts(Map<String, Finding> findings, HostSnapshot s,
                                                 Map<String, Instant> done) {
        Map<Integer, List<Map.Entry<String, Finding>>> byConnection = new TreeMap<>();
        for (Map.Entry<String, Finding> e : findings.entrySet()) {
            Finding f = e.getValue();
            if (FUSE_STUCK.contains(f.type()) && f.cause() == Cause.FuseRequest && f.mount() != null
                    && f.mount().fuseConnection() != null) {
                byConnection.computeIfAbsent(f.mount().fuseConnection(), k -> new ArrayList<>()).add(e);
            }
        }
        List<RepairAction> out = new ArrayList<>();
        for (Map.Entry<Integer, List<Map.Entry<String, Finding>>> c : byConnection.entrySet()) {
            int conn = c.getKey();
            String key = "fuse/" + conn;
            int waiting = s.fuseConnections().stream().filter(fc -> fc.id() == conn).mapToInt(FuseConnection::waiting)
                    .findFirst().orElse(0);
            if (waiting <= 0 || done.containsKey(key)) {
                continue;
            }
            List<Map.Entry<String, Finding>> stuck = c.getValue();
            stuck.sort(Map.Entry.comparingByKey());
            Finding first = stuck.get(0).getValue();
            List<String> tasks = new ArrayList<>();
            for (Map.Entry<String, Finding> e : stuck) {
                Finding f = e.getValue();
                tasks.add(f.type() + " pid " + f.pid() + " (" + f.comm() + ")");
            }
            String reason = "fuse connection " + conn + " (" + first.mount().fsType() + " on "
                    + first.mount().mountPoint() + ") has " + waiting + " request(s) waiting and holds "
                    + String.join(", ", tasks) + "; aborting it fails those requests with ENOTCONN so the tasks can "
                    + "exit (the filesystem must then be remounted)";
            out.add(new RepairAction(RepairKind.AbortFuseConnection, key, conn, null, null, first.containerId(),
                    stuck.stream().map(Map.Entry::getKey).toList(), reason));
        }
        return out;
    }

    private static List<RepairAction> sessionEnds(Map<String, Finding> findings, HostSnapshot s, RepairPolicy policy,
                                                  Map<String, Instant> done, Instant now) {
        List<RepairAction> out = new ArrayList<>();
        for (Map.Entry<String, Finding> e : new TreeMap<>(findings).entrySet()) {
            Finding f = e.getValue();
            if (f.type() != FindingType.LeakedExecSession || f.pid() == null) {
                continue;
            }
            ProcessSnapshot p = s.processes().stream().filter(x -> x.pid() == f.pid()).findFirst().orElse(null);
            if (p == null) {
                continue;
            }
            String id = p.pid() + "@" + p.startTimeTicks();
            Instant hungUp = done.get("hup/" + id);
            double idle = LeakedExecSessionDetector.idleSeconds(p);
            String who = "exec session pid " + p.pid() + " (" + p.comm() + ") in " + Evidence.shortId(p.containerId());
            if (hungUp == null) {
                if (idle >= policy.leakedExecSessionTtl().toSeconds()) {
                    out.add(new RepairAction(RepairKind.HangUpLeakedSession, "hup/" + id, null, p.pid(),
                            p.startTimeTicks(), p.containerId(), List.of(e.getKey()), who + " has been idle for "
                            + Evidence.duration(idle) + ", past the TTL of "
                            + Evidence.duration(policy.leakedExecSessionTtl().toSeconds())
                            + "; sending SIGHUP, the hangup its vanished client never delivered"));
                }
            } else if (!done.containsKey("kill/" + id)
                    && !now.isBefore(hungUp.plus(policy.hangUpGrace()))) {
                out.add(new RepairAction(RepairKind.KillLeakedSession, "kill/" + id, null, p.pid(), p.startTimeTicks(),
                        p.containerId(), List.of(e.getKey()), who + " is still there "
                        + Duration.between(hungUp, now).toSeconds() + " s after SIGHUP; sending SIGKILL"));
            }
        }
        return out;
    }
}
