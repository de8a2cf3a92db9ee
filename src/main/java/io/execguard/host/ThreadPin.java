package io.execguard.host;

/**
 * Holds the calling thread on one CPU for a short piece of work: how the reader samples a CPU's scheduler clock
 * where it would not otherwise run ({@link CpuClocks.Pin}). {@link ThreadPins#create()} gives this runtime's.
 */
interface ThreadPin {

    /**
     * Runs {@code work} with the calling thread held on {@code cpu}, and gives the thread its CPUs back after;
     * false, with {@code work} not run, when it cannot be held there (no way to pin in this runtime, a CPU outside
     * the thread's cpuset, a virtual thread).
     */
    boolean run(int cpu, Runnable work);

    /** How this pins, for the probe's start-up log. */
    String mechanism();

    /** No pinning (Java 21: there is no call for it without the foreign-function API). */
    ThreadPin NONE = new ThreadPin() {
        @Override
        public boolean run(int cpu, Runnable work) {
            return false;
        }

        @Override
        public String mechanism() {
            return "none";
        }
    };
}
