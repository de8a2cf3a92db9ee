package io.execguard.controller.read;

/**
 * A field of a stored object the operator cannot use (written before the CRD refused it, or by an older CRD).
 *
 * @param field   its path, e.g. {@code status.lastProbeTime} or {@code spec.maxUnhealthy}
 * @param value   the value as stored
 * @param problem why it cannot be used, in words
 */
public record InvalidField(String field, String value, String problem) {

    public String describe() {
        return field + " '" + value + "': " + problem;
    }
}
