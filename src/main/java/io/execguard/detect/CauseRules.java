package io.execguard.detect;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import io.execguard.host.ThreadSnapshot;

/**
 * Maps a blocked thread's wchan and kernel stack to a {@link Cause}. The table is data: one row per
 * cause, a regular expression over frame names. Every frame is matched against every row and the
 * earliest row that matches any frame wins, so a filesystem-specific frame (ceph_*, fuse_*) outranks
 * the generic block-I/O frames that often sit above it.
 */
public final class CauseRules {

    public record Rule(Cause cause, Pattern frames) {
        public static Rule of(Cause cause, String regex) {
            return new Rule(cause, Pattern.compile(regex));
        }
    }

    public static final List<Rule> DEFAULT = List.of(
            Rule.of(Cause.PidNamespaceTeardown, "zap_pid_ns_processes"),
            Rule.of(Cause.FuseRequest, "request_wait_answer|fuse_\\w+|__fuse_\\w+"),
            Rule.of(Cause.NfsRequest, "nfs\\w*|rpc_wait_bit_killable|__rpc_execute|rpc_execute|__rpc_wait_for_completion_task"),
            Rule.of(Cause.CephRequest, "ceph_\\w+|__ceph_\\w+"),
            Rule.of(Cause.CifsRequest, "cifs_\\w+|smb2_\\w+|wait_for_response|compound_send_recv|SendReceive\\w*"),
            // Newer kernels (6.18 here) split pipe_write into anon_pipe_write and fifo_pipe_write.
            Rule.of(Cause.PipeFull, "(?:anon_|fifo_)?pipe_write|pipe_wait_writable"),
            Rule.of(Cause.BlockIo, "io_schedule(_timeout)?|blk_mq_\\w+|bit_wait_io|folio_wait_bit\\w*"
                    + "|wait_on_page_bit\\w*|__lock_page\\w*|__folio_lock\\w*|jbd2_\\w+|submit_bio_wait"
                    + "|__?wait_on_buffer|blkdev_\\w+|wait_for_completion_io\\w*"));

    /** Frames where an idle thread parks: never the reason a task is stuck. */
    private static final Pattern IDLE = Pattern.compile(
            "futex_\\w+|do_futex|__x64_sys_futex|ep_poll|do_epoll_wait|do_sys_poll|do_select|core_sys_select"
                    + "|hrtimer_nanosleep|do_nanosleep|do_wait|kernel_wait4|do_sigtimedwait|sigsuspend"
                    + "|unix_stream_read_generic|(?:anon_|fifo_)?pipe_read|n_tty_read|wait_woken|inotify_read");

    private final List<Rule> rules;

    public CauseRules(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    public static CauseRules defaults() {
        return new CauseRules(DEFAULT);
    }

    public Cause classify(ThreadSnapshot t) {
        return classify(framesOf(t));
    }

    public Cause classify(List<String> frames) {
        for (Rule r : rules) {
            for (String f : frames) {
                if (r.frames().matcher(f).matches()) {
                    return r.cause();
                }
            }
        }
        return Cause.Unknown;
    }

    static List<String> framesOf(ThreadSnapshot t) {
        List<String> frames = new ArrayList<>(t.kernelStack().size() + 1);
        if (t.wchan() != null) {
            frames.add(t.wchan());
        }
        frames.addAll(t.kernelStack());
        return frames;
    }

    /**
     * The thread of a process that is actually blocked: not a zombie, preferably in D state, then one
     * whose stack names a cause, then one with SIGKILL pending, then anything but an idle Go-runtime
     * futex sleeper; the main thread on ties.
     */
    public ThreadSnapshot blockedThread(List<ThreadSnapshot> threads) {
        ThreadSnapshot best = null;
        int bestScore = Integer.MIN_VALUE;
        for (ThreadSnapshot t : threads) {
            int score = score(t);
            if (score > bestScore) {
                best = t;
                bestScore = score;
            }
        }
        return best;
    }

    private int score(ThreadSnapshot t) {
        if (t.dead()) {
            return -10;
        }
        int s = 0;
        if (t.state() == 'D') {
            s += 8;
        }
        if (classify(t) != Cause.Unknown) {
            s += 4;
        }
        if (t.sigkillPending()) {
            s += 2;
        }
        List<String> frames = framesOf(t);
        if (!frames.isEmpty() && !IDLE.matcher(frames.get(0)).matches()) {
            s += 1;
        }
        return s;
    }
}
