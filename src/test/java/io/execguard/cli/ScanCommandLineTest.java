package io.execguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

/**
 * {@code execguard scan} is started without the other commands ({@link Main#scanCommandLine()}, the cold
 * start): it must answer as the full command line's {@code scan} does — same findings, exit codes, usage name.
 */
class ScanCommandLineTest {

    private static CliRun run(CommandLine cl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new CliRun(cl.execute(args), out.toString(), err.toString());
    }

    @Test
    void answersAsTheFullCommandLineDoes() {
        String tree = Path.of("src/test/resources/fixtures/seed001-pipe-full").toString();
        CliRun alone = run(Main.scanCommandLine(), "--host-root", tree, "--output", "json", "--confirm-seconds", "0");
        CliRun full = CliRun.scanJson(Path.of(tree));
        assertEquals(ScanCommand.EXIT_FINDINGS, full.exitCode(), full.err());
        assertEquals(full.exitCode(), alone.exitCode());
        assertEquals(full.json().path("findings"), alone.json().path("findings"));

        CliRun bad = run(Main.scanCommandLine(), "--confirm-seconds", "-1");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("--confirm-seconds must be >= 0"), bad.err());
        assertTrue(bad.err().contains("Usage: execguard scan"), bad.err());
        assertEquals(run(Main.commandLine(), "scan", "--help").out(), run(Main.scanCommandLine(), "--help").out());
    }
}
