package io.execguard.host;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a host's procfs, cgroupfs and fusectl into a {@link HostSnapshot}.
 *
 * <p>The cheap pass reads one {@code stat} per task into a reused buffer and marks suspects: D state,
 * PF_EXITING, SIGKILL pending, runtime processes, and terminals owned by a shim's children. Only those
 * are read deeply. Reads that can block on a stuck task go through the {@link DeadlineReader}.
 * Not thread-safe: one reader per scan loop.
 */
public final class HostReader {

    private static final Logger LOG = LoggerFactory.getLogger(HostReader.class);
    /** USER_HZ: clock ticks per second in {@code stat}; 100 on every architecture Linux containers run on. */
    public static final int CLOCK_TICKS = 100;

    /** Relative names the cheap pass resolves against every task's directory (parsed once, not per task). */
    private static final Path STAT = Path.of("stat");

    private final HostPaths paths;
    private final DeadlineReader slow;
    private final Clock clock;
    /** Holds the reading thread on a CPU to sample that CPU's clock (Java 22+; none on Java 21). */
    private final ThreadPin pin = ThreadPins.create();
    /** Each CPU's scheduler clock, kept from read to read (see {@link CpuClocks}). */
    private final CpuClocks clocks = new CpuClocks(this::execStartOn, this::sampleClockOn, System::nanoTime);
    private final byte[] buf = new byte[4096];
    private final Set<String> said = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.nio.ByteBuffer bufView = java.nio.ByteBuffer.wrap(buf);
    /**
     * Whether this scan's {@code proc} is a procfs mount ({@link #isProcfs}): every file in it is then a regular
     * file, a directory or a symlink, so the cheap pass opens {@code stat} files without looking first. A fixture
     * tree (any other file system) can hold a FIFO where a {@code stat} belongs, and opening that would block the
     * scan thread: there every file is looked at before it is opened.
     */
    private boolean procfs;

    public HostReader(HostPaths paths, DeadlineReader slow, Clock clock) {
        this.paths = paths;
        this.slow = slow;
        this.clock = clock;
    }

    /** How the cheap pass reads tasks in this runtime (NIO, or the foreign-function API on Java 22+), for logs. */
    public static String walkMechanism() {
        return ProcWalks.mechanism();
    }

    /** How the reader holds itself on a CPU to sample that CPU's clock (none on Java 21), for logs. */
    public String pinMechanism() {
        return pin.mechanism();
    }

    /** Cheap-pass record of a task that deserves a closer look. */
    private record Seen(int pid, ProcStat process, List<ProcStat> threads) {
    }

    public HostSnapshot read() {
        List<String> warnings = new ArrayList<>();
        double uptime = readUptime();
        Path proc = paths.proc();
        procfs = isProcfs(proc);
        CpuClocks clocks = this.clocks;
        clocks.newRead();
        CheapPass pass = new CheapPass(clocks, warnings);
        try (ProcWalk walk = ProcWalks.open(proc, procfs, buf)) {
            for (int pid = walk.nextPid(); pid >= 0; pid = walk.nextPid()) {
                pass.process(walk, pid);
            }
        } catch (NoSuchFileException e) {
            throw new HostUnreadableException(proc + " does not exist: is --host-root the host's root?");
        } catch (IOException e) {
            throw new HostUnreadableException("cannot list " + proc + ": " + e.getMessage());
        } catch (java.nio.file.DirectoryIteratorException e) {
            warnings.add("listing " + proc + " failed part way (" + e.getCause().getMessage() + "); scanned what was listed");
        }
        if (pass.tasks == 0) {
            throw new HostUnreadableException(proc + " holds no processes: is procfs mounted there?");
        }
        PidComms comms = pass.comms;
        Map<Integer, Seen> suspects = pass.suspects;
        Set<String> runtimes = pass.runtimes;
        int tasks = pass.tasks;
        for (Seen s : pass.ttyOwners) {
            String parent = comms.get(s.process().ppid());
            if (parent != null && RuntimeNames.isShim(parent)) {
                suspects.putIfAbsent(s.pid(), s);
            }
        }
        Map<String, List<MountEntry>> mounts = new HashMap<>();
        List<ProcessSnapshot> processes = new ArrayList<>(suspects.size());
        long nowMillis = clock.millis();
        for (Seen s : suspects.values()) {
            ProcessSnapshot p = readDeep(s, comms.get(s.process().ppid()), uptime, nowMillis, clocks, mounts,
                    warnings);
            if (p != null) {
                processes.add(p);
            }
        }
        readHostMountsIfNeeded(processes, mounts, warnings);
        HostInfo host = readHostInfo(uptime, List.copyOf(runtimes));
        List<PidsCgroup> pids = new CgroupReader(paths).readPidsCgroups(warnings);
        Map<Integer, Long> inits = runtimes.isEmpty() ? Map.of() : readContainerInits(warnings);
        return new HostSnapshot(host, List.copyOf(processes), pids, Map.copyOf(mounts), readFuseConnections(),
                tasks, List.copyOf(warnings), slow.outstanding(), inits);
    }

    /**
     * One scan's cheap pass, a process at a time: its own method so that the JIT compiles it after a few hundred
     * processes of the first scan (the scan's loop itself runs once per interval and would stay interpreted).
     */
    private final class CheapPass {
        private final CpuClocks clocks;
        private final List<String> warnings;
        private final PidComms comms = new PidComms();
        private final Map<Integer, Seen> suspects = new java.util.LinkedHashMap<>();
        private final List<Seen> ttyOwners = new ArrayList<>();
        private final Set<String> runtimes = new TreeSet<>();
        private int tasks;

        CheapPass(CpuClocks clocks, List<String> warnings) {
            this.clocks = clocks;
            this.warnings = warnings;
        }

        void process(ProcWalk walk, int pid) {
            ProcStat ps = parsed(walk.readStat(pid), pid, -1, warnings);
            if (ps == null) {
                return;
            }
            tasks++;
            comms.put(pid, ps.comm());
            if (ps.state() == 'R') {
                clocks.runnable(ps.processor(), pid, pid);
            }
            if (ps.kernelThread()) {
                return;
            }
            if (RuntimeNames.isDaemon(ps.comm())) {
                runtimes.add(ps.comm());
            } else if (RuntimeNames.isShim(ps.comm())) {
                runtimes.add("containerd-shim".equals(ps.comm()) ? "containerd-shim" : ps.comm());
            }
            List<ProcStat> threads = new ArrayList<>(Math.max(1, ps.numThreads()));
            threads.add(ps);
            boolean suspect = suspect(ps) || RuntimeNames.isRunc(ps.comm());
            if (ps.numThreads() > 1) {
                int n = listTasks(walk, pid, warnings);
                for (int i = 0; i < n; i++) {
                    ProcStat ts = parsed(walk.readTaskStat(i), pid, walk.tid(i), warnings);
                    if (ts == null) {
                        continue;
                    }
                    tasks++;
                    threads.add(ts);
                    if (ts.state() == 'R') {
                        clocks.runnable(ts.processor(), pid, ts.tid());
                    }
                    suspect |= suspect(ts);
                }
            }
            Seen seen = new Seen(pid, ps, threads);
            if (suspect) {
                suspects.put(pid, seen);
            } else if (ps.ttyNr() != 0) {
                ttyOwners.add(seen);
            }
        }
    }

    /** Identity and progress of one thread, for the confirmation re-read. */
    public record Recheck(long startTime, char state, long contextSwitches, boolean sigkillPending) {
    }

    /** Re-reads a thread for confirmation; null when it is gone or unreadable. */
    public Recheck recheck(int pid, int tid) {
        List<String> ignored = new ArrayList<>();
        ProcStat processStat = readStat(paths.proc().resolve(Integer.toString(pid)), ignored);
        if (processStat == null) {
            return null;
        }
        Path taskDir = paths.task(pid, tid);
        ProcStat ts = tid == pid ? processStat : readStat(taskDir, ignored);
        if (ts == null) {
            return null;
        }
        ProcStatus status = readStatus(taskDir, ignored);
        long pending = ts.pending() | status.sigPnd() | status.shdPnd();
        return new Recheck(processStat.startTime(), ts.state(), status.contextSwitches(),
                (pending & ThreadSnapshot.SIGKILL_BIT) != 0);
    }

    private static boolean suspect(ProcStat s) {
        return s.state() == 'D' || s.exiting() || (s.pending() & ThreadSnapshot.SIGKILL_BIT) != 0;
    }

    /** The tasks of {@code pid} listed by {@code walk} (0 when it is gone or cannot be listed: a warning). */
    private int listTasks(ProcWalk walk, int pid, List<String> warnings) {
        try {
            return Math.max(0, walk.listTasks(pid));
        } catch (IOException | RuntimeException e) {
            warnings.add("cannot list " + paths.proc().resolve(pid + "/task") + ": " + e.getMessage());
            return 0;
        }
    }

    /**
     * The {@code stat} read by the walk ({@code len} bytes in {@link #buf}, or {@link ProcWalk#GONE} or
     * {@link ProcWalk#UNREADABLE}) parsed; null, with a warning unless the task is gone, when it cannot be.
     */
    private ProcStat parsed(int len, int pid, int tid, List<String> warnings) {
        if (len < 0) {
            if (len == ProcWalk.UNREADABLE) {
                warnings.add("cannot read " + statPath(pid, tid) + " (not a readable file); skipped");
            }
            return null;
        }
        try {
            return ProcStat.parse(buf, len);
        } catch (ProcParseException e) {
            warnings.add(statPath(pid, tid) + ": " + e.getMessage() + "; skipped");
            return null;
        }
    }

    private Path statPath(int pid, int tid) {
        return ProcWalk.statPath(paths.proc(), pid, tid);
    }

    private ProcessSnapshot readDeep(Seen s, String parentComm, double uptime, long nowMillis, CpuClocks clocks,
                                     Map<String, List<MountEntry>> mounts, List<String> warnings) {
        int pid = s.pid();
        sampleOwnClock(clocks);
        Path pidDir = paths.proc().resolve(Integer.toString(pid));
        List<ThreadSnapshot> threads = new ArrayList<>(s.threads().size());
        int nsPid = -1;
        // The kernel reads a task's stack under its thread group's exec lock (cred_guard_mutex before 5.7,
        // exec_update_lock since), which a task stuck in execve holds: once one thread's stack read times out,
        // the other threads' reads would wait on the same lock.
        boolean stackLocked = false;
        long start = s.process().startTime();
        for (ProcStat ts : s.threads()) {
            Path taskDir = paths.task(pid, ts.tid());
            ProcStatus status = readStatus(taskDir, warnings);
            if (ts.tid() == pid) {
                nsPid = status.innermostNsPid();
            }
            // a thread's reads are keyed by its tid (unique while the process lives) and the process's start time
            String wchan = readUnderDeadline(key(ts.tid(), start, DeadlineReader.Kind.WCHAN), taskDir.resolve("wchan"),
                    warnings);
            if (wchan != null && (wchan.isEmpty() || wchan.equals("0"))) {
                wchan = null;
            }
            List<String> stack = List.of();
            if (!stackLocked) {
                Path stackFile = taskDir.resolve("stack");
                Read st = slow.readString(key(ts.tid(), start, DeadlineReader.Kind.STACK), stackFile);
                if (st.isOk()) {
                    stack = KernelStack.parse(st.text());
                } else if (st.status() == Read.Status.TIMED_OUT || st.status() == Read.Status.SKIPPED) {
                    stackLocked = true;
                    warnings.add("reading " + stackFile + " " + (st.status() == Read.Status.TIMED_OUT ? "timed out ("
                            + st.detail() + ")" : "was skipped (" + st.detail() + ")")
                            + ": the kernel reads a stack under the task's exec lock, which a task in execve holds; "
                            + "the stacks of pid " + pid + " are left out and its cause is judged from wchan");
                }
            }
            double blockedFor = blockedFor(taskDir, ts.processor(), clocks, uptime,
                    Math.max(0, uptime - (double) ts.startTime() / CLOCK_TICKS));
            threads.add(new ThreadSnapshot(ts.tid(), ts.comm(), ts.state(), ts.flags(),
                    ts.pending() | status.sigPnd(), status.shdPnd(), wchan, stack, status.contextSwitches(),
                    blockedFor));
        }
        if (threads.isEmpty()) {
            return null;
        }
        // cgroup first: it gives the finding its container, and it takes no lock of the task's own.
        CgroupRef cgroup = null;
        Read cg = slow.readString(key(pid, start, DeadlineReader.Kind.CGROUP), pidDir.resolve("cgroup"));
        if (cg.isOk()) {
            cgroup = CgroupRef.ofProcFile(cg.text());
        } else if (cg.status() != Read.Status.MISSING) {
            warnings.add("reading " + pidDir.resolve("cgroup") + " did not succeed (" + cg.detail()
                    + "); its container is unknown");
        }
        Path nsDir = pidDir;
        String mntNs = readLink(pidDir.resolve("ns/mnt"));
        if (mntNs == null) {
            // A zombie group leader has dropped its namespaces (its ns/mnt and mountinfo fail) while a thread
            // stuck in do_exit still holds them (seed 004): read the mount table through that thread.
            for (ThreadSnapshot t : threads) {
                if (t.tid() != pid && !t.dead()) {
                    String link = readLink(paths.task(pid, t.tid()).resolve("ns/mnt"));
                    if (link != null) {
                        mntNs = link;
                        nsDir = paths.task(pid, t.tid());
                        break;
                    }
                }
            }
        }
        String nsKey = mntNs != null ? mntNs : "pid:" + pid;
        if (!mounts.containsKey(nsKey)) {
            Read mi = slow.readString(key(pid, start, DeadlineReader.Kind.MOUNTINFO), nsDir.resolve("mountinfo"));
            if (mi.isOk()) {
                try {
                    mounts.put(nsKey, MountEntry.parseAll(mi.text()));
                } catch (ProcParseException e) {
                    warnings.add(nsDir.resolve("mountinfo") + ": " + e.getMessage());
                }
            }
        }
        Read filesRead = slow.call(key(pid, start, DeadlineReader.Kind.FILES), () -> readFiles(pidDir));
        OpenFiles files = filesRead.isOk() ? OpenFiles.decode(filesRead.text()) : OpenFiles.UNKNOWN;
        // Last: cmdline takes the task's mmap lock, which a task stuck in the kernel may hold forever.
        Read cmdline = slow.readString(key(pid, start, DeadlineReader.Kind.CMDLINE), pidDir.resolve("cmdline"));
        if (cmdline.status() == Read.Status.TIMED_OUT) {
            warnings.add("reading " + pidDir.resolve("cmdline") + " timed out: the process holds its memory lock");
        }
        ProcStat main = s.process();
        double idle = main.ttyNr() != 0 ? ttyIdle(pidDir, key(pid, start, DeadlineReader.Kind.TERMINAL), nowMillis)
                : Double.NaN;
        double age = Math.max(0, uptime - (double) main.startTime() / CLOCK_TICKS);
        return new ProcessSnapshot(pid, main.ppid(), parentComm, main.comm(), main.startTime(), age, main.ttyNr(),
                cmdline, cgroup, nsPid, mounts.containsKey(nsKey) ? nsKey : null, idle, List.copyOf(threads),
                cg.isOk(), files);
    }

    /**
     * Mount ids are unique on the host, not per namespace: a file opened in one mount namespace and passed to
     * (or inherited by) a task in another keeps the mount of the first, which the task's own mountinfo does
     * not list. When a suspect holds such a file, the host's table ({@code /proc/1/mountinfo}, the initial
     * mount namespace) is read too, so the file's mount, and for FUSE its connection, is known.
     */
    private void readHostMountsIfNeeded(List<ProcessSnapshot> processes, Map<String, List<MountEntry>> mounts,
                                        List<String> warnings) {
        Set<Integer> known = new java.util.HashSet<>();
        mounts.values().forEach(t -> t.forEach(m -> known.add(m.id())));
        boolean unresolved = processes.stream()
                .anyMatch(p -> p.files().mountIds().stream().anyMatch(id -> !known.contains(id)));
        if (!unresolved) {
            return;
        }
        Path init = paths.proc("1");
        String ns = readLink(init.resolve("ns/mnt"));
        String nsKey = ns != null ? ns : "pid:1";
        if (mounts.containsKey(nsKey)) {
            return;
        }
        Read mi = slow.readString(key(1, 0, DeadlineReader.Kind.MOUNTINFO), init.resolve("mountinfo"));
        if (mi.isOk()) {
            try {
                mounts.put(nsKey, MountEntry.parseAll(mi.text()));
            } catch (ProcParseException e) {
                warnings.add(init.resolve("mountinfo") + ": " + e.getMessage());
            }
        }
    }

    private static DeadlineReader.Key key(int pid, long startTime, DeadlineReader.Kind kind) {
        return new DeadlineReader.Key(pid, startTime, kind);
    }

    /** Open files looked at per process (a runtime daemon can hold thousands; the stuck task's are few). */
    static final int MAX_FDS = 1024;

    /**
     * cwd, root and the mount of each open file with a path: {@code mnt_id} from {@code fdinfo/N} (kernel
     * 3.15+), else the path {@code fd/N} links to. Sockets, pipes, anonymous inodes and memfds are left out:
     * they live on internal mounts no mountinfo shows and no FUSE request can be on them. Reading these never
     * touches the filesystem the files live on (the links are the kernel's own record of the path).
     */
    private static String readFiles(Path pidDir) throws IOException {
        String cwd = procPath(readLink(pidDir.resolve("cwd")));
        String root = procPath(readLink(pidDir.resolve("root")));
        Set<Integer> ids = new TreeSet<>();
        Set<String> fdPaths = new TreeSet<>();
        boolean all = true;
        int n = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(pidDir.resolve("fd"))) {
            for (Path fd : fds) {
                if (parsePid(fd.getFileName().toString()) < 0) {
                    continue;
                }
                if (++n > MAX_FDS) {
                    all = false;
                    break;
                }
                String target = procPath(readLink(fd));
                if (target == null || target.startsWith("/memfd:")) {
                    continue; // a socket, pipe, anonymous inode or memfd (or the fd was closed meanwhile)
                }
                int id = mntId(readSmall(pidDir.resolve("fdinfo").resolve(fd.getFileName().toString())));
                if (id >= 0) {
                    ids.add(id);
                } else {
                    fdPaths.add(target);
                }
            }
        } catch (NoSuchFileException e) {
            // no fd directory (a zombie, or a tree without one): cwd and root only
        } catch (java.nio.file.DirectoryIteratorException e) {
            all = false; // the process exited while its fds were listed: keep what was read
        }
        return OpenFiles.encode(all, cwd, root, List.copyOf(ids), List.copyOf(fdPaths));
    }

    /** The {@code mnt_id:} line of an fdinfo file, or -1. */
    static int mntId(String fdinfo) {
        if (fdinfo == null) {
            return -1;
        }
        for (String line : fdinfo.split("\n")) {
            if (line.startsWith("mnt_id:")) {
                try {
                    return Integer.parseInt(line.substring(7).trim());
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    /** A path as a proc link shows it, without the kernel's " (deleted)" suffix; null for sockets, pipes etc. */
    private static String procPath(String link) {
        if (link == null || !link.startsWith("/")) {
            return null;
        }
        return link.endsWith(" (deleted)") ? link.substring(0, link.length() - 10) : link;
    }

    /**
     * Seconds since the task last ran: "now" minus {@code se.exec_start} from {@code sched} (milliseconds
     * of the scheduler's task clock). NaN where the kernel lacks {@code CONFIG_SCHED_DEBUG}.
     *
     * <p>{@code se.exec_start} is {@code rq_clock_task} of the CPU the task last ran on, which leaves out time
     * spent in interrupts and, on virtual machines, time stolen by the hypervisor; {@code /proc/uptime}
     * (CLOCK_BOOTTIME) includes both, so on a VM it runs minutes ahead, and the CPUs' clocks drift apart by
     * seconds. "Now" is therefore read in the task's own CPU's clock ({@link CpuClocks}), that CPU read from its
     * {@code stat} between two reads of its {@code sched} (a task that ran or moved in between is not blocked: 0);
     * where that clock is not known, in the reading thread's clock on another CPU (off by the drift); where
     * neither is known or it is before the task's last run (a fixture tree has no {@code thread-self}), uptime.
     * The result never exceeds the thread's age, which is measured in one clock (start time against uptime).
     */
    private double blockedFor(Path taskDir, int cpu, CpuClocks clocks, double uptime, double age) {
        double[] sched = schedClock(taskDir);
        if (sched == null) {
            return Double.NaN;
        }
        double execStartMs = sched[0];
        int onCpu = cpu;
        if (clocks.live()) {
            // its CPU now (the cheap pass's may be stale), read between two reads of its sched: a task that ran or
            // moved meanwhile is not blocked
            ProcStat st = readStat(taskDir, new ArrayList<>());
            double[] again = schedClock(taskDir);
            if (st != null && again != null) {
                if (again[0] != sched[0] || again[1] != sched[1]) {
                    return 0;
                }
                onCpu = st.processor();
            }
        }
        double seconds = clocks.blockedSeconds(onCpu, execStartMs);
        double blocked = Double.isNaN(seconds) ? Math.max(0, uptime - execStartMs / 1000.0) : seconds;
        return Double.isNaN(age) ? blocked : Math.min(blocked, age);
    }

    /**
     * Notes the reading thread's own clock and CPU ({@code thread-self}): its {@code sched}, its {@code stat},
     * its {@code sched} again. Taken only when no migration came between the two {@code sched} reads, so the
     * CPU the {@code stat} names is the one the clock is of: that CPU, or -1 where there is no {@code thread-self}
     * or it moved.
     */
    private int sampleOwnClock(CpuClocks clocks) {
        Path self = paths.proc("thread-self");
        double[] before = schedClock(self);
        if (before == null) {
            return -1;
        }
        ProcStat st = readStat(self, new ArrayList<>());
        double[] after = schedClock(self);
        if (st != null && after != null && after[1] == before[1]) {
            clocks.ranOn(st.processor(), after[0]);
            return st.processor();
        }
        return -1;
    }

    /**
     * Samples the reader's own clock on {@code cpu} with the reading thread held there ({@link CpuClocks.Pin}); only on
     * a procfs, whose {@code thread-self} is the reading thread (a fixture tree's is not).
     */
    private boolean sampleClockOn(int cpu) {
        int[] on = {-1};
        return procfs && pin.run(cpu, () -> on[0] = sampleOwnClock(clocks)) && on[0] == cpu;
    }

    /**
     * {@code se.exec_start} of task {@code tid} of {@code pid} if it was on {@code cpu} as it was read: its
     * {@code sched}, then its {@code stat} names {@code cpu}, then its {@code sched} shows no migration since.
     */
    private double execStartOn(int cpu, int pid, int tid) {
        Path taskDir = paths.task(pid, tid);
        double[] before = schedClock(taskDir);
        if (before == null) {
            return Double.NaN;
        }
        ProcStat st = readStat(taskDir, new ArrayList<>());
        if (st == null || st.processor() != cpu) {
            return Double.NaN;
        }
        double[] after = schedClock(taskDir);
        return after != null && after[1] == before[1] ? before[0] : Double.NaN;
    }

    /**
     * {@code se.exec_start} (ms) and {@code se.nr_migrations} (-1 when absent) of a task directory's
     * {@code sched}, or null when it has no {@code se.exec_start}.
     */
    private static double[] schedClock(Path taskDir) {
        String sched = readSmall(taskDir.resolve("sched"));
        if (sched == null) {
            return null;
        }
        double execStart = schedField(sched, "se.exec_start");
        if (Double.isNaN(execStart)) {
            return null;
        }
        double migrations = schedField(sched, "se.nr_migrations");
        return new double[] {execStart, Double.isNaN(migrations) ? -1 : migrations};
    }

    /** The number after {@code name}'s colon in a {@code sched} file, or NaN. */
    private static double schedField(String sched, String name) {
        int i = sched.indexOf(name);
        if (i < 0) {
            return Double.NaN;
        }
        int colon = sched.indexOf(':', i);
        if (colon < 0) {
            return Double.NaN;
        }
        int eol = sched.indexOf('\n', colon);
        try {
            return Double.parseDouble(sched.substring(colon + 1, eol < 0 ? sched.length() : eol).trim());
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Seconds since the process's terminal was last read or written (its pts inode times). */
    private double ttyIdle(Path pidDir, DeadlineReader.Key key, long nowMillis) {
        for (String fd : new String[] {"0", "1", "2"}) {
            Path p = pidDir.resolve("fd").resolve(fd);
            String target = readLink(p);
            if (target != null && !target.contains("pts") && !target.contains("tty") && !target.contains("console")) {
                continue;
            }
            Read times = slow.fileTimes(key, p);
            if (times.isOk()) {
                String[] t = times.text().split(" ");
                long last = Math.max(Long.parseLong(t[0]), Long.parseLong(t[1]));
                return Math.max(0, (nowMillis - last) / 1000.0);
            }
        }
        return Double.NaN;
    }

    private ProcStatus readStatus(Path taskDir, List<String> warnings) {
        Path file = taskDir.resolve("status");
        String text = readSmall(file);
        if (text == null) {
            if (Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                warnings.add("cannot read " + file + "; its signal masks and namespace pids are unknown");
            }
            return ProcStatus.UNKNOWN;
        }
        try {
            return ProcStatus.parse(text);
        } catch (ProcParseException e) {
            warnings.add(taskDir.resolve("status") + ": " + e.getMessage());
            return ProcStatus.UNKNOWN;
        }
    }

    /** The {@code stat} of the task directory {@code dir}, by its full path (the cheap pass reads through {@link ProcWalk}). */
    private ProcStat readStat(Path dir, List<String> warnings) {
        int len = readInto(dir.resolve(STAT));
        if (len < 0) {
            if (len == -2) {
                warnings.add("cannot read " + dir.resolve(STAT) + " (not a readable file); skipped");
            }
            return null;
        }
        try {
            return ProcStat.parse(buf, len);
        } catch (ProcParseException e) {
            warnings.add(dir.resolve(STAT) + ": " + e.getMessage() + "; skipped");
            return null;
        }
    }

    /**
     * Reads a whole small file of {@code proc} into {@link #buf}; -1 when it vanished, -2 when unreadable. Only a
     * regular file is opened (a FIFO in its place would block the scan thread in open()): on procfs every file
     * is one, elsewhere it is looked at first ({@link #procfs}).
     *
     * <p>The system calls are those of a C reader: open, read, close. A {@link FileChannel} opens without the
     * {@code fstat} a {@code FileInputStream} adds, and the reading stops at a short read that ends a line:
     * the kernel writes a {@code stat} or a sysctl in one read (a seq_file fills the buffer it is given), so a
     * second read would only return end-of-file. A full buffer, or a read that does not end a line, is followed
     * by more reads until end-of-file or a full buffer, as before.
     */
    private int readInto(Path file) {
        if (!procfs && !isRegular(file)) {
            return Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? -2 : -1;
        }
        try (FileChannel in = FileChannel.open(file)) {
            return readAll(in);
        } catch (NoSuchFileException e) {
            // Gone (the task exited) is silent; there but unreadable (a dangling link) is not.
            return Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? -2 : -1;
        } catch (IOException | RuntimeException e) {
            return -2; // a directory in its place (EISDIR), no permission
        }
    }

    private int readAll(java.nio.channels.ReadableByteChannel in) throws IOException {
        return NioProcWalk.readAll(in, buf, bufView);
    }

    /** Whether {@code dir} is on a procfs mount, as the mount table says; false when that cannot be told. */
    static boolean isProcfs(Path dir) {
        try {
            return "proc".equals(Files.getFileStore(dir).type());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * {@code wchan} through the deadline: kernels print it without sleeping locks, but a fixture or a
     * misbehaving file system in its place must not hold up the scan. A timeout is a warning, the value unknown.
     */
    private String readUnderDeadline(DeadlineReader.Key key, Path file, List<String> warnings) {
        Read r = slow.readString(key, file);
        if (r.status() == Read.Status.TIMED_OUT) {
            warnings.add("reading " + file + " timed out (" + r.detail() + "); left out");
        }
        return r.isOk() ? r.text() : null;
    }

    /** Small procfs files are a page or two; more than this is not what the kernel writes there. */
    static final int MAX_SMALL = 1 << 20;

    /**
     * Small procfs file that never blocks on another task (stat, status, sched). Only a regular file is read
     * (every procfs and sysfs file is one; a FIFO or device in its place would block the scan thread), and at
     * most {@link #MAX_SMALL} bytes of it.
     */
    private static String readSmall(Path file) {
        if (!isRegular(file)) {
            return null;
        }
        try (java.io.InputStream in = Files.newInputStream(file)) {
            return Bounded.read(in, MAX_SMALL);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Whether {@code file} (links followed) is a regular file; false for FIFOs, devices, directories, loops. */
    static boolean isRegular(Path file) {
        try {
            return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).isRegularFile();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static String readLink(Path link) {
        try {
            return Files.isSymbolicLink(link) ? Files.readSymbolicLink(link).toString() : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private double readUptime() {
        Path p = paths.proc("uptime");
        String text = readSmall(p);
        if (text == null) {
            if (!Files.isDirectory(paths.proc())) {
                throw new HostUnreadableException(paths.proc() + " does not exist: is --host-root the host's root?");
            }
            throw new HostUnreadableException("cannot read " + p);
        }
        try {
            return Double.parseDouble(text.trim().split("\\s+")[0]);
        } catch (RuntimeException e) {
            throw new HostUnreadableException(p + " is garbled: '" + text.trim() + "'");
        }
    }

    private HostInfo readHostInfo(double uptime, List<String> runtimes) {
        return new HostInfo(sysctlText("kernel/hostname"), sysctlText("kernel/osrelease"), new CgroupReader(paths).layout(),
                runtimes, sysctl("kernel/pty/nr"), sysctl("kernel/pty/max"), sysctl("kernel/pty/reserve"),
                sysctl("fs/pipe-user-pages-soft"),
                sysctl("fs/pipe-user-pages-hard"), sysctl("fs/pipe-max-size"), uptime);
    }

    /**
     * A sysctl's value, read with one {@code read()} from offset 0 into {@link #buf}. The kernel's numeric
     * sysctl handlers ({@code proc_dointvec} and kin) return end-of-file at any non-zero file position, so
     * a reader that starts with a short probe read (as {@code Files.readString} does on a file whose size
     * is 0) would get only the first digit: 16384 read as 1.
     */
    private String sysctlText(String name) {
        int len = readInto(paths.proc("sys/" + name));
        return len < 0 ? null : new String(buf, 0, len, StandardCharsets.UTF_8).trim();
    }

    private long sysctl(String name) {
        String v = sysctlText(name);
        if (v == null) {
            return -1;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            LOG.debug("sysctl {} is not a number: {}", name, v);
            return -1;
        }
    }

    private List<FuseConnection> readFuseConnections() {
        Path dir = paths.fuseConnections();
        if (!Files.isDirectory(dir)) {
            sayOnce(false, "fusectl:" + dir, "no fusectl at {}: FUSE connections and their waiting requests are not seen "
                    + "(mount -t fusectl none /sys/fs/fuse/connections on the host)", dir);
            return List.of();
        }
        List<FuseConnection> out = new ArrayList<>();
        try (DirectoryStream<Path> conns = Files.newDirectoryStream(dir)) {
            for (Path c : conns) {
                int id = parsePid(c.getFileName().toString());
                if (id < 0) {
                    continue;
                }
                Path file = c.resolve("waiting");
                if (!isRegular(file)) {
                    continue; // gone, or not a kernel file (a FIFO in a crafted tree would block the open)
                }
                String waiting;
                try (java.io.InputStream in = Files.newInputStream(file)) {
                    waiting = Bounded.read(in, MAX_SMALL);
                } catch (java.nio.file.NoSuchFileException e) {
                    continue; // the connection went away while listed
                } catch (IOException | RuntimeException e) {
                    sayOnce(true, "fusectl-read:" + e.getClass().getName(), "cannot read {} ({}): FUSE connections whose "
                            + "waiting count cannot be read count as idle", file, e.toString());
                    continue;
                }
                try {
                    out.add(new FuseConnection(id, Integer.parseInt(waiting.trim())));
                } catch (NumberFormatException e) {
                    LOG.debug("fuse connection {} waiting is garbled", id);
                }
            }
        } catch (IOException e) {
            sayOnce(true, "fusectl-list:" + e.getClass().getName(), "cannot list {}: {}", dir, e.toString());
        }
        out.sort(java.util.Comparator.comparingInt(FuseConnection::id));
        return List.copyOf(out);
    }

    /** A host condition that stays true scan after scan is said once per reader, not every scan. */
    private void sayOnce(boolean warn, String key, String format, Object... args) {
        if (said.add(key)) {
            if (warn) {
                LOG.warn(format, args);
            } else {
                LOG.info(format, args);
            }
        }
    }

    /**
     * Where runc keeps a container's state ({@code --root}): containerd's runc shims under
     * {@code /run/containerd/runc/<namespace>/<id>}, dockerd's under {@code /run/docker/runtime-runc/moby/<id>},
     * runc's default (CRI-O, podman, plain runc) {@code /run/runc/<id>}.
     */
    static final List<String> RUNC_ROOTS = List.of("run/containerd/runc", "run/docker/runtime-runc", "run/runc");
    /** A runc state.json is a few KB; anything far larger is not one. */
    static final long MAX_STATE_BYTES = 1 << 20;
    /** Built at the first runc state read, not when the reader is loaded: a host without runtimes needs none. */
    private static final class Json {
        static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper();
    }

    /**
     * Every container's own process as runc records it: {@code init_process_pid} and {@code init_process_start}
     * (its start time in clock ticks, as in {@code stat}) of each {@code state.json} one or two levels under a
     * runc root. A process named there is the container's own process whatever its pid in its namespace (a pod
     * that shares its process namespace gives its containers' inits nsPid &gt; 1).
     */
    private Map<Integer, Long> readContainerInits(List<String> warnings) {
        Map<Integer, Long> out = new HashMap<>();
        for (String r : RUNC_ROOTS) {
            Path root = paths.root().resolve(r);
            if (!Files.isDirectory(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try (java.util.stream.Stream<Path> files = Files.find(root, 3,
                    (p, a) -> a.isRegularFile() && p.getFileName().toString().equals("state.json"))) {
                files.forEach(f -> readState(f, out, warnings));
            } catch (IOException | RuntimeException e) {
                warnings.add("cannot list " + root + " (" + e.getMessage() + "); containers' own processes there "
                        + "are not known");
            }
        }
        return out;
    }

    private static void readState(Path file, Map<Integer, Long> out, List<String> warnings) {
        try {
            if (Files.size(file) > MAX_STATE_BYTES) {
                warnings.add(file + " is larger than " + MAX_STATE_BYTES + " bytes; not a runc state, skipped");
                return;
            }
            com.fasterxml.jackson.databind.JsonNode n = Json.MAPPER.readTree(file.toFile());
            int pid = n == null ? 0 : n.path("init_process_pid").asInt(0);
            if (pid > 0) {
                out.put(pid, Math.max(0, n.path("init_process_start").asLong(0)));
            }
        } catch (IOException | RuntimeException e) {
            warnings.add("cannot read " + file + " (" + e.getMessage() + "); skipped");
        }
    }

    static int parsePid(String name) {
        int n = name.length();
        if (n == 0 || n > 9) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }
}
