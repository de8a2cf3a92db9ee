package io.execguard.probe;

import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import io.execguard.probe.kube.KubeApi;
import io.execguard.probe.kube.KubeApiException;

/**
 * Watches the pods of this node only ({@code spec.nodeName} field selector) and serves a {@link PodIndex} from
 * its own cache: one list, then a watch resumed from the last resourceVersion it saw (every event and every
 * bookmark, {@code allowWatchBookmarks=true}, moves it on), so a watch that ends or breaks continues where it was
 * without listing again. Only when the server no longer has that version (410 Gone, as the status or as an ERROR
 * event) does it list again. Failures back off 1 s doubling to 30 s, with jitter (50-100 % of the step), so a
 * fleet of probes does not return to a recovering API server in step. Starting does not wait for the API server:
 * until the first list arrives the index is empty and findings go unattributed.
 */
public final class PodWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PodWatcher.class);
    static final Duration DEFAULT_WATCH_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final KubeApi api;
    private final String nodeName;
    private final boolean serverSideSelector;
    private final Duration watchTimeout;
    private final Map<String, PodInfo> pods = new ConcurrentHashMap<>();
    private final AtomicLong relists = new AtomicLong();
    private final AtomicLong bookmarks = new AtomicLong();
    private final AtomicLong watches = new AtomicLong();
    private final AtomicLong events = new AtomicLong();
    private final Thread thread;
    private volatile String resourceVersion;
    private volatile boolean synced;
    private volatile boolean closed;
    private volatile java.io.Closeable current;

    public PodWatcher(KubeApi api, String nodeName) {
        this(api, nodeName, true, DEFAULT_WATCH_TIMEOUT, null);
    }

    /**
     * @param serverSideSelector false only for API servers without field selectors (test doubles)
     * @param watchTimeout       the watch's {@code timeoutSeconds}: the server ends it then and it is resumed
     * @param resumeFrom         a resourceVersion to watch from without listing first (tests: an expired one), or null
     */
    PodWatcher(KubeApi api, String nodeName, boolean serverSideSelector, Duration watchTimeout, String resumeFrom) {
        this.api = api;
        this.nodeName = nodeName;
        this.serverSideSelector = serverSideSelector;
        this.watchTimeout = watchTimeout;
        this.resourceVersion = resumeFrom;
        this.thread = new Thread(this::run, "execguard-pod-watch");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void run() {
        int failures = 0;
        while (!closed) {
            try {
                if (resourceVersion == null) {
                    relist();
                }
                long events = this.events.get();
                long t0 = System.nanoTime();
                watchOnce();
                if (this.events.get() == events && System.nanoTime() - t0 < 1_000_000_000L) {
                    // ended at once without a single event (a server that does not stream watches): not a hot loop
                    failures++;
                    sleep(backoff(failures));
                } else {
                    failures = 0;
                }
            } catch (KubeApiException e) {
                if (closed) {
                    return;
                }
                if (e.code() == 410) {
                    LOG.info("node {}: pod watch: resourceVersion {} expired (410 Gone); listing again", nodeName,
                            resourceVersion);
                    resourceVersion = null;
                    continue;
                }
                failures++;
                Duration wait = backoff(failures);
                LOG.warn("node {}: pod watch failed ({}); retrying in {} ms{}", nodeName, e.getMessage(),
                        wait.toMillis(), synced ? "" : ", findings stay unattributed until then");
                sleep(wait);
            } catch (RuntimeException e) {
                failures++;
                LOG.warn("node {}: pod watch: unexpected {}", nodeName, e.toString());
                sleep(backoff(failures));
            }
        }
    }

    static Duration backoff(int failures) {
        long step = Math.min(MAX_BACKOFF.toMillis(), MIN_BACKOFF.toMillis() << Math.min(failures - 1, 10));
        return Duration.ofMillis(step / 2 + ThreadLocalRandom.current().nextLong(step / 2 + 1));
    }

    private void relist() {
        JsonNode list = api.get("/api/v1/pods" + query(false));
        if (list == null) {
            throw new KubeApiException(404, "pods: not found");
        }
        Map<String, PodInfo> fresh = new java.util.HashMap<>();
        for (JsonNode item : list.path("items")) {
            PodInfo p = PodInfo.from(item);
            if (p.uid() != null) {
                fresh.put(p.uid(), p);
            }
        }
        pods.keySet().retainAll(fresh.keySet());
        pods.putAll(fresh);
        resourceVersion = list.path("metadata").path("resourceVersion").asText(null);
        relists.incrementAndGet();
        synced = true;
        LOG.debug("node {}: listed {} pods at resourceVersion {}", nodeName, fresh.size(), resourceVersion);
    }

    private void watchOnce() {
        watches.incrementAndGet();
        int readTimeout = (int) watchTimeout.plusSeconds(30).toMillis();
        api.stream("/api/v1/pods" + query(true), readTimeout, this::onEvent, c -> current = c);
    }

    private void onEvent(String line) {
        JsonNode ev;
        try {
            ev = api.json().readTree(line);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("pod watch: not JSON: " + line, e);
        }
        String type = ev.path("type").asText();
        JsonNode obj = ev.path("object");
        if (type.equals("ERROR")) {
            // e.g. {"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired",...}}
            throw new KubeApiException(obj.path("code").asInt(500), "pod watch: " + obj.path("message").asText());
        }
        String rv = obj.path("metadata").path("resourceVersion").asText(null);
        switch (type) {
            case "ADDED", "MODIFIED" -> {
                PodInfo p = PodInfo.from(obj);
                if (p.uid() != null) {
                    pods.put(p.uid(), p);
                }
            }
            case "DELETED" -> pods.remove(obj.path("metadata").path("uid").asText());
            case "BOOKMARK" -> bookmarks.incrementAndGet();
            default -> {
                LOG.debug("node {}: pod watch: ignoring event type {}", nodeName, type);
                return;
            }
        }
        events.incrementAndGet();
        if (rv != null) {
            resourceVersion = rv;
        }
    }

    private String query(boolean watch) {
        StringBuilder q = new StringBuilder("?");
        if (serverSideSelector) {
            q.append("fieldSelector=").append(URLEncoder.encode("spec.nodeName=" + nodeName, StandardCharsets.UTF_8))
                    .append('&');
        }
        if (watch) {
            q.append("watch=1&allowWatchBookmarks=true&timeoutSeconds=").append(watchTimeout.toSeconds());
            if (resourceVersion != null && !resourceVersion.isEmpty()) { // always set by a real API server
                q.append("&resourceVersion=").append(URLEncoder.encode(resourceVersion, StandardCharsets.UTF_8));
            }
        } else {
            q.append("resourceVersion=0"); // served from the watch cache, no quorum read of etcd
        }
        return q.toString();
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    public boolean synced() {
        return synced;
    }

    /** The node's pods as the cache has them now (filtered again, in case a server ignores the selector). */
    public PodIndex index() {
        List<PodInfo> mine = pods.values().stream().filter(p -> nodeName.equals(p.nodeName())).toList();
        return new PodIndex(mine);
    }

    String resourceVersion() {
        return resourceVersion;
    }

    long relists() {
        return relists.get();
    }

    long bookmarks() {
        return bookmarks.get();
    }

    long watches() {
        return watches.get();
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        java.io.Closeable c = current;
        if (c != null) {
            try {
                c.close();
            } catch (java.io.IOException e) {
                LOG.debug("node {}: closing the pod watch: {}", nodeName, e.toString());
            }
        }
    }
}
