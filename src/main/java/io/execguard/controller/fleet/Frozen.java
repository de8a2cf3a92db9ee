package io.execguard.controller.fleet;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Unmodifiable copies for sets and maps keyed by node names. Not {@code Set.copyOf}/{@code Map.copyOf}: their
 * open-addressing tables probe linearly on the key's plain {@code hashCode}, and names that differ in their last
 * characters ({@code scale-00001}, {@code ip-10-0-1-23}) hash to neighbouring values — long probe runs: copying
 * 15,000 Node entries took ~290 ms of a 320 ms snapshot ({@code FleetBench}), and every lookup paid too.
 * {@link HashMap} spreads the hash and chains.
 */
final class Frozen {
    private Frozen() {
    }

    static <T> Set<T> set(Collection<? extends T> c) {
        return c.isEmpty() ? Set.of() : Collections.unmodifiableSet(new HashSet<>(c));
    }

    static <K, V> Map<K, V> map(Map<? extends K, ? extends V> m) {
        return m.isEmpty() ? Map.of() : Collections.unmodifiableMap(new HashMap<>(m));
    }
}
