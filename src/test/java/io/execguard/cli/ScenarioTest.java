package io.execguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.execguard.fixtures.Scenarios;

/** {@code scan} on each fixture tree names the seed's type, cause, task, container and mount. */
class ScenarioTest {

    private static List<String> types(CliRun r) {
        return r.findings().stream().map(f -> f.path("type").asText()).sorted().toList();
    }

    private static JsonNode one(CliRun r, String type, Predicate<JsonNode> extra) {
        List<JsonNode> fs = r.findings().stream().filter(f -> f.path("type").asText().equals(type))
                .filter(extra).toList();
        assertEquals(1, fs.size(), () -> "expected one " + type + " finding in\n" + r);
        return fs.get(0);
    }

    private static JsonNode one(CliRun r, String type) {
        return one(r, type, f -> true);
    }

    private static CliRun scan(String fixture) {
        CliRun r = CliRun.scanJson(CliRun.fixture(fixture));
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals("", r.err(), "no warnings expected on a well-formed tree");
        return r;
    }

    @Test
    void seed000PidsLimitOfAKubepodsContainer() {
        CliRun r = scan("seed000-pids-limit");
        assertEquals(List.of("PidsLimitReached"), types(r), r::toString);
        JsonNode f = one(r, "PidsLimitReached");
        assertEquals("PidsLimit", f.path("cause").asText());
        assertEquals("Critical", f.path("severity").asText());
        assertEquals("Container", f.path("scope").asText());
        assertEquals(Scenarios.SEED000_CONTAINER, f.path("containerId").asText());
        assertEquals(Scenarios.SEED000_POD, f.path("podUid").asText());
        assertEquals("/kubepods/burstable/pod" + Scenarios.SEED000_POD + "/" + Scenarios.SEED000_CONTAINER,
                f.path("cgroup").asText());
        assertFalse(f.has("pid"), "a cgroup finding names no task");
        assertTrue(f.path("message").asText().contains("10000/10000"), f::toString);
        assertTrue(f.path("message").asText().contains("2931 forks refused"), f::toString);
        assertEquals("hybrid", r.json().path("host").path("cgroupLayout").asText());
    }

    @Test
    void seed001RuncInitBlockedWritingAFullPipe() {
        CliRun r = scan("seed001-pipe-full");
        assertEquals(List.of("PipeBufferExhaustionRisk", "StuckRuntimeInit"), types(r), r::toString);
        JsonNode f = one(r, "StuckRuntimeInit");
        assertEquals("PipeFull", f.path("cause").asText());
        assertEquals(423656, f.path("pid").asInt());
        assertFalse(f.has("tid"), "the main thread is the blocked one, not the futex sleeper 423657");
        assertEquals("runc:[2:INIT]", f.path("comm").asText());
        assertEquals("pipe_wait", f.path("wchan").asText());
        assertEquals("pipe_write", f.path("kernelStack").get(1).asText());
        assertEquals(Scenarios.SEED001_CONTAINER, f.path("containerId").asText());
        assertFalse(f.has("podUid"));
        assertEquals("/docker/" + Scenarios.SEED001_CONTAINER, f.path("cgroup").asText());
        JsonNode pipe = one(r, "PipeBufferExhaustionRisk");
        assertEquals("Node", pipe.path("scope").asText());
        assertEquals(423656, pipe.path("pid").asInt());
        assertTrue(pipe.path("message").asText().contains("fs.pipe-user-pages-soft is 1 pages"), pipe::toString);
        assertEquals(1, r.json().path("host").path("pipeUserPagesSoft").asInt());
        assertEquals("v1", r.json().path("host").path("cgroupLayout").asText());
    }

    @Test
    void seed002RuncInitInCephChdirNamedFromTheRuncExecCommandLine() {
        CliRun r = scan("seed002-ceph-chdir");
        assertEquals(List.of("StuckRuntimeInit"), types(r), r::toString);
        JsonNode f = one(r, "StuckRuntimeInit");
        assertEquals("CephRequest", f.path("cause").asText());
        assertEquals(2658, f.path("pid").asInt());
        assertFalse(f.has("tid"));
        assertEquals("D", f.path("state").asText());
        assertEquals("ceph_mdsc_do_request", f.path("kernelStack").get(0).asText(), "module suffix and offset removed");
        // Not yet in the container's cgroup: the id comes from "runc ... exec ... <id>".
        assertEquals("/system.slice/containerd.service", f.path("cgroup").asText());
        assertEquals(Scenarios.SEED002_CONTAINER, f.path("containerId").asText());
        assertFalse(f.has("podUid"), "the init's cgroup is the runtime's, not the pod's");
        assertEquals("Container", f.path("scope").asText());
        JsonNode m = f.path("mount");
        assertEquals("ceph", m.path("fsType").asText());
        assertEquals("/data", m.path("mountPoint").asText());
        assertTrue(m.path("source").asText().startsWith("10.72.8.11:6789,10.72.8.12:6789,10.72.8.13:6789:/volumes/"),
                m::toString);
        assertFalse(m.has("fuseConnection"));
        assertEquals("v2", r.json().path("host").path("cgroupLayout").asText());
    }

    @Test
    void seed003LeakedExecShellsAndPtysNearTheLimit() {
        CliRun r = scan("seed003-leaked-exec");
        assertEquals(List.of("LeakedExecSession", "LeakedExecSession", "PtyExhaustionRisk"), types(r), r::toString);
        Set<Integer> pids = new TreeSet<>();
        for (JsonNode f : r.findings()) {
            if (f.path("type").asText().equals("LeakedExecSession")) {
                pids.add(f.path("pid").asInt());
                assertEquals("Warning", f.path("severity").asText());
                assertEquals("Unknown", f.path("cause").asText());
                assertEquals("sh", f.path("comm").asText());
                assertEquals("n_tty_read", f.path("wchan").asText());
                assertEquals(Scenarios.SEED003_CONTAINER, f.path("containerId").asText());
            }
        }
        // Not 52001 (bash waiting for its foreground child), 60550 (20 minutes), 8123 (the container's init).
        assertEquals(Set.of(30113, 41207), pids);
        JsonNode pty = one(r, "PtyExhaustionRisk");
        assertEquals("Node", pty.path("scope").asText());
        assertEquals("Critical", pty.path("severity").asText(), "3968 is past the 3072 that containers may use");
        assertTrue(pty.path("message").asText().contains("3968 of kernel.pty.max 4096"), pty::toString);
        assertTrue(pty.path("message").asText().contains("2 leaked exec sessions"), pty::toString);
    }

    @Test
    void seed004PidNamespaceTeardownWaitingForAThreadInFuseFlush() {
        CliRun r = scan("seed004-pidns-fuse");
        assertEquals(List.of("PidNamespaceTeardownStuck", "UnkillableTask", "UnkillableTask"), types(r), r::toString);
        JsonNode init = one(r, "PidNamespaceTeardownStuck");
        assertEquals("PidNamespaceTeardown", init.path("cause").asText());
        assertEquals(1528591, init.path("pid").asInt());
        assertFalse(init.has("tid"));
        assertEquals("S", init.path("state").asText());
        assertEquals(Scenarios.SEED004_CONTAINER, init.path("containerId").asText());
        assertTrue(init.path("message").asText().contains("waiting for pid 1544450 (ndrive) in FuseRequest"),
                init::toString);

        JsonNode thread = one(r, "UnkillableTask", f -> f.path("pid").asInt() == 1544450);
        assertEquals(1544574, thread.path("tid").asInt(), "the D thread, not the zombie main thread");
        assertEquals("FuseRequest", thread.path("cause").asText());
        assertEquals("D", thread.path("state").asText());
        assertEquals(List.of("SIGKILL"), texts(thread.path("signalsPending")));
        assertEquals(Scenarios.SEED004_CONTAINER, thread.path("containerId").asText());
        JsonNode m = thread.path("mount");
        assertEquals(61, m.path("fuseConnection").asInt());
        assertEquals("fuse.ndrive", m.path("fsType").asText(), "read from the live thread's own mountinfo");
        assertEquals("/mnt/ndrive", m.path("mountPoint").asText());
        assertTrue(thread.path("message").asText().contains("/sys/fs/fuse/connections/61/abort"), thread::toString);

        // The init has SIGKILL pending (ShdPnd) too and cannot die while it waits.
        JsonNode initKill = one(r, "UnkillableTask", f -> f.path("pid").asInt() == 1528591);
        assertEquals("PidNamespaceTeardown", initKill.path("cause").asText());
    }

    @Test
    void labExecStuckInRuncInitOnAFrozenFuseMount() {
        CliRun r = scan("lab-exec-fuse");
        assertEquals(List.of("StuckRuntimeInit"), types(r), r::toString);
        JsonNode f = one(r, "StuckRuntimeInit");
        assertFuseInit(f);
        assertFalse(f.has("signalsPending"));
    }

    @Test
    void labKillOfTheStuckRuncInitNeverCompletes() {
        CliRun r = scan("lab-kill-fuse");
        assertEquals(List.of("StuckRuntimeInit", "UnkillableTask"), types(r), r::toString);
        assertFuseInit(one(r, "StuckRuntimeInit"));
        JsonNode k = one(r, "UnkillableTask");
        assertFuseInit(k);
        assertEquals(List.of("SIGKILL"), texts(k.path("signalsPending")));
        assertEquals("Critical", k.path("severity").asText());
    }

    private static void assertFuseInit(JsonNode f) {
        assertEquals("FuseRequest", f.path("cause").asText(), f::toString);
        assertEquals(6011, f.path("pid").asInt());
        assertFalse(f.has("tid"));
        assertEquals("D", f.path("state").asText());
        assertEquals(Scenarios.LAB_CONTAINER, f.path("containerId").asText());
        assertFalse(f.has("podUid"));
        List<String> stack = texts(f.path("kernelStack"));
        assertEquals("request_wait_answer", stack.get(0));
        assertTrue(stack.contains("fuse_lookup") && stack.contains("__x64_sys_chdir"), stack::toString);
        JsonNode m = f.path("mount");
        assertEquals(46, m.path("fuseConnection").asInt(), "the upper connection, the only one in the container");
        assertEquals("fuse.bindfs", m.path("fsType").asText());
        assertEquals("/data", m.path("mountPoint").asText());
        assertEquals("/root/lab/mntA", m.path("source").asText());
    }

    private static List<String> texts(JsonNode array) {
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void everyScenarioHasAFixture() {
        for (Scenarios.Scenario s : Scenarios.ALL) {
            CliRun.fixture(s.name());
        }
    }

    @Test
    void missingHostRootIsExitCode2(@TempDir Path tmp) {
        CliRun r = CliRun.scanJson(tmp.resolve("no-such-root"));
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("does not exist"), r::toString);
        assertEquals("", r.out());
        assertFalse(r.err().contains("\tat "), "no stack trace");
    }

    @Test
    void unknownThresholdNameIsExitCode2() {
        CliRun r = CliRun.scanJson(CliRun.fixture("seed001-pipe-full"), "--threshold", "NoSuchType=5");
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains("unknown threshold 'NoSuchType'"), r::toString);
        assertTrue(r.err().contains("StuckRuntimeInit"), "lists the known names: " + r.err());
        assertEquals("", r.out());
    }

    @Test
    void negativeThresholdIsExitCode2() {
        CliRun r = CliRun.scanJson(CliRun.fixture("seed001-pipe-full"), "--threshold", "HungTask=-1");
        assertEquals(2, r.exitCode(), r::toString);
    }

    @Test
    void raisedThresholdHidesTheStuckInit() {
        // Same tree, StuckRuntimeInit threshold above the init's 6 minutes: only the node-wide pipe risk stays.
        CliRun r = CliRun.scanJson(CliRun.fixture("seed001-pipe-full"), "--threshold", "StuckRuntimeInit=600");
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals(List.of("PipeBufferExhaustionRisk"), types(r));
        assertFalse(one(r, "PipeBufferExhaustionRisk").has("pid"));
    }
}
