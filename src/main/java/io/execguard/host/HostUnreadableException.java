package io.execguard.host;

/** The host root cannot be scanned at all (no procfs, no permission). */
public final class HostUnreadableException extends RuntimeException {
    public HostUnreadableException(String message) {
        super(message);
    }
}
