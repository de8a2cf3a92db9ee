package io.execguard.detect;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The filesystem a stuck task waits on.
 *
 * @param fsType         e.g. {@code fuse.bindfs}, {@code ceph}, {@code nfs4}
 * @param source         mount source, e.g. {@code 10.0.0.5:/export}
 * @param mountPoint     where it is mounted in the task's mount namespace
 * @param fuseConnection the number under /sys/fs/fuse/connections (FUSE only)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MountRef(String fsType, String source, String mountPoint, Integer fuseConnection) {
}
