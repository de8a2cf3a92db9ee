package io.execguard.detect;

/**
 * Where an exec canary stopped, from the outside in: the runtime's API call (the daemon has not handed the exec on),
 * the container's shim (stopped or blocked), {@code runc exec} / {@code runc init} (the process is not started),
 * the process itself (started, not finished), its output (finished, the answer not delivered).
 */
public enum ExecStage { RuntimeCall, Shim, RuncInit, ProcessStart, Output }
