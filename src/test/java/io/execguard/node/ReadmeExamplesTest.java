package io.execguard.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.api.Test;

/** What the node e2e's README comparison lets through (run-to-run values) and what it catches (anything else). */
class ReadmeExamplesTest {

    static final String SHOWN = """
            NAME             STATUS      STUCK-EXEC   STUCK-KILL   TOP-CAUSE     ACTION   LAST-PROBE   AGE
            execguard-node   Unhealthy   1            0            FuseRequest   Taint    3s           14m
            """;

    @Test
    void valuesThatChangeEveryRunAreMasked() {
        String live = """
                NAME             STATUS      STUCK-EXEC   STUCK-KILL   TOP-CAUSE     ACTION   LAST-PROBE   AGE
                execguard-node   Unhealthy   1            0            FuseRequest   Taint    1s           1h5m
                """;
        assertEquals(ReadmeExamples.normalize(SHOWN), ReadmeExamples.normalize(live));
        assertEquals(ReadmeExamples.normalize("message: 'runc init (pid 31271) for container 4e394e9df54a has been\n"
                        + "  alive 6s, at /data (FUSE connection 82)'"),
                ReadmeExamples.normalize("message: 'runc init (pid 7546) for container 5fbd7a515842 has been alive\n"
                        + "  12s, at /data (FUSE connection 9)'"), "pids, ids, durations and line breaks");
    }

    @Test
    void anythingElseDiffers() {
        assertNotEquals(ReadmeExamples.normalize(SHOWN), ReadmeExamples.normalize(SHOWN.replace("Taint ", "Cordon")));
        assertNotEquals(ReadmeExamples.normalize(SHOWN), ReadmeExamples.normalize(SHOWN.replace("FuseRequest", "Unknown")));
        assertNotEquals(ReadmeExamples.normalize(SHOWN), ReadmeExamples.normalize(SHOWN.replace("STUCK-KILL", "KILLS")));
    }

    @Test
    void readmeHasTheBlocksTheNodeE2eFills() throws Exception {
        String readme = Files.readString(ReadmeExamples.README);
        List<String> get = ReadmeExamples.blocks(readme, "get");
        List<String> yaml = ReadmeExamples.blocks(readme, "yaml");
        assertEquals(2, get.size(), "the short example near the top and the one beside -o yaml");
        assertEquals(1, yaml.size());
        assertTrue(get.get(0).startsWith("$ kubectl get nodeexechealth\n"), get.get(0));
        assertTrue(yaml.get(0).contains("reason: StuckRuntimeInit"), yaml.get(0));
        assertEquals(get.get(0), get.get(1));
    }
}
