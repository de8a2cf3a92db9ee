package io.execguard.bench;

import java.util.HexFormat;
import java.util.Random;

/**
 * Fills a {@link SyntheticHost} with the ordinary tasks of a busy Kubernetes node: host daemons, kernel
 * threads (a few long-lived ones in D, as jbd2 and flush workers are), and pods — a shim, a pause
 * container and a multi-threaded application each, with their cgroups and pids limits well below the
 * limit. Nothing in it is stuck: a scan of a busy node alone must find nothing.
 */
public final class BusyNode {

    /**
     * @param tasks     tasks written (every thread counts, as in a scan)
     * @param processes thread groups written
     * @param pods      pods written
     * @param nextPid   the first pid not used
     */
    public record Populated(int tasks, int processes, int pods, int nextPid) {
    }

    private final SyntheticHost host;
    private final Random random;
    private int pid;
    private int tasks;
    private int processes;
    private int pods;

    private BusyNode(SyntheticHost host, long seed, int firstPid) {
        this.host = host;
        this.random = new Random(seed);
        this.pid = firstPid;
    }

    /** Writes ordinary tasks until exactly {@code taskCount} exist, using pids from {@code firstPid} on. */
    public static Populated populate(SyntheticHost host, int taskCount, int firstPid, long seed) {
        BusyNode n = new BusyNode(host, seed, firstPid);
        n.fill(taskCount);
        return new Populated(n.tasks, n.processes, n.pods, n.pid);
    }

    private void fill(int target) {
        double up = host.uptime();
        hostDaemon("systemd-journal", 1, up - 5, target);
        hostDaemon("containerd", 40, up - 8, target);
        hostDaemon("kubelet", 25, up - 9, target);
        while (tasks < target) {
            int left = target - tasks;
            if (processes % 9 == 0) {
                kernelThread(left);
            } else {
                pod(target);
            }
        }
    }

    private void kernelThread(int left) {
        int k = processes;
        String comm;
        char state;
        switch (k % 5) {
            case 0 -> { comm = "kworker/" + (k % 4) + ":" + (k % 7) + "H-kblockd"; state = 'I'; }
            case 1 -> { comm = "ksoftirqd/" + (k % 4); state = 'S'; }
            case 2 -> { comm = "jbd2/nvme0n1p" + (k % 3 + 1) + "-8"; state = 'D'; }
            case 3 -> { comm = "kworker/u8:" + (k % 9) + "+flush-259:0"; state = 'D'; }
            default -> { comm = "xfsaild/dm-" + (k % 3); state = 'S'; }
        }
        if (left > 0) {
            host.kernelThread(pid++, comm, state, host.uptime() - 2);
            tasks++;
            processes++;
        }
    }

    private void hostDaemon(String comm, int threads, double age, int target) {
        int n = Math.max(1, Math.min(threads, target - tasks));
        int p = pid;
        SyntheticHost.Proc proc = host.process(p, comm).ppid(1).age(age).cmdline("/usr/bin/" + comm)
                .cgroup("0::/system.slice/" + comm + ".service").main(t -> t.shallow().wchan("ep_poll"))
                .idleThreads(p + 1, n - 1, true);
        proc.write();
        pid += n;
        tasks += n;
        processes++;
    }

    private void pod(int target) {
        String uid = uuid();
        String qos = pods % 3 == 0 ? "besteffort" : "burstable";
        String slice = "/kubepods.slice/kubepods-" + qos + ".slice/kubepods-" + qos + "-pod" + uid.replace('-', '_')
                + ".slice";
        double age = 60 + random.nextInt(7 * 86400);
        pods++;
        // The shim: one per pod, a Go program.
        String pause = id();
        int shim = pid;
        process("containerd-shim", 11, 1, age + 1, null, 0, target,
                "/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", pause, "-address",
                "/run/containerd/containerd.sock");
        process("pause", 1, shim, age, slice + "/cri-containerd-" + pause + ".scope", 1, target, "/pause");
        String app = id();
        String cg = slice + "/cri-containerd-" + app + ".scope";
        int threads = switch (pods % 4) {
            case 0 -> 45 + random.nextInt(40); // a JVM
            case 1 -> 8 + random.nextInt(10); // a Go server
            case 2 -> 1; // nginx master
            default -> 3;
        };
        String[] argv = switch (pods % 4) {
            case 0 -> new String[] {"java", "-Xmx2g", "-jar", "/app/service.jar"};
            case 1 -> new String[] {"/usr/local/bin/server", "--port=8080"};
            case 2 -> new String[] {"nginx: master process nginx -g daemon off;"};
            default -> new String[] {"python3", "-m", "worker"};
        };
        String comm = switch (pods % 4) {
            case 0 -> "java";
            case 1 -> "server";
            case 2 -> "nginx";
            default -> "python3";
        };
        int appPid = pid;
        process(comm, threads, shim, age - 0.5, cg, 1, target, argv);
        if (pods % 4 == 2) {
            for (int w = 0; w < 2 && tasks < target; w++) {
                process("nginx", 1, appPid, age - 0.6, cg, 2 + w, target, "nginx: worker process");
            }
        }
        host.pidsCgroup(cg, threads, "4096", 0);
        host.pidsCgroup(slice, threads + 1, "max", 0);
    }

    private void process(String comm, int threads, int ppid, double age, String cgroup, int nsInner, int target,
                         String... argv) {
        int n = Math.max(1, Math.min(threads, target - tasks));
        if (tasks >= target) {
            return;
        }
        int p = pid;
        SyntheticHost.Proc proc = host.process(p, comm).ppid(ppid).age(Math.max(1, age)).cmdline(argv)
                .main(t -> t.shallow().wchan(n > 1 ? "futex_wait_queue" : "ep_poll"))
                .idleThreads(p + 1, n - 1, true);
        if (cgroup != null) {
            proc.cgroup("0::" + cgroup).nsPid(nsInner);
        }
        proc.write();
        pid += n;
        tasks += n;
        processes++;
    }

    private String id() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private String uuid() {
        String h = id();
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20)
                + "-" + h.substring(20, 32);
    }
}
