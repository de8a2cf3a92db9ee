package io.execguard.host;

import java.util.List;

/**
 * A process the scanner looked at closely: a suspect (D state, exiting, SIGKILL pending), a
 * container runtime process, or a candidate leaked exec session.
 *
 * @param pid             thread group id
 * @param ppid            parent
 * @param parentComm      the parent's comm, or null
 * @param comm            process name (main thread)
 * @param startTimeTicks  start time in clock ticks after boot (identifies the process across scans)
 * @param ageSeconds      now minus start time
 * @param ttyNr           controlling terminal device (0 = none)
 * @param cmdline         argv, or the reason it could not be read
 * @param cgroup          cgroup with container and pod, or null
 * @param nsPid           innermost pid-namespace pid (1 = a container's init), -1 when unknown
 * @param mountNamespace  e.g. {@code mnt:[4026531840]}, or null
 * @param ttyIdleSeconds  seconds since the controlling terminal was last read or written, NaN unknown
 * @param threads         main thread first
 * @param cgroupKnown     whether {@code /proc/PID/cgroup} was read: when false a null {@code cgroup} means
 *                        "unknown", not "a host task"
 * @param files           cwd, root and the mounts of open files, {@link OpenFiles#UNKNOWN} when not read
 */
public record ProcessSnapshot(int pid, int ppid, String parentComm, String comm, long startTimeTicks,
                              double ageSeconds, int ttyNr, Read cmdline, CgroupRef cgroup, int nsPid,
                              String mountNamespace, double ttyIdleSeconds, List<ThreadSnapshot> threads,
                              boolean cgroupKnown, OpenFiles files) {

    /** A process whose cgroup is as given (null: not in any container) and whose files were not read. */
    public ProcessSnapshot(int pid, int ppid, String parentComm, String comm, long startTimeTicks,
                           double ageSeconds, int ttyNr, Read cmdline, CgroupRef cgroup, int nsPid,
                           String mountNamespace, double ttyIdleSeconds, List<ThreadSnapshot> threads) {
        this(pid, ppid, parentComm, comm, startTimeTicks, ageSeconds, ttyNr, cmdline, cgroup, nsPid, mountNamespace,
                ttyIdleSeconds, threads, true, OpenFiles.UNKNOWN);
    }

    public ThreadSnapshot mainThread() {
        return threads.get(0);
    }

    /** argv split on NUL, or an empty list when unreadable. */
    public List<String> argv() {
        if (cmdline == null || !cmdline.isOk() || cmdline.text().isEmpty()) {
            return List.of();
        }
        String t = cmdline.text();
        if (t.endsWith("\0")) {
            t = t.substring(0, t.length() - 1);
        }
        return List.of(t.split("\0", -1));
    }

    public String containerId() {
        return cgroup == null ? null : cgroup.containerId();
    }
}
