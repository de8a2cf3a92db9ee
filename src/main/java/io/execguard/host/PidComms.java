package io.execguard.host;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Every process's name by pid, for one scan: written during the cheap pass, looked up after it (a suspect's
 * parent). Compact, because it lives through the whole pass and every young collection during it copies what
 * is live: a {@code HashMap<Integer, String>} of 5,659 processes is ~540 KB (node, boxed key, a string per
 * process), more than the survivor space of the probe's small heap, so each scan's map was promoted and the old
 * generation filled with them until a full collection. Here: two arrays and one string per distinct name
 * (a node runs many processes of few names), ~8 bytes a process. Not thread-safe.
 */
final class PidComms {

    private int[] pids = new int[256];
    private String[] comms = new String[256];
    private int size;
    private boolean sorted = true;
    private final Map<String, String> names = new HashMap<>();

    void put(int pid, String comm) {
        if (size == pids.length) {
            pids = Arrays.copyOf(pids, size * 2);
            comms = Arrays.copyOf(comms, size * 2);
        }
        if (size > 0 && pid <= pids[size - 1]) {
            sorted = false;
        }
        String name = names.putIfAbsent(comm, comm);
        pids[size] = pid;
        comms[size] = name != null ? name : comm;
        size++;
    }

    /** The name of {@code pid}, or null; after the last {@link #put}. The last put of a pid wins. */
    String get(int pid) {
        if (!sorted) {
            sortByPid();
        }
        int lo = 0;
        int hi = size - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int p = pids[mid];
            if (p < pid) {
                lo = mid + 1;
            } else if (p > pid) {
                hi = mid - 1;
            } else {
                return comms[mid];
            }
        }
        return null;
    }

    /** /proc lists pids in ascending order; a fixture tree need not. Stable: the last put of a pid stays last. */
    private void sortByPid() {
        long[] order = new long[size];
        for (int i = 0; i < size; i++) {
            order[i] = ((long) pids[i] << 32) | i;
        }
        Arrays.sort(order);
        int[] p = new int[size];
        String[] c = new String[size];
        int n = 0;
        for (int i = 0; i < size; i++) {
            int pid = (int) (order[i] >>> 32);
            String comm = comms[(int) order[i]];
            if (n > 0 && p[n - 1] == pid) {
                c[n - 1] = comm; // a later put of the same pid replaces the earlier, as a map's would
            } else {
                p[n] = pid;
                c[n] = comm;
                n++;
            }
        }
        pids = p;
        comms = c;
        size = n;
        sorted = true;
    }
}
