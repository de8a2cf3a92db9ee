package io.execguard.host;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@link ProcWalk} through the foreign-function API (Java 22+): {@code openat} relative to the open {@code proc}
 * and task directories, {@code getdents64} into one native buffer per directory kind, {@code read} into one native
 * buffer copied to the caller's, {@code close} — the calls {@link NioProcWalk} makes, without its objects per file
 * (a path, a channel and its cleaner, a temporary direct buffer per read: ~1.7 KB per task, docs/RESOURCES.md).
 * Used on a procfs only: there every name is a directory, a regular file or a link, so nothing is looked at before
 * it is opened. Native memory: ~68 KB for the scan, freed when the walk is closed.
 */
final class NativeProcWalk implements ProcWalk {

    private static final int O_RDONLY_CLOEXEC = 0x80000; // O_RDONLY | O_CLOEXEC: the same value on x86-64 and arm64
    private static final int ENOENT = 2;
    private static final int ESRCH = 3;
    private static final int EINTR = 4;
    private static final int DENTS = 32 * 1024;
    private static final byte[] STAT = "/stat".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TASK = "/task".getBytes(StandardCharsets.US_ASCII);

    /** The libc calls, linked once per JVM (at the first scan); null when this libc lacks one of them. */
    private static final class Native {
        private static final Linker LINKER = Linker.nativeLinker();
        private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
        private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
        // openat(int dirfd, const char *path, int flags, ...): the mode is passed as the variadic argument it is
        private static final MethodHandle OPENAT = find("openat", FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                Linker.Option.firstVariadicArg(3));
        private static final MethodHandle READ = find("read", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        private static final MethodHandle GETDENTS64 = find("getdents64", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        private static final MethodHandle CLOSE = find("close", FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT));
        private static final int AT_FDCWD = -100;

        private static MethodHandle find(String name, FunctionDescriptor d, Linker.Option... more) {
            Linker.Option[] options = Arrays.copyOf(more, more.length + 1);
            options[more.length] = CAPTURE;
            return LINKER.defaultLookup().find(name).map(a -> LINKER.downcallHandle(a, d, options)).orElse(null);
        }

        static boolean linked() {
            return OPENAT != null && READ != null && GETDENTS64 != null && CLOSE != null;
        }
    }

    private final byte[] buf;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment state;
    private final MemorySegment name;
    private final MemorySegment data;
    private final MemorySegment procDents;
    private final MemorySegment taskDents;
    private final int procFd;
    private int procAt;
    private int procEnd;
    private boolean procDone;
    private int taskFd = -1;
    private int[] tids = new int[16];

    /** Whether this runtime's libc has every call the walk makes (links them at the first call). */
    static boolean available() {
        try {
            return Native.linked();
        } catch (RuntimeException | LinkageError e) {
            return false; // native access refused, or no linker for this platform
        }
    }

    NativeProcWalk(Path proc, byte[] buf) throws IOException {
        this.buf = buf;
        this.state = arena.allocate(Native.CALL_STATE);
        this.name = arena.allocate(4096);
        this.data = arena.allocate(buf.length);
        this.procDents = arena.allocate(DENTS);
        this.taskDents = arena.allocate(DENTS);
        byte[] path = proc.toString().getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(path, 0, name, ValueLayout.JAVA_BYTE, 0, path.length);
        name.set(ValueLayout.JAVA_BYTE, path.length, (byte) 0);
        int fd;
        try {
            fd = openAt(Native.AT_FDCWD);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        if (fd < 0) {
            int errno = errno();
            arena.close();
            if (errno == ENOENT) {
                throw new NoSuchFileException(proc.toString());
            }
            throw new IOException(proc + ": open failed, errno " + errno);
        }
        this.procFd = fd;
    }

    @Override
    public int nextPid() {
        while (true) {
            if (procAt >= procEnd) {
                if (procDone) {
                    return -1;
                }
                long n = getdents(procFd, procDents);
                if (n < 0) {
                    procDone = true;
                    throw new DirectoryIteratorException(new IOException("getdents64 failed, errno " + errno()));
                }
                if (n == 0) {
                    procDone = true;
                    return -1;
                }
                procAt = 0;
                procEnd = (int) n;
            }
            int entry = procAt;
            procAt += recordLength(procDents, entry);
            int pid = entryNumber(procDents, entry);
            if (pid >= 0) {
                return pid;
            }
        }
    }

    @Override
    public int readStat(int pid) {
        int end = putNumber(0, pid);
        end = put(end, STAT);
        name.set(ValueLayout.JAVA_BYTE, end, (byte) 0);
        return readFile(procFd);
    }

    @Override
    public int listTasks(int pid) throws IOException {
        closeTasks();
        int end = put(putNumber(0, pid), TASK);
        name.set(ValueLayout.JAVA_BYTE, end, (byte) 0);
        int fd = openAt(procFd);
        if (fd < 0) {
            int errno = errno();
            if (errno == ENOENT || errno == ESRCH) {
                return -1;
            }
            throw new IOException("open failed, errno " + errno);
        }
        taskFd = fd;
        int count = 0;
        while (true) {
            long n = getdents(fd, taskDents);
            if (n < 0) {
                int errno = errno();
                if (errno == ENOENT || errno == ESRCH) {
                    return -1;
                }
                throw new IOException("getdents64 failed, errno " + errno);
            }
            if (n == 0) {
                return count;
            }
            for (int at = 0; at < n; at += recordLength(taskDents, at)) {
                int tid = entryNumber(taskDents, at);
                if (tid < 0 || tid == pid) {
                    continue;
                }
                if (count == tids.length) {
                    tids = Arrays.copyOf(tids, count * 2);
                }
                tids[count++] = tid;
            }
        }
    }

    @Override
    public int tid(int i) {
        return tids[i];
    }

    @Override
    public int readTaskStat(int i) {
        int end = put(putNumber(0, tids[i]), STAT);
        name.set(ValueLayout.JAVA_BYTE, end, (byte) 0);
        return readFile(taskFd);
    }

    /** Opens {@link #name} relative to {@code dir}, reads it into {@link #buf} as {@link NioProcWalk} does, closes it. */
    private int readFile(int dir) {
        int fd = openAt(dir);
        if (fd < 0) {
            int errno = errno();
            return errno == ENOENT || errno == ESRCH ? GONE : UNREADABLE;
        }
        try {
            int total = 0;
            while (total < buf.length) {
                long n = read(fd, buf.length - total);
                if (n < 0) {
                    int errno = errno();
                    if (errno == EINTR) {
                        continue;
                    }
                    // the task exited between open and read (ESRCH); anything else: not readable
                    return errno == ESRCH ? GONE : UNREADABLE;
                }
                if (n == 0) {
                    break;
                }
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, buf, total, (int) n);
                total += (int) n;
                if (total < buf.length && buf[total - 1] == '\n') {
                    break;
                }
            }
            return total;
        } finally {
            closeFd(fd);
        }
    }

    private int openAt(int dir) {
        try {
            int fd;
            do {
                fd = (int) Native.OPENAT.invokeExact(state, dir, name, O_RDONLY_CLOEXEC, 0);
            } while (fd < 0 && errno() == EINTR);
            return fd;
        } catch (Throwable t) {
            throw new IllegalStateException("openat", t);
        }
    }

    private long read(int fd, long max) {
        try {
            return (long) Native.READ.invokeExact(state, fd, data, max);
        } catch (Throwable t) {
            throw new IllegalStateException("read", t);
        }
    }

    private long getdents(int fd, MemorySegment into) {
        try {
            long n;
            do {
                n = (long) Native.GETDENTS64.invokeExact(state, fd, into, (long) DENTS);
            } while (n < 0 && errno() == EINTR);
            return n;
        } catch (Throwable t) {
            throw new IllegalStateException("getdents64", t);
        }
    }

    private void closeFd(int fd) {
        try {
            int ignored = (int) Native.CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close", t);
        }
    }

    private int errno() {
        return (int) Native.ERRNO.get(state, 0L);
    }

    /** {@code struct linux_dirent64}: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name. */
    private static int recordLength(MemorySegment dents, int at) {
        return dents.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + 16) & 0xffff;
    }

    /** The entry's name as a decimal number (a pid or tid), -1 when it is not one. */
    private static int entryNumber(MemorySegment dents, int at) {
        int end = at + recordLength(dents, at);
        long value = 0;
        int digits = 0;
        for (int i = at + 19; i < end; i++) {
            byte b = dents.get(ValueLayout.JAVA_BYTE, i);
            if (b == 0) {
                break;
            }
            if (b < '0' || b > '9' || ++digits > 9) { // as HostReader.parsePid
                return -1;
            }
            value = value * 10 + (b - '0');
        }
        return digits == 0 ? -1 : (int) value;
    }

    private int putNumber(int at, int value) {
        int digits = 1;
        for (int v = value; v >= 10; v /= 10) {
            digits++;
        }
        for (int i = at + digits - 1, v = value; i >= at; i--, v /= 10) {
            name.set(ValueLayout.JAVA_BYTE, i, (byte) ('0' + v % 10));
        }
        return at + digits;
    }

    private int put(int at, byte[] bytes) {
        MemorySegment.copy(bytes, 0, name, ValueLayout.JAVA_BYTE, at, bytes.length);
        return at + bytes.length;
    }

    private void closeTasks() {
        if (taskFd >= 0) {
            closeFd(taskFd);
            taskFd = -1;
        }
    }

    @Override
    public void close() {
        try {
            closeTasks();
            closeFd(procFd);
        } finally {
            arena.close();
        }
    }
}
