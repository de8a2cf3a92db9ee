package io.execguard.probe.canary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** HPACK (RFC 7541's own examples) and the protobuf of the CRI messages, byte for byte. */
class WireFormatTest {

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    @Test
    void rfc7541C4RequestsWithHuffmanAndTheDynamicTable() throws IOException {
        Hpack h = new Hpack();
        // C.4.1
        assertEquals(List.of(new Hpack.Field(":method", "GET"), new Hpack.Field(":scheme", "http"),
                new Hpack.Field(":path", "/"), new Hpack.Field(":authority", "www.example.com")),
                h.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")));
        // C.4.2: index 62 is the dynamic entry C.4.1 added
        assertEquals(List.of(new Hpack.Field(":method", "GET"), new Hpack.Field(":scheme", "http"),
                new Hpack.Field(":path", "/"), new Hpack.Field(":authority", "www.example.com"),
                new Hpack.Field("cache-control", "no-cache")),
                h.decode(hex("8286 84be 5886 a8eb 1064 9cbf")));
        // C.4.3
        assertEquals(List.of(new Hpack.Field(":method", "GET"), new Hpack.Field(":scheme", "https"),
                new Hpack.Field(":path", "/index.html"), new Hpack.Field(":authority", "www.example.com"),
                new Hpack.Field("custom-key", "custom-value")),
                h.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")));
    }

    @Test
    void rfc7541C6ResponsesEvictFromASmallTable() throws IOException {
        Hpack h = new Hpack();
        h.decode(hex("20")); // a table size update to 0 first, then entries never stay
        assertEquals(List.of(new Hpack.Field(":status", "302"), new Hpack.Field("cache-control", "private"),
                new Hpack.Field("date", "Mon, 21 Oct 2013 20:13:21 GMT"), new Hpack.Field("location",
                        "https://www.example.com")),
                h.decode(hex("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff"
                        + "6e91 9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3")));
        assertThrows(IOException.class, () -> h.decode(hex("be")), "nothing was kept at size 0");
    }

    @Test
    void requestsAreLiteralsWithoutIndexingThatDecodeBack() throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(":path", "/runtime.v1.RuntimeService/ExecSync");
        m.put("content-type", "application/grpc");
        byte[] block = Hpack.encode(m);
        assertEquals(0x00, block[0]);
        assertEquals(List.of(new Hpack.Field(":path", "/runtime.v1.RuntimeService/ExecSync"),
                new Hpack.Field("content-type", "application/grpc")), new Hpack().decode(block));
    }

    @Test
    void execSyncRequestAndResponse() throws IOException {
        assertArrayEquals(hex("0a03 6162 63 1202 2f63 1202 6f6b 180a"),
                Proto.execSyncRequest("abc", List.of("/c", "ok"), 10));
        // stdout "ok\n", an unknown varint field 9, stderr "e", exit code 3
        CriClient.ExecResult r = Proto.execSyncResponse(hex("0a03 6f6b 0a 4801 1201 65 1803"));
        assertEquals("ok\n", r.stdoutText());
        assertEquals("e", new String(r.stderr()));
        assertEquals(3, r.exitCode());
        assertEquals(0, Proto.execSyncResponse(new byte[0]).exitCode(), "all defaults: exit 0, empty output");
        assertThrows(IOException.class, () -> Proto.execSyncResponse(hex("0a05 6f6b")), "truncated");
    }

    @Test
    void versionResponseAndGrpcMessages() throws IOException {
        CriClient.VersionResult v = Proto.versionResponse(hex("0a05 302e 312e 30 120a 636f 6e74 6169 6e65 7264"
                + "1a03 312e 36 2202 7631"));
        assertEquals(new CriClient.VersionResult("0.1.0", "containerd", "1.6", "v1"), v);
        assertEquals("failed to find container \"x\": not found",
                CriClient.percentDecode("failed to find container \"x\": not found"));
        assertEquals("100% done: ü", CriClient.percentDecode("100%25 done: %C3%BC"));
    }
}
