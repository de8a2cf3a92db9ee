package io.execguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.execguard.bench.SyntheticHost;

/**
 * Broken input — truncated and garbled lines, odd comms, missing files, vanished pids, entries that cannot be
 * read even by root — never stops a scan: one warning line each on stderr, no stack trace, and the real
 * findings in the same tree are still reported.
 */
class BadInputTest {

    private static final String POD = "8f14e45f-ceea-467f-a0e6-6d2b1c0a9e11";
    private static final String CONTAINER = "c4ca4238a0b923820dcc509a6f75849bc81e728d9d4c2f636f067f89cc14862c";
    private static final String CG = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
            + POD.replace('-', '_') + ".slice/cri-containerd-" + CONTAINER + ".scope";
    private static final String[] FUSE_STACK = {"request_wait_answer+0x13c/0x2b0", "__fuse_simple_request+0xd8/0x2c0",
        "fuse_lookup_name+0xeb/0x230", "fuse_lookup+0x6b/0x1a0", "__x64_sys_chdir+0x4f/0xf0"};

    @TempDir
    Path root;
    SyntheticHost h;

    @BeforeEach
    void goodTree() {
        h = SyntheticHost.create(root, SyntheticHost.CgroupLayout.V2, 86_400);
        h.process(1, "systemd").ppid(0).age(86_399).cmdline("/sbin/init").write();
        h.kernelThread(2, "kthreadd", 'S', 86_399);
        h.process(100, "containerd-shim").ppid(1).age(3_600).idleThreads(101, 3, false).write();
        // The finding that must survive everything else: a runc init stuck on FUSE for 5 minutes.
        h.process(200, "runc:[2:INIT]").ppid(100).age(300).nsPid(3).cmdline("runc", "init").cgroup(CG)
                .main(t -> t.state('D').wchan("request_wait_answer").blockedFor(299).stack(FUSE_STACK)).write();
    }

    private CliRun scan() {
        CliRun r = CliRun.scanJson(root);
        assertEquals(1, r.exitCode(), r::toString);
        assertFalse(r.err().contains("Exception"), () -> "no exception names on stderr:\n" + r.err());
        assertFalse(r.err().contains("\tat "), () -> "no stack trace:\n" + r.err());
        for (String line : r.err().split("\n")) {
            if (!line.isEmpty()) {
                assertTrue(line.startsWith("execguard: warning: "), () -> "one-line warnings only: " + line);
            }
        }
        JsonNode init = r.findings().stream().filter(f -> f.path("type").asText().equals("StuckRuntimeInit"))
                .findFirst().orElseThrow(() -> new AssertionError("StuckRuntimeInit lost:\n" + r));
        assertEquals(200, init.path("pid").asInt());
        assertEquals("FuseRequest", init.path("cause").asText());
        assertEquals(CONTAINER, init.path("containerId").asText());
        assertEquals(POD, init.path("podUid").asText());
        return r;
    }

    private static void assertWarns(CliRun r, String... parts) {
        boolean found = r.err().lines().anyMatch(l -> {
            for (String p : parts) {
                if (!l.contains(p)) {
                    return false;
                }
            }
            return true;
        });
        assertTrue(found, () -> "expected a warning containing " + List.of(parts) + " in:\n" + r.err());
    }

    private void put(String relative, String text) throws IOException {
        Path p = root.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    @Test
    void wellFormedTreeHasNoWarnings() {
        CliRun r = scan();
        assertEquals("", r.err());
        assertEquals(1, r.findings().size(), r::toString);
    }

    @Test
    void truncatedStatLineIsSkippedWithAWarning() throws IOException {
        put("proc/500/stat", "500 (trunc) S 1 500 500 0 -1 4194560 12 0");
        CliRun r = scan();
        assertWarns(r, "proc/500/stat", "truncated", "skipped");
    }

    @Test
    void garbledStatFieldIsSkippedWithAWarning() throws IOException {
        h.process(501, "garbled").ppid(1).write();
        String line = Files.readString(root.resolve("proc/501/stat"));
        put("proc/501/stat", line.replace(" 4194560 ", " 41x4560 "));
        put("proc/502/stat", "502 (two letters) SD 1 502 502 0 -1 4194560 0 0 0 0 1 1 0 0 20 0 1 0 100 0 0");
        put("proc/503/stat", "");
        put("proc/504/stat", "no parentheses here S 1 1 1");
        CliRun r = scan();
        assertWarns(r, "proc/501/stat", "garbled field 9");
        assertWarns(r, "proc/502/stat", "state field");
        assertWarns(r, "proc/503/stat", "(comm)");
        assertWarns(r, "proc/504/stat", "(comm)");
    }

    @Test
    void commWithSpacesAndParenthesesIsParsed() {
        h.process(600, "(a) (b)").ppid(1).age(7_200).cgroup(CG)
                .main(t -> t.state('D').wchan("io_schedule").blockedFor(600).stack("io_schedule+0x12/0x40",
                        "folio_wait_bit_common+0x13f/0x350"))
                .write();
        CliRun r = scan();
        assertEquals("", r.err());
        JsonNode hung = r.findings().stream().filter(f -> f.path("pid").asInt() == 600).findFirst()
                .orElseThrow(() -> new AssertionError(r.toString()));
        assertEquals("HungTask", hung.path("type").asText());
        assertEquals("(a) (b)", hung.path("comm").asText());
        assertEquals("BlockIo", hung.path("cause").asText());
        assertEquals(CONTAINER, hung.path("containerId").asText());
        assertEquals(POD, hung.path("podUid").asText());
    }

    @Test
    void garbledStatusLineLeavesTheTaskWithUnknownMasks() throws IOException {
        h.process(700, "worker").ppid(1).age(7_200)
                .main(t -> t.state('D').wchan("io_schedule").blockedFor(500).stack("io_schedule+0x12/0x40")).write();
        Path status = root.resolve("proc/700/task/700/status");
        Files.writeString(status, Files.readString(status).replace("SigPnd:\t0000000000000000", "SigPnd:\tnot-hex"));
        CliRun r = scan();
        assertWarns(r, "proc/700/task/700/status", "garbled SigPnd line");
        assertTrue(r.findings().stream().anyMatch(f -> f.path("pid").asInt() == 700
                && f.path("type").asText().equals("HungTask")), r::toString);
    }

    @Test
    void suspectWithOnlyAStatFileIsStillReported() throws IOException {
        h.process(800, "bare").ppid(1).age(3_000).main(t -> t.state('D').wchan("io_schedule")).write();
        for (String f : List.of("status", "cmdline", "comm", "wchan", "stack", "task/800/status", "task/800/wchan",
                "task/800/stack", "task/800/comm")) {
            Files.delete(root.resolve("proc/800").resolve(f));
        }
        CliRun r = scan();
        assertEquals("", r.err(), "missing files are not errors: the kernel hides some from some readers");
        JsonNode f = r.findings().stream().filter(x -> x.path("pid").asInt() == 800).findFirst()
                .orElseThrow(() -> new AssertionError(r.toString()));
        assertEquals("HungTask", f.path("type").asText());
        assertEquals("Unknown", f.path("cause").asText());
        assertEquals(3_000, f.path("ageSeconds").asInt());
    }

    @Test
    void vanishedPidsAndThreadsAreSkippedSilently() throws IOException {
        Files.createDirectories(root.resolve("proc/900")); // listed, then gone before its stat was read
        h.process(910, "java").ppid(1).idleThreads(911, 3, false).write();
        try (var files = Files.walk(root.resolve("proc/910/task/912"))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        Files.createDirectories(root.resolve("proc/910/task/913/empty")); // a thread that exited mid-listing
        Files.delete(root.resolve("proc/910/task/913/stat"));
        CliRun r = scan();
        assertEquals("", r.err());
        // 1 + 1 + 4 (shim) + 1 (init) + 2 of java's 4 threads.
        assertEquals(9, r.json().path("tasksScanned").asInt());
    }

    @Test
    void entriesRootCannotReadAreWarnedAbout() throws IOException {
        Files.createDirectories(root.resolve("proc/1000/stat")); // a directory where a file is expected
        Files.createDirectories(root.resolve("proc/1001"));
        Files.createSymbolicLink(root.resolve("proc/1001/stat"), Path.of("/nonexistent/execguard/stat"));
        h.process(1002, "threads").ppid(1).idleThreads(1003, 2, false).write();
        try (var files = Files.walk(root.resolve("proc/1002/task"))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        Files.writeString(root.resolve("proc/1002/task"), "not a directory");
        // A suspect whose status is a directory.
        h.process(1010, "odd").ppid(1).age(5_000).main(t -> t.state('D').wchan("io_schedule")).write();
        Files.delete(root.resolve("proc/1010/task/1010/status"));
        Files.createDirectories(root.resolve("proc/1010/task/1010/status"));
        CliRun r = scan();
        assertWarns(r, "proc/1000/stat", "cannot read");
        assertWarns(r, "proc/1001/stat", "cannot read");
        assertWarns(r, "proc/1002/task", "cannot list");
        assertWarns(r, "proc/1010/task/1010/status", "cannot read");
        assertTrue(r.findings().stream().anyMatch(f -> f.path("pid").asInt() == 1010), r::toString);
    }

    @Test
    void garbledMountinfoAndCgroupFilesAreWarnedAbout() throws IOException {
        h.process(1100, "reader").ppid(1).age(9_000).mntNs("mnt:[4026532999]")
                .mountinfo("this is not a mountinfo line\n")
                .main(t -> t.state('D').wchan("io_schedule").blockedFor(400)).write();
        put("sys/fs/cgroup/kubepods.slice/pids.max", "lots\n");
        put("sys/fs/cgroup/kubepods.slice/pids.current", "12\n");
        CliRun r = scan();
        assertWarns(r, "proc/1100/mountinfo", "mountinfo line without");
        assertWarns(r, "kubepods.slice", "garbled pids.max");
        assertTrue(r.findings().stream().anyMatch(f -> f.path("pid").asInt() == 1100), r::toString);
    }

    @Test
    void garbledUptimeIsAnUnreadableHostRoot() throws IOException {
        put("proc/uptime", "soon\n");
        CliRun r = CliRun.scanJson(root);
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("proc/uptime is garbled"), r::toString);
        assertFalse(r.err().contains("\tat "));
        assertEquals("", r.out());
    }

    @Test
    void procWithoutProcessesIsAnUnreadableHostRoot(@TempDir Path empty) throws IOException {
        Files.createDirectories(empty.resolve("proc"));
        Files.writeString(empty.resolve("proc/uptime"), "100.00 300.00\n");
        CliRun r = CliRun.scanJson(empty);
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("holds no processes"), r::toString);
    }
}
