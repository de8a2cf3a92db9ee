package io.execguard.host;

import java.util.List;

/**
 * One thread of a suspect process, read deeply.
 *
 * @param tid               thread id
 * @param comm              thread name
 * @param state             scheduler state letter (R, S, D, Z, T, t, X, I)
 * @param flags             PF_* flags
 * @param pendingMask       the thread's private pending signals (stat field 31, or SigPnd)
 * @param sharedPendingMask the thread group's pending signals (ShdPnd)
 * @param wchan             where it sleeps, or null when unknown
 * @param kernelStack       frames, offsets removed; empty when unreadable
 * @param contextSwitches   voluntary + involuntary, -1 when unknown
 * @param blockedForSeconds seconds since it last ran on a CPU, NaN when unknown
 */
public record ThreadSnapshot(int tid, String comm, char state, long flags, long pendingMask,
                             long sharedPendingMask, String wchan, List<String> kernelStack,
                             long contextSwitches, double blockedForSeconds) {

    public static final long SIGKILL_BIT = 1L << (9 - 1);

    public boolean sigkillPending() {
        return ((pendingMask | sharedPendingMask) & SIGKILL_BIT) != 0;
    }

    public boolean exiting() {
        return (flags & ProcStat.PF_EXITING) != 0;
    }

    public boolean dead() {
        return state == 'Z' || state == 'X';
    }
}
