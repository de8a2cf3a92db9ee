package io.execguard.probe.kube;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;

/** A response's status and its body as a stream (chunked transfer decoded); closing it closes the connection. */
final class HttpResponseStream extends FilterInputStream {

    private final int code;
    private final Socket socket;

    HttpResponseStream(int code, InputStream body, Socket socket) {
        super(body);
        this.code = code;
        this.socket = socket;
    }

    int code() {
        return code;
    }

    /** The next line of the body (up to LF, without CR/LF), or null at its end. UTF-8. */
    String readLine() throws IOException {
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream(256);
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                return line.toString(java.nio.charset.StandardCharsets.UTF_8);
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** Decodes {@code Transfer-Encoding: chunked}. */
    static final class Chunked extends InputStream {
        private final InputStream in;
        private long left;
        private boolean done;

        Chunked(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            if (!ensure()) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            if (!ensure()) {
                return -1;
            }
            int n = in.read(buf, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }

        private boolean ensure() throws IOException {
            if (done) {
                return false;
            }
            if (left > 0) {
                return true;
            }
            String size = KubeApi.readHeaderLine(in);
            if (size != null && size.isEmpty()) {
                size = KubeApi.readHeaderLine(in); // the CRLF after the previous chunk
            }
            if (size == null) {
                done = true;
                return false;
            }
            int semi = size.indexOf(';');
            left = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
            if (left == 0) {
                done = true;
                return false;
            }
            return true;
        }
    }

    /** At most {@code length} bytes of the underlying stream. */
    static final class Bounded extends InputStream {
        private final InputStream in;
        private long left;

        Bounded(InputStream in, long length) {
            this.in = in;
            this.left = length;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(buf, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
