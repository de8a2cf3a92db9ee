package io.execguard.probe.canary;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * A CRI server for tests on a unix socket: h2c with prior knowledge, one unary call per stream, and HTTP/2 flow
 * control as a real server does it: DATA never exceeds the connection's or the stream's window (65,535 bytes each
 * unless the client's SETTINGS_INITIAL_WINDOW_SIZE and WINDOW_UPDATEs raise them); with no window left it waits for a
 * WINDOW_UPDATE, so a client that never opens the window gets no more than 64 KiB and times out.
 */
final class FakeCri implements AutoCloseable {

    /** What the server does with a call: answer this message, fail with this status, or never answer. */
    sealed interface Reply permits Answer, Fail, Hang {
    }

    record Answer(byte[] message) implements Reply {
    }

    record Fail(int status, String message) implements Reply {
    }

    record Hang() implements Reply {
    }

    private final Path socket;
    private final ServerSocketChannel server;
    private final BiFunction<String, byte[], Reply> handler;
    private final List<SocketChannel> open = new CopyOnWriteArrayList<>();
    final List<String> calls = new CopyOnWriteArrayList<>();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    private final Thread acceptor;

    FakeCri(Path dir, BiFunction<String, byte[], Reply> handler) throws IOException {
        this.socket = dir.resolve("cri.sock");
        Files.deleteIfExists(socket);
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        this.handler = handler;
        this.acceptor = Thread.ofPlatform().daemon().name("fake-cri").start(this::accept);
    }

    Path socket() {
        return socket;
    }

    private void accept() {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                open.add(ch);
                Thread.ofPlatform().daemon().name("fake-cri-conn").start(() -> serve(ch));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel ch) {
        try (ch) {
            DataInputStream in = new DataInputStream(Channels.newInputStream(ch));
            OutputStream out = Channels.newOutputStream(ch);
            in.readFully(new byte[24]);
            frame(out, 0x4, 0, 0, new byte[0]); // the server's SETTINGS (none)
            long[] conn = {65_535};
            long[] stream = {65_535};
            long initial = 65_535;
            String path = null;
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                Frame f = read(in);
                switch (f.type) {
                    case 0x4 -> {
                        if ((f.flags & 1) == 0) {
                            ByteBuffer b = ByteBuffer.wrap(f.payload);
                            while (b.remaining() >= 6) {
                                int id = b.getShort() & 0xffff;
                                long v = b.getInt() & 0xffffffffL;
                                if (id == 4) {
                                    stream[0] += v - initial;
                                    initial = v;
                                }
                            }
                            frame(out, 0x4, 1, 0, new byte[0]);
                        }
                    }
                    case 0x8 -> window(f, conn, stream);
                    case 0x1 -> {
                        for (Hpack.Field h : new Hpack().decode(f.payload)) {
                            if (h.name().equals(":path")) {
                                path = h.value();
                            }
                        }
                    }
                    case 0x0 -> {
                        body.writeBytes(f.payload);
                        if ((f.flags & 1) != 0) {
                            byte[] grpc = body.toByteArray();
                            byte[] msg = java.util.Arrays.copyOfRange(grpc, 5, grpc.length);
                            calls.add(path);
                            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                            try {
                                respond(in, out, handler.apply(path, msg), conn, stream);
                            } finally {
                                inFlight.decrementAndGet();
                            }
                        }
                    }
                    default -> {
                        // PING, PRIORITY: not sent by the client under test
                    }
                }
            }
        } catch (IOException e) {
            // the client closed the connection
        } finally {
            open.remove(ch);
        }
    }

    private void respond(DataInputStream in, OutputStream out, Reply reply, long[] conn, long[] stream)
            throws IOException {
        if (reply instanceof Hang) {
            while (true) {
                read(in); // until the client gives up and closes
            }
        }
        Map<String, String> h = new LinkedHashMap<>();
        h.put(":status", "200");
        h.put("content-type", "application/grpc");
        frame(out, 0x1, 0x4, 1, Hpack.encode(h));
        Map<String, String> trailers = new LinkedHashMap<>();
        if (reply instanceof Answer a) {
            byte[] grpc = ByteBuffer.allocate(5 + a.message().length).put((byte) 0).putInt(a.message().length)
                    .put(a.message()).array();
            int pos = 0;
            while (pos < grpc.length) {
                while (Math.min(conn[0], stream[0]) <= 0) {
                    Frame f = read(in);
                    if (f.type == 0x8) {
                        window(f, conn, stream);
                    }
                }
                int n = (int) Math.min(Math.min(16_384, grpc.length - pos), Math.min(conn[0], stream[0]));
                frame(out, 0x0, 0, 1, java.util.Arrays.copyOfRange(grpc, pos, pos + n));
                conn[0] -= n;
                stream[0] -= n;
                pos += n;
            }
            trailers.put("grpc-status", "0");
        } else if (reply instanceof Fail fail) {
            trailers.put("grpc-status", Integer.toString(fail.status()));
            trailers.put("grpc-message", fail.message());
        }
        frame(out, 0x1, 0x4 | 0x1, 1, Hpack.encode(trailers));
    }

    private static void window(Frame f, long[] conn, long[] stream) {
        long inc = ByteBuffer.wrap(f.payload).getInt() & 0x7fffffffL;
        if (f.stream == 0) {
            conn[0] += inc;
        } else {
            stream[0] += inc;
        }
    }

    private record Frame(int type, int flags, int stream, byte[] payload) {
    }

    private static Frame read(DataInputStream in) throws IOException {
        byte[] head = new byte[9];
        in.readFully(head);
        int len = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | (head[2] & 0xff);
        byte[] payload = new byte[len];
        in.readFully(payload);
        return new Frame(head[3] & 0xff, head[4] & 0xff, ByteBuffer.wrap(head, 5, 4).getInt() & 0x7fffffff, payload);
    }

    private static synchronized void frame(OutputStream out, int type, int flags, int stream, byte[] payload)
            throws IOException {
        ByteBuffer b = ByteBuffer.allocate(9 + payload.length);
        b.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length)
                .put((byte) type).put((byte) flags).putInt(stream).put(payload);
        out.write(b.array());
        out.flush();
    }


    @Override
    public void close() throws IOException {
        server.close();
        for (SocketChannel ch : open) {
            ch.close();
        }
        acceptor.interrupt();
        Files.deleteIfExists(socket);
    }
}
