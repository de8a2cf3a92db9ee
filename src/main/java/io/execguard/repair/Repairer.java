package io.execguard.repair;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.execguard.detect.Finding;
import io.execguard.host.HostSnapshot;

/**
 * Carries out what {@link RepairPlanner} decides, each action once: remembers what it did (by action key) and
 * keeps the last {@value #HISTORY} repairs for the report. In dry run the action is recorded as DryRun and
 * remembered too, so the report and the Event say once what would have been done. Called from the scan thread only.
 */
public final class Repairer {

    public static final int HISTORY = 20;
    /** Keys are forgotten after this long, so a new incident on a reused connection number is handled again. */
    static final Duration FORGET_AFTER = Duration.ofHours(1);
    private static final Logger LOG = LoggerFactory.getLogger(Repairer.class);

    private final HostRepairs host;
    private final String nodeName;
    private final Map<String, Instant> done = new HashMap<>();
    private final Deque<Repair> history = new ArrayDeque<>();
    private long seq;

    public Repairer(HostRepairs host, String nodeName) {
        this.host = host;
        this.nodeName = nodeName;
    }

    /** Plans and carries out this scan's repairs; returns them (empty when none). Never throws for a failed repair. */
    public List<Repair> run(Map<String, Finding> findings, HostSnapshot snapshot, RepairPolicy policy, Instant now) {
        done.values().removeIf(t -> t.plus(FORGET_AFTER).isBefore(now));
        if (!policy.anyEnabled()) {
            return List.of();
        }
        List<Repair> out = new ArrayList<>();
        for (RepairAction a : RepairPlanner.plan(findings, snapshot, policy, Map.copyOf(done), now)) {
            Repair r = policy.dryRun() ? new Repair(++seq, now, a, Repair.Result.DryRun, "dry run: nothing was changed")
                    : execute(a, now);
            if (r.result() != Repair.Result.Failed) {
                done.put(a.key(), now);
            } else {
                // retry on a later scan, but not every scan: at most once a minute
                done.put(a.key(), now.minus(FORGET_AFTER).plus(Duration.ofMinutes(1)));
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

    /** The most recent repairs, newest first. */
    public List<Repair> history() {
        return List.copyOf(history);
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
