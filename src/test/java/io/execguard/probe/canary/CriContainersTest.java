package io.execguard.probe.canary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protobuf of ListContainers (nested messages, map fields, unknown fields), and the client against a server that
 * keeps HTTP/2's flow control: an answer over 64 KiB.
 */
class CriContainersTest {

    @TempDir
    Path dir;

    /** A protobuf writer for the test's messages. */
    static final class Pb {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pb varint(int field, long v) {
            raw((long) field << 3);
            raw(v);
            return this;
        }

        Pb bytes(int field, byte[] b) {
            raw((long) field << 3 | 2);
            raw(b.length);
            out.writeBytes(b);
            return this;
        }

        Pb str(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Pb msg(int field, Pb m) {
            return bytes(field, m.done());
        }

        Pb fixed64(int field) {
            raw((long) field << 3 | 1);
            out.writeBytes(new byte[8]);
            return this;
        }

        Pb map(int field, Map<String, String> m) {
            m.forEach((k, v) -> msg(field, new Pb().str(1, k).str(2, v)));
            return this;
        }

        byte[] done() {
            return out.toByteArray();
        }

        private void raw(long v) {
            while ((v & ~0x7fL) != 0) {
                out.write((int) (v & 0x7f) | 0x80);
                v >>>= 7;
            }
            out.write((int) v);
        }
    }

    static Pb container(String id, String sandbox, String name, Map<String, String> labels) {
        return new Pb().str(1, id).str(2, sandbox).msg(3, new Pb().str(1, name).varint(2, 1))
                .msg(4, new Pb().str(1, "docker.io/library/busybox:1")).str(5, "sha256:abc").varint(6, 1)
                .varint(7, 1_700_000_000_000_000_000L).map(8, labels).map(9, Map.of("io.kubernetes.pod.terminationGracePeriod", "30"));
    }

    static Map<String, String> podLabels(String ns, String pod, String uid, String container) {
        Map<String, String> m = new TreeMap<>();
        m.put("io.kubernetes.pod.namespace", ns);
        m.put("io.kubernetes.pod.name", pod);
        m.put("io.kubernetes.pod.uid", uid);
        m.put("io.kubernetes.container.name", container);
        return m;
    }

    @Test
    void listContainersRequestFiltersOnTheRunningState() {
        // ListContainersRequest{filter(1): ContainerFilter{state(2): ContainerStateValue{state(1): RUNNING = 1}}}
        assertArrayEquals(HexFormat.of().parseHex("0a04" + "1202" + "0801"), Proto.listContainersRequest(1));
        // CREATED = 0 is proto3's default: the value message is empty but present (the filter is on)
        assertArrayEquals(HexFormat.of().parseHex("0a02" + "1200"), Proto.listContainersRequest(0));
        assertArrayEquals(new byte[0], Proto.listContainersRequest(-1), "no filter");
        assertArrayEquals(HexFormat.of().parseHex("0a03" + "616263"), Proto.containerIdRequest("abc"));
    }

    record Case(String name, byte[] message, List<CriClient.Container> expected) {
    }

    @Test
    void listContainersResponsesDecodeNestedMessagesAndMaps() throws IOException {
        Map<String, String> a = podLabels("ns", "pod-a", "uid-a", "main");
        List<Case> cases = List.of(
                new Case("empty", new byte[0], List.of()),
                new Case("one container, every field", new Pb().msg(1, container("c1", "s1", "main", a)).done(),
                        List.of(new CriClient.Container("c1", "s1", "main", 1, 1, 1_700_000_000_000_000_000L, a))),
                new Case("two, the second without labels or metadata", new Pb()
                        .msg(1, container("c1", "s1", "main", a)).msg(1, new Pb().str(1, "c2").varint(6, 2)).done(),
                        List.of(new CriClient.Container("c1", "s1", "main", 1, 1, 1_700_000_000_000_000_000L, a),
                                new CriClient.Container("c2", "", "", 0, 2, 0, Map.of()))),
                new Case("unknown fields and wire types skipped", new Pb().fixed64(7)
                        .msg(1, new Pb().str(1, "c3").fixed64(15).varint(16, 5).str(17, "x")
                                .msg(8, new Pb().str(1, "k").varint(3, 9).str(2, "v"))).done(),
                        List.of(new CriClient.Container("c3", "", "", 0, 0, 0, Map.of("k", "v")))),
                new Case("a map entry without a value is the empty string", new Pb()
                        .msg(1, new Pb().str(1, "c4").msg(8, new Pb().str(1, "k"))).done(),
                        List.of(new CriClient.Container("c4", "", "", 0, 0, 0, Map.of("k", "")))));
        for (Case c : cases) {
            assertEquals(c.expected(), Proto.listContainersResponse(c.message()), c.name());
        }
        byte[] whole = new Pb().msg(1, container("c1", "s1", "main", a)).done();
        assertThrows(IOException.class, () -> Proto.listContainersResponse(java.util.Arrays.copyOf(whole,
                whole.length - 3)), "truncated");
        assertThrows(IOException.class, () -> Proto.listContainersResponse(HexFormat.of().parseHex("0b")),
                "wire type 3 (groups) is not supported");
        assertThrows(IOException.class, () -> Proto.listContainersResponse(new Pb().msg(1, new Pb().varint(1, 5))
                .done()), "an id that is a varint");
    }

    @Test
    void anAnswerOverSixtyFourKibibytesArrivesThroughTheFlowControlWindow() throws Exception {
        List<CriClient.Container> many = new ArrayList<>();
        Pb answer = new Pb();
        for (int i = 0; i < 400; i++) {
            Map<String, String> labels = podLabels("namespace-" + i, "pod-with-a-long-name-" + i,
                    "0123456789abcdef-" + i, "container-" + i);
            labels.put("app.kubernetes.io/description", "x".repeat(300));
            String id = String.format("%064x", i);
            answer.msg(1, container(id, "sandbox-" + i, "container-" + i, labels));
            many.add(new CriClient.Container(id, "sandbox-" + i, "container-" + i, 1, 1, 1_700_000_000_000_000_000L,
                    labels));
        }
        byte[] message = answer.done();
        assertTrue(message.length > 4 * 65_535, "the answer is " + message.length + " bytes");
        try (FakeCri cri = new FakeCri(dir, (path, req) -> {
            assertEquals(CriClient.LIST_CONTAINERS, path);
            return new FakeCri.Answer(message);
        })) {
            List<CriClient.Container> got = new CriClient(cri.socket()).runningContainers(Duration.ofSeconds(5));
            assertEquals(many, got);
        }
    }

    @Test
    void containerStatusVerboseNamesTheInitPid() throws Exception {
        assertArrayEquals(HexFormat.of().parseHex("0a03616263" + "1001"), Proto.containerStatusRequest("abc", true));
        assertArrayEquals(HexFormat.of().parseHex("0a03616263"), Proto.containerStatusRequest("abc", false));
        byte[] answer = new Pb().msg(1, new Pb().str(1, "abc").varint(4, 1)).map(2, Map.of("info",
                "{\"sandboxID\":\"s\",\"pid\": 31337,\"runtimeSpec\":{\"process\":{\"pid\":1}}}")).done();
        assertEquals(Map.of("info", "{\"sandboxID\":\"s\",\"pid\": 31337,\"runtimeSpec\":{\"process\":{\"pid\":1}}}"),
                Proto.containerStatusInfo(answer));
        try (FakeCri cri = new FakeCri(dir, (path, req) -> {
            assertEquals(CriClient.CONTAINER_STATUS, path);
            assertArrayEquals(Proto.containerStatusRequest("abc", true), req);
            return new FakeCri.Answer(answer);
        })) {
            assertEquals(31337, new CriClient(cri.socket()).containerPid("abc", Duration.ofSeconds(5)));
        }
        try (FakeCri cri = new FakeCri(dir, (path, req) -> new FakeCri.Answer(new Pb().msg(1, new Pb().str(1, "x"))
                .done()))) {
            assertEquals(0, new CriClient(cri.socket()).containerPid("x", Duration.ofSeconds(5)), "not verbose: no pid");
        }
    }

    @Test
    void aCallThatIsNeverAnsweredTimesOutAtItsWaitAndAStatusIsAnError() throws Exception {
        try (FakeCri cri = new FakeCri(dir, (path, req) -> path.equals(CriClient.CONTAINER_STATS)
                ? new FakeCri.Hang() : new FakeCri.Fail(5, "container \"x\" not found"))) {
            CriClient c = new CriClient(cri.socket());
            long t0 = System.nanoTime();
            assertThrows(CriClient.TimeoutException.class, () -> c.containerStats("x", Duration.ofMillis(300)));
            double s = (System.nanoTime() - t0) / 1e9;
            assertTrue(s >= 0.3 && s < 3, "timed out after " + s + " s");
            CriClient.StatusException e = assertThrows(CriClient.StatusException.class,
                    () -> c.containerStatus("x", Duration.ofSeconds(5)));
            assertEquals(5, e.status());
        }
    }
}
