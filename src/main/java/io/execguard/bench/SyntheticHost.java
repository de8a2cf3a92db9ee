package io.execguard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Writes a synthetic host tree — {@code proc/}, {@code sys/fs/cgroup/}, {@code sys/fs/fuse/connections/} —
 * the way the kernel lays it out: full 52-field {@code stat} lines, {@code status} with the real key lines,
 * {@code stack} frames as {@code [<0>] name+0xoff/0xlen}, NUL-separated {@code cmdline}, {@code sched} with
 * {@code se.exec_start}. Used by fixture generators, tests and the benchmark.
 *
 * <pre>{@code
 * SyntheticHost h = SyntheticHost.create(dir, CgroupLayout.HYBRID, 86400);
 * h.sysctl("kernel.pty.nr", "12");
 * h.process(4242, "runc:[2:INIT]").ppid(4230).age(95).cmdline("runc", "init")
 *     .main(t -> t.state('D').wchan("request_wait_answer").stack("request_wait_answer+0x12f/0x210"))
 *     .write();
 * }</pre>
 *
 * Not thread-safe; every method writes at once (I/O errors surface as {@link UncheckedIOException}).
 */
public final class SyntheticHost {

    /** Clock ticks per second in {@code stat} (USER_HZ). */
    public static final int HZ = 100;
    /** PF_RANDOMIZE | PF_SUPERPRIV: what an ordinary user task shows in its stat flags. */
    public static final long USER_FLAGS = 0x00400100L;
    public static final long PF_EXITING = 0x00000004L;
    public static final long PF_SIGNALED = 0x00000400L;
    /** PF_KTHREAD | PF_NOFREEZE | PF_FORKNOEXEC: a kernel thread. */
    public static final long KTHREAD_FLAGS = 0x00208040L;
    public static final long SIGKILL = 1L << 8;

    /** Which cgroup hierarchies {@code sys/fs/cgroup} holds. */
    public enum CgroupLayout { V1, HYBRID, V2 }

    private static final String[] V1_CONTROLLERS = {"blkio", "cpu,cpuacct", "cpuset", "devices", "freezer",
        "hugetlb", "memory", "net_cls,net_prio", "perf_event", "pids", "systemd"};

    private final Path root;
    private final CgroupLayout layout;
    private final double uptime;

    private SyntheticHost(Path root, CgroupLayout layout, double uptime) {
        this.root = root.toAbsolutePath().normalize();
        this.layout = layout;
        this.uptime = uptime;
    }

    /**
     * Creates the skeleton under {@code root}: {@code proc/uptime}, the kernel's default sysctls, hostname
     * and release, and the cgroup hierarchy roots of {@code layout}.
     */
    public static SyntheticHost create(Path root, CgroupLayout layout, double uptimeSeconds) {
        SyntheticHost h = new SyntheticHost(root, layout, uptimeSeconds);
        h.writeFile("proc/uptime", String.format(Locale.ROOT, "%.2f %.2f%n", uptimeSeconds, uptimeSeconds * 3.7));
        h.sysctl("kernel.hostname", "node-1");
        h.sysctl("kernel.osrelease", "6.18.44");
        h.sysctl("kernel.pty.nr", "3");
        h.sysctl("kernel.pty.max", "4096");
        h.sysctl("kernel.pty.reserve", "1024");
        h.sysctl("fs.pipe-user-pages-soft", "16384");
        h.sysctl("fs.pipe-user-pages-hard", "0");
        h.sysctl("fs.pipe-max-size", "1048576");
        Path cg = h.root.resolve("sys/fs/cgroup");
        switch (layout) {
            case V1, HYBRID -> {
                for (String c : V1_CONTROLLERS) {
                    h.writeFile(cg.resolve(c).resolve("cgroup.procs"), "1\n");
                }
                if (layout == CgroupLayout.HYBRID) {
                    h.writeFile(cg.resolve("unified/cgroup.controllers"), "\n");
                }
            }
            case V2 -> h.writeFile(cg.resolve("cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
        }
        h.mkdirs(h.root.resolve("sys/fs/fuse/connections"));
        return h;
    }

    public Path root() {
        return root;
    }

    public double uptime() {
        return uptime;
    }

    public CgroupLayout layout() {
        return layout;
    }

    /** The {@code starttime} (clock ticks after boot) of a task that is {@code ageSeconds} old now. */
    public long startTicks(double ageSeconds) {
        return Math.max(1, Math.round((uptime - ageSeconds) * HZ));
    }

    /** {@code sysctl("kernel.pty.nr", "4000")} writes {@code proc/sys/kernel/pty/nr}. */
    public SyntheticHost sysctl(String dottedName, String value) {
        writeFile("proc/sys/" + dottedName.replace('.', '/'), value + "\n");
        return this;
    }

    /**
     * A pids cgroup with a limit. {@code path} is relative to the pids hierarchy (as {@code /proc/PID/cgroup}
     * shows it), e.g. {@code /kubepods/burstable/pod<uid>/<id>}; written under {@code pids/} for v1 and
     * hybrid layouts and at the root for v2.
     */
    public SyntheticHost pidsCgroup(String path, long current, String max, long eventsMax) {
        Path base = root.resolve("sys/fs/cgroup");
        if (layout != CgroupLayout.V2) {
            base = base.resolve("pids");
        }
        Path dir = base.resolve(path.startsWith("/") ? path.substring(1) : path);
        writeFile(dir.resolve("pids.max"), max + "\n");
        writeFile(dir.resolve("pids.current"), current + "\n");
        writeFile(dir.resolve("pids.events"), "max " + eventsMax + "\n");
        writeFile(dir.resolve("cgroup.procs"), "");
        return this;
    }

    /** {@code sys/fs/fuse/connections/<id>/waiting} (plus the {@code abort} and {@code max_background} files). */
    public SyntheticHost fuseConnection(int id, int waiting) {
        Path dir = root.resolve("sys/fs/fuse/connections").resolve(Integer.toString(id));
        writeFile(dir.resolve("waiting"), waiting + "\n");
        writeFile(dir.resolve("max_background"), "12\n");
        writeFile(dir.resolve("congestion_threshold"), "9\n");
        writeFile(dir.resolve("abort"), "");
        return this;
    }

    /** A kernel thread (child of kthreadd, PF_KTHREAD set, no memory, no cmdline). */
    public SyntheticHost kernelThread(int pid, String comm, char state, double ageSeconds) {
        process(pid, comm).ppid(pid == 2 ? 0 : 2).pgrp(0).session(0).age(ageSeconds).kernel()
                .main(t -> t.state(state).flags(KTHREAD_FLAGS)
                        .wchan(state == 'I' ? "worker_thread" : state == 'D' ? "kjournald2" : "smpboot_thread_fn"))
                .write();
        return this;
    }

    /** Starts describing a process; nothing is written until {@link Proc#write()}. */
    public Proc process(int pid, String comm) {
        return new Proc(pid, comm);
    }

    /** One thread (task) of a process. The main thread's tid is the pid. */
    public static final class Task {
        private final int tid;
        private String comm;
        private char state = 'S';
        private long flags = USER_FLAGS;
        private long sigPnd;
        private long shdPnd;
        private long sigBlk;
        private long sigIgn;
        private long sigCgt;
        private String wchan;
        private List<String> stack = List.of();
        private double blockedFor = Double.NaN;
        private long voluntary = 12;
        private long nonvoluntary = 1;
        private boolean deep = true;
        private String mountinfo;
        private String mntNs;

        Task(int tid, String comm) {
            this.tid = tid;
            this.comm = comm;
        }

        public Task comm(String c) {
            comm = c;
            return this;
        }

        public Task state(char s) {
            state = s;
            return this;
        }

        public Task flags(long f) {
            flags = f;
            return this;
        }

        /** The thread's private pending signals ({@code SigPnd}; also stat field 31). */
        public Task sigPnd(long mask) {
            sigPnd = mask;
            return this;
        }

        /** The thread group's pending signals ({@code ShdPnd}). */
        public Task shdPnd(long mask) {
            shdPnd = mask;
            return this;
        }

        public Task signalMasks(long blocked, long ignored, long caught) {
            sigBlk = blocked;
            sigIgn = ignored;
            sigCgt = caught;
            return this;
        }

        /** {@code wchan} as the kernel prints it (a symbol name; "0" when running). */
        public Task wchan(String w) {
            wchan = w;
            return this;
        }

        /** Frames as in {@code stack}, without the {@code [<0>] } prefix: {@code "pipe_write+0x1f9/0x540"}. */
        public Task stack(String... frames) {
            stack = List.of(frames);
            return this;
        }

        /** Writes {@code sched} with {@code se.exec_start} this many seconds before the host's uptime. */
        public Task blockedFor(double seconds) {
            blockedFor = seconds;
            return this;
        }

        public Task contextSwitches(long vol, long nonvol) {
            voluntary = vol;
            nonvoluntary = nonvol;
            return this;
        }

        /**
         * {@code task/TID/mountinfo} and {@code task/TID/ns/mnt}: a thread keeps its namespaces after its
         * group leader has exited (a zombie leader's own {@code mountinfo} and {@code ns/mnt} fail).
         */
        public Task namespace(String mntNsLink, String mountinfoText) {
            mntNs = mntNsLink;
            mountinfo = mountinfoText;
            return this;
        }

        /** Only {@code stat} and {@code status} (what an ordinary task of a big synthetic tree needs). */
        public Task shallow() {
            deep = false;
            return this;
        }
    }

    /** A process: its main thread, other threads, and the per-process files. */
    public final class Proc {
        private final int pid;
        private final Task main;
        private final List<Task> others = new ArrayList<>();
        private int ppid = 1;
        private int pgrp;
        private int session;
        private int ttyNr;
        private long startTicks;
        private List<String> argv;
        private String cgroup;
        private String mountinfo;
        private String mntNs;
        private int[] nsPid = new int[0];
        private boolean kernel;
        private Path terminal;
        private Instant terminalUsed;
        private String fdTarget;
        private long vsizeKb = 24_576;
        private long rssPages = 1_536;

        Proc(int pid, String comm) {
            this.pid = pid;
            this.pgrp = pid;
            this.session = pid;
            this.main = new Task(pid, comm);
            this.startTicks = SyntheticHost.this.startTicks(uptime / 2);
        }

        public Proc ppid(int p) {
            ppid = p;
            return this;
        }

        public Proc pgrp(int p) {
            pgrp = p;
            return this;
        }

        public Proc session(int s) {
            session = s;
            return this;
        }

        /** Controlling terminal device number (stat field 7), e.g. {@code 34816} for {@code /dev/pts/0}. */
        public Proc tty(int nr) {
            ttyNr = nr;
            return this;
        }

        /** Process age in seconds (sets {@code starttime}). */
        public Proc age(double seconds) {
            startTicks = SyntheticHost.this.startTicks(seconds);
            return this;
        }

        public Proc startTicks(long ticks) {
            startTicks = ticks;
            return this;
        }

        public Proc cmdline(String... args) {
            argv = List.of(args);
            return this;
        }

        /** Contents of {@code /proc/PID/cgroup}, one {@code id:controllers:path} line each. */
        public Proc cgroup(String text) {
            cgroup = text;
            return this;
        }

        /** Contents of {@code /proc/PID/mountinfo}. */
        public Proc mountinfo(String text) {
            mountinfo = text;
            return this;
        }

        /** Target of the {@code ns/mnt} symlink, e.g. {@code mnt:[4026532100]}. */
        public Proc mntNs(String link) {
            mntNs = link;
            return this;
        }

        /** Pids in nested namespaces after the host pid ({@code NSpid: <pid> 7} for {@code nsPid(7)}). */
        public Proc nsPid(int... inner) {
            nsPid = inner.clone();
            return this;
        }

        /** Symlinks {@code fd/0,1,2} to {@code target} without creating it (e.g. {@code /dev/null}). */
        public Proc fds(String target) {
            fdTarget = target;
            return this;
        }

        /**
         * Gives the process a terminal: {@code fd/0,1,2} link to {@code device} (created, absolute path, so
         * put it inside the tree) whose modification and access times are set to {@code lastUsed}.
         */
        public Proc terminal(Path device, Instant lastUsed) {
            terminal = device;
            terminalUsed = lastUsed;
            return this;
        }

        public Proc memory(long vsizeKbytes, long rssPagesCount) {
            vsizeKb = vsizeKbytes;
            rssPages = rssPagesCount;
            return this;
        }

        Proc kernel() {
            kernel = true;
            vsizeKb = 0;
            rssPages = 0;
            return this;
        }

        public Proc main(Consumer<Task> spec) {
            spec.accept(main);
            return this;
        }

        public Proc thread(int tid, Consumer<Task> spec) {
            Task t = new Task(tid, main.comm);
            spec.accept(t);
            others.add(t);
            return this;
        }

        /** Adds {@code n} threads {@code firstTid, firstTid+1, ...} parked in {@code futex_wait} (a Go runtime, a JVM). */
        public Proc idleThreads(int firstTid, int n, boolean shallow) {
            for (int i = 0; i < n; i++) {
                thread(firstTid + i, t -> {
                    t.wchan("futex_wait_queue").stack("futex_wait_queue+0x60/0x90", "futex_wait+0x185/0x270",
                            "do_futex+0x106/0x1b0", "__x64_sys_futex+0x8e/0x1d0", "do_syscall_64+0x82/0x190",
                            "entry_SYSCALL_64_after_hwframe+0x76/0x7e");
                    if (shallow) {
                        t.shallow();
                    }
                });
            }
            return this;
        }

        public int pid() {
            return pid;
        }

        /** Writes every file of the process and its threads. */
        public SyntheticHost write() {
            Path dir = root.resolve("proc").resolve(Integer.toString(pid));
            int threads = 1 + others.size();
            writeFile(dir.resolve("stat"), statLine(main, threads));
            writeFile(dir.resolve("status"), status(main, threads));
            writeFile(dir.resolve("comm"), main.comm + "\n");
            if (main.deep) {
                writeDeep(dir, main);
            }
            writeTask(dir, main, threads);
            for (Task t : others) {
                writeTask(dir, t, threads);
            }
            writeFile(dir.resolve("cmdline"), argv == null ? "" : String.join("\0", argv) + "\0");
            if (cgroup != null) {
                writeFile(dir.resolve("cgroup"), cgroup.endsWith("\n") ? cgroup : cgroup + "\n");
            }
            if (mountinfo != null) {
                writeFile(dir.resolve("mountinfo"), mountinfo.endsWith("\n") ? mountinfo : mountinfo + "\n");
            }
            if (mntNs != null) {
                symlink(dir.resolve("ns/mnt"), mntNs);
            }
            if (terminal != null) {
                writeFile(terminal, "");
                setTimes(terminal, terminalUsed);
                for (String fd : new String[] {"0", "1", "2"}) {
                    symlink(dir.resolve("fd").resolve(fd), terminal.toAbsolutePath().toString());
                }
            } else if (fdTarget != null) {
                for (String fd : new String[] {"0", "1", "2"}) {
                    symlink(dir.resolve("fd").resolve(fd), fdTarget);
                }
            }
            return SyntheticHost.this;
        }

        private void writeTask(Path dir, Task t, int threads) {
            Path td = dir.resolve("task").resolve(Integer.toString(t.tid));
            writeFile(td.resolve("stat"), statLine(t, threads));
            writeFile(td.resolve("status"), status(t, threads));
            if (t.deep) {
                writeFile(td.resolve("comm"), t.comm + "\n");
                writeDeep(td, t);
            }
            if (t.mntNs != null) {
                symlink(td.resolve("ns/mnt"), t.mntNs);
            }
            if (t.mountinfo != null) {
                writeFile(td.resolve("mountinfo"), t.mountinfo.endsWith("\n") ? t.mountinfo : t.mountinfo + "\n");
            }
        }

        private void writeDeep(Path dir, Task t) {
            writeFile(dir.resolve("wchan"), t.wchan == null ? "0" : t.wchan);
            StringBuilder s = new StringBuilder();
            for (String f : t.stack) {
                // Kernels before 4.17 print the address ("[<ffffffffb644bd50>] pipe_wait+0x70/0xc0"): kept as given.
                s.append(f.startsWith("[<") ? "" : "[<0>] ").append(f).append('\n');
            }
            writeFile(dir.resolve("stack"), s.toString());
            if (!Double.isNaN(t.blockedFor)) {
                writeFile(dir.resolve("sched"), sched(t));
            }
        }

        /** All 52 fields of {@code stat}, as {@code fs/proc/array.c} prints them. */
        private String statLine(Task t, int threads) {
            boolean sleeping = t.state == 'S' || t.state == 'D' || t.state == 'I';
            long code = kernel ? 0 : 94_000_000_000_000L + pid * 4096L;
            long stackTop = kernel ? 0 : 140_720_000_000_000L + pid * 8192L;
            StringBuilder b = new StringBuilder(256);
            b.append(t.tid).append(" (").append(t.comm).append(") ").append(t.state)
                    .append(' ').append(ppid).append(' ').append(pgrp).append(' ').append(session)
                    .append(' ').append(ttyNr).append(' ').append(ttyNr == 0 ? -1 : pgrp)
                    .append(' ').append(t.flags)
                    .append(" 1423 0 3 0") // minflt cminflt majflt cmajflt
                    .append(" 17 9 0 0") // utime stime cutime cstime
                    .append(" 20 0 ").append(threads).append(" 0 ").append(startTicks)
                    .append(' ').append(vsizeKb * 1024).append(' ').append(rssPages)
                    .append(kernel ? " 18446744073709551615 0 0 0" : " 18446744073709551615 " + code + " " + (code + 40_960)
                            + " " + stackTop)
                    .append(" 0 0") // kstkesp kstkeip
                    .append(' ').append(t.sigPnd & 0x7fffffffL)
                    .append(' ').append(t.sigBlk & 0x7fffffffL)
                    .append(' ').append(t.sigIgn & 0x7fffffffL)
                    .append(' ').append(t.sigCgt & 0x7fffffffL)
                    .append(' ').append(sleeping ? 1 : 0) // wchan (a boolean since 5.16)
                    .append(" 0 0 17 ").append(t.tid % 4) // nswap cnswap exit_signal processor
                    .append(" 0 0 0 0 0"); // rt_priority policy delayacct_blkio_ticks guest_time cguest_time
            if (kernel) {
                b.append(" 0 0 0 0 0 0 0 0");
            } else {
                b.append(' ').append(code + 48_000).append(' ').append(code + 52_000).append(' ').append(code + 900_000)
                        .append(' ').append(stackTop + 2_000).append(' ').append(stackTop + 2_040)
                        .append(' ').append(stackTop + 2_040).append(' ').append(stackTop + 4_000);
            }
            b.append(" 0\n"); // exit_code
            return b.toString();
        }

        private String status(Task t, int threads) {
            StringBuilder b = new StringBuilder(1400);
            line(b, "Name", t.comm);
            line(b, "Umask", "0022");
            line(b, "State", t.state + " (" + stateName(t.state) + ")");
            line(b, "Tgid", Integer.toString(pid));
            line(b, "Ngid", "0");
            line(b, "Pid", Integer.toString(t.tid));
            line(b, "PPid", Integer.toString(ppid));
            line(b, "TracerPid", "0");
            line(b, "Uid", "0\t0\t0\t0");
            line(b, "Gid", "0\t0\t0\t0");
            line(b, "FDSize", "64");
            line(b, "Groups", " ");
            String inner = nested(pid);
            line(b, "NStgid", inner);
            line(b, "NSpid", t.tid == pid ? inner : Integer.toString(t.tid) + innerSuffix(t.tid));
            line(b, "NSpgid", nested(pgrp));
            line(b, "NSsid", nested(session));
            line(b, "Kthread", kernel ? "1" : "0");
            if (!kernel) {
                line(b, "VmPeak", String.format(Locale.ROOT, "%8d kB", vsizeKb));
                line(b, "VmSize", String.format(Locale.ROOT, "%8d kB", vsizeKb));
                line(b, "VmLck", "       0 kB");
                line(b, "VmRSS", String.format(Locale.ROOT, "%8d kB", rssPages * 4));
                line(b, "VmSwap", "       0 kB");
                line(b, "CoreDumping", "0");
                line(b, "THP_enabled", "1");
            }
            line(b, "Threads", Integer.toString(threads));
            line(b, "SigQ", (Long.bitCount(t.sigPnd | t.shdPnd)) + "/96364");
            line(b, "SigPnd", hex(t.sigPnd));
            line(b, "ShdPnd", hex(t.shdPnd));
            line(b, "SigBlk", hex(t.sigBlk));
            line(b, "SigIgn", hex(t.sigIgn));
            line(b, "SigCgt", hex(t.sigCgt));
            line(b, "CapInh", "0000000000000000");
            line(b, "CapPrm", "000001ffffffffff");
            line(b, "CapEff", "000001ffffffffff");
            line(b, "CapBnd", "000001ffffffffff");
            line(b, "CapAmb", "0000000000000000");
            line(b, "NoNewPrivs", "0");
            line(b, "Seccomp", "0");
            line(b, "Seccomp_filters", "0");
            line(b, "Speculation_Store_Bypass", "thread vulnerable");
            line(b, "Cpus_allowed", "f");
            line(b, "Cpus_allowed_list", "0-3");
            line(b, "Mems_allowed", "00000000,00000001");
            line(b, "Mems_allowed_list", "0");
            line(b, "voluntary_ctxt_switches", Long.toString(t.voluntary));
            line(b, "nonvoluntary_ctxt_switches", Long.toString(t.nonvoluntary));
            return b.toString();
        }

        /** "4242 7": the host id, then the ids in nested namespaces (only the process's own pid has them). */
        private String nested(int id) {
            return id + (id == pid ? innerSuffix(id) : "");
        }

        private String innerSuffix(int tid) {
            StringBuilder b = new StringBuilder();
            for (int n : nsPid) {
                b.append('\t').append(n + (tid - pid));
            }
            return b.toString();
        }

        private String sched(Task t) {
            double execStartMs = (uptime - t.blockedFor) * 1000.0;
            StringBuilder b = new StringBuilder(900);
            b.append(t.comm).append(" (").append(t.tid).append(", #threads: ").append(1 + others.size()).append(")\n");
            b.append("-------------------------------------------------------------------\n");
            schedLine(b, "se.exec_start", String.format(Locale.ROOT, "%.6f", execStartMs));
            schedLine(b, "se.vruntime", "1203.384114");
            schedLine(b, "se.sum_exec_runtime", "271.114260");
            schedLine(b, "se.nr_migrations", "7");
            schedLine(b, "nr_switches", Long.toString(t.voluntary + t.nonvoluntary));
            schedLine(b, "nr_voluntary_switches", Long.toString(t.voluntary));
            schedLine(b, "nr_involuntary_switches", Long.toString(t.nonvoluntary));
            schedLine(b, "se.load.weight", "1048576");
            schedLine(b, "policy", "0");
            schedLine(b, "prio", "120");
            schedLine(b, "clock-delta", "41");
            return b.toString();
        }
    }

    private static void schedLine(StringBuilder b, String key, String value) {
        b.append(String.format(Locale.ROOT, "%-45s:%21s%n", key, value));
    }

    private static void line(StringBuilder b, String key, String value) {
        b.append(key).append(":\t").append(value).append('\n');
    }

    private static String hex(long mask) {
        return String.format(Locale.ROOT, "%016x", mask);
    }

    static String stateName(char s) {
        return switch (s) {
            case 'R' -> "running";
            case 'S' -> "sleeping";
            case 'D' -> "disk sleep";
            case 'T' -> "stopped";
            case 't' -> "tracing stop";
            case 'X' -> "dead";
            case 'Z' -> "zombie";
            case 'P' -> "parked";
            case 'I' -> "idle";
            default -> "unknown";
        };
    }

    private void writeFile(String relative, String text) {
        writeFile(root.resolve(relative), text);
    }

    private void writeFile(Path file, String text) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private void mkdirs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    private static void symlink(Path link, String target) {
        try {
            Files.createDirectories(link.getParent());
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, Path.of(target));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot link " + link, e);
        }
    }

    private static void setTimes(Path file, Instant when) {
        try {
            FileTime t = FileTime.from(when);
            Files.getFileAttributeView(file, BasicFileAttributeView.class).setTimes(t, t, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set times of " + file, e);
        }
    }
}
