package io.execguard.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads files that can block on a stuck task ({@code cmdline} and {@code environ} take the target's
 * mmap lock; {@code mountinfo} takes the namespace lock; a stat under a hung mount never returns).
 * Each read runs on a daemon thread and is abandoned after the deadline; the caller gets
 * {@link Read.Status#TIMED_OUT}. A thread stuck in the kernel cannot be reclaimed, so at most
 * {@code maxStuck} may be outstanding; beyond that reads are {@link Read.Status#SKIPPED}.
 */
public final class DeadlineReader implements AutoCloseable {

    private final Duration deadline;
    private final int maxStuck;
    private final AtomicInteger outstanding = new AtomicInteger();
    private final ExecutorService pool;

    public DeadlineReader(Duration deadline, int maxStuck) {
        this.deadline = deadline;
        this.maxStuck = maxStuck;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "execguard-deadline-read-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public Read readString(Path path) {
        return run(() -> new String(Files.readAllBytes(path), StandardCharsets.UTF_8));
    }

    /** Last-modified/last-access time of whatever {@code path} resolves to, as epoch millis, "mtime atime". */
    public Read fileTimes(Path path) {
        return run(() -> {
            var attrs = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class);
            return attrs.lastModifiedTime().toMillis() + " " + attrs.lastAccessTime().toMillis();
        });
    }

    private interface IoCall {
        String call() throws IOException;
    }

    private Read run(IoCall call) {
        if (outstanding.get() >= maxStuck) {
            return Read.skipped(maxStuck + " earlier reads are still blocked");
        }
        outstanding.incrementAndGet();
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
                    outstanding.decrementAndGet();
                }
            });
        } catch (RuntimeException e) {
            outstanding.decrementAndGet();
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
