package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** {@link PidComms} answers as the {@code HashMap<Integer, String>} it replaced, in any order of puts. */
class PidCommsTest {

    @Test
    void answersAsAMapDoes() {
        for (boolean ascending : new boolean[] {true, false}) {
            Random rnd = new Random(ascending ? 1 : 2);
            PidComms comms = new PidComms();
            Map<Integer, String> map = new HashMap<>();
            int pid = 0;
            for (int i = 0; i < 5_000; i++) {
                pid = ascending ? pid + 1 + rnd.nextInt(3) : rnd.nextInt(20_000);
                String comm = "c" + rnd.nextInt(40);
                comms.put(pid, comm);
                map.put(pid, comm);
            }
            for (int p = -1; p < 21_000; p++) {
                assertEquals(map.get(p), comms.get(p), "pid " + p);
            }
        }
    }

    @Test
    void keepsOneStringPerName() {
        PidComms comms = new PidComms();
        comms.put(7, new String("java"));
        comms.put(9, new String("java"));
        assertSame(comms.get(7), comms.get(9));
        assertNull(comms.get(8));
    }
}
