package io.execguard.probe.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The bearer token of the probe's requests. A projected service-account token is bound and expires (the kubelet
 * replaces the file at 80 % of its lifetime), so a file-backed token is re-read when it is older than
 * {@link #REREAD} (as client-go does) and at once after a 401 ({@link #invalidate}). A static token (from a
 * kubeconfig {@code token:}) never changes.
 */
public final class TokenSource {

    static final Duration REREAD = Duration.ofMinutes(1);

    private final Path file;
    private final String fixed;
    private final Clock clock;
    private String token;
    private Instant readAt = Instant.MIN;

    private TokenSource(Path file, String fixed, Clock clock) {
        this.file = file;
        this.fixed = fixed;
        this.clock = clock;
    }

    public static TokenSource file(Path file, Clock clock) {
        return new TokenSource(file, null, clock);
    }

    public static TokenSource fixed(String token) {
        return new TokenSource(null, token, Clock.systemUTC());
    }

    public static TokenSource none() {
        return new TokenSource(null, null, Clock.systemUTC());
    }

    /** The token to send now, or null for none. */
    public synchronized String token() {
        if (file == null) {
            return fixed;
        }
        Instant now = clock.instant();
        if (token == null || !now.isBefore(readAt.plus(REREAD))) {
            try {
                token = Files.readString(file, StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                if (token == null) {
                    throw new UncheckedIOException("cannot read the service-account token " + file, e);
                }
                // keep the last token: the kubelet swaps the file atomically, a failed read is transient
            }
            readAt = now;
        }
        return token;
    }

    /** The server refused the token (401): read the file again on the next request. */
    public synchronized void invalidate() {
        readAt = Instant.MIN;
    }

    public boolean rotates() {
        return file != null;
    }

    @Override
    public String toString() {
        return file != null ? "token file " + file : fixed != null ? "static token" : "no token";
    }
}
