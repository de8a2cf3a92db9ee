package io.execguard.repair;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Sends a signal to another process: the Java 22+ version of this class (the jar is multi-release; the
 * Java 21 version in {@code src/main/java} runs {@code kill(1)}). Calls libc through the foreign-function
 * API: {@code pidfd_open(pid)}, then checks the start time, then {@code pidfd_send_signal}: the signal
 * reaches the process that was checked even if the PID is reused in between. Where libc lacks the pidfd
 * calls (glibc before 2.36), {@code kill(2)} right after the check.
 */
public final class Signals {

    private static final Map<String, Integer> NUMBERS = Map.of("HUP", 1, "KILL", 9, "TERM", 15);
    /**
     * The native handles, linked at the first signal: linking the foreign-function API loads ~160 classes that a
     * probe which never repairs should not carry (docs/RESOURCES.md).
     */
    private static final class Native {
        private static final Linker LINKER = Linker.nativeLinker();
        private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
        private static final VarHandle ERRNO = CALL_STATE.varHandle(
                java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
        private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
        private static final Optional<MethodHandle> PIDFD_OPEN = find("pidfd_open",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        private static final Optional<MethodHandle> PIDFD_SEND_SIGNAL = find("pidfd_send_signal",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_INT));
        private static final Optional<MethodHandle> KILL = find("kill",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        private static final Optional<MethodHandle> CLOSE = find("close",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

        private static Optional<MethodHandle> find(String name, FunctionDescriptor d) {
            return LINKER.defaultLookup().find(name).map(a -> LINKER.downcallHandle(a, d, CAPTURE));
        }
    }

    private Signals() {
    }

    /** How signals are sent in this runtime, for logs (without linking anything yet). */
    public static String mechanism() {
        return "pidfd_send_signal (else kill(2)) via the foreign-function API, linked at the first repair (Java "
                + Runtime.version().feature() + ")";
    }

    /**
     * Sends {@code signal} ("HUP", "KILL", "TERM") to {@code pid} if its start time (field 22 of
     * {@code procRoot/PID/stat}) is still {@code startTimeTicks}. Returns false when the process is gone
     * or the PID now belongs to another process.
     */
    public static boolean send(Path procRoot, int pid, long startTimeTicks, String signal) throws IOException {
        Integer sig = NUMBERS.get(signal);
        if (sig == null) {
            throw new IOException("unsupported signal " + signal);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CALL_STATE);
            if (Native.PIDFD_OPEN.isPresent() && Native.PIDFD_SEND_SIGNAL.isPresent() && Native.CLOSE.isPresent()) {
                int fd = (int) Native.PIDFD_OPEN.get().invokeExact(state, pid, 0);
                int errno = fd < 0 ? (int) Native.ERRNO.get(state, 0L) : 0;
                if (errno == 3) { // ESRCH
                    return false;
                }
                if (fd < 0 && errno != 38 && errno != 1) {
                    throw new IOException("pidfd_open(" + pid + ") failed: errno " + errno);
                }
                // ENOSYS (kernel < 5.3) or EPERM (a seccomp profile without pidfd_open): kill(2) below
                if (fd >= 0) {
                    try {
                        if (!ProcStart.matches(procRoot, pid, startTimeTicks)) {
                            return false;
                        }
                        int rc = (int) Native.PIDFD_SEND_SIGNAL.get().invokeExact(state, fd, (int) sig, MemorySegment.NULL,
                                0);
                        return check(rc, state, signal, pid);
                    } finally {
                        int ignored = (int) Native.CLOSE.get().invokeExact(state, fd);
                    }
                }
            }
            if (!ProcStart.matches(procRoot, pid, startTimeTicks)) {
                return false;
            }
            int rc = (int) Native.KILL.orElseThrow(() -> new IOException("libc has no kill()")).invokeExact(state, pid,
                    (int) sig);
            return check(rc, state, signal, pid);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("signalling " + pid + " failed: " + t, t);
        }
    }

    private static boolean check(int rc, MemorySegment state, String signal, int pid) throws IOException {
        if (rc == 0) {
            return true;
        }
        int errno = (int) Native.ERRNO.get(state, 0L);
        if (errno == 3) { // ESRCH: it died in between
            return false;
        }
        throw new IOException("SIG" + signal + " to " + pid + " failed: errno " + errno
                + (errno == 1 ? " (EPERM: the probe needs CAP_KILL)" : ""));
    }
}
