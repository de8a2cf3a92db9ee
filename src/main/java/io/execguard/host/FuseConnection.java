package io.execguard.host;

/** {@code /sys/fs/fuse/connections/<id>}: {@code waiting} counts requests not yet answered. */
public record FuseConnection(int id, int waiting) {
}
