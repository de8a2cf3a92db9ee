package io.execguard.host;

/**
 * This runtime's {@link ThreadPin}: the Java 22+ version of this class (the jar is multi-release; the Java 21
 * version has none). {@link NativeThreadPin} when this libc has {@code sched_getaffinity} and
 * {@code sched_setaffinity}, else none.
 */
final class ThreadPins {

    private ThreadPins() {
    }

    static ThreadPin create() {
        return NativeThreadPin.available() ? new NativeThreadPin() : ThreadPin.NONE;
    }
}
