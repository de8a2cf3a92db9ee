package io.execguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.execguard.bench.SyntheticHost;

/**
 * Every PidsLimitReached message states what the cgroup's counters show: failing execs only at (or over)
 * the limit, a conditional near it, and for refusals counted earlier only that they were counted.
 */
class PidsLimitMessagesTest {

    static final String ID = "5d0c7a1b2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b";
    static final String POD = "0b6e2f1c-830d-11eb-86d6-b8cef604db88";
    static final String FAILS_NOW = "execs fail with 'read init-p: connection reset by peer';";

    @ParameterizedTest(name = "{0}: {1}/{2}, {3} refused -> {4}")
    @CsvSource(delimiter = '|', textBlock = """
            # case                      | current | max   | refused | severity | message says                                        | must not say
            no limit, none refused      | 40      | max   | 0       | none     |                                                     |
            no limit, refusals counted  | 40      | max   | 5       | Warning  | has no pids limit of its own now (40 pids)          | below
            no limit, one refusal       | 40      | max   | 1       | Warning  | pids.events counts 1 fork refused so far            | no limit now
            below, none refused         | 300     | 512   | 0       | none     |                                                     |
            below, refusals counted     | 300     | 512   | 7       | Warning  | is below its pids limit now (300/512 pids)          | is at
            near                        | 490     | 512   | 0       | Warning  | is near its pids limit (490/512 pids, 22 left)      | refused
            near, refusals counted      | 500     | 512   | 3       | Warning  | 12 left, 3 forks refused so far                     | is at
            just under near             | 486     | 512   | 0       | none     |                                                     |
            at the limit                | 512     | 512   | 0       | Critical | is at its pids limit (512/512 pids)                 | refused
            at the limit, refusals      | 512     | 512   | 2931    | Critical | (512/512 pids, 2931 forks refused so far)           | below
            over the limit              | 600     | 512   | 0       | Critical | is over its pids limit (600/512 pids)               | near
            limit 0                     | 1       | 0     | 0       | Critical | is over its pids limit (1/0 pids)                   | near
            """)
    void messagesSayWhatTheCountersShow(String name, long current, String max, long refused, String severity,
                                        String says, String mustNotSay, @TempDir Path root) {
        SyntheticHost h = HostTrees.minimal(root, "6.18.44");
        h.pidsCgroup("/docker/" + ID, current, max, refused);
        List<Finding> fs = HostTrees.findings(root, FindingType.PidsLimitReached);
        if (severity.equals("none")) {
            assertEquals(List.of(), fs, name);
            return;
        }
        assertEquals(1, fs.size(), fs::toString);
        Finding f = fs.get(0);
        String m = f.message();
        assertEquals(Severity.valueOf(severity), f.severity(), m);
        assertEquals(ID, f.containerId());
        assertTrue(m.startsWith("container " + ID.substring(0, 12) + " "), m);
        assertTrue(m.contains(says), () -> name + ": " + m);
        assertFalse(m.contains(mustNotSay), () -> name + ": " + m);
        assertEquals(f.severity() == Severity.Critical, m.contains(FAILS_NOW),
                () -> "only a cgroup at its limit fails execs now: " + m);
        assertEquals(refused > 0, m.contains(refused + " fork" + (refused == 1 ? "" : "s") + " refused"), m);
    }

    @ParameterizedTest(name = "pod cgroup {0}/{1}")
    @CsvSource({"100, 100, Critical", "97, 100, Warning"})
    void aPodCgroupIsNamedByItsPod(long current, long max, String severity, @TempDir Path root) {
        SyntheticHost h = HostTrees.minimal(root, "6.18.44");
        h.pidsCgroup("/kubepods/burstable/pod" + POD, current, Long.toString(max), 0);
        Finding f = HostTrees.findings(root, FindingType.PidsLimitReached).get(0);
        assertEquals(Severity.valueOf(severity), f.severity(), f.message());
        assertTrue(f.message().startsWith("pod " + POD + " is "), f.message());
    }
}
