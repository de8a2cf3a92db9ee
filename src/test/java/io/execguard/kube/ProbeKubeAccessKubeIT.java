package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import io.execguard.api.NodeExecHealth;
import io.execguard.probe.PodWatcherProbe;
import io.execguard.probe.kube.KubeApiException;
import io.execguard.probe.kube.ProxySettings;

/**
 * The probe's own Kubernetes access (io.execguard.probe.kube, which replaced fabric8 in the probe) against the real
 * API server, for what fabric8 used to do for it: a bound service-account token that rotates and whose old value
 * is revoked while the probe runs, the pod watch's resume (resourceVersion, bookmarks), and HTTPS_PROXY /
 * NO_PROXY.
 * With the chart's RBAC and admission policy, as a probe pod has them.
 */
class ProbeKubeAccessKubeIT {

    static final String PREFIX = "probe-kube-access-kube-it";
    static final String NODE = PREFIX + "-a";
    static final String NS = "execguard";
    static final String PROBE_SA = "execguard-probe";
    static final Path FIXTURE = Path.of("src/test/resources/fixtures/seed004-pidns-fuse");

    static KubeCluster cluster;
    static KubernetesClient admin;
    static List<HasMetadata> chart = List.of();

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of());
        cluster.createNode(admin, NODE, Map.of(PREFIX, "a"));
    }

    @AfterAll
    static void down() {
        try {
            admin.v1().events().inNamespace("default").withField("involvedObject.name", NODE).list().getItems()
                    .forEach(e -> admin.resource(e).delete());
            admin.resources(NodeExecHealth.class).withName(NODE).delete();
            admin.pods().inNamespace(NS).list().getItems().stream()
                    .filter(p -> p.getMetadata().getName().startsWith(PREFIX))
                    .forEach(p -> admin.resource(p).withGracePeriod(0).delete());
            admin.nodes().withName(NODE).delete();
            cluster.deleteAll(admin, chart);
        } finally {
            admin.close();
        }
    }

    /**
     * The probe process reads its token from a file (as from the projected volume). The file is replaced by a new
     * TokenRequest's token and the old one revoked by deleting the Pod it is bound to: the probe's next call gets a
     * 401, it reads the file again at once and keeps reporting, well before its one-minute re-read would.
     */
    @Test
    void aRotatedTokenIsReadAgainWhenTheOldOneIsRevoked() throws Exception {
        Pod first = cluster.createPodOn(admin, NS, PREFIX + "-first", PROBE_SA, NODE);
        Pod second = cluster.createPodOn(admin, NS, PREFIX + "-second", PROBE_SA, NODE);
        String oldToken = cluster.podBoundToken(admin, first);
        Path tokenFile = Path.of("target", PREFIX + ".token").toAbsolutePath();
        Files.writeString(tokenFile, oldToken);
        Path kubeconfig = Path.of("target", PREFIX + ".kubeconfig").toAbsolutePath();
        Files.writeString(kubeconfig, Files.readString(cluster.kubeconfigFor("unused", kubeconfig))
                .replace("{token: \"unused\"}", "{tokenFile: \"" + tokenFile + "\"}"));
        Path log = Path.of("target", PREFIX + "-probe.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar(), "probe", "--node-name", NODE, "--host-root", FIXTURE.toString(),
                "--scan-interval", "1s", "--heartbeat", "2s", "--metrics-port", "0")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        Process p = pb.start();
        try {
            KubeCluster.await(Duration.ofSeconds(90), "the probe reports with the first token (log " + log + ")",
                    () -> lastProbeTime() != null);
            // rotate: a new token in the file (atomically, like the kubelet), then revoke the old one
            Path tmp = tokenFile.resolveSibling(PREFIX + ".token.new");
            Files.writeString(tmp, cluster.podBoundToken(admin, second));
            Files.move(tmp, tokenFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            admin.resource(first).withGracePeriod(0).delete();
            KubeCluster.await(Duration.ofSeconds(30), "the old token is refused", () -> refused(oldToken));
            Instant revoked = Instant.now();
            // the probe read the old token less than a minute ago: only the 401 makes it read the file again now
            KubeCluster.await(Duration.ofSeconds(20), "the probe reports again after the revocation (log " + log + ")",
                    () -> {
                        String t = lastProbeTime();
                        return t != null && Instant.parse(t).isAfter(revoked.plusSeconds(2));
                    });
            String out = Files.readString(log);
            assertTrue(out.contains("401, re-reading the token"), "the probe saw the 401 and re-read:\n" + out);
            assertTrue(p.isAlive(), "still running");
        } finally {
            p.destroy();
            p.waitFor();
        }
    }

    /**
     * The pod watch: it resumes from its resourceVersion (bookmarks move it on) each time the server ends the
     * watch (timeoutSeconds), without listing again, and follows additions and deletions.
     */
    @Test
    void thePodWatchResumesFromBookmarksWithoutListingAgain() {
        Pod watcherPod = cluster.createPodOn(admin, NS, PREFIX + "-watcher", PROBE_SA, NODE);
        var api = cluster.probeApi(cluster.podBoundToken(admin, watcherPod));
        try (PodWatcherProbe w = PodWatcherProbe.start(api, NODE, Duration.ofSeconds(4), null)) {
            KubeCluster.await(Duration.ofSeconds(30), "synced", w::synced);
            // the server sends a watcher its bookmark shortly before the watch's deadline; a loaded shared server
            // (the whole KubeIT tier runs on it) can be slow to: 120 s for three 4 s watches and one bookmark
            KubeCluster.await(Duration.ofSeconds(120), "a bookmark and two resumed watches",
                    () -> w.bookmarks() >= 1 && w.watches() >= 3);
            Pod added = cluster.createPodOn(admin, NS, PREFIX + "-added", PROBE_SA, NODE);
            KubeCluster.await(Duration.ofSeconds(30), "the watch delivers the new pod",
                    () -> w.podNames().contains(added.getMetadata().getName()));
            admin.resource(added).withGracePeriod(0).delete();
            KubeCluster.await(Duration.ofSeconds(30), "the watch delivers the deletion",
                    () -> !w.podNames().contains(added.getMetadata().getName()));
            assertEquals(1, w.relists(), "resumed from its resourceVersion, never listed again");
        }
        // 410 Gone: this API server (v1.37) accepts a watch from a compacted resourceVersion without an error (a
        // list at it is refused with 410), so the relist on 410 is proven against a fake: PodWatcherGoneTest
    }

    /**
     * HTTPS_PROXY: the probe tunnels to the API server through an HTTP proxy with CONNECT, sending the proxy's
     * credentials from the URL; NO_PROXY exempts the API server's address. A small CONNECT proxy in the test.
     */
    @Test
    void itTunnelsThroughTheHttpsProxyUnlessNoProxySaysOtherwise() throws Exception {
        Pod p = cluster.createPodOn(admin, NS, PREFIX + "-proxied", PROBE_SA, NODE);
        String token = cluster.podBoundToken(admin, p);
        try (ConnectProxy proxy = new ConnectProxy("probe:s3cret")) {
            String url = "http://probe:s3cret@127.0.0.1:" + proxy.port();
            var viaProxy = cluster.probeApi(token, ProxySettings.fromEnv(Map.of("HTTPS_PROXY", url)));
            var node = viaProxy.get("/api/v1/nodes/" + NODE);
            assertEquals(NODE, node.path("metadata").path("name").asText());
            String target = java.net.URI.create(cluster.server()).getAuthority();
            assertEquals(List.of("CONNECT " + target + " authorized"), proxy.seen());

            var exempt = cluster.probeApi(token, ProxySettings.fromEnv(Map.of("HTTPS_PROXY", url,
                    "NO_PROXY", "localhost,127.0.0.0/8")));
            assertEquals(NODE, exempt.get("/api/v1/nodes/" + NODE).path("metadata").path("name").asText());
            assertEquals(1, proxy.seen().size(), "NO_PROXY: direct, the proxy saw nothing more");

            var noCredentials = cluster.probeApi(token, ProxySettings.fromEnv(Map.of("HTTPS_PROXY",
                    "http://127.0.0.1:" + proxy.port())));
            KubeApiException e = org.junit.jupiter.api.Assertions.assertThrows(KubeApiException.class,
                    () -> noCredentials.get("/api/v1/nodes/" + NODE));
            assertTrue(e.getMessage().contains("407"), e.getMessage());
        }
    }

    /** A CONNECT-only HTTP proxy requiring Basic credentials; records what it was asked. */
    private static final class ConnectProxy implements AutoCloseable {
        private final java.net.ServerSocket server;
        private final String credentials;
        private final List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();

        ConnectProxy(String userPassword) throws java.io.IOException {
            server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            credentials = "Basic " + java.util.Base64.getEncoder().encodeToString(userPassword.getBytes());
            Thread t = new Thread(this::accept, PREFIX + "-proxy");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        List<String> seen() {
            return List.copyOf(seen);
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    java.net.Socket client = server.accept();
                    Thread t = new Thread(() -> handle(client), PREFIX + "-proxy-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (java.io.IOException e) {
                    return;
                }
            }
        }

        private void handle(java.net.Socket client) {
            try (client) {
                var in = client.getInputStream();
                String request = line(in);
                String auth = null;
                for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
                    if (h.toLowerCase(java.util.Locale.ROOT).startsWith("proxy-authorization:")) {
                        auth = h.substring(h.indexOf(':') + 1).trim();
                    }
                }
                String[] parts = request.split(" ");
                boolean ok = credentials.equals(auth);
                seen.add(parts[0] + " " + parts[1] + (ok ? " authorized" : " refused"));
                var out = client.getOutputStream();
                if (!ok || !parts[0].equals("CONNECT")) {
                    out.write("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n".getBytes());
                    out.flush();
                    return;
                }
                int colon = parts[1].lastIndexOf(':');
                try (java.net.Socket upstream = new java.net.Socket(parts[1].substring(0, colon),
                        Integer.parseInt(parts[1].substring(colon + 1)))) {
                    out.write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes());
                    out.flush();
                    Thread up = new Thread(() -> pump(client, upstream), PREFIX + "-proxy-up");
                    up.setDaemon(true);
                    up.start();
                    pump(upstream, client);
                    up.join(5000);
                }
            } catch (java.io.IOException | InterruptedException | RuntimeException e) {
                // the probe closed its connection
            }
        }

        private static void pump(java.net.Socket from, java.net.Socket to) {
            try {
                from.getInputStream().transferTo(to.getOutputStream());
                to.shutdownOutput();
            } catch (java.io.IOException e) {
                // closed
            }
        }

        private static String line(java.io.InputStream in) throws java.io.IOException {
            StringBuilder b = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            return c < 0 && b.isEmpty() ? null : b.toString();
        }

        @Override
        public void close() throws java.io.IOException {
            server.close();
        }
    }

    private static boolean refused(String token) {
        try (KubernetesClient c = cluster.withToken(token)) {
            c.nodes().withName(NODE).get();
            return false;
        } catch (KubernetesClientException e) {
            return e.getCode() == 401;
        }
    }

    private static String lastProbeTime() {
        NodeExecHealth n = admin.resources(NodeExecHealth.class).withName(NODE).get();
        return n == null || n.getStatus() == null ? null : n.getStatus().getLastProbeTime();
    }

    private static String jar() {
        String j = System.getProperty("execguard.jar", "target/execguard.jar");
        if (!Files.exists(Path.of(j))) {
            throw new IllegalStateException("no " + j + " (mvn package builds it before the ITs)");
        }
        return j;
    }
}
