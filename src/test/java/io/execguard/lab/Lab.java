package io.execguard.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Assumptions;

/**
 * Shared plumbing of the lab tests (*IT), which put real processes into real kernel states on this
 * machine and run the built jar's {@code scan} against them. Everything a test creates is undone by
 * a {@link Cleanup} that runs in the test's {@code finally}, and from a JVM shutdown hook as a backstop
 * if the JVM is stopped before that. Processes are only ever signalled by the PID this JVM started.
 */
public class Lab {

    public static final Path PIDS_V1 = Path.of("/sys/fs/cgroup/pids");
    public static final Path FUSECTL = Path.of("/sys/fs/fuse/connections");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static Path helper;

    protected Lab() {
    }

    // ---- assumptions: skip with a printed reason -------------------------------------------------

    /** Skips (with the reason printed) unless this is Linux, as root, with the built jar present. */
    public static void assumeLab() {
        String os = System.getProperty("os.name", "");
        skipUnless(os.toLowerCase(Locale.ROOT).contains("linux"), "lab tests need Linux, this is " + os);
        skipUnless(uid() == 0, "lab tests need root (uid 0), this is uid " + uid());
        String jar = System.getProperty("execguard.jar");
        skipUnless(jar != null && Files.isRegularFile(Path.of(jar)),
                "system property execguard.jar does not name the built jar (" + jar + "); run with mvn -Plab verify");
    }

    public static void skipUnless(boolean ok, String reason) {
        if (!ok) {
            System.out.println("[lab] SKIPPED: " + reason);
        }
        Assumptions.assumeTrue(ok, reason);
    }

    /** The absolute path of a program on PATH, or a skip naming the missing tool. */
    public static String requireTool(String... names) {
        for (String name : names) {
            Optional<Path> p = which(name);
            if (p.isPresent()) {
                return p.get().toString();
            }
        }
        skipUnless(false, "tool " + String.join(" or ", names) + " is not installed (hack/lab-deps.sh installs it)");
        throw new AssertionError("unreachable");
    }

    public static Optional<Path> which(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    public static int uid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]); // effective uid
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Compiles src/test/resources/lab/labhelper.c once per JVM with gcc; skips when gcc is missing. */
    public static synchronized Path helper() throws Exception {
        if (helper != null) {
            return helper;
        }
        String gcc = requireTool("gcc", "cc");
        Path dir = Files.createTempDirectory("execguard-lab-helper");
        dir.toFile().deleteOnExit();
        Path src = dir.resolve("labhelper.c");
        try (InputStream in = Lab.class.getResourceAsStream("/lab/labhelper.c")) {
            assertNotNull(in, "test resource lab/labhelper.c is missing");
            Files.copy(in, src);
        }
        Path bin = dir.resolve("labhelper");
        Result r = run(Duration.ofSeconds(60), gcc, "-O1", "-Wall", "-o", bin.toString(), src.toString());
        assertEquals(0, r.exit(), "gcc failed: " + r.stderr());
        src.toFile().deleteOnExit();
        bin.toFile().deleteOnExit();
        helper = bin;
        return bin;
    }

    // ---- running things --------------------------------------------------------------------------

    public record Result(int exit, String stdout, String stderr) {
    }

    /** Runs a short command to completion (stdout and stderr captured via files, so nothing blocks). */
    public static Result run(Duration timeout, String... argv) throws IOException, InterruptedException {
        Path out = Files.createTempFile("execguard-lab", ".out");
        Path err = Files.createTempFile("execguard-lab", ".err");
        try {
            Process p = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                fail(String.join(" ", argv) + " did not finish within " + timeout);
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The scan's outcome: exit code, the parsed JSON report, stderr. */
    public record Scan(int exit, JsonNode report, String stderr, long millis) {
        List<JsonNode> findings(String type) {
            List<JsonNode> out = new ArrayList<>();
            report.path("findings").forEach(f -> {
                if (type.equals(f.path("type").asText())) {
                    out.add(f);
                }
            });
            return out;
        }

        @Override
        public String toString() {
            return "exit " + exit + ", stderr: " + stderr.strip() + "\n" + report.toPrettyString();
        }
    }

    /** Runs {@code java -jar execguard.jar scan --output json ARGS} with the JVM running this test. */
    public static Scan scan(String... args) throws IOException, InterruptedException {
        return scan(List.of(), args);
    }

    /**
     * {@link #scan(String...)} started on {@code cpu} alone ({@code taskset -c}): its threads run there unless the
     * scan itself moves one (the reader samples other CPUs' clocks that way on Java 22+).
     */
    public static Scan scanOnCpu(int cpu, String... args) throws IOException, InterruptedException {
        return scan(List.of(requireTool("taskset"), "-c", Integer.toString(cpu)), args);
    }

    private static Scan scan(List<String> prefix, String... args) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of(java, "-jar", System.getProperty("execguard.jar"), "scan", "--output", "json"));
        argv.addAll(List.of(args));
        long t0 = System.nanoTime();
        Result r = run(Duration.ofSeconds(60), argv.toArray(String[]::new));
        long millis = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("[lab] " + String.join(" ", prefix) + (prefix.isEmpty() ? "" : " ")
                + String.join(" ", argv.subList(prefix.size() + 3, argv.size())) + " -> exit " + r.exit()
                + " in " + millis + " ms");
        if (r.exit() == 2 || r.stdout().isBlank()) {
            fail("scan failed (exit " + r.exit() + "): " + r.stderr() + r.stdout());
        }
        return new Scan(r.exit(), JSON.readTree(r.stdout()), r.stderr(), millis);
    }

    /** Sends a signal with kill(1) to a PID this JVM started. */
    public static void signal(long pid, String sig) throws IOException, InterruptedException {
        Result r = run(Duration.ofSeconds(10), requireTool("kill"), "-" + sig, Long.toString(pid));
        if (r.exit() != 0) {
            throw new IOException("kill -" + sig + " " + pid + ": " + r.stderr().strip());
        }
    }

    public static boolean await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(20);
        }
        return condition.getAsBoolean();
    }

    // ---- reading /proc ---------------------------------------------------------------------------

    /** Field 3 of /proc/PID/stat (state letter), or '?' when gone. */
    public static char state(long pid) {
        String stat = read(Path.of("/proc", Long.toString(pid), "stat"));
        if (stat == null) {
            return '?';
        }
        int close = stat.lastIndexOf(')');
        return close < 0 || close + 2 >= stat.length() ? '?' : stat.charAt(close + 2);
    }

    public static String wchan(long pid) {
        String w = read(Path.of("/proc", Long.toString(pid), "wchan"));
        return w == null ? "" : w.strip();
    }

    /** SigPnd | ShdPnd of /proc/PID/status, or 0. */
    public static long pendingSignals(long pid) {
        String status = read(Path.of("/proc", Long.toString(pid), "status"));
        long mask = 0;
        if (status != null) {
            for (String line : status.split("\n")) {
                if (line.startsWith("SigPnd:") || line.startsWith("ShdPnd:")) {
                    mask |= Long.parseUnsignedLong(line.substring(7).trim(), 16);
                }
            }
        }
        return mask;
    }

    public static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * A sysctl as the kernel reports it, read with a single {@code read()} from offset 0: numeric sysctl
     * handlers return end-of-file at any non-zero position, so a short first read would truncate it.
     */
    public static long sysctl(String name) throws IOException {
        try (InputStream in = Files.newInputStream(Path.of("/proc/sys", name))) {
            byte[] buf = new byte[256];
            int n = in.read(buf);
            return Long.parseLong(new String(buf, 0, Math.max(n, 0), StandardCharsets.US_ASCII).strip());
        }
    }

    /** A mount of this mount namespace (/proc/self/mountinfo), by mount point. */
    public record Mount(int major, int minor, String mountPoint, String fsType) {
    }

    public static Optional<Mount> mountAt(Path mountPoint) {
        return mounts().filter(m -> m.mountPoint().equals(mountPoint.toString())).reduce((a, b) -> b);
    }

    public static Stream<Mount> mounts() {
        String text = read(Path.of("/proc/self/mountinfo"));
        if (text == null) {
            return Stream.empty();
        }
        List<Mount> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.split(" ");
            int sep = List.of(f).indexOf("-");
            if (f.length < 7 || sep < 0 || sep + 1 >= f.length) {
                continue;
            }
            String[] dev = f[2].split(":");
            out.add(new Mount(Integer.parseInt(dev[0]), Integer.parseInt(dev[1]), unescape(f[4]), f[sep + 1]));
        }
        return out.stream();
    }

    private static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(s.charAt(i));
            }
        }
        return b.toString();
    }

    // ---- cgroups ---------------------------------------------------------------------------------

    public static String randomContainerId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /**
     * Creates {@code /sys/fs/cgroup/pids/docker/<id>} (and {@code docker/} itself when absent), registering
     * their removal: our processes still inside are moved to the root cgroup first, then the directories
     * are removed, {@code docker/} only if this test made it.
     */
    public static Path dockerPidsCgroup(Cleanup cleanup, String id, List<Process> ours) throws IOException {
        skipUnless(Files.isDirectory(PIDS_V1) && Files.exists(PIDS_V1.resolve("cgroup.procs")),
                "no cgroup v1 pids hierarchy at " + PIDS_V1);
        Path docker = PIDS_V1.resolve("docker");
        if (!Files.isDirectory(docker)) {
            Files.createDirectory(docker);
            cleanup.add("rmdir " + docker, () -> rmdirParentIfEmpty(docker));
        }
        Path dir = docker.resolve(id);
        Files.createDirectory(dir);
        cleanup.add("rmdir " + dir, () -> rmdirCgroup(dir, ours));
        return dir;
    }

    /** Moves our processes still listed in the cgroup to the root, then removes it (retrying while busy). */
    private static void rmdirCgroup(Path dir, List<Process> ours) throws Exception {
        for (int attempt = 0; Files.isDirectory(dir); attempt++) {
            String procs = read(dir.resolve("cgroup.procs"));
            if (procs != null) {
                for (String pid : procs.strip().split("\\s+")) {
                    if (!pid.isEmpty() && ours.stream().anyMatch(p -> Long.toString(p.pid()).equals(pid))) {
                        Files.writeString(PIDS_V1.resolve("cgroup.procs"), pid);
                    }
                }
            }
            try {
                Files.delete(dir);
                return;
            } catch (IOException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
            Thread.sleep(20); // a task just killed may still be leaving the cgroup
        }
    }

    /** Removes the {@code docker/} parent this test created, unless something else now has children there. */
    private static void rmdirParentIfEmpty(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> children = Files.list(dir)) {
            if (children.anyMatch(Files::isDirectory)) {
                System.out.println("[lab] leaving " + dir + ": it has cgroups that are not this test's");
                return;
            }
        }
        rmdirCgroup(dir, List.of());
    }

    // ---- processes -------------------------------------------------------------------------------

    /** Starts a process with stdin from /dev/null and stdout/stderr into files under {@code logDir}. */
    public static Process start(Cleanup cleanup, Path logDir, String name, String... argv) throws IOException {
        Process p = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(logDir.resolve(name + ".out").toFile())
                .redirectError(logDir.resolve(name + ".err").toFile())
                .start();
        cleanup.add("kill " + name + " (pid " + p.pid() + ")", () -> killAndWait(p, Duration.ofSeconds(10)));
        return p;
    }

    /** SIGKILL (by our own Process handle) and wait for it to be reaped. */
    public static void killAndWait(Process p, Duration timeout) throws Exception {
        if (p.isAlive()) {
            p.destroyForcibly();
        }
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IOException("pid " + p.pid() + " did not die within " + timeout + " (state " + state(p.pid())
                    + ", wchan " + wchan(p.pid()) + ")");
        }
    }

    public static Path tempDir(Cleanup cleanup, String prefix) throws IOException {
        Path dir = Files.createTempDirectory(prefix);
        cleanup.add("delete " + dir, () -> deleteTree(dir));
        return dir;
    }

    /** Deletes a tree, refusing to descend into it while anything is still mounted beneath it. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        String prefix = dir.toString() + "/";
        List<String> still = mounts().map(Mount::mountPoint).filter(m -> m.startsWith(prefix)).toList();
        if (!still.isEmpty()) {
            throw new IOException("not deleting " + dir + ": still mounted there: " + still);
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    // ---- cleanup ---------------------------------------------------------------------------------

    /**
     * Undo actions run last-registered first, each at most once, every one attempted even when an
     * earlier one fails. {@link #close()} runs them (from the test's finally); a shutdown hook runs
     * whatever is left if the JVM exits first.
     */
    public static final class Cleanup implements AutoCloseable {

        public interface Action {
            void run() throws Exception;
        }

        private record Step(String what, Action action) {
        }

        private final Deque<Step> steps = new ArrayDeque<>();
        private final Thread hook = new Thread(this::runAll, "execguard-lab-cleanup");
        private final String test;

        public Cleanup(String test) {
            this.test = test;
            Runtime.getRuntime().addShutdownHook(hook);
        }

        public synchronized void add(String what, Action action) {
            steps.push(new Step(what, action));
        }

        @Override
        public void close() {
            List<String> failures = runAll();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook is running this too
            }
            if (!failures.isEmpty()) {
                fail(test + ": cleanup failed: " + String.join("; ", failures));
            }
        }

        private synchronized List<String> runAll() {
            List<String> failures = new ArrayList<>();
            while (!steps.isEmpty()) {
                Step s = steps.pop();
                try {
                    s.action().run();
                } catch (Exception | Error e) { // an Error too (OutOfMemoryError: no thread): undo the rest anyway
                    failures.add(s.what() + ": " + e);
                    System.err.println("[lab] " + test + ": cleanup step '" + s.what() + "' failed: " + e);
                }
            }
            return failures;
        }
    }
}
