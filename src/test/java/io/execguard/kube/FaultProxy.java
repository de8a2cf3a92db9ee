package io.execguard.kube;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A man in the middle between a child process and the real API server: plain HTTP/1.1 on 127.0.0.1 (a random
 * port) towards the client, TLS (verified against the cluster CA) towards the server. fabric8 7.x with the JDK
 * HTTP client speaks HTTP/1.1 to an {@code http://} server (its h2c upgrade offer is dropped here) and opens
 * watches as WebSockets (falling back to HTTP streaming), so the proxy relays chunked streams as they arrive and,
 * after a {@code 101 Switching Protocols}, pipes the raw bytes both ways.
 * <p>
 * A test steers it with rules on (HTTP verb, path regex), the path without its query:
 * {@link #delay delay} the response after the server answered, {@link #hold hold} requests (not forwarded)
 * until released or dropped, {@link #fail answer an error} (409/429/500/503, a Kubernetes Status) N times or
 * with a probability, and {@link #cutAll cut every connection}, watches included. It counts what it saw per
 * verb. Close it to stop it.
 */
public final class FaultProxy implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FaultProxy.class);
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "upgrade", "http2-settings",
            "proxy-connection", "te", "trailer", "transfer-encoding", "expect", "host", "content-length");

    /**
     * Which requests a rule applies to: HTTP verbs (empty: any), a regex the whole path must match and,
     * optionally, a regex to be found in the request body.
     */
    public record Match(Set<String> verbs, Pattern path, Pattern body) {
        public static Match of(String verbs, String pathRegex) {
            Set<String> v = verbs == null || verbs.isBlank() ? Set.of()
                    : Set.of(verbs.toUpperCase(Locale.ROOT).split("[ ,|]+"));
            return new Match(v, Pattern.compile(pathRegex), null);
        }

        /** The same, only for requests whose body contains a match of the regex. */
        public Match withBody(String regex) {
            return new Match(verbs, path, Pattern.compile(regex));
        }

        /** PUT, PATCH, POST and DELETE on paths matching the regex. */
        public static Match writes(String pathRegex) {
            return of("PUT,PATCH,POST,DELETE", pathRegex);
        }

        boolean test(String verb, String requestPath, String requestBody) {
            return (verbs.isEmpty() || verbs.contains(verb)) && path.matcher(requestPath).matches()
                    && (body == null || body.matcher(requestBody).find());
        }
    }

    /** An installed rule; {@link #remove()} takes it out. {@link #hits()} counts the requests it acted on. */
    public sealed interface Rule permits Delay, Fail, Hold {
        Match match();

        int hits();

        void remove();
    }

    private final URI upstream;
    private final SSLContext tls;
    private final ServerSocket server;
    private final Set<Closeable> open = ConcurrentHashMap.newKeySet();
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicLong> seen = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> answered = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private FaultProxy(URI upstream, SSLContext tls) throws IOException {
        this.upstream = upstream;
        this.tls = tls;
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("fault-proxy-accept-" + server.getLocalPort()).start(this::acceptLoop);
    }

    /** A proxy to {@code server} (https://host:port of the API server) that trusts the CA certificate file. */
    public static FaultProxy start(String server, Path caFile) {
        try {
            return new FaultProxy(URI.create(server), trusting(caFile));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the fault proxy", e);
        }
    }

    /** The proxy in front of the cluster's API server. */
    public static FaultProxy in(KubeCluster cluster) {
        return start(cluster.server(), cluster.caFile());
    }

    public int port() {
        return server.getLocalPort();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    /** A kubeconfig for a child process: the proxy's URL, the bearer token. */
    public Path kubeconfigFor(String token, Path file) {
        String yaml = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: execguard-test-proxied
                  cluster: {server: "%s"}
                users:
                - name: token
                  user: {token: "%s"}
                contexts:
                - name: execguard-test-proxied
                  context: {cluster: execguard-test-proxied, user: token}
                current-context: execguard-test-proxied
                """.formatted(url(), token);
        try {
            Files.writeString(file, yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    // ---- rules ----

    /** Delays each matching response by a uniform random time in [min, max] once the server has answered. */
    public Delay delay(Match match, Duration min, Duration max) {
        return add(new Delay(match, min, max));
    }

    /** Answers matching requests with {@code status} (not forwarded), the next {@code times} of them. */
    public Fail fail(Match match, int status, int times) {
        return add(new Fail(match, status, times, 1.0));
    }

    /** Answers each matching request with {@code status} with the probability, without end. */
    public Fail failRandomly(Match match, int status, double probability) {
        return add(new Fail(match, status, Integer.MAX_VALUE, probability));
    }

    /** Holds every matching request (not forwarded) until {@link Hold#release} or {@link Hold#drop}. */
    public Hold hold(Match match) {
        return add(new Hold(match, null));
    }

    /**
     * Holds every matching request that starts after a request matching {@code after} got a 2xx from the
     * server: e.g. everything a controller writes after its first Node write.
     */
    public Hold holdAfter(Match after, Match match) {
        return add(new Hold(match, after));
    }

    /** Removes every rule (releasing what is held). */
    public void clearRules() {
        for (Rule r : List.copyOf(rules)) {
            r.remove();
        }
    }

    private <R extends Rule> R add(R rule) {
        rules.add(rule);
        return rule;
    }

    /** Closes every connection it relays, watches and held requests included; new ones are accepted as before. */
    public void cutAll() {
        LOG.info("fault proxy :{}: cutting {} connections", port(), open.size());
        for (Closeable c : List.copyOf(open)) {
            quietly(c);
        }
    }

    /** Requests seen (before any rule), by verb; watches count as WATCH. */
    public Map<String, Long> requestsByVerb() {
        Map<String, Long> out = new TreeMap<>();
        seen.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** Responses the client got, by "VERB status" (injected errors included), e.g. "PUT 409". */
    public Map<String, Long> responsesByStatus() {
        Map<String, Long> out = new TreeMap<>();
        answered.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    private void answered(String verb, int status) {
        answered.computeIfAbsent(verb + " " + status, k -> new AtomicLong()).incrementAndGet();
    }

    @Override
    public void close() {
        closed = true;
        for (Rule r : List.copyOf(rules)) {
            if (r instanceof Hold h) {
                h.drop();
            }
        }
        rules.clear();
        quietly(server);
        cutAll();
    }

    /** Delays responses. */
    public final class Delay implements Rule {
        private final Match match;
        private final Duration min;
        private final Duration max;
        private final AtomicInteger hits = new AtomicInteger();

        Delay(Match match, Duration min, Duration max) {
            this.match = match;
            this.min = min;
            this.max = max;
        }

        @Override
        public Match match() {
            return match;
        }

        @Override
        public int hits() {
            return hits.get();
        }

        @Override
        public void remove() {
            rules.remove(this);
        }

        Duration next() {
            hits.incrementAndGet();
            long span = max.toMillis() - min.toMillis();
            return min.plusMillis(span <= 0 ? 0 : ThreadLocalRandom.current().nextLong(span + 1));
        }
    }

    /** Answers errors instead of forwarding. */
    public final class Fail implements Rule {
        private final Match match;
        private final int status;
        private final AtomicInteger left;
        private final double probability;
        private final AtomicInteger hits = new AtomicInteger();

        Fail(Match match, int status, int times, double probability) {
            this.match = match;
            this.status = status;
            this.left = new AtomicInteger(times);
            this.probability = probability;
        }

        @Override
        public Match match() {
            return match;
        }

        @Override
        public int hits() {
            return hits.get();
        }

        @Override
        public void remove() {
            rules.remove(this);
        }

        boolean take() {
            if (probability < 1.0 && ThreadLocalRandom.current().nextDouble() >= probability) {
                return false;
            }
            if (left.getAndUpdate(n -> n > 0 ? n - 1 : 0) <= 0) {
                return false;
            }
            hits.incrementAndGet();
            return true;
        }
    }

    /** Holds requests: each waits until released (then forwarded) or dropped (its connection closed, never sent). */
    public final class Hold implements Rule {
        private final Match match;
        private final Match after;
        private volatile boolean armed;
        private final List<String> held = new CopyOnWriteArrayList<>();
        private final AtomicInteger hits = new AtomicInteger();
        private final Object lock = new Object();
        private Boolean outcome; // null: holding, TRUE: release, FALSE: drop

        Hold(Match match, Match after) {
            this.match = match;
            this.after = after;
            this.armed = after == null;
        }

        @Override
        public Match match() {
            return match;
        }

        @Override
        public int hits() {
            return hits.get();
        }

        /** "VERB path" of the requests held so far. */
        public List<String> held() {
            return List.copyOf(held);
        }

        /** Waits until at least {@code n} requests are held. */
        public Hold awaitHeld(int n, Duration timeout) {
            KubeCluster.await(timeout, n + " request(s) held by " + match, () -> hits.get() >= n);
            return this;
        }

        /** Forwards what is held and stops holding. */
        public void release() {
            finish(true);
        }

        /** Closes the connections of what is held without forwarding it, and stops holding. */
        public void drop() {
            finish(false);
        }

        @Override
        public void remove() {
            release();
        }

        private void finish(boolean forward) {
            rules.remove(this);
            synchronized (lock) {
                if (outcome == null) {
                    outcome = forward;
                }
                lock.notifyAll();
            }
        }

        void completed(String verb, String path, String body, int status) {
            if (!armed && after != null && status / 100 == 2 && after.test(verb, path, body)) {
                LOG.info("fault proxy :{}: {} {} answered {}; holding {} from now on", port(), verb, path, status, match);
                armed = true;
            }
        }

        /** Blocks the request; true to forward it, false to drop it. */
        boolean await(String verb, String path) throws InterruptedException {
            hits.incrementAndGet();
            held.add(verb + " " + path);
            LOG.info("fault proxy :{}: holding {} {}", port(), verb, path);
            synchronized (lock) {
                while (outcome == null && !closed) {
                    lock.wait(1000);
                }
                return outcome != null && outcome;
            }
        }
    }

    // ---- the relay ----

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                client.setTcpNoDelay(true);
                Thread.ofVirtual().name("fault-proxy-conn").start(() -> serve(client));
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("fault proxy :{}: accept failed", port(), e);
                }
            }
        }
    }

    /** One client connection: requests in sequence (keep-alive), over one upstream TLS connection. */
    private void serve(Socket client) {
        open.add(client);
        Socket up = null;
        InputStream uin = null;
        OutputStream uout = null;
        try (client) {
            InputStream cin = new BufferedInputStream(client.getInputStream());
            OutputStream cout = client.getOutputStream();
            while (!closed) {
                Head req = Head.read(cin);
                if (req == null) {
                    return;
                }
                String[] line = req.first().split(" ", 3);
                String verb = line[0];
                String target = line[1];
                String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
                boolean websocket = "websocket".equalsIgnoreCase(req.header("upgrade"));
                boolean watch = websocket || target.contains("watch=true") || target.contains("watch=1");
                seen.computeIfAbsent(watch ? "WATCH" : verb, k -> new AtomicLong()).incrementAndGet();
                if ("100-continue".equalsIgnoreCase(req.header("expect"))) {
                    cout.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    cout.flush();
                }
                byte[] body = readBody(cin, req);
                String text = new String(body, StandardCharsets.UTF_8);
                if (!beforeForward(verb, path, text)) {
                    return; // dropped
                }
                Fail fail = firstFail(verb, path, text);
                if (fail != null) {
                    answered(verb, fail.status);
                    writeError(cout, fail.status, verb, path);
                    continue;
                }
                Head resp = null;
                for (int attempt = 1; resp == null; attempt++) {
                    boolean reused = up != null && !up.isClosed();
                    if (!reused) {
                        up = connectUpstream();
                        uin = new BufferedInputStream(up.getInputStream());
                        uout = up.getOutputStream();
                    }
                    try {
                        uout.write(forwardHead(req, websocket, body.length));
                        uout.write(body);
                        uout.flush();
                        resp = Head.read(uin);
                    } catch (IOException e) {
                        resp = null;
                    }
                    if (resp == null) {
                        quietly(up);
                        open.remove(up);
                        up = null;
                        // an idle kept-alive connection the server had closed: once more on a new one
                        if (!reused || attempt > 1) {
                            throw new IOException("the API server closed the connection before answering " + verb
                                    + " " + path);
                        }
                    }
                }
                int status = Integer.parseInt(resp.first().split(" ", 3)[1]);
                answered(watch ? "WATCH" : verb, status);
                Duration delay = delayFor(verb, path, text);
                if (!delay.isZero()) {
                    Thread.sleep(delay.toMillis());
                }
                cout.write(resp.bytes());
                if (websocket && status == 101) {
                    cout.flush();
                    notifyCompleted(verb, path, text, status);
                    pipe(client, cin, cout, up, uin, uout);
                    return;
                }
                boolean keepAlive = relayBody(verb, status, resp, uin, cout);
                cout.flush();
                notifyCompleted(verb, path, text, status);
                if (!keepAlive) {
                    return;
                }
            }
        } catch (IOException e) {
            LOG.debug("fault proxy :{}: connection ended: {}", port(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (up != null) {
                quietly(up);
                open.remove(up);
            }
            open.remove(client);
        }
    }

    /** Applies holds; false when the request was dropped (its connection is closed by the caller). */
    private boolean beforeForward(String verb, String path, String body) throws InterruptedException {
        for (Rule r : rules) {
            if (r instanceof Hold h && h.armed && h.match.test(verb, path, body)) {
                if (!h.await(verb, path)) {
                    LOG.info("fault proxy :{}: dropped held {} {}", port(), verb, path);
                    return false;
                }
            }
        }
        return true;
    }

    private Fail firstFail(String verb, String path, String body) {
        for (Rule r : rules) {
            if (r instanceof Fail f && f.match.test(verb, path, body) && f.take()) {
                return f;
            }
        }
        return null;
    }

    private Duration delayFor(String verb, String path, String body) {
        Duration total = Duration.ZERO;
        for (Rule r : rules) {
            if (r instanceof Delay d && d.match.test(verb, path, body)) {
                total = total.plus(d.next());
            }
        }
        return total;
    }

    private void notifyCompleted(String verb, String path, String body, int status) {
        for (Rule r : rules) {
            if (r instanceof Hold h) {
                h.completed(verb, path, body, status);
            }
        }
    }

    private Socket connectUpstream() throws IOException {
        int p = upstream.getPort() > 0 ? upstream.getPort() : 443;
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(upstream.getHost(), p);
        SSLParameters params = s.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        params.setApplicationProtocols(new String[] {"http/1.1"});
        if (!upstream.getHost().matches("[0-9.]+")) {
            params.setServerNames(List.of(new SNIHostName(upstream.getHost())));
        }
        s.setSSLParameters(params);
        s.setTcpNoDelay(true);
        s.startHandshake();
        open.add(s);
        return s;
    }

    private byte[] forwardHead(Head req, boolean websocket, int bodyLength) {
        StringBuilder sb = new StringBuilder(req.first()).append("\r\n");
        sb.append("Host: ").append(upstream.getHost()).append(':').append(upstream.getPort()).append("\r\n");
        for (String[] h : req.headers()) {
            String k = h[0].toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(k)) {
                continue;
            }
            sb.append(h[0]).append(": ").append(h[1]).append("\r\n");
        }
        if (websocket) {
            sb.append("Connection: Upgrade\r\nUpgrade: websocket\r\n");
        } else if (bodyLength > 0 || Set.of("POST", "PUT", "PATCH").contains(req.first().split(" ")[0])) {
            sb.append("Content-Length: ").append(bodyLength).append("\r\n");
        }
        sb.append("\r\n");
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] readBody(InputStream in, Head h) throws IOException {
        String cl = h.header("content-length");
        if (cl != null) {
            return in.readNBytes(Integer.parseInt(cl.trim()));
        }
        if ("chunked".equalsIgnoreCase(h.header("transfer-encoding"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                String size = readLine(in);
                if (size == null) {
                    throw new IOException("eof in chunked request body");
                }
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    while (true) { // trailers
                        String t = readLine(in);
                        if (t == null || t.isEmpty()) {
                            return out.toByteArray();
                        }
                    }
                }
                out.write(in.readNBytes(n));
                readLine(in);
            }
        }
        return new byte[0];
    }

    /** Copies the response body as it arrives; returns whether the connection may carry another request. */
    private static boolean relayBody(String verb, int status, Head resp, InputStream in, OutputStream out)
            throws IOException {
        boolean close = "close".equalsIgnoreCase(resp.header("connection"));
        if ("HEAD".equals(verb) || status / 100 == 1 || status == 204 || status == 304) {
            return !close;
        }
        String cl = resp.header("content-length");
        if (cl != null) {
            long n = Long.parseLong(cl.trim());
            byte[] buf = new byte[8192];
            while (n > 0) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, n));
                if (r < 0) {
                    throw new IOException("eof in response body");
                }
                out.write(buf, 0, r);
                n -= r;
            }
            return !close;
        }
        if ("chunked".equalsIgnoreCase(resp.header("transfer-encoding"))) {
            while (true) {
                String size = readLine(in);
                if (size == null) {
                    throw new IOException("eof in chunked response");
                }
                out.write((size + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    while (true) {
                        String t = readLine(in);
                        if (t == null) {
                            throw new IOException("eof in chunked trailer");
                        }
                        out.write((t + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                        if (t.isEmpty()) {
                            return !close;
                        }
                    }
                }
                out.write(in.readNBytes(n));
                readLine(in);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush(); // a watch event reaches the client now, not when a buffer fills
            }
        }
        in.transferTo(out); // until the server closes
        return false;
    }

    /** After a WebSocket upgrade: raw bytes both ways until either side closes (or {@link #cutAll}). */
    private static void pipe(Socket client, InputStream cin, OutputStream cout, Socket up, InputStream uin,
                             OutputStream uout) throws InterruptedException {
        Thread toServer = Thread.ofVirtual().start(() -> copyThenClose(cin, uout, up, client));
        copyThenClose(uin, cout, up, client);
        toServer.join(TimeUnit.SECONDS.toMillis(5));
    }

    private static void copyThenClose(InputStream in, OutputStream out, Socket a, Socket b) {
        byte[] buf = new byte[16384];
        try {
            int r;
            while ((r = in.read(buf)) >= 0) {
                out.write(buf, 0, r);
                out.flush();
            }
        } catch (IOException e) {
            // one side went away
        } finally {
            quietly(a);
            quietly(b);
        }
    }

    private void writeError(OutputStream out, int status, String verb, String path) throws IOException {
        String reason = switch (status) {
            case 409 -> "Conflict";
            case 429 -> "TooManyRequests";
            case 500 -> "InternalError";
            case 503 -> "ServiceUnavailable";
            default -> "Unknown";
        };
        String body = """
                {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"fault proxy: %d for %s %s","reason":"%s","code":%d}"""
                .formatted(status, verb, path, reason, status);
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/json\r\nContent-Length: "
                + b.length + "\r\n" + (status == 429 || status == 503 ? "Retry-After: 1\r\n" : "") + "\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.write(b);
        out.flush();
        LOG.debug("fault proxy :{}: answered {} to {} {}", port(), status, verb, path);
    }

    /** A request or response head: first line and headers, and its bytes as received. */
    private record Head(String first, List<String[]> headers, byte[] bytes) {
        static Head read(InputStream in) throws IOException {
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            String first = readLine(in, raw);
            if (first == null) {
                return null;
            }
            List<String[]> headers = new ArrayList<>();
            while (true) {
                String l = readLine(in, raw);
                if (l == null) {
                    throw new IOException("eof in headers");
                }
                if (l.isEmpty()) {
                    return new Head(first, headers, raw.toByteArray());
                }
                int c = l.indexOf(':');
                headers.add(new String[] {l.substring(0, c).trim(), l.substring(c + 1).trim()});
            }
        }

        String header(String name) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    return h[1];
                }
            }
            return null;
        }
    }

    private static String readLine(InputStream in) throws IOException {
        return readLine(in, null);
    }

    /** A CRLF-terminated line without its end, or null at a clean end of stream. */
    private static String readLine(InputStream in, ByteArrayOutputStream raw) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (raw != null) {
                raw.write(c);
            }
            if (c == '\n') {
                byte[] b = line.toByteArray();
                int n = b.length > 0 && b[b.length - 1] == '\r' ? b.length - 1 : b.length;
                return new String(b, 0, n, StandardCharsets.ISO_8859_1);
            }
            line.write(c);
        }
        if (line.size() == 0) {
            return null;
        }
        throw new IOException("eof in a line");
    }

    private static SSLContext trusting(Path caFile) {
        try (InputStream in = Files.newInputStream(caFile)) {
            X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            ks.setCertificateEntry("ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot trust " + caFile, e);
        }
    }

    private static void quietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
