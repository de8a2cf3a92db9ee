package io.execguard.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Run by {@link ThreadPinTest} in a JVM of the jar's class layout ({@link Java22Child}): pins this thread to each CPU
 * it may run on and checks, from {@code /proc/thread-self}, that the work ran there with that one CPU allowed, and
 * that the thread had its CPUs back after; that a CPU it may not use, a negative CPU and a virtual thread are refused
 * without running the work. Prints {@code pin <class>}, one {@code FAIL ...} line per failure, {@code done}.
 */
public final class ThreadPinCheck {

    public static void main(String[] args) throws Exception {
        List<String> failures = new ArrayList<>();
        ThreadPin pin = ThreadPins.create();
        System.out.println("pin " + pin.getClass().getSimpleName() + " (" + pin.mechanism() + ")");
        String before = allowed();
        List<Integer> cpus = CpuList.parse(before);
        System.out.println("allowed " + before + " -> " + cpus);
        for (int cpu : cpus) {
            AtomicReference<String> inside = new AtomicReference<>();
            int[] ranOn = {-1};
            boolean ok = pin.run(cpu, () -> {
                ranOn[0] = processor();
                inside.set(allowed());
            });
            String after = allowed();
            if (!ok || ranOn[0] != cpu || !Integer.toString(cpu).equals(inside.get()) || !before.equals(after)) {
                failures.add("FAIL cpu " + cpu + ": pinned " + ok + ", ran on " + ranOn[0] + ", allowed inside "
                        + inside.get() + ", after " + after + " (before " + before + ")");
            }
        }
        int outside = 0;
        while (cpus.contains(outside)) {
            outside++;
        }
        for (int cpu : new int[] {outside, -1, 4096}) {
            AtomicBoolean ran = new AtomicBoolean();
            if (pin.run(cpu, () -> ran.set(true)) || ran.get() || !before.equals(allowed())) {
                failures.add("FAIL cpu " + cpu + " (not this thread's) was not refused, or the work ran, or the mask "
                        + "changed: " + allowed());
            }
        }
        AtomicBoolean virtualPinned = new AtomicBoolean(true);
        Thread.ofVirtual().start(() -> virtualPinned.set(pin.run(cpus.get(0), () -> { }))).join();
        if (virtualPinned.get()) {
            failures.add("FAIL a virtual thread was pinned");
        }
        failures.forEach(System.out::println);
        System.out.println("done");
        System.exit(failures.isEmpty() ? 0 : 1);
    }

    /** {@code Cpus_allowed_list} of this thread. */
    private static String allowed() {
        return CpuList.allowed(Path.of("/proc/thread-self/status"));
    }

    /** The CPU this thread is on ({@code stat} field 39). */
    private static int processor() {
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc/thread-self/stat"));
            return ProcStat.parse(b, b.length).processor();
        } catch (IOException | ProcParseException e) {
            throw new IllegalStateException(e);
        }
    }

}
