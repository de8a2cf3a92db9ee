package io.execguard.repair;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.execguard.detect.Finding;
import io.execguard.host.FuseConnection;
import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;

/**
 * Carries out what {@link RepairPlanner} decides, each action once, and keeps the last {@value #HISTORY}
 * repairs for the report. Called from the scan thread only.
 *
 * <p>Memory: what was done (by action key) is remembered for as long as its subject exists — a FUSE
 * connection while it is in fusectl, a session while that PID with that start time is in the snapshot —
 * so a reused connection number or PID is a new subject. Dry-run actions are remembered apart from real
 * ones: a dry run simulates the whole sequence (SIGHUP, then SIGKILL after the grace), and switching
 * {@code dryRun} off starts from nothing, never with a SIGKILL for a SIGHUP that was only pretended. A failed
 * action is retried after a backoff (1 min, doubling to 1 h) and counts as not done: a SIGKILL never follows
 * a SIGHUP that failed.
 */
public final class Repairer {

    public static final int HISTORY = 20;
    static final Duration FIRST_RETRY = Duration.ofMinutes(1);
    static final Duration MAX_RETRY = Duration.ofHours(1);
    private static final Logger LOG = LoggerFactory.getLogger(Repairer.class);

    private record Failure(int attempts, Instant retryAt) {
    }

    private final HostRepairs host;
    private final String nodeName;
    private final Map<String, Instant> done = new HashMap<>();
    private final Map<String, Instant> pretended = new HashMap<>();
    private final Map<String, Failure> failed = new HashMap<>();
    private final Deque<Repair> history = new ArrayDeque<>();
    private final Map<String, String> declinedLogged = new HashMap<>();
    private Map<Integer, Integer> previousWaiting = Map.of();
    private long seq;

    public Repairer(HostRepairs host, String nodeName) {
        this.host = host;
        this.nodeName = nodeName;
    }

    /** Plans and carries out this scan's repairs; returns them (empty when none). Never throws for a failed repair. */
    public List<Repair> run(Map<String, Finding> findings, HostSnapshot snapshot, RepairPolicy policy, Instant now) {
        Set<String> subjects = subjects(snapshot);
        done.keySet().retainAll(subjects);
        pretended.keySet().retainAll(subjects);
        failed.keySet().retainAll(subjects);
        Map<Integer, Integer> waiting = new HashMap<>();
        for (FuseConnection c : snapshot.fuseConnections()) {
            waiting.put(c.id(), c.waiting());
        }
        Map<Integer, Integer> before = previousWaiting;
        previousWaiting = waiting;
        if (!policy.anyEnabled()) {
            return List.of();
        }
        Map<String, Instant> memory = policy.dryRun() ? pretended : done;
        List<Repair> out = new ArrayList<>();
        RepairPlanner.Plan plan = RepairPlanner.decide(findings, snapshot, before, policy, Map.copyOf(memory), now);
        logDeclined(plan.declined());
        for (RepairAction a : plan.actions()) {
            Failure f = failed.get(a.key());
            if (!policy.dryRun() && f != null && now.isBefore(f.retryAt())) {
                continue;
            }
            Repair r = policy.dryRun() ? new Repair(++seq, now, a, Repair.Result.DryRun, "dry run: nothing was changed")
                    : execute(a, now);
            if (r.result() == Repair.Result.Failed) {
                int attempts = f == null ? 1 : f.attempts() + 1;
                Duration wait = FIRST_RETRY.multipliedBy(1L << Math.min(attempts - 1, 6));
                failed.put(a.key(), new Failure(attempts, now.plus(wait.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : wait)));
            } else {
                memory.put(a.key(), now);
                failed.remove(a.key());
            }
            LOG.info("node {}: repair {} {} [{}]: {}; {}", nodeName, a.kind(), a.target(), r.result(), a.reason(),
                    r.detail());
            out.add(r);
            history.addFirst(r);
            while (history.size() > HISTORY) {
                history.removeLast();
            }
        }
        return out;
    }

    /** Why findings were not acted on, logged when the reason for a finding changes. */
    private void logDeclined(Map<String, String> declined) {
        declinedLogged.keySet().retainAll(declined.keySet());
        declined.forEach((id, why) -> {
            if (!why.equals(declinedLogged.put(id, why))) {
                LOG.info("node {}: no repair for finding {}: {}", nodeName, id, why);
            }
        });
    }

    /** The most recent repairs, newest first. */
    public List<Repair> history() {
        return List.copyOf(history);
    }

    /** Keys of every subject that still exists: {@code fuse/N} per connection, hup/ and kill/ PID@START per process. */
    private static Set<String> subjects(HostSnapshot s) {
        Set<String> keys = new HashSet<>();
        for (FuseConnection c : s.fuseConnections()) {
            keys.add("fuse/" + c.id());
        }
        for (ProcessSnapshot p : s.processes()) {
            keys.add("hup/" + p.pid() + "@" + p.startTimeTicks());
            keys.add("kill/" + p.pid() + "@" + p.startTimeTicks());
        }
        return keys;
    }

    private Repair execute(RepairAction a, Instant now) {
        try {
            return switch (a.kind()) {
                case AbortFuseConnection -> {
                    host.abortFuseConnection(a.fuseConnection());
                    yield new Repair(++seq, now, a, Repair.Result.Done,
                            "wrote 1 to /sys/fs/fuse/connections/" + a.fuseConnection() + "/abort");
                }
                case HangUpLeakedSession, KillLeakedSession -> {
                    String sig = a.kind() == RepairKind.HangUpLeakedSession ? "HUP" : "KILL";
                    boolean sent = host.signal(a.pid(), a.startTimeTicks(), sig);
                    yield new Repair(++seq, now, a, Repair.Result.Done, sent ? "sent SIG" + sig + " to pid " + a.pid()
                            : "pid " + a.pid() + " had already exited; nothing sent");
                }
            };
        } catch (java.io.IOException | RuntimeException e) {
            return new Repair(++seq, now, a, Repair.Result.Failed, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }
}
