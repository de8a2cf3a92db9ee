package io.execguard.probe.canary;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal gRPC client of the CRI {@code RuntimeService} on the runtime's unix socket, the path kubelet's exec
 * probes take: HTTP/2 with prior knowledge (h2c) over a {@link SocketChannel} of {@link StandardProtocolFamily#UNIX},
 * one connection and one stream per call, requests as HPACK literals, the two messages it needs hand-encoded
 * ({@link Proto}). No gRPC or Netty: docs/RESOURCES.md has what that saves. Calls share no state (each has its
 * own connection), so threads may call at once: the runtime sweep ({@link RuntimeSweep}) does, a few at a time.
 *
 * <p>A call waits for its answer until {@code wait} (not the server's deadline: no {@code grpc-timeout} is sent, so a
 * runtime that hangs keeps the call, and no second call is piled onto it).
 */
public final class CriClient {

    static final String EXEC_SYNC = "/runtime.v1.RuntimeService/ExecSync";
    static final String VERSION = "/runtime.v1.RuntimeService/Version";
    static final String LIST_CONTAINERS = "/runtime.v1.RuntimeService/ListContainers";
    static final String CONTAINER_STATS = "/runtime.v1.RuntimeService/ContainerStats";
    static final String CONTAINER_STATUS = "/runtime.v1.RuntimeService/ContainerStatus";
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    private static final int DATA = 0x0, HEADERS = 0x1, RST_STREAM = 0x3, SETTINGS = 0x4, PING = 0x6, GOAWAY = 0x7,
            WINDOW_UPDATE = 0x8, CONTINUATION = 0x9;
    private static final int END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY = 0x20;
    /**
     * The largest answer taken, and the flow-control window offered for it (HTTP/2's default is 65,535 bytes per
     * stream and per connection; a ListContainers answer of a busy node is larger): the stream's through
     * SETTINGS_INITIAL_WINDOW_SIZE, the connection's through a WINDOW_UPDATE after the preface. One call per
     * connection, so the window is never replenished.
     */
    static final int MAX_RESPONSE = 8 << 20;
    private static final int DEFAULT_WINDOW = 65_535;

    /** What ExecSync answered. */
    public record ExecResult(byte[] stdout, byte[] stderr, int exitCode) {
        public String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    /** The runtime's Version answer. */
    public record VersionResult(String version, String runtimeName, String runtimeVersion, String runtimeApiVersion) {
    }

    /**
     * One container as CRI ListContainers has it.
     *
     * @param state CRI ContainerState: 0 created, 1 running, 2 exited, 3 unknown
     * @param createdAt nanoseconds since the epoch
     * @param labels the CRI labels; kubelet's name the pod ({@code io.kubernetes.pod.namespace}, {@code .name},
     *               {@code .uid}) and the container ({@code io.kubernetes.container.name})
     */
    public record Container(String id, String podSandboxId, String name, int attempt, int state, long createdAt,
                            Map<String, String> labels) {
        public Container {
            labels = Map.copyOf(labels);
        }

        public String label(String key) {
            return labels.get(key);
        }
    }

    /** No answer within the wait; the connection was closed. */
    public static final class TimeoutException extends IOException {
        TimeoutException(String message) {
            super(message);
        }
    }

    /** The server answered with a gRPC status other than OK. */
    public static final class StatusException extends IOException {
        private final int status;

        StatusException(int status, String message) {
            super("grpc-status " + status + ": " + message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Path socket;

    public CriClient(Path socket) {
        this.socket = socket;
    }

    public Path socket() {
        return socket;
    }

    /** {@code ExecSync}: runs cmd in the container; {@code timeout} is the request's own field (the runtime's limit). */
    public ExecResult execSync(String containerId, List<String> cmd, Duration timeout, Duration wait) throws IOException {
        byte[] answer = call(EXEC_SYNC, Proto.execSyncRequest(containerId, cmd, timeout.toSeconds()), wait);
        return Proto.execSyncResponse(answer);
    }

    /** {@code Version}: the cheapest call that goes through the runtime's gRPC server. */
    public VersionResult version(Duration wait) throws IOException {
        return Proto.versionResponse(call(VERSION, Proto.versionRequest("v1"), wait));
    }

    /** {@code ListContainers} with a state filter ({@link Proto#CONTAINER_RUNNING}; negative: all). */
    public List<Container> listContainers(int state, Duration wait) throws IOException {
        return Proto.listContainersResponse(call(LIST_CONTAINERS, Proto.listContainersRequest(state), wait));
    }

    /** The running containers. */
    public List<Container> runningContainers(Duration wait) throws IOException {
        return listContainers(Proto.CONTAINER_RUNNING, wait);
    }

    /** {@code ContainerStats} of one container; the answer is not decoded (only that it came). */
    public void containerStats(String containerId, Duration wait) throws IOException {
        call(CONTAINER_STATS, Proto.containerIdRequest(containerId), wait);
    }

    /** {@code ContainerStatus} of one container (not verbose); the answer is not decoded. */
    public void containerStatus(String containerId, Duration wait) throws IOException {
        call(CONTAINER_STATUS, Proto.containerIdRequest(containerId), wait);
    }

    /**
     * The host pid of the container's init from {@code ContainerStatus} verbose (containerd's {@code info} JSON has
     * {@code "pid"}; containerd answers it from its own store, also while the container's shim hangs), 0 when the
     * runtime does not say.
     */
    public int containerPid(String containerId, Duration wait) throws IOException {
        String info = Proto.containerStatusInfo(call(CONTAINER_STATUS, Proto.containerStatusRequest(containerId, true),
                wait)).getOrDefault("info", "");
        java.util.regex.Matcher m = PID.matcher(info);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    private static final java.util.regex.Pattern PID = java.util.regex.Pattern.compile("\"pid\"\\s*:\\s*(\\d{1,9})\\b");

    /** One unary call: the response message's bytes. */
    byte[] call(String method, byte[] message, Duration wait) throws IOException {
        long deadline = System.nanoTime() + wait.toNanos();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
             Selector selector = Selector.open()) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ);
            Connection c = new Connection(ch, selector, deadline, method);
            c.write(request(method, message));
            return c.readResponse();
        }
    }

    private static byte[] request(String method, byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(PREFACE);
        // SETTINGS_ENABLE_PUSH = 0, SETTINGS_INITIAL_WINDOW_SIZE = MAX_RESPONSE (the stream's window)
        frame(out, SETTINGS, 0, 0, ByteBuffer.allocate(12).putShort((short) 2).putInt(0).putShort((short) 4)
                .putInt(MAX_RESPONSE).array());
        // the connection's window: from the default up to MAX_RESPONSE
        frame(out, WINDOW_UPDATE, 0, 0, ByteBuffer.allocate(4).putInt(MAX_RESPONSE - DEFAULT_WINDOW).array());
        Map<String, String> h = new LinkedHashMap<>();
        h.put(":method", "POST");
        h.put(":scheme", "http");
        h.put(":path", method);
        h.put(":authority", "localhost");
        h.put("content-type", "application/grpc");
        h.put("te", "trailers");
        h.put("user-agent", "execguard-canary");
        frame(out, HEADERS, END_HEADERS, 1, Hpack.encode(h));
        byte[] grpc = new byte[5 + message.length];
        ByteBuffer.wrap(grpc).put((byte) 0).putInt(message.length).put(message);
        frame(out, DATA, END_STREAM, 1, grpc);
        return out.toByteArray();
    }

    private static void frame(ByteArrayOutputStream out, int type, int flags, int stream, byte[] payload) {
        out.write(payload.length >>> 16);
        out.write(payload.length >>> 8);
        out.write(payload.length);
        out.write(type);
        out.write(flags);
        out.writeBytes(ByteBuffer.allocate(4).putInt(stream).array());
        out.writeBytes(payload);
    }

    /** One connection's reading state. */
    private static final class Connection {
        private final SocketChannel ch;
        private final Selector selector;
        private final long deadline;
        private final String method;
        private final ByteBuffer in = ByteBuffer.allocate(8 * 1024).flip();
        private final Hpack hpack = new Hpack();

        Connection(SocketChannel ch, Selector selector, long deadline, String method) {
            this.ch = ch;
            this.selector = selector;
            this.deadline = deadline;
            this.method = method;
        }

        void write(byte[] bytes) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                if (ch.write(b) == 0) {
                    Thread.onSpinWait(); // a few hundred bytes into an empty socket buffer: not expected to wait
                    checkDeadline();
                }
            }
        }

        byte[] readResponse() throws IOException {
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            ByteArrayOutputStream block = null;
            boolean blockEndsStream = false;
            Map<String, String> headers = null;
            while (true) {
                byte[] head = read(9);
                int len = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | (head[2] & 0xff);
                int type = head[3] & 0xff;
                int flags = head[4] & 0xff;
                int stream = ByteBuffer.wrap(head, 5, 4).getInt() & 0x7fffffff;
                if (len > MAX_RESPONSE) {
                    throw new IOException(method + ": HTTP/2 frame of " + len + " bytes");
                }
                byte[] payload = read(len);
                switch (type) {
                    case SETTINGS -> {
                        if ((flags & ACK) == 0) {
                            ByteArrayOutputStream ack = new ByteArrayOutputStream();
                            frame(ack, SETTINGS, ACK, 0, new byte[0]);
                            write(ack.toByteArray());
                        }
                    }
                    case PING -> {
                        if ((flags & ACK) == 0) {
                            ByteArrayOutputStream pong = new ByteArrayOutputStream();
                            frame(pong, PING, ACK, 0, payload);
                            write(pong.toByteArray());
                        }
                    }
                    case GOAWAY -> throw new IOException(method + ": the server sent GOAWAY (error "
                            + (payload.length >= 8 ? ByteBuffer.wrap(payload, 4, 4).getInt() : -1) + ")");
                    case RST_STREAM -> {
                        if (stream == 1) {
                            throw new IOException(method + ": the server reset the stream (error "
                                    + (payload.length >= 4 ? ByteBuffer.wrap(payload).getInt() : -1) + ")");
                        }
                    }
                    case DATA -> {
                        if (stream == 1) {
                            data.writeBytes(unpad(payload, flags, false));
                            if (data.size() > MAX_RESPONSE) {
                                throw new IOException(method + ": response over " + MAX_RESPONSE + " bytes");
                            }
                            if ((flags & END_STREAM) != 0) {
                                return finish(headers, null, data.toByteArray());
                            }
                        }
                    }
                    case HEADERS, CONTINUATION -> {
                        if (stream != 1) {
                            continue;
                        }
                        if (type == HEADERS) {
                            block = new ByteArrayOutputStream();
                            blockEndsStream = (flags & END_STREAM) != 0;
                            block.writeBytes(unpad(payload, flags, true));
                        } else if (block != null) {
                            block.writeBytes(payload);
                        }
                        if ((flags & END_HEADERS) != 0 && block != null) {
                            Map<String, String> fields = new LinkedHashMap<>();
                            for (Hpack.Field f : hpack.decode(block.toByteArray())) {
                                fields.put(f.name(), f.value());
                            }
                            block = null;
                            if (headers == null && !blockEndsStream) {
                                headers = fields;
                            } else {
                                return finish(headers == null ? fields : headers, fields, data.toByteArray());
                            }
                        }
                    }
                    default -> {
                        // WINDOW_UPDATE (the request is one small DATA frame), PRIORITY, unknown frame types
                    }
                }
            }
        }

        private byte[] finish(Map<String, String> headers, Map<String, String> trailers, byte[] data) throws IOException {
            String status = headers == null ? null : headers.get(":status");
            if (status != null && !status.equals("200")) {
                throw new IOException(method + ": HTTP status " + status);
            }
            String grpcStatus = trailers == null ? null : trailers.get("grpc-status");
            if (grpcStatus == null) {
                throw new IOException(method + ": the stream ended without grpc-status");
            }
            if (!grpcStatus.equals("0")) {
                String msg = trailers.getOrDefault("grpc-message", "");
                throw new StatusException(parseInt(grpcStatus), percentDecode(msg));
            }
            if (data.length < 5) {
                throw new IOException(method + ": no response message");
            }
            ByteBuffer b = ByteBuffer.wrap(data);
            if (b.get() != 0) {
                throw new IOException(method + ": compressed response (none was asked for)");
            }
            int n = b.getInt();
            if (n < 0 || n > data.length - 5) {
                throw new IOException(method + ": truncated response message");
            }
            byte[] msg = new byte[n];
            b.get(msg);
            return msg;
        }

        private static byte[] unpad(byte[] payload, int flags, boolean headers) throws IOException {
            int from = 0;
            int to = payload.length;
            if ((flags & PADDED) != 0) {
                if (payload.length == 0) {
                    throw new IOException("HTTP/2: empty padded frame");
                }
                from = 1;
                to -= payload[0] & 0xff;
            }
            if (headers && (flags & PRIORITY) != 0) {
                from += 5;
            }
            if (to < from) {
                throw new IOException("HTTP/2: bad padding");
            }
            return java.util.Arrays.copyOfRange(payload, from, to);
        }

        private byte[] read(int n) throws IOException {
            byte[] out = new byte[n];
            int got = 0;
            while (got < n) {
                if (!in.hasRemaining()) {
                    fill();
                }
                int k = Math.min(n - got, in.remaining());
                in.get(out, got, k);
                got += k;
            }
            return out;
        }

        private void fill() throws IOException {
            in.clear();
            try {
                while (true) {
                    int r = ch.read(in);
                    if (r < 0) {
                        throw new IOException(method + ": the runtime closed the connection");
                    }
                    if (r > 0) {
                        return;
                    }
                    long left = checkDeadline();
                    selector.select(Math.max(1, left / 1_000_000));
                    selector.selectedKeys().clear();
                }
            } finally {
                in.flip();
            }
        }

        private long checkDeadline() throws TimeoutException {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException(method + ": no answer");
            }
            return left;
        }
    }

    private static int parseInt(String s) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return 2; // UNKNOWN
        }
    }

    /** grpc-message is percent-encoded (gRPC over HTTP/2). */
    static String percentDecode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                try {
                    out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                    i += 2;
                    continue;
                } catch (NumberFormatException e) {
                    // not an escape: kept as is
                }
            }
            out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
