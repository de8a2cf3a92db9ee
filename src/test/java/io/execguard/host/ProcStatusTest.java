package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class ProcStatusTest {

    private static final String STATUS = """
            Name:	ndrive
            Umask:	0022
            State:	D (disk sleep)
            Tgid:	1544450
            Ngid:	0
            Pid:	1544574
            PPid:	1528591
            TracerPid:	0
            Uid:	0	0	0	0
            NStgid:	1544450	7
            NSpid:	1544574	8
            NSpgid:	1528591	1
            Threads:	2
            SigQ:	1/514647
            SigPnd:	0000000000000000
            ShdPnd:	0000000000000100
            SigBlk:	fffffffe7ffbfeff
            SigIgn:	0000000000001000
            SigCgt:	0000000180004cef
            Cpus_allowed_list:	0-95
            voluntary_ctxt_switches:	90210
            nonvoluntary_ctxt_switches:	1207
            """;

    @Test
    void parsesMasksNamespacePidsAndSwitches() {
        ProcStatus s = ProcStatus.parse(STATUS);
        assertEquals(0L, s.sigPnd());
        assertEquals(0x100L, s.shdPnd());
        assertEquals(0xfffffffe7ffbfeffL, s.sigBlk(), "all 64 bits, unsigned");
        assertEquals(List.of(1544574, 8), s.nsPid());
        assertEquals(8, s.innermostNsPid());
        assertEquals(91_417L, s.contextSwitches());
    }

    @Test
    void containerInitIsPidOneInside() {
        assertEquals(1, ProcStatus.parse("NSpid:\t1528591\t1\n").innermostNsPid());
        assertEquals(4242, ProcStatus.parse("NSpid:\t4242\n").innermostNsPid());
    }

    @Test
    void missingLinesAreUnknownNotErrors() {
        ProcStatus s = ProcStatus.parse("Name:\tx\nState:\tS (sleeping)\n");
        assertEquals(-1, s.innermostNsPid());
        assertEquals(-1L, s.contextSwitches());
        assertEquals(0L, s.sigPnd());
        // Truncated in the middle of a value: what is there still counts.
        assertEquals(0x1L, ProcStatus.parse("SigPnd:\t00000000000001").sigPnd());
        assertEquals(-1L, ProcStatus.parse("voluntary_ctxt_switches:\t5\n").contextSwitches(),
                "one counter alone is not enough to compare");
    }

    @Test
    void garbledValueNamesTheLine() {
        ProcParseException e = assertThrows(ProcParseException.class, () -> ProcStatus.parse("SigPnd:\tnot-hex\n"));
        assertEquals("garbled SigPnd line: 'not-hex'", e.getMessage());
        assertTrue(assertThrows(ProcParseException.class, () -> ProcStatus.parse("NSpid:\t12 x\n")).getMessage()
                .contains("NSpid"));
        assertThrows(ProcParseException.class, () -> ProcStatus.parse("ShdPnd:\t\n"));
    }
}
