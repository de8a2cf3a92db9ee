package io.execguard.host;

/**
 * A pids cgroup with a limit.
 *
 * @param path      cgroup path relative to the hierarchy root, e.g. {@code /docker/<id>}
 * @param ref       container and pod parsed from the path
 * @param current   {@code pids.current}
 * @param max       {@code pids.max}; -1 for "max" (no limit)
 * @param eventsMax the {@code max} counter of {@code pids.events}: forks refused so far
 */
public record PidsCgroup(String path, CgroupRef ref, long current, long max, long eventsMax) {
}
