package io.execguard.api;

import io.execguard.detect.Cause;
import io.execguard.detect.FindingType;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/** A reported finding as the operator's tests need it: what decides the action, nothing else. */
public final class TestFindings {

    private TestFindings() {
    }

    /** UnkillableTask at node scope, PidsLimitReached at container scope; id "cause/scope"; mount may be null. */
    public static ReportedFinding finding(Severity severity, Scope scope, Cause cause, MountStatus mount) {
        ReportedFinding f = new ReportedFinding();
        f.setId(cause + "/" + scope);
        f.setType(scope == Scope.Node ? FindingType.UnkillableTask : FindingType.PidsLimitReached);
        f.setCause(cause);
        f.setSeverity(severity);
        f.setScope(scope);
        f.setMessage("stuck: " + cause);
        f.setMount(mount);
        return f;
    }
}
