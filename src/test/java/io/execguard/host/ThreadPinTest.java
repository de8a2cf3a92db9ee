package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

/** The reader's pin (src/main/java22's {@link NativeThreadPin} on Java 22+; none on Java 21). */
class ThreadPinTest {

    @Test
    void onJava22TheThreadIsHeldOnEachOfItsCpusAndGetsItsCpusBack() throws Exception {
        assumeTrue(Runtime.version().feature() >= 22, "pinning is built for Java 22+ only");
        String text = Java22Child.run(ThreadPinCheck.class, "NativeThreadPin");
        assertTrue(text.contains("pin NativeThreadPin "), text);
        assertFalse(text.contains("FAIL"), text);
    }

    @Test
    void withoutThePinNothingRuns() {
        AtomicBoolean ran = new AtomicBoolean();
        assertFalse(ThreadPin.NONE.run(0, () -> ran.set(true)));
        assertFalse(ran.get());
    }
}
