package io.execguard.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import picocli.CommandLine;

/** Runs the real CLI in-process and keeps its exit code, stdout and stderr. */
record CliRun(int exitCode, String out, String err) {

    private static final ObjectMapper JSON = new ObjectMapper();

    static CliRun run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** {@code scan --host-root DIR --output json --confirm-seconds 0}, plus extra arguments. */
    static CliRun scanJson(Path root, String... extra) {
        List<String> args = new ArrayList<>(List.of("scan", "--host-root", root.toString(), "--output", "json",
                "--confirm-seconds", "0"));
        args.addAll(List.of(extra));
        return run(args.toArray(String[]::new));
    }

    JsonNode json() {
        try {
            return JSON.readTree(out);
        } catch (Exception e) {
            throw new AssertionError("stdout is not JSON: " + out + "\nstderr: " + err, e);
        }
    }

    List<JsonNode> findings() {
        List<JsonNode> fs = new ArrayList<>();
        json().path("findings").forEach(fs::add);
        return fs;
    }

    /** The committed fixture tree of a scenario (read in place: git keeps its dangling ns/mnt links). */
    static Path fixture(String name) {
        Path base = Path.of(System.getProperty("basedir", ".")).resolve("src/test/resources/fixtures");
        Path p = base.resolve(name);
        if (!Files.isDirectory(p)) {
            throw new AssertionError("fixture " + p.toAbsolutePath() + " is missing");
        }
        return p;
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
