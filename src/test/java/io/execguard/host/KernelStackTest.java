package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

class KernelStackTest {

    @Test
    void modernFormatWithModuleNames() {
        String text = """
                [<0>] ceph_mdsc_do_request+0x186/0x240 [ceph]
                [<0>] __ceph_do_getattr+0x9d/0x200 [ceph]
                [<0>] ceph_permission+0x2a/0x50 [ceph]
                [<0>] inode_permission+0xc0/0x150
                [<0>] ksys_chdir+0x59/0xd0
                [<0>] __x64_sys_chdir+0x12/0x20
                [<0>] do_syscall_64+0x60/0x190
                [<0>] entry_SYSCALL_64_after_hwframe+0x44/0xa9
                [<0>] 0xffffffffffffffff
                """;
        assertEquals(List.of("ceph_mdsc_do_request", "__ceph_do_getattr", "ceph_permission", "inode_permission",
                "ksys_chdir", "__x64_sys_chdir", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"),
                KernelStack.parse(text));
    }

    @Test
    void oldFormatWithAddresses() {
        String text = """
                [<ffffffffadc4bd50>] pipe_wait+0x70/0xc0
                [<ffffffffadc4bff9>] pipe_write+0x1f9/0x540
                [<ffffffffae176ddb>] system_call_fastpath+0x22/0x27
                [<ffffffffffffffff>] 0xffffffffffffffff
                """;
        assertEquals(List.of("pipe_wait", "pipe_write", "system_call_fastpath"), KernelStack.parse(text));
    }

    @Test
    void emptyAndOddLines() {
        assertEquals(List.of(), KernelStack.parse(""));
        assertEquals(List.of(), KernelStack.parse("\n\n"));
        // A frame without an offset (some arches, or a truncated read) keeps its name.
        assertEquals(List.of("schedule", "request_wait_answer"),
                KernelStack.parse("[<0>] schedule\n[<0>] request_wait_answer+0x12f/0x210\n[<0>] "));
    }
}
