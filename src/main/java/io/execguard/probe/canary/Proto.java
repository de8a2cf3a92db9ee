package io.execguard.probe.canary;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The protobuf encoding of the few CRI messages the canary uses (k8s.io/cri-api runtime/v1 api.proto):
 * {@code ExecSyncRequest{container_id=1, cmd=2, timeout=3}}, {@code ExecSyncResponse{stdout=1, stderr=2,
 * exit_code=3}}, {@code VersionRequest{version=1}}, {@code VersionResponse{version=1, runtime_name=2,
 * runtime_version=3, runtime_api_version=4}}; for the per-container sweep {@code ListContainersRequest{filter=1:
 * ContainerFilter{state=2: ContainerStateValue{state=1}}}}, {@code ListContainersResponse{containers=1 (repeated
 * Container{id=1, pod_sandbox_id=2, metadata=3: ContainerMetadata{name=1, attempt=2}, state=6, created_at=7,
 * labels=8 (map: repeated entry{key=1, value=2})})}}, {@code ContainerStatsRequest{container_id=1}} and
 * {@code ContainerStatusRequest{container_id=1, verbose=2}} (their answers are not read: only that they came).
 * Unknown fields are skipped, as protobuf requires.
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

    /** CRI ContainerState: CONTAINER_CREATED = 0, CONTAINER_RUNNING = 1, CONTAINER_EXITED = 2, CONTAINER_UNKNOWN = 3. */
    static final int CONTAINER_RUNNING = 1;

    /** ListContainersRequest with a state filter, or none when {@code state < 0}. */
    static byte[] listContainersRequest(int state) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (state >= 0) {
            ByteArrayOutputStream value = new ByteArrayOutputStream();
            if (state != 0) { // proto3: the default is not written
                varint(value, 1 << 3);
                varint(value, state);
            }
            ByteArrayOutputStream filter = new ByteArrayOutputStream();
            bytes(filter, 2, value.toByteArray());
            bytes(out, 1, filter.toByteArray());
        }
        return out.toByteArray();
    }

    /** A request whose only field is {@code container_id = 1} (ContainerStatsRequest, ContainerStatusRequest). */
    static byte[] containerIdRequest(String containerId) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        bytes(out, 1, containerId.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    /** ContainerStatusRequest{container_id = 1, verbose = 2}. */
    static byte[] containerStatusRequest(String containerId, boolean verbose) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        bytes(out, 1, containerId.getBytes(StandardCharsets.UTF_8));
        if (verbose) {
            varint(out, 2 << 3);
            varint(out, 1);
        }
        return out.toByteArray();
    }

    /** ContainerStatusResponse's {@code info = 2} map (verbose only; containerd: key "info", a JSON document). */
    static java.util.Map<String, String> containerStatusInfo(byte[] msg) throws IOException {
        java.util.Map<String, String> info = new java.util.TreeMap<>();
        for (Field f : fields(msg)) {
            if (f.number() == 2 && f.wire() == 2) {
                mapEntry(f.bytes(), info);
            }
        }
        return info;
    }

    /** One entry of a {@code map<string, string>}: a message of {@code key = 1}, {@code value = 2}, put into {@code into}. */
    private static void mapEntry(byte[] entry, java.util.Map<String, String> into) throws IOException {
        String key = "";
        String value = "";
        for (Field e : fields(entry)) {
            if (e.number() == 1) {
                key = e.text();
            } else if (e.number() == 2) {
                value = e.text();
            }
        }
        into.put(key, value);
    }

    static List<CriClient.Container> listContainersResponse(byte[] msg) throws IOException {
        List<CriClient.Container> out = new java.util.ArrayList<>();
        for (Field f : fields(msg)) {
            if (f.number() == 1 && f.wire() == 2) {
                out.add(container(f.bytes()));
            }
        }
        return out;
    }

    static CriClient.Container container(byte[] msg) throws IOException {
        String id = "";
        String sandbox = "";
        String name = "";
        long attempt = 0;
        long state = 0;
        long created = 0;
        java.util.Map<String, String> labels = new java.util.TreeMap<>();
        for (Field f : fields(msg)) {
            switch (f.number()) {
                case 1 -> id = f.text();
                case 2 -> sandbox = f.text();
                case 3 -> {
                    for (Field m : fields(f.bytes())) {
                        if (m.number() == 1) {
                            name = m.text();
                        } else if (m.number() == 2) {
                            attempt = m.varint();
                        }
                    }
                }
                case 6 -> state = f.varint();
                case 7 -> created = f.varint();
                case 8 -> mapEntry(f.bytes(), labels);
                default -> {
                    // image, image_ref, annotations: not needed
                }
            }
        }
        return new CriClient.Container(id, sandbox, name, (int) attempt, (int) state, created, labels);
    }

    /** One field of a message: its number, wire type, and the varint or the bytes (null for fixed-size types). */
    record Field(int number, int wire, long varint, byte[] bytes) {
        String text() throws IOException {
            if (wire != 2) {
                throw new IOException("protobuf: field " + number + " is not length-delimited (wire " + wire + ")");
            }
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /** The fields of a message in order; fixed32/fixed64 are skipped. */
    static List<Field> fields(byte[] msg) throws IOException {
        List<Field> out = new java.util.ArrayList<>();
        int[] pos = {0};
        while (pos[0] < msg.length) {
            long key = readVarint(msg, pos);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            switch (wire) {
                case 0 -> out.add(new Field(field, wire, readVarint(msg, pos), null));
                case 1 -> pos[0] += 8;
                case 2 -> {
                    long len = readVarint(msg, pos);
                    if (len < 0 || pos[0] + len > msg.length) {
                        throw new IOException("protobuf: truncated field " + field);
                    }
                    out.add(new Field(field, wire, 0, java.util.Arrays.copyOfRange(msg, pos[0], pos[0] + (int) len)));
                    pos[0] += (int) len;
                }
                case 5 -> pos[0] += 4;
                default -> throw new IOException("protobuf: wire type " + wire + " of field " + field);
            }
        }
        if (pos[0] != msg.length) {
            throw new IOException("protobuf: truncated message");
        }
        return out;
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
