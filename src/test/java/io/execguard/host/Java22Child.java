package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Runs a check's {@code main} in a JVM of its own whose class path puts {@code META-INF/versions/22} first, as the
 * multi-release jar does on Java 22+: surefire runs this module's classes, not the jar, so the Java 22+ versions of
 * {@code src/main/java22} are tested this way. The check prints its findings and {@code done}, and exits 0 when
 * all held.
 */
final class Java22Child {

    private Java22Child() {
    }

    /** The check's output, once it exited 0 and said {@code done}; {@code versionedClass} must have been compiled. */
    static String run(Class<?> main, String versionedClass) throws Exception {
        Path classes = Path.of(ProcWalk.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path versioned = classes.resolve("META-INF/versions/22");
        assertTrue(Files.isRegularFile(versioned.resolve("io/execguard/host/" + versionedClass + ".class")),
                "the java22-classes profile compiled " + versioned);
        String cp = versioned + File.pathSeparator + System.getProperty("java.class.path");
        Path out = Files.createTempFile(main.getSimpleName(), ".txt");
        try {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", cp, main.getName())
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            String text = Files.readString(out);
            assertEquals(0, p.exitValue(), text);
            assertTrue(text.contains("done"), text);
            return text;
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
