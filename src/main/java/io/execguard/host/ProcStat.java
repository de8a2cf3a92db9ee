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
 * @param processor  field 39, the CPU the task last ran on; -1 when the line stops before it
 */
public record ProcStat(int tid, String comm, char state, int ppid, int ttyNr, long flags, int numThreads,
                       long startTime, long pending, int processor) {

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
        int tid = (int) parseLong(buf, 0, open - 1, PID_FIELD);
        String comm = new String(buf, open + 1, close - open - 1, java.nio.charset.StandardCharsets.UTF_8);
        // Tokenise the rest: fields 3.. separated by single spaces. Every field up to 35 must be a number (a
        // garbled line is not trusted); 36..39 are read when present and well formed (a line cut or garbled
        // there only loses the processor). Only the named ones are kept. No allocation per field: the scan parses
        // one line per task (10,000 on a busy node, every interval).
        char state = 0;
        int ppid = 0;
        int ttyNr = 0;
        long flags = 0;
        int numThreads = 0;
        long startTime = 0;
        long pending = 0;
        int processor = -1;
        int field = 3;
        int i = close + 1;
        scan:
        while (i < len && field <= PROCESSOR_FIELD) {
            while (i < len && buf[i] == ' ') {
                i++;
            }
            int start = i;
            if (field == 3) {
                while (i < len && buf[i] != ' ' && buf[i] != '\n') {
                    i++;
                }
                if (start == i) {
                    break;
                }
                if (i - start != 1) {
                    throw new ProcParseException("state field is not one character");
                }
                state = (char) buf[start];
            } else {
                // one pass over the token: its digits are the number (no second scan, no substring)
                boolean neg = i < len && buf[i] == '-';
                if (neg) {
                    i++;
                }
                int digits = i;
                long v = 0;
                while (i < len && buf[i] != ' ' && buf[i] != '\n') {
                    int d = buf[i] - '0';
                    if (d < 0 || d > 9) {
                        if (field > LAST_STRICT_FIELD) {
                            break scan;
                        }
                        throw new ProcParseException("garbled " + fieldName(field) + ": not a number");
                    }
                    v = v * 10 + d;
                    i++;
                }
                if (start == i) {
                    break;
                }
                if (digits == i) {
                    if (field > LAST_STRICT_FIELD) {
                        break;
                    }
                    throw new ProcParseException("garbled " + fieldName(field));
                }
                v = neg ? -v : v;
                switch (field) {
                    case 4 -> ppid = (int) v;
                    case 7 -> ttyNr = (int) v;
                    case 9 -> flags = v;
                    case 20 -> numThreads = (int) v;
                    case 22 -> startTime = v;
                    case 31 -> pending = v;
                    case PROCESSOR_FIELD -> processor = v >= 0 && v <= Integer.MAX_VALUE ? (int) v : -1;
                    default -> { }
                }
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
        return new ProcStat(tid, comm, state, ppid, ttyNr, flags, numThreads, startTime, pending, processor);
    }

    /** The last field a stat line is rejected for when it is not a number. */
    private static final int LAST_STRICT_FIELD = 35;
    private static final int PROCESSOR_FIELD = 39;

    /** {@link #parseLong}'s field number of the pid (its message says "pid", not "field 1"). */
    private static final int PID_FIELD = 1;

    private static long parseLong(byte[] buf, int from, int to, int field) {
        if (from >= to) {
            throw new ProcParseException("empty " + fieldName(field));
        }
        boolean neg = buf[from] == '-';
        int i = neg ? from + 1 : from;
        if (i >= to) {
            throw new ProcParseException("garbled " + fieldName(field));
        }
        long v = 0;
        for (; i < to; i++) {
            int d = buf[i] - '0';
            if (d < 0 || d > 9) {
                throw new ProcParseException("garbled " + fieldName(field) + ": not a number");
            }
            v = v * 10 + d;
        }
        return neg ? -v : v;
    }

    private static String fieldName(int field) {
        return field == PID_FIELD ? "pid" : "field " + field;
    }
}
