package io.execguard.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * 410 Gone, as an API server says it (an ERROR event on an open watch, or the watch request's own status): the
 * watcher lists again and watches from the list's resourceVersion. A fake server, because the real one (v1.37)
 * accepts a watch from a compacted resourceVersion without an error (ProbeKubeAccessKubeIT has the rest).
 */
class PodWatcherGoneTest {

    private static final String POD = """
            {"metadata":{"namespace":"shop","name":"web-1","uid":"u1","resourceVersion":"100"},
             "spec":{"nodeName":"node-a"},"status":{"containerStatuses":[{"name":"app","containerID":"containerd://c1"}]}}"""
            .replace("\n", "");

    @Test
    void anExpiredEventOrStatusMeansListAgainAndWatchFromTheNewVersion() throws Exception {
        List<String> requests = new CopyOnWriteArrayList<>();
        AtomicInteger watchCalls = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/v1/pods", ex -> {
            String q = ex.getRequestURI().getRawQuery();
            requests.add(q);
            if (!q.contains("watch=1")) {
                reply(ex, 200, "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"100\"},\"items\":[" + POD + "]}");
                return;
            }
            switch (watchCalls.incrementAndGet()) {
                case 1 -> reply(ex, 200, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
                        + "\"reason\":\"Expired\",\"message\":\"too old resource version: 1 (100)\"}}\n");
                case 2 -> reply(ex, 410, "{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}");
                default -> {
                    ex.sendResponseHeaders(200, 0);
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    ex.close();
                }
            }
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
        try (PodWatcher w = new PodWatcher(ProbeTestData.api("http://127.0.0.1:" + server.getAddress().getPort()),
                "node-a", true, Duration.ofSeconds(30), "1")) {
            w.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (watchCalls.get() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(3, watchCalls.get(), requests.toString());
            assertTrue(w.synced());
            assertEquals(2, w.relists(), "one list after each 410: " + requests);
            assertTrue(requests.get(0).contains("resourceVersion=1"), requests.toString());
            assertTrue(requests.get(requests.size() - 1).contains("resourceVersion=100")
                    && requests.get(requests.size() - 1).contains("allowWatchBookmarks=true"), requests.toString());
            assertEquals("web-1", w.index().pods().get(0).name());
        } finally {
            release.countDown();
            server.stop(0);
        }
    }

    private static void reply(HttpExchange ex, int code, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(code, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    @Test
    void backoffDoublesToThirtySecondsWithJitterBetweenHalfAndAllOfTheStep() {
        for (int failures = 1; failures <= 12; failures++) {
            long step = Math.min(30_000, 1000L << Math.min(failures - 1, 10));
            java.util.Set<Long> seen = new java.util.HashSet<>();
            for (int i = 0; i < 200; i++) {
                long ms = PodWatcher.backoff(failures).toMillis();
                assertTrue(ms >= step / 2 && ms <= step, failures + ": " + ms);
                seen.add(ms);
            }
            assertTrue(seen.size() > 20, "jittered, not in step: " + seen.size());
        }
    }
}
