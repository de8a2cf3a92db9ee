package io.execguard.probe.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ProxySettingsTest {

    @Test
    void httpsProxyWithNoProxyExceptionsByNameDomainIpAndCidr() {
        ProxySettings p = ProxySettings.fromEnv(Map.of("HTTPS_PROXY", "http://user:p%40ss@proxy.corp:3128",
                "NO_PROXY", "localhost, .svc,cluster.local,10.96.0.0/12,192.168.1.7"));
        URI proxy = URI.create("http://user:p%40ss@proxy.corp:3128");
        assertEquals(proxy, p.proxyFor("api.example.com"));
        assertNull(p.proxyFor("localhost"));
        assertNull(p.proxyFor("kubernetes.default.svc"));
        assertNull(p.proxyFor("kubernetes.default.svc.cluster.local"));
        assertNull(p.proxyFor("cluster.local"));
        assertNull(p.proxyFor("10.96.0.1"));
        assertNull(p.proxyFor("10.111.255.254"));
        assertEquals(proxy, p.proxyFor("10.112.0.1"));
        assertNull(p.proxyFor("192.168.1.7"));
        assertEquals(proxy, p.proxyFor("192.168.1.8"));
        assertEquals(proxy, p.proxyFor("notcluster.local.example"));
        assertEquals("Basic " + java.util.Base64.getEncoder().encodeToString("user:p@ss".getBytes()), p.authorization());
    }

    @Test
    void lowerCaseVariablesStarAndNone() {
        assertNull(ProxySettings.fromEnv(Map.of()).proxyFor("x"));
        ProxySettings lower = ProxySettings.fromEnv(Map.of("https_proxy", "proxy:8080", "no_proxy", "*"));
        assertNull(lower.proxyFor("anything"));
        assertEquals(URI.create("http://proxy:8080"), ProxySettings.fromEnv(Map.of("https_proxy", "proxy:8080"))
                .proxyFor("api"));
        assertThrows(IllegalArgumentException.class, () -> ProxySettings.fromEnv(Map.of("HTTPS_PROXY", "socks5://p:1")));
    }
}
