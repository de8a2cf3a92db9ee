package io.execguard.controller.fleet;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What was last published for each policy, so that a policy's status is written only when its incidents
 * change and an incident's Event goes out only when that incident is new or its nodes changed — not on
 * every reconcile, and not when reconciles of nodes under different policies interleave.
 */
public final class PublishedIncidents {

    /** Key for nodes no policy selects (their incidents are logged, not published on an object). */
    public static final String NO_POLICY = "";

    /**
     * @param incidents every current incident (key: cause@backend, value: the failing nodes)
     * @param changed   the keys of those that are new or whose nodes changed since the last publication
     * @param added     the keys of those that are new: one Event each, not one per joining node
     */
    public record Change(Map<String, Set<String>> incidents, Set<String> changed, Set<String> added) {
    }

    private final Map<String, Map<String, Set<String>>> byPolicy = new HashMap<>();

    /** Records {@code incidents} as published for {@code policy}; empty when that is what was published last. */
    public synchronized Optional<Change> update(String policy, Map<String, Set<String>> incidents) {
        Map<String, Set<String>> before = byPolicy.get(policy);
        if (incidents.equals(before)) {
            return Optional.empty();
        }
        Set<String> changed = new TreeSet<>();
        Set<String> added = new TreeSet<>();
        incidents.forEach((key, nodes) -> {
            if (before == null || !nodes.equals(before.get(key))) {
                changed.add(key);
            }
            if (before == null || !before.containsKey(key)) {
                added.add(key);
            }
        });
        Map<String, Set<String>> copy = new HashMap<>();
        incidents.forEach((key, nodes) -> copy.put(key, Frozen.set(nodes)));
        byPolicy.put(policy, Map.copyOf(copy));
        return Optional.of(new Change(Map.copyOf(copy), Set.copyOf(changed), Set.copyOf(added)));
    }
}
