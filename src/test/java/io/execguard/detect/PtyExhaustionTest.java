package io.execguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.execguard.bench.SyntheticHost;

/**
 * The kernel refuses a container's pty once kernel.pty.nr reaches kernel.pty.max - kernel.pty.reserve
 * (one earlier since 4.19, which counts the new pty first); the host's own /dev/pts may use the reserve.
 */
class PtyExhaustionTest {

    @ParameterizedTest(name = "{0}: nr {1} of max {2}, reserve {3} -> {4}")
    @CsvSource(delimiter = '|', nullValues = "absent", textBlock = """
            # kernel                    | nr   | max  | reserve | severity | message says
            6.18.44                     | 3071 | 4096 | 1024    | Critical | exec -it into any container fails with ENOSPC now
            6.18.44                     | 3072 | 4096 | 1024    | Critical | exec -it into any container fails with ENOSPC now
            3.10.0-957.el7.x86_64       | 3071 | 4096 | 1024    | Warning  | after 1 more pty;
            3.10.0-957.el7.x86_64       | 3072 | 4096 | 1024    | Critical | exec -it into any container fails with ENOSPC now
            4.19.91-24.1.al7.x86_64     | 3071 | 4096 | 1024    | Critical | fails with ENOSPC now
            4.14.320                    | 3071 | 4096 | 1024    | Warning  | after 1 more pty;
            6.18.44                     | 3000 | 4096 | 1024    | Warning  | after 71 more ptys
            6.18.44                     | 2800 | 4096 | 1024    | Warning  | kernel.pty.reserve 1024 of them kept for the host's own /dev/pts
            6.18.44                     | 2700 | 4096 | 1024    | none     |
            6.18.44                     | 3072 | 4096 | absent  | Critical | kernel.pty.reserve 1024 (unreadable; the kernel's default assumed)
            6.18.44                     | 2900 | 4096 | absent  | Warning  | after 171 more ptys
            6.18.44                     | 4095 | 4096 | 1024    | Critical | and so do new terminals on the host
            6.18.44                     | 3700 | 4096 | 0       | Warning  | after 395 more ptys
            6.18.44                     | 3500 | 4096 | 0       | none     |
            6.18.44                     | 3    | 1000 | 1024    | Critical | containers' /dev/pts get no ptys at all
            """)
    void thresholdAndSeverityFollowTheKernel(String kernel, long nr, long max, String reserve, String severity,
                                             String says, @TempDir Path root) throws Exception {
        SyntheticHost h = HostTrees.minimal(root, kernel);
        h.sysctl("kernel.pty.nr", Long.toString(nr)).sysctl("kernel.pty.max", Long.toString(max));
        if (reserve == null) {
            Files.delete(root.resolve("proc/sys/kernel/pty/reserve"));
        } else {
            h.sysctl("kernel.pty.reserve", reserve);
        }
        List<Finding> fs = HostTrees.findings(root, FindingType.PtyExhaustionRisk);
        if (severity.equals("none")) {
            assertEquals(List.of(), fs);
            return;
        }
        assertEquals(1, fs.size(), fs::toString);
        Finding f = fs.get(0);
        assertEquals(Severity.valueOf(severity), f.severity(), f::message);
        assertEquals(Scope.Node, f.scope());
        assertTrue(f.message().startsWith("kernel.pty.nr is " + nr + " of kernel.pty.max " + max), f::message);
        assertTrue(f.message().contains(says), f::message);
        if (f.severity() == Severity.Warning) {
            assertTrue(!f.message().contains("fails with ENOSPC now"), f::message);
        }
        if (nr + 1 < max) {
            assertTrue(!f.message().contains("terminals on the host"), "the host still has ptys: " + f.message());
        }
    }

    @Test
    void theReserveIsReadFromTheHost(@TempDir Path root) {
        // 3500 of 4096: past the default containers' limit, but this host reserves only 256.
        SyntheticHost h = HostTrees.minimal(root, "6.18.44");
        h.sysctl("kernel.pty.nr", "3500").sysctl("kernel.pty.reserve", "256");
        Finding f = HostTrees.findings(root, FindingType.PtyExhaustionRisk).get(0);
        assertEquals(Severity.Warning, f.severity(), f::message);
        assertTrue(f.message().contains("after 339 more ptys"), f::message);
    }
}
