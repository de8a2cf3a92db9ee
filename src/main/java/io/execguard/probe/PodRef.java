package io.execguard.probe;

/** Which pod (and container) a finding belongs to. {@code container} is null for pod-level findings. */
public record PodRef(String namespace, String name, String uid, String container) {
}
