package io.execguard.host;

import java.util.ArrayList;
import java.util.List;

/**
 * The fields execguard needs from {@code /proc/PID/task/TID/status}. Missing lines leave their
 * field at its "unknown" value (-1, or an empty list) rather than failing the whole parse.
 */
public record ProcStatus(long sigPnd, long shdPnd, long sigBlk, List<Integer> nsPid,
                         long voluntaryCtxtSwitches, long nonvoluntaryCtxtSwitches) {

    public static final ProcStatus UNKNOWN = new ProcStatus(0, 0, 0, List.of(), -1, -1);

    /** Context switches so far, or -1 when the kernel does not expose them. */
    public long contextSwitches() {
        if (voluntaryCtxtSwitches < 0 || nonvoluntaryCtxtSwitches < 0) {
            return -1;
        }
        return voluntaryCtxtSwitches + nonvoluntaryCtxtSwitches;
    }

    /** The task's pid in its innermost pid namespace, or -1 when unknown. */
    public int innermostNsPid() {
        return nsPid.isEmpty() ? -1 : nsPid.get(nsPid.size() - 1);
    }

    public static ProcStatus parse(String text) {
        long sigPnd = 0;
        long shdPnd = 0;
        long sigBlk = 0;
        long vol = -1;
        long nonvol = -1;
        List<Integer> nsPid = List.of();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String key = line.substring(0, colon);
            String value = line.substring(colon + 1).trim();
            try {
                switch (key) {
                    case "SigPnd" -> sigPnd = Long.parseUnsignedLong(value, 16);
                    case "ShdPnd" -> shdPnd = Long.parseUnsignedLong(value, 16);
                    case "SigBlk" -> sigBlk = Long.parseUnsignedLong(value, 16);
                    case "voluntary_ctxt_switches" -> vol = Long.parseLong(value);
                    case "nonvoluntary_ctxt_switches" -> nonvol = Long.parseLong(value);
                    case "NSpid" -> {
                        List<Integer> ids = new ArrayList<>();
                        for (String s : value.split("\\s+")) {
                            if (!s.isEmpty()) {
                                ids.add(Integer.parseInt(s));
                            }
                        }
                        nsPid = List.copyOf(ids);
                    }
                    default -> { }
                }
            } catch (NumberFormatException e) {
                throw new ProcParseException("garbled " + key + " line: '" + value + "'");
            }
        }
        return new ProcStatus(sigPnd, shdPnd, sigBlk, nsPid, vol, nonvol);
    }
}
