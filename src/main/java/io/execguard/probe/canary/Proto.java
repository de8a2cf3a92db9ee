package io.execguard.probe.canary;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The protobuf encoding of the few CRI messages the canary uses (k8s.io/cri-api runtime/v1 api.proto):
 * {@code ExecSyncRequest{container_id=1, cmd=2, timeout=3}}, {@code ExecSyncResponse{stdout=1, stderr=2,
 * exit_code=3}}, {@code VersionRequest{version=1}}, {@code VersionResponse{version=1, runtime_name=2,
 * runtime_version=3, runtime_api_version=4}}. Unknown fields are skipped, as protobuf requires.
 */
final class Proto {

    private Proto() {
    }

    static byte[] execSyncRequest(String containerId, List<String> cmd, long timeoutSeconds) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        bytes(out, 1, containerId.getBytes(StandardCharsets.UTF_8));
        for (String arg : cmd) {
            bytes(out, 2, arg.getBytes(StandardCharsets.UTF_8));
        }
        if (timeoutSeconds != 0) {
            varint(out, 3 << 3);
            varint(out, timeoutSeconds);
        }
        return out.toByteArray();
    }

    static byte[] versionRequest(String version) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        bytes(out, 1, version.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    static CriClient.ExecResult execSyncResponse(byte[] msg) throws IOException {
        byte[][] fields = new byte[4][];
        long[] exit = {0};
        parse(msg, fields, exit, 3);
        return new CriClient.ExecResult(orEmpty(fields[1]), orEmpty(fields[2]), (int) exit[0]);
    }

    static CriClient.VersionResult versionResponse(byte[] msg) throws IOException {
        byte[][] fields = new byte[5][];
        parse(msg, fields, new long[1], -1);
        return new CriClient.VersionResult(text(fields[1]), text(fields[2]), text(fields[3]), text(fields[4]));
    }

    /** Length-delimited fields 1..n into {@code bytes[field]}, the varint field {@code varintField} into {@code varint[0]}. */
    private static void parse(byte[] msg, byte[][] bytes, long[] varint, int varintField) throws IOException {
        int[] pos = {0};
        while (pos[0] < msg.length) {
            long key = readVarint(msg, pos);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            switch (wire) {
                case 0 -> {
                    long v = readVarint(msg, pos);
                    if (field == varintField) {
                        varint[0] = v;
                    }
                }
                case 1 -> pos[0] += 8;
                case 2 -> {
                    long len = readVarint(msg, pos);
                    if (len < 0 || pos[0] + len > msg.length) {
                        throw new IOException("protobuf: truncated field " + field);
                    }
                    if (field > 0 && field < bytes.length && field != varintField) {
                        bytes[field] = java.util.Arrays.copyOfRange(msg, pos[0], pos[0] + (int) len);
                    }
                    pos[0] += (int) len;
                }
                case 5 -> pos[0] += 4;
                default -> throw new IOException("protobuf: wire type " + wire + " of field " + field);
            }
        }
        if (pos[0] != msg.length) {
            throw new IOException("protobuf: truncated message");
        }
    }

    private static long readVarint(byte[] b, int[] pos) throws IOException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos[0] >= b.length) {
                throw new IOException("protobuf: truncated varint");
            }
            int x = b[pos[0]++] & 0xff;
            v |= (long) (x & 0x7f) << shift;
            if ((x & 0x80) == 0) {
                return v;
            }
        }
        throw new IOException("protobuf: varint too long");
    }

    private static void bytes(ByteArrayOutputStream out, int field, byte[] value) {
        varint(out, (long) field << 3 | 2);
        varint(out, value.length);
        out.writeBytes(value);
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static byte[] orEmpty(byte[] b) {
        return b == null ? new byte[0] : b;
    }

    private static String text(byte[] b) {
        return b == null ? "" : new String(b, StandardCharsets.UTF_8);
    }
}
