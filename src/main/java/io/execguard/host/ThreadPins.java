package io.execguard.host;

/**
 * This runtime's {@link ThreadPin}: the Java 21 version of this class, which has none. The Java 22+ version in
 * {@code src/main/java22} pins with {@code sched_setaffinity} through the foreign-function API.
 */
final class ThreadPins {

    private ThreadPins() {
    }

    static ThreadPin create() {
        return ThreadPin.NONE;
    }
}
