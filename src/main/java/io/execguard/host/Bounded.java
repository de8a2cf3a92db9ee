package io.execguard.host;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reading at most N bytes of a kernel file by plain {@code read(2)} calls. Not {@code InputStream.readNBytes}:
 * on a file channel it asks for the position and size first, and files without {@code llseek} (fusectl's
 * {@code /sys/fs/fuse/connections/N/waiting}, some sysfs and procfs files) fail with ESPIPE.
 */
final class Bounded {
    private Bounded() {
    }

    static String read(InputStream in, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(max, 8192));
        byte[] buf = new byte[Math.min(max, 8192)];
        int left = max;
        while (left > 0) {
            int n = in.read(buf, 0, Math.min(buf.length, left));
            if (n < 0) {
                break;
            }
            out.write(buf, 0, n);
            left -= n;
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
