package io.execguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.execguard.host.ThreadSnapshot;

class CauseRulesTest {

    private final CauseRules rules = CauseRules.defaults();

    private static ThreadSnapshot t(int tid, char state, String wchan, long shdPnd, String... stack) {
        return new ThreadSnapshot(tid, "t" + tid, state, 0x400100L, 0, shdPnd, wchan, List.of(stack), 10, 60);
    }

    private static final String[] GO_FUTEX = {"futex_wait_queue", "__futex_wait", "futex_wait", "do_futex",
        "__x64_sys_futex", "do_syscall_64"};

    @Test
    void filesystemFramesOutrankTheGenericBlockIoAboveThem() {
        assertEquals(Cause.CephRequest, rules.classify(List.of("io_schedule", "ceph_mdsc_do_request",
                "__ceph_do_getattr", "ksys_chdir")));
        assertEquals(Cause.FuseRequest, rules.classify(List.of("request_wait_answer", "__fuse_simple_request",
                "fuse_lookup", "__x64_sys_chdir")));
        assertEquals(Cause.FuseRequest, rules.classify(List.of("fuse_flush", "filp_close")));
        assertEquals(Cause.NfsRequest, rules.classify(List.of("rpc_wait_bit_killable", "__rpc_execute",
                "nfs4_call_sync_sequence")));
        assertEquals(Cause.CifsRequest, rules.classify(List.of("wait_for_response", "compound_send_recv",
                "smb2_query_path_info")));
        assertEquals(Cause.BlockIo, rules.classify(List.of("io_schedule", "folio_wait_bit_common", "filemap_read")));
        assertEquals(Cause.BlockIo, rules.classify(List.of("jbd2_log_wait_commit", "ext4_sync_file")));
    }

    @Test
    void pipeWritesOnOldAndNewKernels() {
        assertEquals(Cause.PipeFull, rules.classify(List.of("pipe_wait", "pipe_write", "do_sync_write")));
        assertEquals(Cause.PipeFull, rules.classify(List.of("anon_pipe_write", "vfs_write")));
        assertEquals(Cause.PipeFull, rules.classify(List.of("fifo_pipe_write", "vfs_write")));
        assertEquals(Cause.Unknown, rules.classify(List.of("pipe_read", "vfs_read")), "reading is idle, not full");
    }

    @Test
    void pidNamespaceTeardownWinsOverEverythingUnderIt() {
        assertEquals(Cause.PidNamespaceTeardown, rules.classify(List.of("do_wait", "kernel_wait4",
                "zap_pid_ns_processes", "do_exit")));
    }

    @Test
    void unknownAndEmpty() {
        assertEquals(Cause.Unknown, rules.classify(List.of()));
        assertEquals(Cause.Unknown, rules.classify(List.of("do_select", "core_sys_select")));
        assertEquals(Cause.Unknown, rules.classify(List.of(GO_FUTEX)));
    }

    @Test
    void wchanCountsAsAFrame() {
        assertEquals(Cause.FuseRequest, rules.classify(t(1, 'D', "request_wait_answer", 0)));
        assertEquals(Cause.CephRequest, rules.classify(t(1, 'D', "ceph_mdsc_do_request", 0)));
    }

    @Test
    void picksTheBlockedThreadOverGoFutexSleepers() {
        ThreadSnapshot main = t(100, 'S', "futex_wait_queue", 0, GO_FUTEX);
        ThreadSnapshot sleeper = t(101, 'S', "futex_wait_queue", 0, GO_FUTEX);
        ThreadSnapshot stuck = t(102, 'D', "request_wait_answer", 0, "request_wait_answer", "fuse_flush");
        ThreadSnapshot sleeper2 = t(103, 'S', "futex_wait_queue", 0, GO_FUTEX);
        assertSame(stuck, rules.blockedThread(List.of(main, sleeper, stuck, sleeper2)));
    }

    @Test
    void interruptiblePipeWriterBeatsTheFutexThreadBesideIt() {
        // seed 001: runc:[2:INIT] main thread in S in pipe_write, the Go runtime thread in futex_wait
        ThreadSnapshot writer = t(423656, 'S', "pipe_wait", 0, "pipe_wait", "pipe_write", "vfs_write");
        ThreadSnapshot futex = t(423657, 'S', "futex_wait_queue_me", 0, "futex_wait_queue_me", "futex_wait");
        assertSame(writer, rules.blockedThread(List.of(futex, writer)));
    }

    @Test
    void zombieMainThreadIsNeverTheBlockedOne() {
        ThreadSnapshot zombie = new ThreadSnapshot(1544450, "ndrive", 'Z', 0x40040cL, 0, 0x100, null, List.of(), 5, 60);
        ThreadSnapshot flush = t(1544574, 'D', "request_wait_answer", 0x100, "request_wait_answer", "fuse_flush");
        assertSame(flush, rules.blockedThread(List.of(zombie, flush)));
        assertSame(zombie, rules.blockedThread(List.of(zombie)), "only a zombie: it is all there is");
    }

    @Test
    void sigkillPendingBreaksATieBetweenUnclassifiedThreads() {
        ThreadSnapshot plain = t(1, 'D', "schedule", 0, "schedule");
        ThreadSnapshot killed = t(2, 'D', "schedule", 0x100, "schedule");
        assertSame(killed, rules.blockedThread(List.of(plain, killed)));
        assertSame(plain, rules.blockedThread(List.of(plain, t(3, 'D', "schedule", 0, "schedule"))),
                "the first (main) thread on ties");
    }

    @Test
    void tableIsExtensible() {
        CauseRules custom = new CauseRules(List.of(CauseRules.Rule.of(Cause.NfsRequest, "my_nfs_\\w+")));
        assertEquals(Cause.NfsRequest, custom.classify(List.of("my_nfs_wait")));
        assertEquals(Cause.Unknown, custom.classify(List.of("request_wait_answer")));
    }
}
