package io.execguard.probe;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/** Serves {@code /metrics} (Prometheus text), {@code /healthz} and {@code /readyz} on one port. */
public final class HealthServer implements AutoCloseable {

    private final HttpServer server;

    public HealthServer(int port, Metrics metrics, BooleanSupplier healthy, BooleanSupplier ready) throws IOException {
        this(port, metrics, healthy, ready, () -> null);
    }

    /** @param detail a second line for {@code /healthz} (e.g. how many deadline reads are blocked), or null */
    public HealthServer(int port, Metrics metrics, BooleanSupplier healthy, BooleanSupplier ready,
                        Supplier<String> detail) throws IOException {
        server = HttpServer.create(new InetSocketAddress(port), 16);
        server.createContext("/metrics", ex -> reply(ex, 200, "text/plain; version=0.0.4", metrics.render()));
        server.createContext("/healthz", ex -> {
            String more = detail.get();
            String suffix = more == null ? "" : "\n" + more;
            status(ex, healthy.getAsBoolean(), "scan loop progressing" + suffix, "scan loop stalled" + suffix);
        });
        server.createContext("/readyz", ex -> status(ex, ready.getAsBoolean(), "ready", "no scan completed yet"));
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void status(HttpExchange ex, boolean ok, String good, String bad) throws IOException {
        reply(ex, ok ? 200 : 503, "text/plain", (ok ? good : bad) + "\n");
    }

    private static void reply(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
