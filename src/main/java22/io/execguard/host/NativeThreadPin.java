package io.execguard.host;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ThreadPin} through the foreign-function API (Java 22+): {@code sched_getaffinity} saves the calling
 * thread's CPU mask, {@code sched_setaffinity} narrows it to one CPU (the kernel moves a thread off a CPU its new
 * mask leaves out before the call returns), the work runs, and the saved mask is put back. A pid of 0 is the calling
 * thread alone, not its process. The kernel refuses a CPU outside the thread's cpuset ({@code EINVAL}): then
 * nothing runs. Native memory: two masks of {@link #MASK_BYTES}, freed with this object.
 */
final class NativeThreadPin implements ThreadPin {

    private static final Logger LOG = LoggerFactory.getLogger(NativeThreadPin.class);
    /** A cpu_set_t for 4,096 CPUs: the kernel wants at least nr_cpu_ids bits, in whole longs. */
    static final int MASK_BYTES = 512;

    /** The libc calls, linked once per JVM; null when this libc lacks one of them. */
    private static final class Native {
        private static final Linker LINKER = Linker.nativeLinker();
        private static final FunctionDescriptor AFFINITY = FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS);
        private static final MethodHandle GET = find("sched_getaffinity");
        private static final MethodHandle SET = find("sched_setaffinity");

        private static MethodHandle find(String name) {
            return LINKER.defaultLookup().find(name).map(a -> LINKER.downcallHandle(a, AFFINITY)).orElse(null);
        }
    }

    private final MemorySegment saved;
    private final MemorySegment one;

    NativeThreadPin() {
        Arena arena = Arena.ofAuto();
        saved = arena.allocate(MASK_BYTES, 8);
        one = arena.allocate(MASK_BYTES, 8);
    }

    /** Whether this runtime's libc has both calls (links them at the first call). */
    static boolean available() {
        try {
            return Native.GET != null && Native.SET != null;
        } catch (LinkageError | RuntimeException e) {
            return false;
        }
    }

    @Override
    public boolean run(int cpu, Runnable work) {
        if (cpu < 0 || cpu >= MASK_BYTES * 8 || Thread.currentThread().isVirtual()) {
            return false; // a virtual thread's carrier is not ours to pin
        }
        synchronized (this) { // the two masks are this object's: one pin at a time
            if (call(Native.GET, saved) != 0) {
                return false;
            }
            one.fill((byte) 0);
            long word = (long) (cpu / 64) * Long.BYTES;
            one.set(ValueLayout.JAVA_LONG, word, 1L << (cpu % 64)); // cpu_set_t: bit i of unsigned long i / 64
            if (call(Native.SET, one) != 0) {
                return false; // outside this thread's cpuset, or offline
            }
            try {
                work.run();
                return true;
            } finally {
                if (call(Native.SET, saved) != 0) {
                    // its cpuset shrank meanwhile: every CPU, which the kernel narrows to the cpuset's
                    one.fill((byte) 0xff);
                    if (call(Native.SET, one) != 0) {
                        LOG.warn("could not give the reading thread its CPUs back after sampling CPU {}", cpu);
                    }
                }
            }
        }
    }

    private static int call(MethodHandle h, MemorySegment mask) {
        try {
            return (int) h.invokeExact(0, (long) MASK_BYTES, mask);
        } catch (Throwable t) {
            return -1;
        }
    }

    @Override
    public String mechanism() {
        return "sched_setaffinity via the foreign-function API";
    }
}
