package io.execguard.repair;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Sends a signal to another process. This is the Java 21 version: it runs {@code kill(1)} when the
 * image has one, else uses {@link ProcessHandle} (SIGTERM/SIGKILL only). The jar also carries a Java 22+
 * version of this class (multi-release, {@code src/main/java22}) that calls {@code pidfd_open} and
 * {@code pidfd_send_signal} through the foreign-function API, which is what runs in the image.
 */
public final class Signals {

    private static final List<Path> KILL = List.of(Path.of("/bin/kill"), Path.of("/usr/bin/kill"));

    private Signals() {
    }

    /** How signals are sent in this runtime, for logs. */
    public static String mechanism() {
        return killBinary().map(p -> p + " (Java " + Runtime.version().feature() + ")")
                .orElse("ProcessHandle (Java " + Runtime.version().feature() + "; SIGTERM and SIGKILL only)");
    }

    /**
     * Sends {@code signal} ("HUP", "KILL", "TERM") to {@code pid} if its start time (field 22 of
     * {@code procRoot/PID/stat}) is still {@code startTimeTicks}. Returns false when the process is gone
     * or the PID now belongs to another process.
     */
    public static boolean send(Path procRoot, int pid, long startTimeTicks, String signal) throws IOException {
        if (!ProcStart.matches(procRoot, pid, startTimeTicks)) {
            return false;
        }
        Optional<Path> kill = killBinary();
        if (kill.isPresent()) {
            Process p = new ProcessBuilder(kill.get().toString(), "-s", signal, Integer.toString(pid))
                    .redirectErrorStream(true).start();
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IOException(kill.get() + " -s " + signal + " " + pid + " did not finish in 5 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while signalling " + pid, e);
            }
            if (p.exitValue() != 0) {
                String out = new String(p.getInputStream().readAllBytes()).strip();
                throw new IOException(kill.get() + " -s " + signal + " " + pid + " failed: " + out);
            }
            return true;
        }
        ProcessHandle h = ProcessHandle.of(pid).orElse(null);
        if (h == null) {
            return false;
        }
        boolean sent = switch (signal) {
            case "KILL" -> h.destroyForcibly();
            case "TERM" -> h.destroy();
            default -> throw new IOException("cannot send SIG" + signal + " to " + pid + ": this runtime (Java "
                    + Runtime.version().feature() + ") has no kill(1) and no foreign-function API; use Java 22+");
        };
        if (!sent) {
            throw new IOException("SIG" + signal + " to " + pid + " was refused (permission: CAP_KILL?)");
        }
        return true;
    }

    private static Optional<Path> killBinary() {
        return KILL.stream().filter(Files::isExecutable).findFirst();
    }
}
