package io.execguard.probe.kube;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.Consumer;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The probe's own access to the API server: HTTP/1.1 over a TLS socket, one connection per call (the probe
 * makes a few calls a minute) and one long-lived connection per watch, JSON through Jackson. Replaces the
 * fabric8 client in the probe (its HTTP stack, informers and model registry cost ~25 MiB of the probe's RSS,
 * docs/RESOURCES.md); the operator keeps fabric8. Sends the bearer token of {@link TokenSource} and, after a 401,
 * re-reads it and tries once more (a rotated projected token). Tunnels through {@code HTTPS_PROXY} with CONNECT.
 */
public final class KubeApi {

    private static final Logger LOG = LoggerFactory.getLogger(KubeApi.class);
    static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    static final int READ_TIMEOUT_MILLIS = 30_000;
    private static final int MAX_ERROR_BODY = 64 * 1024;

    private final KubeConfig config;
    private final ObjectMapper json;
    private final String userAgent;
    private final String host;
    private final int port;

    public KubeApi(KubeConfig config, ObjectMapper json, String userAgent) {
        this.config = config;
        this.json = json;
        this.userAgent = userAgent;
        URI s = config.server();
        String h = s.getHost();
        this.host = h.startsWith("[") ? h.substring(1, h.length() - 1) : h;
        this.port = s.getPort() >= 0 ? s.getPort() : "http".equalsIgnoreCase(s.getScheme()) ? 80 : 443;
    }

    /** The probe's API access configured from the environment ({@link KubeConfig#fromEnv}). */
    public static KubeApi fromEnv(java.util.Map<String, String> env, String version) {
        return new KubeApi(KubeConfig.fromEnv(env, java.time.Clock.systemUTC()), mapper(), "execguard-probe/" + version);
    }

    /** A plain mapper: the api classes' own annotations decide the JSON; unknown fields are ignored. */
    public static ObjectMapper mapper() {
        return new ObjectMapper().configure(com.fasterxml.jackson.databind.DeserializationFeature
                .FAIL_ON_UNKNOWN_PROPERTIES, false);
    }

    public ObjectMapper json() {
        return json;
    }

    /** GET; null when the object does not exist (404). */
    public JsonNode get(String path) {
        return call("GET", path, null, null, true);
    }

    public JsonNode create(String path, Object body) {
        return call("POST", path, "application/json", body, false);
    }

    /** A JSON patch (RFC 6902): a list of operations. */
    public JsonNode jsonPatch(String path, Object operations) {
        return call("PATCH", path, "application/json-patch+json", operations, false);
    }

    private JsonNode call(String method, String path, String contentType, Object body, boolean nullOn404) {
        byte[] bytes;
        try {
            bytes = body == null ? null : json.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot serialize the request body", e);
        }
        for (int attempt = 1; ; attempt++) {
            String token = config.tokens().token();
            try (HttpResponseStream r = send(method, path, contentType, bytes, token, READ_TIMEOUT_MILLIS)) {
                if (r.code() == 401 && attempt == 1 && config.tokens().rotates()) {
                    config.tokens().invalidate();
                    LOG.info("{} {}: 401, re-reading the token ({}) and retrying once", method, path, config.tokens());
                    continue;
                }
                if (r.code() == 404 && nullOn404) {
                    return null;
                }
                if (r.code() / 100 != 2) {
                    throw error(method, path, r.code(), readUpTo(r, MAX_ERROR_BODY));
                }
                return json.readTree(r);
            } catch (IOException e) {
                throw new KubeApiException(method + " " + config.server() + path, e);
            }
        }
    }

    /**
     * A watch (or any streamed GET): calls {@code onLine} with each line of the body until the server ends it.
     * Throws {@link KubeApiException} for an error status (e.g. 410 Gone for an expired resourceVersion).
     * {@code onOpen} receives the connection, so that another thread can end the stream by closing it.
     */
    public void stream(String path, int readTimeoutMillis, Consumer<String> onLine,
                       Consumer<java.io.Closeable> onOpen) {
        for (int attempt = 1; ; attempt++) {
            String token = config.tokens().token();
            try (HttpResponseStream r = send("GET", path, null, null, token, readTimeoutMillis)) {
                onOpen.accept(r);
                if (r.code() == 401 && attempt == 1 && config.tokens().rotates()) {
                    config.tokens().invalidate();
                    continue;
                }
                if (r.code() / 100 != 2) {
                    throw error("GET", path, r.code(), readUpTo(r, MAX_ERROR_BODY));
                }
                String line;
                while ((line = r.readLine()) != null) {
                    if (!line.isBlank()) {
                        onLine.accept(line);
                    }
                }
                return;
            } catch (IOException e) {
                throw new KubeApiException("watch " + config.server() + path, e);
            }
        }
    }

    private KubeApiException error(String method, String path, int code, byte[] body) {
        String message;
        try {
            JsonNode status = json.readTree(body);
            message = status.path("message").asText(new String(body, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            message = new String(body, StandardCharsets.UTF_8);
        }
        return new KubeApiException(code, method + " " + path + ": " + code + " " + message);
    }

    private HttpResponseStream send(String method, String path, String contentType, byte[] body, String token,
                                    int readTimeoutMillis) throws IOException {
        Socket socket = connect(readTimeoutMillis);
        try {
            StringBuilder h = new StringBuilder(256).append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(config.server().getRawAuthority()).append("\r\n")
                    .append("User-Agent: ").append(userAgent).append("\r\n")
                    .append("Accept: application/json\r\n")
                    .append("Connection: close\r\n");
            if (token != null && !token.isEmpty()) {
                h.append("Authorization: Bearer ").append(token).append("\r\n");
            }
            if (body != null) {
                h.append("Content-Type: ").append(contentType).append("\r\n")
                        .append("Content-Length: ").append(body.length).append("\r\n");
            }
            h.append("\r\n");
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 8192);
            out.write(h.toString().getBytes(StandardCharsets.UTF_8));
            if (body != null) {
                out.write(body);
            }
            out.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream(), 8192);
            int code = statusCode(readHeaderLine(in));
            long length = -1;
            boolean chunked = false;
            String line;
            while ((line = readHeaderLine(in)) != null && !line.isEmpty()) {
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = line.substring(colon + 1).trim();
                if (name.equals("content-length")) {
                    length = Long.parseLong(value);
                } else if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) {
                    chunked = true;
                }
            }
            InputStream content = chunked ? new HttpResponseStream.Chunked(in)
                    : length >= 0 ? new HttpResponseStream.Bounded(in, length) : in;
            return new HttpResponseStream(code, content, socket);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private Socket connect(int readTimeoutMillis) throws IOException {
        URI proxy = config.proxy().proxyFor(host);
        Socket raw = new Socket();
        if ("http".equalsIgnoreCase(config.server().getScheme())) {
            // plain HTTP: only test doubles (fabric8's mock server) and kubectl proxy serve it
            raw.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MILLIS);
            raw.setSoTimeout(readTimeoutMillis);
            return raw;
        }
        try {
            if (proxy == null) {
                raw.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MILLIS);
            } else {
                raw.connect(new InetSocketAddress(proxy.getHost(), proxy.getPort() < 0 ? 80 : proxy.getPort()),
                        CONNECT_TIMEOUT_MILLIS);
                raw.setSoTimeout(CONNECT_TIMEOUT_MILLIS);
                tunnel(raw);
            }
            raw.setSoTimeout(readTimeoutMillis);
            SSLSocket tls = (SSLSocket) config.tls().createSocket(raw, host, port, true);
            if (config.verifyHostname()) {
                SSLParameters p = tls.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                tls.setSSLParameters(p);
            }
            tls.startHandshake();
            return tls;
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** {@code CONNECT host:port} through the proxy; the socket then carries the TLS session to the API server. */
    private void tunnel(Socket raw) throws IOException {
        String target = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        StringBuilder req = new StringBuilder("CONNECT ").append(target).append(" HTTP/1.1\r\nHost: ").append(target)
                .append("\r\n");
        if (config.proxy().authorization() != null) {
            req.append("Proxy-Authorization: ").append(config.proxy().authorization()).append("\r\n");
        }
        req.append("\r\n");
        raw.getOutputStream().write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
        raw.getOutputStream().flush();
        InputStream in = raw.getInputStream(); // unbuffered: nothing past the proxy's header may be consumed
        int code = statusCode(readHeaderLine(in));
        String line;
        while ((line = readHeaderLine(in)) != null && !line.isEmpty()) {
            // proxy headers: ignored
        }
        if (code != 200) {
            throw new IOException("proxy " + config.proxy().proxy() + " refused CONNECT " + target + ": " + code);
        }
    }

    private static int statusCode(String statusLine) throws IOException {
        if (statusLine == null || !statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
            throw new IOException("not an HTTP response: " + statusLine);
        }
        return Integer.parseInt(statusLine.substring(9, 12));
    }

    /** One CRLF- (or LF-) terminated header line, ISO-8859-1; null at the end of the stream. */
    static String readHeaderLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder(64);
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                int n = b.length();
                return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
            }
            b.append((char) c);
        }
        return b.isEmpty() ? null : b.toString();
    }

    private static byte[] readUpTo(InputStream in, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        int n;
        while (out.size() < max && (n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
