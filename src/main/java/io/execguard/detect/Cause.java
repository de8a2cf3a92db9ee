package io.execguard.detect;

/** Why it is stuck, read from the blocked thread's kernel stack and wchan (see {@link CauseRules}). */
public enum Cause {
    PipeFull, FuseRequest, NfsRequest, CephRequest, CifsRequest, BlockIo, PidNamespaceTeardown, PidsLimit, Unknown
}
