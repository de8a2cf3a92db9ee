package io.execguard.host;

/**
 * The fields execguard needs from {@code /proc/PID/task/TID/stat} (see proc(5)).
 *
 * @param tid        field 1
 * @param comm       field 2, without the parentheses; may contain spaces and parentheses
 * @param state      field 3
 * @param ppid       field 4
 * @param ttyNr      field 7, the controlling terminal (0 = none)
 * @param flags      field 9, PF_* flags
 * @param numThreads field 20
 * @param startTime  field 22, clock ticks after boot
 * @param pending    field 31, the thread's own pending signals (obsolete field, still filled)
 */
public record ProcStat(int tid, String comm, char state, int ppid, int ttyNr, long flags, int numThreads,
                       long startTime, long pending) {

    public static final long PF_EXITING = 0x00000004L;
    public static final long PF_KTHREAD = 0x00200000L;

    /** Number of fields after the comm that must be present (up to and including starttime). */
    private static final int REQUIRED_AFTER_COMM = 20;

    public boolean exiting() {
        return (flags & PF_EXITING) != 0;
    }

    public boolean kernelThread() {
        return (flags & PF_KTHREAD) != 0;
    }

    /**
     * Parses a stat line held in {@code buf[0..len)}.
     *
     * @throws ProcParseException with a message that says what was wrong
     */
    public static ProcStat parse(byte[] buf, int len) {
        int open = -1;
        for (int i = 0; i < len; i++) {
            if (buf[i] == '(') {
                open = i;
                break;
            }
        }
        int close = -1;
        for (int i = len - 1; i > open; i--) {
            if (buf[i] == ')') {
                close = i;
                break;
            }
        }
        if (open < 1 || close < 0) {
            throw new ProcParseException("no '(comm)' in stat line");
        }
        int tid = (int) parseLong(buf, 0, open - 1, "pid");
        String comm = new String(buf, open + 1, close - open - 1, java.nio.charset.StandardCharsets.UTF_8);
        // Tokenise the rest: fields 3.. separated by single spaces.
        long[] num = new long[33];
        char state = 0;
        int field = 3;
        int i = close + 1;
        while (i < len && field <= 35) {
            while (i < len && buf[i] == ' ') {
                i++;
            }
            int start = i;
            while (i < len && buf[i] != ' ' && buf[i] != '\n') {
                i++;
            }
            if (start == i) {
                break;
            }
            if (field == 3) {
                if (i - start != 1) {
                    throw new ProcParseException("state field is not one character");
                }
                state = (char) buf[start];
            } else if (field - 3 < num.length) {
                num[field - 3] = parseLong(buf, start, i, "field " + field);
            }
            field++;
            if (i < len && buf[i] == '\n') {
                break;
            }
        }
        int fieldsAfterComm = field - 3;
        if (fieldsAfterComm < REQUIRED_AFTER_COMM) {
            throw new ProcParseException("truncated: " + fieldsAfterComm + " fields after comm, need at least "
                    + REQUIRED_AFTER_COMM);
        }
        long pending = fieldsAfterComm >= 29 ? num[31 - 3] : 0L;
        return new ProcStat(tid, comm, state, (int) num[4 - 3], (int) num[7 - 3], num[9 - 3],
                (int) num[20 - 3], num[22 - 3], pending);
    }

    private static long parseLong(byte[] buf, int from, int to, String what) {
        if (from >= to) {
            throw new ProcParseException("empty " + what);
        }
        boolean neg = buf[from] == '-';
        int i = neg ? from + 1 : from;
        if (i >= to) {
            throw new ProcParseException("garbled " + what);
        }
        long v = 0;
        for (; i < to; i++) {
            int d = buf[i] - '0';
            if (d < 0 || d > 9) {
                throw new ProcParseException("garbled " + what + ": not a number");
            }
            v = v * 10 + d;
        }
        return neg ? -v : v;
    }
}
