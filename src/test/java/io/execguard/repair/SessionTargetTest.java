package io.execguard.repair;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.execguard.bench.SyntheticHost;
import io.execguard.detect.DetectorSuite;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.Thresholds;
import io.execguard.host.DeadlineReader;
import io.execguard.host.HostPaths;
import io.execguard.host.HostReader;
import io.execguard.host.HostSnapshot;

/**
 * #12 point 6 on fixture trees: killLeakedExecSessions never targets a container's own process. One shim, one
 * pod cgroup, every shell idle in n_tty_read for hours with a terminal:
 * <ul>
 *   <li>7001: a tty container's init in a pod that shares its process namespace (nsPid 7, the pause process is
 *   pid 1), recorded by containerd's runc as {@code init_process_pid} with its start time;</li>
 *   <li>7002: the same under dockerd's runc root;</li>
 *   <li>7003: a shell whose {@code status} cannot be read (nsPid unknown);</li>
 *   <li>7004: a shell with nsPid 1 (a {@code docker run -it} init, the rule that was there before);</li>
 *   <li>7005: a shell on a PID a state.json names, but with another start time (the init died, the PID was
 *   reused by an exec): an exec session;</li>
 *   <li>7010: a real leaked exec session (nsPid 12): the control.</li>
 * </ul>
 */
class SessionTargetTest {

    static final String CID = "5e55100000000000000000000000000000000000000000000000000000000abc";
    static final String CG = "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0c0ffee0_1111_2222_3333_444455556666.slice/cri-containerd-" + CID + ".scope";

    @TempDir
    Path root;

    @Test
    void aContainersOwnProcessIsNeverASessionTarget() throws Exception {
        SyntheticHost h = SyntheticHost.create(root, SyntheticHost.CgroupLayout.V2, 86_400);
        h.process(1, "systemd").ppid(0).age(86_000).cmdline("/sbin/init").cgroup("0::/init.scope")
                .main(t -> t.wchan("ep_poll")).write();
        h.process(600, "containerd").ppid(1).age(86_000).cmdline("/usr/bin/containerd").cgroup("0::/system.slice")
                .main(t -> t.wchan("futex_wait_queue")).write();
        h.process(700, "containerd-shim").ppid(1).age(80_000).cmdline("/usr/bin/containerd-shim-runc-v2", "-id", CID)
                .cgroup("0::/system.slice").main(t -> t.wchan("futex_wait_queue")).write();
        for (int pid : new int[] {7001, 7002, 7003, 7004, 7005, 7010}) {
            int nsPid = switch (pid) {
                case 7001 -> 7;
                case 7002 -> 8;
                case 7004 -> 1;
                case 7005 -> 9;
                default -> 12;
            };
            h.process(pid, "sh").ppid(700).age(7_200).nsPid(nsPid).tty(34_816 + pid % 100).pgrp(pid).session(pid)
                    .cmdline("sh").cgroup(CG).main(t -> t.wchan("n_tty_read").stack("n_tty_read+0x1/0x2")).write();
        }
        Path status = root.resolve("proc/7003/status");
        Files.delete(status);
        Files.createDirectory(status); // unreadable as a file: its NSpid is unknown
        Files.delete(root.resolve("proc/7003/task/7003/status"));
        Files.createDirectory(root.resolve("proc/7003/task/7003/status"));
        state("run/containerd/runc/k8s.io/" + CID, 7001, h.startTicks(7_200));
        state("run/docker/runtime-runc/moby/" + "d0c4e7" + "0".repeat(58), 7002, h.startTicks(7_200));
        state("run/containerd/runc/k8s.io/" + "deadbeef" + "0".repeat(56), 7005, h.startTicks(7_200) + 500);
        // garbage next to the states must not hide them
        Files.writeString(root.resolve("run/containerd/runc/k8s.io/state.json"), "{not json");

        HostSnapshot s;
        List<Finding> found;
        try (DeadlineReader slow = new DeadlineReader(Duration.ofSeconds(1), 4)) {
            s = new HostReader(new HostPaths(root), slow, Clock.systemUTC()).read();
            found = DetectorSuite.standard(Thresholds.DEFAULTS.with("LeakedExecSession", 3600)).detect(s);
        }
        TreeSet<Integer> reported = new TreeSet<>();
        Map<String, Finding> byId = new LinkedHashMap<>();
        for (Finding f : found) {
            if (f.type() == FindingType.LeakedExecSession) {
                reported.add(f.pid());
                byId.put("leak/" + f.pid(), f);
            }
        }
        // the runtime's own processes are no exec sessions; the unreadable one is still reported (missing
        // evidence does not hide a finding), but is no target
        assertEquals(new TreeSet<>(List.of(7003, 7005, 7010)), reported, found::toString);

        RepairPolicy policy = new RepairPolicy(false, true, Duration.ofHours(1), false, Duration.ofSeconds(10));
        RepairPlanner.Plan plan = RepairPlanner.decide(byId, s, Map.of(), policy, Map.of(), Instant.now());
        assertEquals(List.of(7005, 7010), plan.actions().stream().map(RepairAction::pid).sorted().toList(),
                plan::toString);
        assertTrue(plan.declined().get("leak/7003").contains("could not be read"), plan.declined()::toString);

        // the planner alone (whatever a detector reports): the inits and nsPid 1 are declined with a reason
        Map<String, Finding> all = new LinkedHashMap<>();
        for (int pid : new int[] {7001, 7002, 7004}) {
            all.put("leak/" + pid, new Finding(FindingType.LeakedExecSession, byId.get("leak/7010").cause(),
                    byId.get("leak/7010").severity(), byId.get("leak/7010").scope(), "leaked", pid, null, "sh", "S",
                    "n_tty_read", List.of(), List.of(), 7200L, CID, null, null, null));
        }
        RepairPlanner.Plan inits = RepairPlanner.decide(all, s, Map.of(), policy, Map.of(), Instant.now());
        assertEquals(List.of(), inits.actions(), inits::toString);
        assertTrue(inits.declined().get("leak/7001").contains("init_process_pid"), inits.declined()::toString);
        assertTrue(inits.declined().get("leak/7002").contains("init_process_pid"), inits.declined()::toString);
        assertTrue(inits.declined().get("leak/7004").contains("pid 1 of its namespace"), inits.declined()::toString);
    }

    private void state(String dir, int pid, long start) throws Exception {
        Path d = Files.createDirectories(root.resolve(dir));
        Files.writeString(d.resolve("state.json"), "{\"id\":\"" + d.getFileName() + "\",\"init_process_pid\":" + pid
                + ",\"init_process_start\":" + start + ",\"created\":\"2026-11-23T10:00:00Z\",\"config\":{}}");
    }
}
