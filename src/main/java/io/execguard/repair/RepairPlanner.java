package io.execguard.repair;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import io.execguard.detect.Cause;
import io.execguard.detect.Evidence;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.LeakedExecSessionDetector;
import io.execguard.host.FuseConnection;
import io.execguard.host.HostSnapshot;
import io.execguard.host.MountEntry;
import io.execguard.host.ProcessSnapshot;

/**
 * Decides the node-local repairs for one scan. Pure: the current findings (already past their
 * thresholds), the snapshot they came from, the policy, what was done before and the time in;
 * actions out.
 *
 * <p>Rules, from the kernel's behaviour:
 * <ul>
 *   <li><b>Abort a FUSE connection</b> only when a reported StuckRuntimeInit, UnkillableTask or
 *   PidNamespaceTeardownStuck finding has cause FuseRequest and names that connection, and the connection is
 *   proven to be the one the task waits on: the kernel stack says "a FUSE request" but not on which
 *   connection, so it must be the <em>only</em> FUSE connection with requests waiting among the mounts of
 *   the task's mount namespace, and it must have had requests waiting in the previous scan too. With two
 *   busy FUSE mounts in view (a healthy but busy one next to the stuck one, or a stack of FUSE mounts
 *   visible together) nothing is aborted: the finding's message still names the likely connection for a
 *   human. One already aborted is not aborted again (its {@code waiting} drops to 0 anyway).</li>
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

    /** At most this many stuck tasks are named in an abort's reason, and finding ids listed. */
    static final int MAX_LISTED = 10;

    /**
     * @param findings        current findings by id
     * @param previousWaiting each FUSE connection's {@code waiting} count in the previous scan
     * @param done            keys of earlier actions ({@link RepairAction#key()}) with when they were carried out
     */
    public static List<RepairAction> plan(Map<String, Finding> findings, HostSnapshot snapshot,
                                          Map<Integer, Integer> previousWaiting, RepairPolicy policy,
                                          Map<String, Instant> done, Instant now) {
        Map<Integer, ProcessSnapshot> byPid = new HashMap<>();
        snapshot.processes().forEach(p -> byPid.put(p.pid(), p));
        List<RepairAction> out = new ArrayList<>();
        if (policy.abortStuckFuse()) {
            out.addAll(fuseAborts(findings, snapshot, byPid, previousWaiting, done));
        }
        if (policy.killLeakedExecSessions()) {
            out.addAll(sessionEnds(findings, byPid, policy, done, now));
        }
        return out;
    }

    private static List<RepairAction> fuseAborts(Map<String, Finding> findings, HostSnapshot s,
                                                 Map<Integer, ProcessSnapshot> byPid,
                                                 Map<Integer, Integer> previousWaiting, Map<String, Instant> done) {
        Map<Integer, Integer> waitingNow = new HashMap<>();
        for (FuseConnection c : s.fuseConnections()) {
            waitingNow.put(c.id(), c.waiting());
        }
        Map<Integer, List<Map.Entry<String, Finding>>> byConnection = new TreeMap<>();
        for (Map.Entry<String, Finding> e : findings.entrySet()) {
            Finding f = e.getValue();
            if (FUSE_STUCK.contains(f.type()) && f.cause() == Cause.FuseRequest && f.mount() != null
                    && f.mount().fuseConnection() != null
                    && provenConnection(f, byPid, s, waitingNow) == f.mount().fuseConnection()
                    && previousWaiting.getOrDefault(f.mount().fuseConnection(), 0) > 0) {
                byConnection.computeIfAbsent(f.mount().fuseConnection(), k -> new ArrayList<>()).add(e);
            }
        }
        List<RepairAction> out = new ArrayList<>();
        for (Map.Entry<Integer, List<Map.Entry<String, Finding>>> c : byConnection.entrySet()) {
            int conn = c.getKey();
            String key = "fuse/" + conn;
            if (done.containsKey(key)) {
                continue;
            }
            List<Map.Entry<String, Finding>> stuck = c.getValue();
            stuck.sort(Map.Entry.comparingByKey());
            Finding first = stuck.get(0).getValue();
            List<String> tasks = new ArrayList<>();
            for (Map.Entry<String, Finding> e : stuck.subList(0, Math.min(MAX_LISTED, stuck.size()))) {
                Finding f = e.getValue();
                tasks.add(f.type() + " pid " + f.pid() + " (" + f.comm() + ")");
            }
            String more = stuck.size() > MAX_LISTED ? " and " + (stuck.size() - MAX_LISTED) + " more" : "";
            String reason = "fuse connection " + conn + " (" + first.mount().fsType() + " on "
                    + first.mount().mountPoint() + ") has " + waitingNow.get(conn) + " request(s) waiting, is the only busy FUSE "
                    + "connection the stuck tasks can see, and holds " + String.join(", ", tasks) + more
                    + "; aborting it fails those requests with ENOTCONN so the tasks can exit (the filesystem must "
                    + "then be remounted)";
            out.add(new RepairAction(RepairKind.AbortFuseConnection, key, conn, null, null, first.containerId(),
                    stuck.stream().limit(MAX_LISTED).map(Map.Entry::getKey).toList(), reason));
        }
        return out;
    }

    /**
     * The one FUSE connection with requests waiting among the mounts of the finding's task's mount namespace,
     * or -1 when there is none, more than one, or the task's mounts are unknown.
     */
    static int provenConnection(Finding f, Map<Integer, ProcessSnapshot> byPid, HostSnapshot s,
                                Map<Integer, Integer> waitingNow) {
        ProcessSnapshot p = f.pid() == null ? null : byPid.get(f.pid());
        if (p == null || p.mountNamespace() == null) {
            return -1;
        }
        Set<Integer> busy = new TreeSet<>();
        for (MountEntry m : s.mounts().getOrDefault(p.mountNamespace(), List.of())) {
            if (m.isFuse() && m.major() == 0 && waitingNow.getOrDefault(m.minor(), 0) > 0) {
                busy.add(m.minor());
            }
        }
        return busy.size() == 1 ? busy.iterator().next() : -1;
    }

    private static List<RepairAction> sessionEnds(Map<String, Finding> findings, Map<Integer, ProcessSnapshot> byPid,
                                                  RepairPolicy policy, Map<String, Instant> done, Instant now) {
        List<RepairAction> out = new ArrayList<>();
        for (Map.Entry<String, Finding> e : new TreeMap<>(findings).entrySet()) {
            Finding f = e.getValue();
            if (f.type() != FindingType.LeakedExecSession || f.pid() == null) {
                continue;
            }
            ProcessSnapshot p = byPid.get(f.pid());
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
