package io.execguard.probe.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KubeConfigTest {

    @Test
    void inClusterReadsTheServiceAccountAndReReadsTheTokenAsItRotates(@TempDir Path sa) throws Exception {
        Files.writeString(sa.resolve("token"), "first\n");
        Files.copy(caPem(), sa.resolve("ca.crt"));
        MutableClock clock = new MutableClock();
        KubeConfig c = KubeConfig.inCluster(Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1",
                "KUBERNETES_SERVICE_PORT", "443"), sa, clock);
        assertEquals(URI.create("https://10.96.0.1:443"), c.server());
        assertTrue(c.verifyHostname());
        assertEquals("first", c.tokens().token());
        Files.writeString(sa.resolve("token"), "second");
        assertEquals("first", c.tokens().token(), "cached for a minute");
        clock.now = clock.now.plus(TokenSource.REREAD);
        assertEquals("second", c.tokens().token(), "re-read after a minute");
        Files.writeString(sa.resolve("token"), "third");
        c.tokens().invalidate();
        assertEquals("third", c.tokens().token(), "re-read at once after a 401");
        assertEquals(URI.create("https://[fd00::1]:6443"), KubeConfig.inCluster(Map.of("KUBERNETES_SERVICE_HOST",
                "fd00::1", "KUBERNETES_SERVICE_PORT", "6443"), sa, clock).server());
        assertThrows(IllegalStateException.class, () -> KubeConfig.inCluster(Map.of(), sa, clock));
    }

    @Test
    void kubeconfigTokenFileAndInsecure(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tok"), "from-file");
        Path kc = dir.resolve("config");
        Files.writeString(kc, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: other
                  cluster: {server: "https://other:1"}
                - name: c
                  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
                users:
                - name: u
                  user: {tokenFile: tok}
                contexts:
                - name: ctx
                  context: {cluster: c, user: u}
                current-context: ctx
                """);
        KubeConfig c = KubeConfig.fromEnv(Map.of("KUBECONFIG", kc.toString()), Clock.systemUTC());
        assertEquals(URI.create("https://127.0.0.1:6443"), c.server());
        assertEquals("from-file", c.tokens().token());
        assertTrue(c.tokens().rotates());
        assertEquals(false, c.verifyHostname());
    }

    @Test
    void aJsonKubeconfigToo(@TempDir Path dir) throws Exception {
        Path kc = dir.resolve("config.json");
        Files.writeString(kc, """
                {"apiVersion": "v1", "kind": "Config", "current-context": "x",
                 "clusters": [{"name": "c", "cluster": {"server": "https://10.0.0.1:443", "insecure-skip-tls-verify": true}}],
                 "users": [{"name": "u", "user": {"token": "t0k"}}],
                 "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}]}
                """);
        KubeConfig c = KubeConfig.fromEnv(Map.of("KUBECONFIG", kc.toString()), Clock.systemUTC());
        assertEquals(URI.create("https://10.0.0.1:443"), c.server());
        assertEquals("t0k", c.tokens().token());
    }

    private static Path caPem() throws Exception {
        // a real certificate: the JDK's own cacerts has none in PEM, so generate one with keytool-free means:
        // take the first trusted certificate of the default trust store and write it as PEM
        java.security.KeyStore ks = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
        try (var in = Files.newInputStream(Path.of(System.getProperty("java.home"), "lib", "security", "cacerts"))) {
            ks.load(in, null);
        }
        java.security.cert.Certificate cert = ks.getCertificate(ks.aliases().nextElement());
        Path p = Files.createTempFile("ca", ".crt");
        Files.writeString(p, "-----BEGIN CERTIFICATE-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(cert.getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        p.toFile().deleteOnExit();
        return p;
    }

    private static final class MutableClock extends Clock {
        Instant now = Instant.parse("2026-11-23T10:00:00Z");

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
