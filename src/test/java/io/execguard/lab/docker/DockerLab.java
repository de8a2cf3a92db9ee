package io.execguard.lab.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
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
import java.util.function.Predicate;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Assumptions;

/**
 * Plumbing of the container-runtime lab tests (docs/LAB.md): the real dockerd/containerd/runc that
 * {@code hack/lab.sh up} starts, the built jar's {@code scan} run as a subprocess and polled, and a cleanup
 * stack that runs in each test's {@code finally} and from a shutdown hook. Same style as
 * {@code io.execguard.lab.Lab}: processes are signalled only by PIDs this JVM started (or, where a scenario
 * is about killing a runtime process, the one PID the scenario created through its own exec); containers are
 * labelled {@value #LABEL} and removed by id.
 */
public final class DockerLab extends io.execguard.lab.Lab {

    static final String LABEL = "execguard-lab=1";
    static final String IMAGE = "lab/busybox:1";
    /** Thresholds lowered so that a fault is reportable a second after it is injected. */
    static final List<String> FAST = List.of("--confirm-seconds", "1",
            "--threshold", "StuckRuntimeInit=1", "--threshold", "UnkillableTask=1",
            "--threshold", "PidNamespaceTeardownStuck=1", "--threshold", "HungTask=1");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static String docker;

    private DockerLab() {
    }

    // ---- skip checks -----------------------------------------------------------------------------

    /** Skips (reason printed) unless root on Linux with the jar built and the lab's dockerd answering. */
    static void assumeDockerLab() throws Exception {
        String os = System.getProperty("os.name", "");
        skipUnless(os.toLowerCase(Locale.ROOT).contains("linux"), "docker lab tests need Linux, this is " + os);
        skipUnless(uid() == 0, "docker lab tests need root (uid 0), this is uid " + uid());
        String jar = System.getProperty("execguard.jar");
        skipUnless(jar != null && Files.isRegularFile(Path.of(jar)),
                "system property execguard.jar does not name the built jar (" + jar + "); run mvn -Pdocker-lab verify");
        skipUnless(docker() != null, "no docker client installed; run: bash hack/lab.sh up");
        Optional<Result> v = runDeadline(Duration.ofSeconds(10), docker(), "version", "--format", "{{.Server.Version}}");
        skipUnless(v.isPresent() && v.get().exit() == 0,
                "docker is not available (no dockerd answering on /var/run/docker.sock); run: bash hack/lab.sh up");
        Optional<Result> img = runDeadline(Duration.ofSeconds(10), docker(), "image", "inspect", IMAGE);
        skipUnless(img.isPresent() && img.get().exit() == 0, "image " + IMAGE + " is missing; run: bash hack/lab.sh up");
    }

    /** Additionally: bindfs installed and fusectl mounted (the FUSE scenarios). */
    static void assumeFuse() {
        skipUnless(which("bindfs").isPresent(), "bindfs is not installed; run: bash hack/lab.sh up");
        skipUnless(mounted(FUSECTL.toString()), "fusectl is not mounted at " + FUSECTL + "; run: bash hack/lab.sh up");
    }

    /** The Debian client that matches the Debian dockerd, else whatever docker is on PATH. */
    static synchronized String docker() {
        if (docker == null) {
            docker = Files.isExecutable(Path.of("/usr/bin/docker")) ? "/usr/bin/docker"
                    : which("docker").map(Path::toString).orElse(null);
        }
        return docker;
    }

    // ---- running things --------------------------------------------------------------------------

    /** Runs a command with a deadline; empty when it did not finish in time (it is then killed: we started it). */
    static Optional<Result> runDeadline(Duration timeout, String... argv) throws IOException, InterruptedException {
        Path out = Files.createTempFile("execguard-dlab", ".out");
        Path err = Files.createTempFile("execguard-dlab", ".err");
        try {
            Process p = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                return Optional.empty();
            }
            return Optional.of(new Result(p.exitValue(), Files.readString(out), Files.readString(err)));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    public static Result run(Duration timeout, String... argv) throws IOException, InterruptedException {
        return runDeadline(timeout, argv)
                .orElseThrow(() -> new AssertionError(String.join(" ", argv) + " did not finish within " + timeout));
    }

    static Result docker(Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(docker()));
        argv.addAll(List.of(args));
        return run(timeout, argv.toArray(String[]::new));
    }


    // ---- containers ------------------------------------------------------------------------------

    /** {@code docker run -d} a labelled container; its {@code docker rm -f} (bounded) is registered. */
    static String container(Cleanup cleanup, String test, List<String> runArgs, String... cmd) throws Exception {
        String name = "eglab-" + test + "-" + HexFormat.of().formatHex(randomBytes(3));
        List<String> argv = new ArrayList<>(List.of(docker(), "run", "-d", "--label", LABEL, "--name", name,
                "--network", "none"));
        argv.addAll(runArgs);
        argv.add(IMAGE);
        argv.addAll(List.of(cmd));
        // registered before the run, by name: a container created but not started is removed too
        cleanup.add("docker rm -f " + name, () -> {
            Optional<Result> rm = runDeadline(Duration.ofSeconds(60), docker(), "rm", "-f", name);
            if (rm.isEmpty() || rm.get().exit() != 0 && !rm.get().stderr().contains("No such container")) {
                throw new IOException("docker rm -f " + name + ": " + rm.map(Result::stderr).orElse("timed out"));
            }
        });
        Result r = run(Duration.ofSeconds(60), argv.toArray(String[]::new));
        assertEquals(0, r.exit(), () -> "docker run failed: " + r.stderr());
        return r.stdout().strip();
    }

    /** A container's pids limit lowered to 2 and a fork refused at it (seed 000). */
    record PidsFault(Path cgroup, String maxBefore, long faultNanos, Result exec) {
    }

    /**
     * Lowers the container's v1 pids cgroup's {@code pids.max} to 2 (restored by the cleanup) and runs
     * {@code docker exec c sh -c 'sleep 1 & wait'}, whose fork the limit refuses. Skips without a v1 pids
     * cgroup under {@code /docker} (dockerd's cgroupfs driver).
     */
    static PidsFault refuseForkAtPidsLimit(Cleanup cleanup, String id) throws Exception {
        Path cg = PIDS_V1.resolve("docker").resolve(id);
        skipUnless(Files.isDirectory(cg), "no cgroup v1 pids cgroup at " + cg + " (cgroupfs driver)");
        String before = Files.readString(cg.resolve("pids.max")).strip();
        cleanup.add("restore pids.max of " + id, () -> {
            if (Files.exists(cg.resolve("pids.max"))) {
                Files.writeString(cg.resolve("pids.max"), before);
            }
        });
        Files.writeString(cg.resolve("pids.max"), "2");
        long fault = System.nanoTime();
        return new PidsFault(cg, before, fault, docker(Duration.ofSeconds(30), "exec", id, "sh", "-c", "sleep 1 & wait"));
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    // ---- FUSE: two stacked bindfs mounts, the lower daemon freezable -------------------------------

    /**
     * {@code bindfs src lower; bindfs lower upper}, both in the foreground as our children. Freezing the
     * lower daemon makes the upper daemon block inside its own syscall with the request read, so tasks on
     * the upper mount wait in {@code request_wait_answer} (LAB.md case 2).
     */
    public static final class FuseStack {
        public final Path src;
        public final Path lower;
        public final Path upper;
        public final Process lowerDaemon;
        public final Process upperDaemon;
        public final int lowerConn;
        public final int upperConn;
        private boolean frozen;

        private FuseStack(Path src, Path lower, Path upper, Process lowerDaemon, Process upperDaemon, int lowerConn,
                int upperConn) {
            this.src = src;
            this.lower = lower;
            this.upper = upper;
            this.lowerDaemon = lowerDaemon;
            this.upperDaemon = upperDaemon;
            this.lowerConn = lowerConn;
            this.upperConn = upperConn;
        }

        public static FuseStack create(Cleanup cleanup, Path dir) throws Exception {
            Path src = Files.createDirectories(dir.resolve("src"));
            Path lower = Files.createDirectories(dir.resolve("lower"));
            Path upper = Files.createDirectories(dir.resolve("upper"));
            String bindfs = which("bindfs").orElseThrow().toString();
            Process a = start(cleanup, dir, "bindfs-lower", bindfs, "-f", src.toString(), lower.toString());
            cleanup.add("fusermount -u " + lower, () -> unmount(lower));
            assertTrue(await(Duration.ofSeconds(10), () -> fuseMinor(lower) > 0), "bindfs lower never mounted");
            Process b = start(cleanup, dir, "bindfs-upper", bindfs, "-f", lower.toString(), upper.toString());
            cleanup.add("fusermount -u " + upper, () -> unmount(upper));
            assertTrue(await(Duration.ofSeconds(10), () -> fuseMinor(upper) > 0), "bindfs upper never mounted");
            return new FuseStack(src, lower, upper, a, b, fuseMinor(lower), fuseMinor(upper));
        }

        /** SIGSTOP the lower daemon (our child); registers the release that must run before any docker rm. */
        public void freeze(Cleanup cleanup) throws Exception {
            cleanup.add("release FUSE stack (abort " + upperConn + ", " + lowerConn + "; SIGCONT "
                    + lowerDaemon.pid() + ")", this::release);
            signal(lowerDaemon.pid(), "STOP");
            frozen = true;
        }

        /** Aborts both connections (frees every task waiting on them), then resumes the lower daemon. */
        public void release() throws Exception {
            List<String> errors = new ArrayList<>();
            for (int conn : new int[] {upperConn, lowerConn}) {
                Path abort = FUSECTL.resolve(Integer.toString(conn)).resolve("abort");
                if (Files.exists(abort)) {
                    try {
                        Files.writeString(abort, "1");
                    } catch (IOException e) {
                        errors.add("abort " + conn + ": " + e);
                    }
                }
            }
            if (frozen && lowerDaemon.isAlive()) {
                signal(lowerDaemon.pid(), "CONT");
            }
            frozen = false;
            if (!errors.isEmpty()) {
                throw new IOException(String.join("; ", errors));
            }
        }

        public int waiting(int conn) {
            String w = read(FUSECTL.resolve(Integer.toString(conn)).resolve("waiting"));
            return w == null ? -1 : Integer.parseInt(w.strip());
        }
    }

    public static void unmount(Path mountPoint) throws Exception {
        if (!mountPoints().contains(mountPoint.toString())) {
            return;
        }
        String fm = which("fusermount3").or(() -> which("fusermount")).map(Path::toString).orElse("umount");
        Optional<Result> r = runDeadline(Duration.ofSeconds(20), fm, "-u", "-z", mountPoint.toString());
        if (r.isEmpty() || r.get().exit() != 0) {
            Optional<Result> u = runDeadline(Duration.ofSeconds(20), "umount", "-l", mountPoint.toString());
            if (u.isEmpty() || u.get().exit() != 0) {
                throw new IOException("cannot unmount " + mountPoint);
            }
        }
    }

    /** The minor device number (= FUSE connection number) of the fuse mount at that point, or -1. */
    public static int fuseMinor(Path mountPoint) {
        String text = read(Path.of("/proc/self/mountinfo"));
        int minor = -1;
        if (text != null) {
            for (String line : text.split("\n")) {
                String[] f = line.split(" ");
                int sep = List.of(f).indexOf("-");
                if (f.length > 4 && sep > 0 && sep + 1 < f.length && f[4].equals(mountPoint.toString())
                        && f[sep + 1].startsWith("fuse")) {
                    minor = Integer.parseInt(f[2].split(":")[1]);
                }
            }
        }
        return minor;
    }

    static boolean mounted(String mountPoint) {
        return mountPoints().contains(mountPoint);
    }

    static List<String> mountPoints() {
        String text = read(Path.of("/proc/self/mountinfo"));
        List<String> out = new ArrayList<>();
        if (text != null) {
            for (String line : text.split("\n")) {
                String[] f = line.split(" ");
                if (f.length > 4) {
                    out.add(f[4].replace("\\040", " "));
                }
            }
        }
        return out;
    }

    // ---- /proc -----------------------------------------------------------------------------------

    static long ppid(long pid) {
        String stat = read(Path.of("/proc", Long.toString(pid), "stat"));
        if (stat == null) {
            return -1;
        }
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    }

    static String comm(long pid) {
        String c = read(Path.of("/proc", Long.toString(pid), "comm"));
        return c == null ? "" : c.strip();
    }

    /** PIDs of live processes whose cgroup (any hierarchy) names this container. */
    static List<Long> pidsInContainer(String id) {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                String cg = read(p.resolve("cgroup"));
                if (cg != null && cg.contains(id)) {
                    out.add(Long.parseLong(name));
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out;
    }

    /** Live descendants of a PID (children by ppid), breadth first. */
    static List<Long> descendants(long root) {
        List<long[]> all = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.toList()) {
                String name = p.getFileName().toString();
                if (name.chars().allMatch(Character::isDigit)) {
                    long pid = Long.parseLong(name);
                    all.add(new long[] {pid, ppid(pid)});
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        List<Long> out = new ArrayList<>();
        Deque<Long> todo = new ArrayDeque<>(List.of(root));
        while (!todo.isEmpty()) {
            long parent = todo.poll();
            for (long[] pp : all) {
                if (pp[1] == parent) {
                    out.add(pp[0]);
                    todo.add(pp[0]);
                }
            }
        }
        return out;
    }

    // ---- scanning --------------------------------------------------------------------------------

    record Scan(int exit, JsonNode report, String stderr, long startedNanos, long endedNanos) {
        List<JsonNode> findings(String type) {
            List<JsonNode> out = new ArrayList<>();
            report.path("findings").forEach(f -> {
                if (type.equals(f.path("type").asText())) {
                    out.add(f);
                }
            });
            return out;
        }

        List<JsonNode> all() {
            List<JsonNode> out = new ArrayList<>();
            report.path("findings").forEach(out::add);
            return out;
        }

        @Override
        public String toString() {
            return "exit " + exit + ", stderr: " + stderr.strip() + "\n" + report.toPrettyString();
        }
    }

    static Scan scan(List<String> args) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> argv = new ArrayList<>(List.of(java, "-jar", System.getProperty("execguard.jar"), "scan",
                "--output", "json"));
        argv.addAll(args);
        long t0 = System.nanoTime();
        Result r = run(Duration.ofSeconds(60), argv.toArray(String[]::new));
        long t1 = System.nanoTime();
        if (r.exit() == 2 || r.stdout().isBlank()) {
            fail("scan failed (exit " + r.exit() + "): " + r.stderr() + r.stdout());
        }
        return new Scan(r.exit(), JSON.readTree(r.stdout()), r.stderr(), t0, t1);
    }

    /**
     * Polls {@code scan} (a new one every ~0.5 s after the previous ends) until one satisfies {@code found};
     * prints the detection latency: fault injected ({@code faultNanos}) → end of the first scan reporting it.
     */
    static Scan pollUntil(String scenario, long faultNanos, Duration timeout, List<String> args,
            Predicate<Scan> found) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        Scan last = null;
        int scans = 0;
        while (System.nanoTime() < end) {
            last = scan(args);
            scans++;
            if (found.test(last)) {
                double latency = (last.endedNanos() - faultNanos) / 1e9;
                System.out.printf(Locale.ROOT, "[docker-lab] LATENCY %s: %.1f s (fault -> first scan reporting it; "
                        + "%d scan(s), that scan took %.1f s)%n", scenario, latency, scans,
                        (last.endedNanos() - last.startedNanos()) / 1e9);
                return last;
            }
            Thread.sleep(500);
        }
        fail(scenario + ": not reported within " + timeout + " (" + scans + " scans); last scan: " + last);
        throw new AssertionError("unreachable");
    }

    static List<String> args(List<String> base, String... more) {
        List<String> out = new ArrayList<>(base);
        out.addAll(List.of(more));
        return out;
    }

    // ---- cleanup ---------------------------------------------------------------------------------

}
