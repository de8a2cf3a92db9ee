package io.execguard.host;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.Path;

/**
 * The cheap pass's walk over a {@code proc} directory, one scan long: list the processes, read each one's
 * {@code stat}, list its tasks, read theirs — the system calls a C reader makes: one open, one read, one close per
 * {@code stat}, each opened relative to its open directory. Reads go into the caller's buffer and stop at a short
 * read that ends a line (the kernel writes a {@code stat} in one read); more reads follow otherwise, up to the
 * buffer's size.
 *
 * <p>{@link ProcWalks#open} picks the implementation: {@link NioProcWalk} everywhere; on Java 22+ (the jar is
 * multi-release) a procfs is walked through the foreign-function API instead, without NIO's objects per file
 * (docs/RESOURCES.md). Not thread-safe.
 */
interface ProcWalk extends AutoCloseable {

    /** {@link #readStat}: the task is gone (exited between listing and reading). */
    int GONE = -1;
    /** {@link #readStat}: there but not a readable file. */
    int UNREADABLE = -2;

    /**
     * The next process id listed, -1 after the last. A listing that fails part way throws
     * {@link DirectoryIteratorException} (what was listed before stands).
     */
    int nextPid();

    /** Reads {@code PID/stat} into the buffer: its length, {@link #GONE} or {@link #UNREADABLE}. */
    int readStat(int pid);

    /**
     * Lists {@code PID/task}, leaving it open for {@link #readTaskStat}: the number of tasks listed other than the
     * process's own ({@link #tid}), -1 when the process is gone. Throws when the directory cannot be listed.
     */
    int listTasks(int pid) throws IOException;

    /** The {@code i}th task listed by the last {@link #listTasks}. */
    int tid(int i);

    /** Reads {@code PID/task/TID/stat} of the {@code i}th task listed: as {@link #readStat}. */
    int readTaskStat(int i);

    @Override
    void close();

    /** {@code PID/stat} under {@code proc} for a {@code tid} below 0 (the process's), else {@code PID/task/TID/stat}. */
    static Path statPath(Path proc, int pid, int tid) {
        Path dir = proc.resolve(Integer.toString(pid));
        return (tid < 0 ? dir : dir.resolve("task").resolve(Integer.toString(tid))).resolve("stat");
    }
}
