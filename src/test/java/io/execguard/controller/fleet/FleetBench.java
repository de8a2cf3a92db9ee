package io.execguard.controller.fleet;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;

import io.execguard.detect.Cause;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.Phase;
import io.execguard.api.ReportedFinding;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;
import io.execguard.detect.FindingType;

/**
 * Prints what one fleet snapshot costs over N in-memory Nodes and reports, 30 % failing (the scale benchmark's
 * shape): {@code java -cp ... io.execguard.controller.fleet.FleetBench [NODES] [ROUNDS]}. A benchmark, not a test.
 */
public final class FleetBench {
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 15_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        Instant now = Instant.now();
        List<Node> nodes = new ArrayList<>();
        List<NodeExecHealth> reports = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Node node = new NodeBuilder().withNewMetadata().withName(String.format("scale-%05d", i))
                    .withResourceVersion(Integer.toString(1000 + i)).withLabels(Map.of("pool", "scale"))
                    .endMetadata().withNewSpec().endSpec().build();
            nodes.add(node);
            NodeExecHealth neh = NodeExecHealth.forNode(node);
            NodeExecHealthStatus s = new NodeExecHealthStatus();
            boolean unhealthy = i % 10 < 3;
            s.setPhase(unhealthy ? Phase.Unhealthy : Phase.Healthy);
            s.setLastProbeTime(now.toString());
            if (unhealthy) {
                ReportedFinding f = new ReportedFinding();
                f.setId("UnkillableTask/BlockIo/1");
                f.setType(FindingType.UnkillableTask);
                f.setCause(Cause.BlockIo);
                f.setSeverity(Severity.Critical);
                f.setScope(Scope.Node);
                f.setMessage("pid 1 stuck in BlockIo");
                f.setFirstSeen(now.toString());
                s.setFindings(List.of(f));
            }
            neh.setStatus(s);
            reports.add(neh);
        }
        Fleet fleet = new Fleet(Fleet.source(nodes::stream, reports::stream, List::of),
                Clock.fixed(now, ZoneOffset.UTC), Duration.ofSeconds(60));
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            fleet.invalidate();
            fleet.snapshot();
            long t1 = System.nanoTime();
            if (r % 5 == 0 || r == rounds - 1) {
                System.out.printf("[fleet-bench] %d nodes, build %d: %.1f ms%n", n, r, (t1 - t0) / 1e6);
            }
        }
        Fleet.BuildStats st = fleet.buildStats();
        System.out.printf("[fleet-bench] %d builds, %.1f ms each on average%n", st.builds(), st.seconds() * 1e3 / st.builds());
    }
}
