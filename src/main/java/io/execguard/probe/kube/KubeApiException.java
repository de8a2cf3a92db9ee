package io.execguard.probe.kube;

/** The API server answered with an error status ({@link #code()}), or could not be reached (code 0). */
public final class KubeApiException extends RuntimeException {

    private final int code;

    public KubeApiException(int code, String message) {
        super(message);
        this.code = code;
    }

    public KubeApiException(String message, Throwable cause) {
        super(message + ": " + cause, cause);
        this.code = 0;
    }

    /** The HTTP status code, or 0 when no answer came (connection refused, timeout, TLS failure). */
    public int code() {
        return code;
    }
}
