package io.execguard.detect;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.RuntimeNames;
import io.execguard.host.ThreadSnapshot;

/**
 * An exec'd process with a terminal whose client is gone (seed 003): its parent is the runtime shim,
 * it is not the container's own process (not pid 1 of its pid namespace, and not the init the runtime's
 * state records: in a pod sharing its process namespace a tty container's init has nsPid &gt; 1), and both
 * its age and its terminal's
 * idle time exceed the threshold. Where the terminal's times are unreadable, a process blocked reading
 * its terminal counts as idle for its whole age. Nothing signals these shells; each holds a pty.
 */
public final class LeakedExecSessionDetector implements Detector {

    /**
     * The kernel refreshes a terminal's inode times only when they are at least 8 s stale
     * ({@code tty_update_time} in drivers/tty/tty_io.c), so a terminal in use can look up to 8 s idle.
     */
    static final double TTY_TIME_GRANULARITY_SECONDS = 8;
    private static final Pattern TTY_WAIT = Pattern.compile("n_tty_read|wait_woken|tty_read|do_select|do_sys_poll");
    private final Thresholds thresholds;

    public LeakedExecSessionDetector(Thresholds thresholds) {
        this.thresholds = thresholds;
    }

    /**
     * How long the process's terminal has certainly been idle: its inode times less the kernel's 8 s
     * granularity; where those are unreadable, its whole age if it is blocked reading the terminal, else 0.
     */
    public static double idleSeconds(ProcessSnapshot p) {
        ThreadSnapshot t = p.mainThread();
        return !Double.isNaN(p.ttyIdleSeconds())
                ? Math.max(0, p.ttyIdleSeconds() - TTY_TIME_GRANULARITY_SECONDS)
                : t.wchan() != null && TTY_WAIT.matcher(t.wchan()).matches() ? p.ageSeconds() : 0;
    }

    @Override
    public List<Finding> detect(HostSnapshot s, List<Finding> earlier) {
        List<Finding> out = new ArrayList<>();
        for (ProcessSnapshot p : s.processes()) {
            if (p.ttyNr() == 0 || p.parentComm() == null || !RuntimeNames.isShim(p.parentComm()) || p.nsPid() == 1
                    || s.isContainerInit(p)) {
                continue; // a container's own process (its init: pid 1, or recorded so by the runtime), not an exec
            }
            ThreadSnapshot t = p.mainThread();
            double idle = idleSeconds(p);
            if (p.ageSeconds() < thresholds.leakedExecSession() || idle < thresholds.leakedExecSession()) {
                continue;
            }
            String quiet = !Double.isNaN(p.ttyIdleSeconds())
                    ? "its terminal idle for " + Evidence.duration(idle)
                    : "waiting to read its terminal (the terminal's times are unreadable)";
            String msg = "exec session pid " + p.pid() + " (" + p.comm() + ") in " + Evidence.shortId(p.containerId())
                    + " has held a terminal for " + Evidence.duration(p.ageSeconds()) + ", " + quiet
                    + ": its client is likely gone, and the shell keeps its pty until it exits; "
                    + "end it with kill -HUP " + p.pid() + ".";
            out.add(Evidence.task(FindingType.LeakedExecSession, Cause.Unknown, Severity.Warning, msg, p, t, null,
                    null));
        }
        return out;
    }
}
