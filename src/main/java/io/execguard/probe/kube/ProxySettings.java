package io.execguard.probe.kube;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code HTTPS_PROXY} / {@code https_proxy} (an {@code http://[user:password@]host:port} proxy that the probe
 * tunnels through with CONNECT) and {@code NO_PROXY} / {@code no_proxy}: comma-separated host names (matching the
 * name and its subdomains; a leading dot or {@code *.} is allowed), IP addresses, IPv4 CIDR blocks, or {@code *}.
 * The same rules as client-go's (Go's {@code httpproxy}) for the cases a cluster uses.
 *
 * @param proxy         the proxy, or null for a direct connection
 * @param authorization the {@code Proxy-Authorization} header value (Basic, from the URL's user info), or null
 * @param noProxy       the exceptions
 */
public record ProxySettings(URI proxy, String authorization, List<String> noProxy) {

    public static final ProxySettings DIRECT = new ProxySettings(null, null, List.of());

    public static ProxySettings fromEnv(Map<String, String> env) {
        String p = first(env, "HTTPS_PROXY", "https_proxy");
        if (p == null || p.isBlank()) {
            return DIRECT;
        }
        URI uri = URI.create(p.contains("://") ? p.trim() : "http://" + p.trim());
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("HTTPS_PROXY must be http://host:port, got '" + p + "'");
        }
        String auth = uri.getRawUserInfo() == null ? null : "Basic " + java.util.Base64.getEncoder().encodeToString(
                java.net.URLDecoder.decode(uri.getRawUserInfo(), java.nio.charset.StandardCharsets.UTF_8)
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        List<String> no = new ArrayList<>();
        String n = first(env, "NO_PROXY", "no_proxy");
        if (n != null) {
            for (String s : n.split(",")) {
                if (!s.isBlank()) {
                    no.add(s.trim().toLowerCase(Locale.ROOT));
                }
            }
        }
        return new ProxySettings(uri, auth, List.copyOf(no));
    }

    /** The proxy to use for {@code host}, or null to connect directly. */
    public URI proxyFor(String host) {
        if (proxy == null) {
            return null;
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        for (String rule : noProxy) {
            if (matches(rule, h)) {
                return null;
            }
        }
        return proxy;
    }

    static boolean matches(String rule, String host) {
        if (rule.equals("*") || rule.equals(host)) {
            return true;
        }
        if (rule.contains("/")) {
            return inCidr(rule, host);
        }
        String domain = rule.startsWith("*.") ? rule.substring(1) : rule.startsWith(".") ? rule : "." + rule;
        int colon = domain.lastIndexOf(':');
        if (colon > 0 && domain.indexOf(':') == colon) {
            domain = domain.substring(0, colon); // a port in the rule: ignored, like most clients
        }
        return host.endsWith(domain) || host.equals(domain.substring(1));
    }

    private static boolean inCidr(String cidr, String host) {
        if (!isIpLiteral(host)) {
            return false;
        }
        try {
            String[] parts = cidr.split("/");
            byte[] net = InetAddress.getByName(parts[0]).getAddress();
            byte[] ip = InetAddress.getByName(host).getAddress();
            int bits = Integer.parseInt(parts[1]);
            if (net.length != ip.length || bits < 0 || bits > net.length * 8) {
                return false;
            }
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >> (i % 8);
                if ((net[i / 8] & mask) != (ip[i / 8] & mask)) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException | NumberFormatException e) {
            return false;
        }
    }

    private static boolean isIpLiteral(String host) {
        return host.contains(":") || host.chars().allMatch(c -> c == '.' || Character.isDigit(c));
    }

    private static String first(Map<String, String> env, String a, String b) {
        String v = env.get(a);
        return v != null && !v.isBlank() ? v : env.get(b);
    }
}
