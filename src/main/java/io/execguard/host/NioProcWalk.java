package io.execguard.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Set;

/**
 * {@link ProcWalk} through NIO: a {@link SecureDirectoryStream} per directory (each {@code stat} opened relative to
 * it, {@code openat}), a channel per file. Every runtime has it; on Java 22+ {@link ProcWalks} prefers the
 * foreign-function version on a procfs. Outside procfs ({@code procfs} false: a fixture tree) a file is looked at
 * before it is opened, so that a FIFO where a {@code stat} belongs cannot block the scan thread in {@code open()}.
 */
final class NioProcWalk implements ProcWalk {

    private static final Set<OpenOption> READ_ONLY = Set.of(StandardOpenOption.READ);
    private static final Path STAT = Path.of("stat");
    private static final Path TASK = Path.of("task");

    private final Path proc;
    private final boolean procfs;
    private final byte[] buf;
    private final ByteBuffer view;
    private final DirectoryStream<Path> pids;
    private final SecureDirectoryStream<Path> at;
    private final Iterator<Path> names;
    private DirectoryStream<Path> tasks;
    private SecureDirectoryStream<Path> taskAt;
    private int taskPid;
    private int[] tids = new int[16];

    /**
     * Opens {@code proc} for listing. Throws {@link NoSuchFileException} when it does not exist, another
     * {@link IOException} when it cannot be listed.
     */
    NioProcWalk(Path proc, boolean procfs, byte[] buf) throws IOException {
        this.proc = proc;
        this.procfs = procfs;
        this.buf = buf;
        this.view = ByteBuffer.wrap(buf);
        this.pids = Files.newDirectoryStream(proc);
        this.at = pids instanceof SecureDirectoryStream<Path> sds ? sds : null;
        this.names = pids.iterator();
    }

    /**
     * The next process id listed, -1 after the last. A listing that fails part way throws
     * {@link DirectoryIteratorException} (what was listed before stands).
     */
    @Override
    public int nextPid() {
        while (names.hasNext()) {
            int pid = HostReader.parsePid(names.next().getFileName().toString());
            if (pid >= 0) {
                return pid;
            }
        }
        return -1;
    }

    /** Reads {@code PID/stat} into the buffer: its length, {@link ProcWalk#GONE} or {@link ProcWalk#UNREADABLE}. */
    @Override
    public int readStat(int pid) {
        Path relative = Path.of(Integer.toString(pid), "stat");
        return read(at, relative, pid, -1);
    }

    /**
     * Lists {@code PID/task}, leaving it open for {@link #readTaskStat}: the number of tasks listed other than the
     * process's own ({@link #tid}), -1 when the process is gone. Throws when the directory cannot be listed.
     */
    @Override
    public int listTasks(int pid) throws IOException {
        closeTasks();
        taskPid = pid;
        Path rel = Path.of(Integer.toString(pid)).resolve(TASK);
        try {
            tasks = at != null ? at.newDirectoryStream(rel) : Files.newDirectoryStream(proc.resolve(rel));
        } catch (NoSuchFileException e) {
            return -1;
        }
        taskAt = tasks instanceof SecureDirectoryStream<Path> sds ? sds : null;
        int n = 0;
        try {
            for (Path p : tasks) {
                int tid = HostReader.parsePid(p.getFileName().toString());
                if (tid < 0 || tid == pid) {
                    continue;
                }
                if (n == tids.length) {
                    tids = Arrays.copyOf(tids, n * 2);
                }
                tids[n++] = tid;
            }
        } catch (DirectoryIteratorException e) {
            if (e.getCause() instanceof NoSuchFileException) {
                return -1;
            }
            throw e.getCause();
        }
        return n;
    }

    /** The {@code i}th task listed by the last {@link #listTasks}. */
    @Override
    public int tid(int i) {
        return tids[i];
    }

    /** Reads {@code PID/task/TID/stat} of the {@code i}th task listed: as {@link #readStat}. */
    @Override
    public int readTaskStat(int i) {
        Path relative = Path.of(Integer.toString(tids[i])).resolve(STAT);
        return read(taskAt, relative, taskPid, tids[i]);
    }

    /**
     * Reads {@code relative} in {@code dir} (the task {@code tid} of {@code pid}, or {@code pid}'s own {@code stat}
     * for a tid of -1); its full path is built only where
     * {@code dir} is not a secure stream or the read did not succeed.
     */
    private int read(SecureDirectoryStream<Path> dir, Path relative, int pid, int tid) {
        if (!procfs && !(dir != null ? isRegular(dir, relative) : Files.isRegularFile(full(pid, tid)))) {
            return Files.exists(full(pid, tid), LinkOption.NOFOLLOW_LINKS) ? UNREADABLE : GONE;
        }
        try (SeekableByteChannel in = dir != null ? dir.newByteChannel(relative, READ_ONLY)
                : Files.newByteChannel(full(pid, tid), READ_ONLY)) {
            return readAll(in, buf, view);
        } catch (NoSuchFileException e) {
            // Gone (the task exited) is silent; there but unreadable (a dangling link) is not.
            return Files.exists(full(pid, tid), LinkOption.NOFOLLOW_LINKS) ? UNREADABLE : GONE;
        } catch (IOException | RuntimeException e) {
            return UNREADABLE; // a directory in its place (EISDIR), no permission
        }
    }

    private Path full(int pid, int tid) {
        return ProcWalk.statPath(proc, pid, tid);
    }

    /**
     * Reads {@code in} into {@code buf} (through {@code view}, which wraps it) and stops at a short read that ends a
     * line — the kernel writes a {@code stat} or a sysctl in one read — or at end-of-file or a full buffer: the
     * length read.
     */
    static int readAll(ReadableByteChannel in, byte[] buf, ByteBuffer view) throws IOException {
        view.clear();
        int total = 0;
        int n;
        while (total < buf.length && (n = in.read(view)) > 0) {
            total += n;
            if (total < buf.length && buf[total - 1] == '\n') {
                break;
            }
        }
        return total;
    }

    /** A name relative to an open directory is a regular file ({@code fstatat}, links followed). */
    private static boolean isRegular(SecureDirectoryStream<Path> dir, Path relative) {
        try {
            return dir.getFileAttributeView(relative, BasicFileAttributeView.class).readAttributes().isRegularFile();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private void closeTasks() {
        if (tasks != null) {
            try {
                tasks.close();
            } catch (IOException ignored) {
                // a directory opened for reading: nothing to lose
            }
            tasks = null;
            taskAt = null;
        }
    }

    @Override
    public void close() {
        closeTasks();
        try {
            pids.close();
        } catch (IOException ignored) {
            // as above
        }
    }
}
