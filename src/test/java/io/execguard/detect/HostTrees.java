package io.execguard.detect;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import io.execguard.bench.SyntheticHost;
import io.execguard.host.DeadlineReader;
import io.execguard.host.HostPaths;
import io.execguard.host.HostReader;
import io.execguard.host.HostSnapshot;

/** Synthetic host trees read by the real reader and judged by the standard detectors. */
final class HostTrees {

    private HostTrees() {
    }

    /** A host with nothing but systemd (a tree needs one process). */
    static SyntheticHost minimal(Path root, String kernel) {
        SyntheticHost h = SyntheticHost.create(root, SyntheticHost.CgroupLayout.V2, 86_400);
        h.sysctl("kernel.osrelease", kernel);
        h.process(1, "systemd").ppid(0).age(86_000).cmdline("/sbin/init").cgroup("0::/init.scope")
                .main(t -> t.wchan("ep_poll").stack("ep_poll+0x2aa/0x370")).write();
        return h;
    }

    static List<Finding> findings(Path root) {
        try (DeadlineReader slow = new DeadlineReader(Duration.ofSeconds(1), 4)) {
            HostSnapshot s = new HostReader(new HostPaths(root), slow, Clock.systemUTC()).read();
            return DetectorSuite.standard(Thresholds.DEFAULTS).detect(s);
        }
    }

    static List<Finding> findings(Path root, FindingType type) {
        return findings(root).stream().filter(f -> f.type() == type).toList();
    }
}
