package io.execguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * Pins the whole JSON report of one scenario. Only {@code durationMillis} is normalised (to 0). After an
 * intended change, rewrite the file with {@code mvn test -Dtest=GoldenFileTest -Dexecguard.golden.update=true}
 * and review the diff.
 */
class GoldenFileTest {

    private static final String SCENARIO = "seed004-pidns-fuse";

    @Test
    void seed004JsonReportIsPinned() throws IOException {
        CliRun r = CliRun.scanJson(CliRun.fixture(SCENARIO));
        assertEquals(1, r.exitCode(), r::toString);
        String actual = normalise(r.out());
        Path golden = Path.of(System.getProperty("basedir", ".")).resolve("src/test/resources/golden")
                .resolve(SCENARIO + ".json");
        if (Boolean.getBoolean("execguard.golden.update")) {
            Files.createDirectories(golden.getParent());
            Files.writeString(golden, actual, StandardCharsets.UTF_8);
            System.out.println("GoldenFileTest: rewrote " + golden);
            return;
        }
        String expected = Files.readString(golden, StandardCharsets.UTF_8);
        assertEquals(expected, actual, "scan JSON for " + SCENARIO + " differs from " + golden
                + " (rerun with -Dexecguard.golden.update=true if the change is intended)");
    }

    /** The CLI's exact output with the one varying value, {@code "durationMillis" : N}, set to 0. */
    static String normalise(String json) {
        Matcher m = DURATION.matcher(json);
        assertTrue(m.find(), () -> "no durationMillis in " + json);
        String out = m.replaceFirst("$10");
        assertFalse(DURATION.matcher(out.substring(m.start() + 1)).find(), "durationMillis twice");
        return out;
    }

    private static final Pattern DURATION = Pattern.compile("(\"durationMillis\" : )\\d+");
}
