package io.execguard.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void parsesKubernetesStyleDurations() {
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
        assertEquals(Duration.ofSeconds(10), Durations.parse("10s"));
        assertEquals(Duration.ofSeconds(10), Durations.parse("10"));
        assertEquals(Duration.ofMinutes(90), Durations.parse("1h30m"));
        assertEquals(Duration.ofDays(2), Durations.parse("2d"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("10 minutes"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse(""));
    }

    @Test
    void probeConfigHasDocumentedDefaultsAndClearErrors() {
        ProbeConfig c = ProbeConfig.fromEnv(Map.of("NODE_NAME", "n1"));
        assertEquals("/host", c.hostRoot().toString());
        assertEquals(Duration.ofSeconds(10), c.scanInterval());
        assertEquals(Duration.ofSeconds(60), c.heartbeat());
        assertEquals(9090, c.metricsPort());
        assertEquals(Duration.ofMinutes(2), c.podStuckTerminating());
        assertEquals(50, c.maxFindings());
        var e = assertThrows(IllegalArgumentException.class, () -> ProbeConfig.fromEnv(Map.of()));
        assertEquals("NODE_NAME is required (set it from the downward API: spec.nodeName)", e.getMessage());
        var bad = assertThrows(IllegalArgumentException.class,
                () -> ProbeConfig.fromEnv(Map.of("NODE_NAME", "n1", "SCAN_INTERVAL", "soon")));
        assertEquals("SCAN_INTERVAL: 'soon' is not a duration like 500ms, 10s, 5m, 1h30m", bad.getMessage());
    }
}
