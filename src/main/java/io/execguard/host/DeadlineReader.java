package io.execguard.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Reads files that can block on a stuck task ({@code cmdline} and {@code environ} take the target's
 * mmap lock; {@code mountinfo} takes the namespace lock; a stat under a hung mount never returns).
 * Each read runs on a daemon thread and is abandoned after the deadline; the caller gets
 * {@link Read.Status#TIMED_OUT}. A thread stuck in the kernel cannot be reclaimed, so:
 * <ul>
 * <li>a read is identified by the task (pid and start time) and the {@link Kind} of file; while an earlier
 *     read of the same task and kind is still blocked, no new one is started ({@link Read#stillBlocked}),
 *     so one stuck task holds at most one thread per kind however many scans go by;</li>
 * <li>each kind has its own budget of {@code maxStuck} outstanding reads; beyond it reads of that kind are
 *     {@link Read.Status#SKIPPED}. A task whose {@code cmdline} never answers cannot starve the
 *     {@code cgroup} and {@code mountinfo} reads that give a finding its container and mount.</li>
 * </ul>
 */
public final class DeadlineReader implements AutoCloseable {

    /** What is read; each kind has its own budget of outstanding reads. */
    public enum Kind { CGROUP, MOUNTINFO, CMDLINE, FILES, TERMINAL, WCHAN, STACK }

    /** One read's identity: the task (pid and start time in clock ticks) and what of it is read. */
    public record Key(int pid, long startTime, Kind kind) {
    }

    /** An I/O call to run under the deadline. */
    public interface IoCall {
        String call() throws IOException;
    }

    private final Duration deadline;
    private final int maxStuck;
    private final LongSupplier millis;
    private final Map<Kind, AtomicInteger> outstanding = new EnumMap<>(Kind.class);
    /** Reads started and not returned yet, with the time each started. */
    private final Map<Key, Long> inFlight = new ConcurrentHashMap<>();
    private final ExecutorService pool;

    public DeadlineReader(Duration deadline, int maxStuck) {
        this(deadline, maxStuck, System::currentTimeMillis);
    }

    /**
     * @param maxStuck outstanding reads allowed per {@link Kind}
     * @param millis   a millisecond clock (for how long a read has been blocked)
     */
    public DeadlineReader(Duration deadline, int maxStuck, LongSupplier millis) {
        this.deadline = deadline;
        this.maxStuck = maxStuck;
        this.millis = millis;
        for (Kind k : Kind.values()) {
            outstanding.put(k, new AtomicInteger());
        }
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "execguard-deadline-read-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** At most this much of a mountinfo is read: one of 100,000 mounts is ~15 MB; more is not procfs. */
    static final int MAX_MOUNTINFO_BYTES = 32 << 20;
    /**
     * At most this much of any other file: a cmdline is bounded by the argument space (a quarter of the
     * stack limit, 2 MB by default); cgroup, wchan and stack are a page or two.
     */
    static final int MAX_BYTES = 4 << 20;

    public Read readString(Key key, Path path) {
        int max = key.kind() == Kind.MOUNTINFO ? MAX_MOUNTINFO_BYTES : MAX_BYTES;
        return run(key, () -> {
            try (java.io.InputStream in = Files.newInputStream(path)) {
                return Bounded.read(in, max);
            }
        });
    }

    /** Last-modified/last-access time of whatever {@code path} resolves to, as epoch millis, "mtime atime". */
    public Read fileTimes(Key key, Path path) {
        return run(key, () -> {
            var attrs = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class);
            return attrs.lastModifiedTime().toMillis() + " " + attrs.lastAccessTime().toMillis();
        });
    }

    /** Any read of a task's files under the deadline, with the same identity and budget rules. */
    public Read call(Key key, IoCall call) {
        return run(key, call);
    }

    /** Reads outstanding now (started, abandoned after the deadline, not returned), by kind. */
    public Map<Kind, Integer> outstanding() {
        Map<Kind, Integer> out = new EnumMap<>(Kind.class);
        outstanding.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    private Read run(Key key, IoCall call) {
        Long started = inFlight.get(key);
        if (started != null) {
            return Read.stillBlocked(Math.max(0, millis.getAsLong() - started));
        }
        AtomicInteger budget = outstanding.get(key.kind());
        if (budget.incrementAndGet() > maxStuck) {
            budget.decrementAndGet();
            return Read.skipped(maxStuck + " earlier " + key.kind().name().toLowerCase(java.util.Locale.ROOT)
                    + " reads are still blocked");
        }
        inFlight.put(key, millis.getAsLong());
        Future<Read> f;
        try {
            f = pool.submit(() -> {
                try {
                    return Read.ok(call.call());
                } catch (NoSuchFileException e) {
                    return Read.missing();
                } catch (AccessDeniedException e) {
                    return Read.failed("permission denied");
                } catch (IOException e) {
                    return Read.failed(String.valueOf(e.getMessage()));
                } finally {
                    inFlight.remove(key);
                    budget.decrementAndGet();
                }
            });
        } catch (RuntimeException e) {
            inFlight.remove(key);
            budget.decrementAndGet();
            return Read.failed("could not start read: " + e);
        }
        try {
            return f.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return Read.timedOut(deadline.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Read.failed("interrupted");
        } catch (ExecutionException e) {
            return Read.failed(String.valueOf(e.getCause()));
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
