package io.execguard.probe;

import java.time.Instant;

import io.execguard.detect.Finding;

/**
 * A finding with its identity across scans.
 *
 * @param id        type + container + pid + process start time (or the cgroup for cgroup findings)
 * @param finding   the latest evidence
 * @param firstSeen when the probe first reported it
 */
public record TrackedFinding(String id, Finding finding, Instant firstSeen) {
}
