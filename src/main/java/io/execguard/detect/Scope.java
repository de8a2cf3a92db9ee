package io.execguard.detect;

/**
 * Whether one container is affected, or the node as a whole. {@code Unknown} when the task's cgroup could
 * not be read (the read timed out or was not attempted): missing evidence never makes a finding Node-scope,
 * and an Unknown-scope finding never leads to holding a node (no taint, no cordon).
 */
public enum Scope { Container, Node, Unknown }
