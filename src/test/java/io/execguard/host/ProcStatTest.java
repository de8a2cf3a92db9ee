package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class ProcStatTest {

    private static ProcStat parse(String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        return ProcStat.parse(b, b.length);
    }

    /** A real line from kernel 6.18 (cat /proc/self/stat), 52 fields. */
    private static final String CAT = "7235 (cat) R 7187 7187 3104 0 -1 4194304 97 0 0 0 0 0 0 0 20 0 1 0 220394 "
            + "3133440 356 18446744073709551615 94781421023232 94781421043113 140722987432288 0 0 0 0 0 0 0 0 0 17 1 0 "
            + "0 0 0 0 94781421059120 94781421060736 94782382395392 140722987440814 140722987440834 140722987440834 "
            + "140722987442155 0\n";

    @Test
    void parsesTheFieldsOfARealLine() {
        ProcStat s = parse(CAT);
        assertEquals(7235, s.tid());
        assertEquals("cat", s.comm());
        assertEquals('R', s.state());
        assertEquals(7187, s.ppid());
        assertEquals(0, s.ttyNr());
        assertEquals(4194304L, s.flags());
        assertEquals(1, s.numThreads());
        assertEquals(220394L, s.startTime());
        assertEquals(0L, s.pending());
        assertEquals(1, s.processor(), "field 39: the CPU it last ran on");
        assertFalse(s.kernelThread());
        assertFalse(s.exiting());
    }

    @Test
    void processorIsUnknownWhereTheLineStopsOrIsGarbledPastField35() {
        // the 35-field line of a test tree: everything else is read, the CPU is unknown
        ProcStat short35 = parse("42 (x) D 1 42 42 0 42 4194560 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0 0 0 0 0 0 0 0 0 0 0 0");
        assertEquals(-1, short35.processor());
        assertEquals(500, short35.startTime());
        assertEquals(-1, parse(withField(39, "x")).processor(), "garbled field 39");
        assertEquals(-1, parse(withField(36, "?")).processor(), "garbled field 36");
        assertEquals(1, parse(withField(38, "-1")).processor(), "a thread's exit_signal is -1");
        assertEquals(3, parse(withField(39, "3")).processor());
        assertThrows(ProcParseException.class, () -> parse(withField(35, "?")), "field 35 is still checked");
    }

    /** {@link #CAT} with field {@code n} (3 = state) replaced. */
    private static String withField(int n, String value) {
        int close = CAT.lastIndexOf(')');
        String[] rest = CAT.substring(close + 2).strip().split(" ");
        rest[n - 3] = value;
        return CAT.substring(0, close + 2) + String.join(" ", rest) + "\n";
    }

    @Test
    void commWithSpacesAndParenthesesEndsAtTheLastParenthesis() {
        ProcStat s = parse("42 ((a) (b)) D 1 42 42 34816 42 4194564 0 0 0 0 0 0 0 0 20 0 3 0 500 0 0 0 0 0 0 0 0 256 0 0 0 1");
        assertEquals("(a) (b)", s.comm());
        assertEquals('D', s.state());
        assertEquals(34816, s.ttyNr());
        assertEquals(3, s.numThreads());
        assertEquals(500, s.startTime());
        assertTrue(s.exiting(), "0x4 is PF_EXITING");
        assertEquals(256L, s.pending(), "field 31: SIGKILL");
        assertEquals("runc:[2:INIT]", parse(CAT.replace("(cat)", "(runc:[2:INIT])")).comm());
        assertEquals(") x (", parse(CAT.replace("(cat)", "() x ()")).comm());
    }

    @Test
    void kernelThreadFlag() {
        ProcStat k = parse("412 (jbd2/vda1-8) D 2 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 400 0 0 "
                + "18446744073709551615 0 0 0 0 0 0 0 0 0 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0");
        assertTrue(k.kernelThread());
        assertEquals('D', k.state());
    }

    @Test
    void negativeFieldsAreAccepted() {
        // priority -100 and nice -20 of a real-time thread
        ProcStat s = parse(CAT.replace(" 20 0 1 0 220394 ", " -100 -20 1 0 220394 "));
        assertEquals(220394L, s.startTime());
    }

    @Test
    void oldKernelLineWithoutSignalFieldsStillParses() {
        ProcStat s = parse("1 (init) S 0 1 1 0 -1 256 0 0 0 0 0 0 0 0 20 0 1 0 5 1000 10");
        assertEquals(5, s.startTime());
        assertEquals(0L, s.pending());
    }

    @Test
    void brokenLinesSayWhatIsWrong() {
        assertEquals("truncated: 7 fields after comm, need at least 20",
                assertThrows(ProcParseException.class, () -> parse("5 (x) S 1 5 5 0 -1 0")).getMessage());
        assertTrue(assertThrows(ProcParseException.class, () -> parse("5 (x) S 1 5 5 0 -1 4x94 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"))
                .getMessage().contains("field 9"));
        assertTrue(assertThrows(ProcParseException.class, () -> parse("5 (x) SD 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"))
                .getMessage().contains("state"));
        assertTrue(assertThrows(ProcParseException.class, () -> parse("")).getMessage().contains("(comm)"));
        assertTrue(assertThrows(ProcParseException.class, () -> parse("5 x S 1")).getMessage().contains("(comm)"));
        assertThrows(ProcParseException.class, () -> parse("abc (x) S 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"));
        assertThrows(ProcParseException.class, () -> parse("(x) S 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"));
    }

    @Test
    void parsesOnlyTheGivenLength() {
        byte[] b = new byte[4096];
        byte[] line = CAT.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(line, 0, b, 0, line.length);
        java.util.Arrays.fill(b, line.length, b.length, (byte) '9'); // stale bytes of a longer earlier read
        assertEquals(220394L, ProcStat.parse(b, line.length).startTime());
    }
}
