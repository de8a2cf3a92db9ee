package io.execguard.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * Run by {@link ProcWalkTest} in a JVM of its own whose class path puts {@code META-INF/versions/22} first, as the
 * multi-release jar does on Java 22+: walks the real {@code /proc} with the walk this runtime picks and with NIO,
 * and prints one line per disagreement ({@code FAIL ...}), then {@code walk <class>} and {@code done}. Exits 1 on
 * any failure.
 */
public final class ProcWalkCheck {

    private record Walked(Map<Integer, ProcStat> stats, Map<Integer, Set<Integer>> tasks) {
    }

    public static void main(String[] args) throws Exception {
        List<String> failures = new ArrayList<>();
        byte[] buf = new byte[4096];
        Path proc = Path.of("/proc");

        // four parked threads whose tids this process learns from /proc/thread-self
        int self = (int) ProcessHandle.current().pid();
        Set<Integer> ownTids = java.util.concurrent.ConcurrentHashMap.newKeySet();
        CountDownLatch started = new CountDownLatch(4);
        CountDownLatch end = new CountDownLatch(1);
        for (int i = 0; i < 4; i++) {
            Thread t = new Thread(() -> {
                try {
                    ownTids.add(Integer.parseInt(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString()));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                started.countDown();
                try {
                    end.await();
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            });
            t.setDaemon(true);
            t.start();
        }
        started.await();

        String kind;
        Walked chosen;
        try (ProcWalk walk = ProcWalks.open(proc, true, buf)) {
            kind = walk.getClass().getSimpleName();
            chosen = walk(walk, buf, failures, kind);
        }
        Walked nio;
        try (ProcWalk walk = new NioProcWalk(proc, true, buf)) {
            nio = walk(walk, buf, failures, "NioProcWalk");
        }
        for (Walked w : List.of(chosen, nio)) {
            Set<Integer> mine = w.tasks().getOrDefault(self, Set.of());
            if (!w.stats().containsKey(self) || !mine.containsAll(ownTids)) {
                failures.add("FAIL " + (w == chosen ? kind : "NioProcWalk") + ": own pid " + self + " tasks " + mine
                        + " lack some of " + ownTids);
            }
        }
        Set<Integer> both = new HashSet<>(chosen.stats().keySet());
        both.retainAll(nio.stats().keySet());
        if (both.size() < 0.9 * Math.max(chosen.stats().size(), nio.stats().size())) {
            failures.add("FAIL processes: " + chosen.stats().size() + " vs " + nio.stats().size() + ", " + both.size()
                    + " in both");
        }
        for (int pid : both) {
            ProcStat a = chosen.stats().get(pid);
            ProcStat b = nio.stats().get(pid);
            if (a.tid() != pid || a.startTime() != b.startTime() || a.ppid() != b.ppid()) {
                failures.add("FAIL pid " + pid + ": " + a + " vs " + b);
            }
        }
        int absent = Integer.MAX_VALUE / 10; // 214748364: above any pid_max (at most 4194304)
        for (ProcWalk walk : List.of(ProcWalks.open(proc, true, buf), new NioProcWalk(proc, true, buf))) {
            try (walk) {
                String name = walk.getClass().getSimpleName();
                expect(failures, name + " readStat(absent)", ProcWalk.GONE, walk.readStat(absent));
                expect(failures, name + " listTasks(absent)", -1, walk.listTasks(absent));
            }
        }
        try (ProcWalk walk = ProcWalks.open(Path.of("/nonexistent-proc-" + self), true, buf)) {
            failures.add("FAIL a missing proc root opened: " + walk);
        } catch (NoSuchFileException expected) {
            // as NIO says it
        }
        Path tree = Files.createTempDirectory("procwalk");
        try (ProcWalk walk = ProcWalks.open(tree, false, buf)) {
            expect(failures, "a tree that is not procfs walks with NIO", "NioProcWalk", walk.getClass().getSimpleName());
        } finally {
            Files.delete(tree);
        }
        end.countDown();
        failures.forEach(System.out::println);
        System.out.println("walk " + kind + " processes " + chosen.stats().size() + " tasks "
                + chosen.tasks().values().stream().mapToInt(Set::size).sum());
        System.out.println("done");
        System.exit(failures.isEmpty() ? 0 : 1);
    }

    private static Walked walk(ProcWalk walk, byte[] buf, List<String> failures, String name) throws IOException {
        Map<Integer, ProcStat> stats = new HashMap<>();
        Map<Integer, Set<Integer>> tasks = new HashMap<>();
        for (int pid = walk.nextPid(); pid >= 0; pid = walk.nextPid()) {
            int len = walk.readStat(pid);
            if (len == ProcWalk.GONE) {
                continue;
            }
            if (len < 0) {
                failures.add("FAIL " + name + ": " + pid + "/stat unreadable (" + len + ")");
                continue;
            }
            ProcStat ps = ProcStat.parse(buf, len);
            stats.put(pid, ps);
            Set<Integer> tids = new HashSet<>();
            int n = walk.listTasks(pid);
            for (int i = 0; i < n; i++) {
                int tl = walk.readTaskStat(i);
                if (tl >= 0) {
                    ProcStat ts = ProcStat.parse(buf, tl);
                    if (ts.tid() != walk.tid(i)) {
                        failures.add("FAIL " + name + ": task " + walk.tid(i) + " read as " + ts.tid());
                    }
                    tids.add(ts.tid());
                } else if (tl != ProcWalk.GONE) {
                    failures.add("FAIL " + name + ": " + pid + "/task/" + walk.tid(i) + "/stat unreadable (" + tl + ")");
                }
            }
            tasks.put(pid, tids);
        }
        return new Walked(stats, tasks);
    }

    private static void expect(List<String> failures, String what, Object want, Object got) {
        if (!want.equals(got)) {
            failures.add("FAIL " + what + ": want " + want + ", got " + got);
        }
    }

    private ProcWalkCheck() {
    }
}
