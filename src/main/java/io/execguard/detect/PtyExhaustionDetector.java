package io.execguard.detect;

import java.util.List;

import io.execguard.host.HostInfo;
import io.execguard.host.HostSnapshot;

/**
 * Ptys running out for containers. The kernel ({@code devpts_new_index} in fs/devpts/inode.c) refuses a new
 * pty with ENOSPC when the ptys in use reach {@code kernel.pty.max}, less {@code kernel.pty.reserve} for every
 * devpts instance not mounted in the initial mount namespace. Every container's {@code /dev/pts} is such an
 * instance, so {@code exec -it} into a container fails once {@code kernel.pty.nr} reaches
 * {@code max - reserve} (3072 of 4096 by default), while the host's own terminals still work up to
 * {@code max}. Since Linux 4.19 the kernel counts the pty being allocated before comparing, so the limit
 * is reached one pty earlier; where the kernel release is unknown the later limit is used.
 * Critical when containers are refused now, Warning from the ratio threshold of the containers' limit.
 */
public final class PtyExhaustionDetector implements Detector {

    /** {@code NR_UNIX98_PTY_RESERVE}: the kernel's default {@code kernel.pty.reserve} (since 3.4). */
    public static final long DEFAULT_RESERVE = 1024;

    private final Thresholds thresholds;

    public PtyExhaustionDetector(Thresholds thresholds) {
        this.thresholds = thresholds;
    }

    /** What the kernel's counters mean for the next pty a container asks for. */
    record PtyBudget(long nr, long max, long reserve, boolean reserveKnown, int countsNewFirst) {

        /** Ptys in use at which the kernel refuses a container's next pty. */
        long containerLimit() {
            return max - reserve - countsNewFirst;
        }

        /** Ptys in use at which the kernel refuses the host's own next pty. */
        long hostLimit() {
            return max - countsNewFirst;
        }

        boolean containersRefused() {
            return nr >= containerLimit();
        }

        boolean hostRefused() {
            return nr >= hostLimit();
        }
    }

    static PtyBudget budget(HostInfo h) {
        boolean known = h.ptyReserve() >= 0;
        return new PtyBudget(h.ptyNr(), h.ptyMax(), known ? h.ptyReserve() : DEFAULT_RESERVE, known,
                countsNewPtyFirst(h.kernel()) ? 1 : 0);
    }

    /**
     * Whether {@code devpts_new_index} increments the pty count before comparing it with the limit
     * ({@code atomic_inc_return}, Linux 4.19 and later); older kernels compare the count of ptys in use.
     */
    static boolean countsNewPtyFirst(String release) {
        if (release == null) {
            return false;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release.trim());
        if (!m.find()) {
            return false;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major > 4 || (major == 4 && minor >= 19);
    }

    @Override
    public List<Finding> detect(HostSnapshot s, List<Finding> earlier) {
        HostInfo h = s.host();
        if (h.ptyMax() < 0 || h.ptyNr() < 0) {
            return List.of();
        }
        PtyBudget b = budget(h);
        boolean refused = b.containersRefused();
        if (!refused && b.nr() < thresholds.ptyRatio() * b.containerLimit()) {
            return List.of();
        }
        StringBuilder msg = new StringBuilder("kernel.pty.nr is ").append(b.nr()).append(" of kernel.pty.max ")
                .append(b.max()).append(", kernel.pty.reserve ").append(b.reserve())
                .append(b.reserveKnown() ? "" : " (unreadable; the kernel's default assumed)")
                .append(" of them kept for the host's own /dev/pts");
        if (b.max() <= b.reserve()) {
            msg.append(": containers' /dev/pts get no ptys at all, so exec -it into any container fails with ENOSPC");
        } else if (refused) {
            msg.append(": containers' /dev/pts get no more ptys, so exec -it into any container fails with ENOSPC now");
            msg.append(b.hostRefused() ? ", and so do new terminals on the host" : "");
        } else {
            long left = b.containerLimit() - b.nr();
            msg.append(": exec -it into containers fails with ENOSPC after ").append(left).append(" more pt")
                    .append(left == 1 ? "y" : "ys");
        }
        long leaked = earlier.stream().filter(f -> f.type() == FindingType.LeakedExecSession).count();
        msg.append("; ").append(leaked > 0 ? "end the " + leaked + " leaked exec session" + (leaked == 1 ? "" : "s")
                + ", or " : "find leaked exec shells, or ").append("raise kernel.pty.max.");
        return List.of(new Finding(FindingType.PtyExhaustionRisk, Cause.Unknown,
                refused ? Severity.Critical : Severity.Warning, Scope.Node, msg.toString(), null, null, null,
                null, null, List.of(), List.of(), null, null, null, null, null));
    }
}
