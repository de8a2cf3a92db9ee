package io.execguard.host;

/**
 * The outcome of reading one file that may block or vanish. A read that timed out is evidence
 * (the task holds a lock the kernel needs), not an error.
 */
public record Read(Status status, String text, String detail) {

    public enum Status { OK, MISSING, TIMED_OUT, FAILED, SKIPPED }

    public static Read ok(String text) {
        return new Read(Status.OK, text, null);
    }

    public static Read missing() {
        return new Read(Status.MISSING, null, null);
    }

    public static Read timedOut(long millis) {
        return new Read(Status.TIMED_OUT, null, "no answer within " + millis + " ms");
    }

    public static Read failed(String detail) {
        return new Read(Status.FAILED, null, detail);
    }

    /**
     * The same file of the same task was read in an earlier scan and that read has not returned yet: the
     * task still holds the lock the read waits for. Not read again (one blocked thread per task and file).
     */
    public static Read stillBlocked(long sinceMillis) {
        return new Read(Status.TIMED_OUT, null, "an earlier read has been blocked for " + sinceMillis
                + " ms and has not returned; not read again");
    }

    public static Read skipped(String detail) {
        return new Read(Status.SKIPPED, null, detail);
    }

    public boolean isOk() {
        return status == Status.OK;
    }
}
