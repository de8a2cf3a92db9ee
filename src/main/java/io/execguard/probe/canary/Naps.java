package io.execguard.probe.canary;

import java.time.Duration;

/** The canary's and the sweep's waits: short naps (1 ms to 1 s), so that a closing loop notices soon. */
final class Naps {

    private Naps() {
    }

    /** Sleeps {@code d}, at least 1 ms and at most 1 s; false when interrupted (the interrupt is kept). */
    static boolean nap(Duration d) {
        try {
            Thread.sleep(Math.max(1, Math.min(d.toMillis(), 1000)));
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
