package io.execguard.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

class HealthServerTest {

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesPrometheusTextAndHealthEndpoints() throws Exception {
        Metrics m = new Metrics();
        m.counter("execguard_api_writes_total", "Status writes.");
        m.inc("execguard_api_writes_total", "reason", "changed");
        m.inc("execguard_api_writes_total", "reason", "changed");
        AtomicBoolean healthy = new AtomicBoolean(true);
        AtomicBoolean ready = new AtomicBoolean(false);
        try (HealthServer s = new HealthServer(0, m, healthy::get, ready::get)) {
            HttpResponse<String> metrics = get(s.port(), "/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("# TYPE execguard_api_writes_total counter\n"), metrics.body());
            assertTrue(metrics.body().contains("execguard_api_writes_total{reason=\"changed\"} 2\n"), metrics.body());
            assertEquals(200, get(s.port(), "/healthz").statusCode());
            assertEquals(503, get(s.port(), "/readyz").statusCode());
            ready.set(true);
            healthy.set(false);
            assertEquals(200, get(s.port(), "/readyz").statusCode());
            assertEquals(503, get(s.port(), "/healthz").statusCode());
        }
    }

    @Test
    void healthzCarriesTheDetailLine() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> detail =
                new java.util.concurrent.atomic.AtomicReference<>("2 deadline reads blocked in the kernel (cmdline 2)");
        try (HealthServer s = new HealthServer(0, new Metrics(), () -> true, () -> true, detail::get)) {
            HttpResponse<String> h = get(s.port(), "/healthz");
            assertEquals(200, h.statusCode());
            assertEquals("scan loop progressing\n2 deadline reads blocked in the kernel (cmdline 2)\n", h.body());
        }
    }
}
