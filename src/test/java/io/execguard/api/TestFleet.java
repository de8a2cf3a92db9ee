package io.execguard.api;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;

import io.execguard.detect.Cause;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/**
 * The fleet the scale benchmarks and the operator's AOT training decide: node i with its labels, and what its probe
 * would have written — 30 % failing at node scope, each on its own (BlockIo, no backend) or all on one shared
 * backend. One shape for OperatorScaleTest, OperatorScaleKubeIT, FleetBench and ProbeSoak's {@code fleet}.
 */
public final class TestFleet {

    /** The backend all failing nodes share in the {@code shared} variant. */
    public static final MountStatus SHARED_CEPH = new MountStatus("ceph", "10.0.0.1:6789:/scale", "/data", null);

    private TestFleet() {
    }

    /** Whether node i fails: 3 in 10. */
    public static boolean failing(int i) {
        return i % 10 < 3;
    }

    public static Node node(String name, Map<String, String> labels) {
        return new NodeBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata().withNewSpec()
                .endSpec().build();
    }

    /**
     * Node i's report status, probed at {@code now}: Healthy, or Unhealthy with one critical node-scope finding first
     * seen then — BlockIo on its own, or with {@code shared} non-null CephRequest on that backend.
     */
    public static NodeExecHealthStatus status(int i, Instant now, MountStatus shared) {
        NodeExecHealthStatus s = new NodeExecHealthStatus();
        s.setPhase(failing(i) ? Phase.Unhealthy : Phase.Healthy);
        s.setLastProbeTime(now.toString());
        if (failing(i)) {
            ReportedFinding f = shared == null ? TestFindings.finding(Severity.Critical, Scope.Node, Cause.BlockIo, null)
                    : TestFindings.finding(Severity.Critical, Scope.Node, Cause.CephRequest, shared);
            f.setFirstSeen(now.toString());
            s.setFindings(List.of(f));
        }
        return s;
    }
}
