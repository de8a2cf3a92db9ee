package io.execguard.host;

/** A procfs or cgroupfs file whose content is not what the kernel writes. The message says why. */
public final class ProcParseException extends RuntimeException {
    public ProcParseException(String message) {
        super(message);
    }
}
