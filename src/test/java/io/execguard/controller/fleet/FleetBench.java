package io.execguard.controller.fleet;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Node;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.TestFleet;

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
            Node node = TestFleet.node(String.format("scale-%05d", i), Map.of("pool", "scale"));
            node.getMetadata().setResourceVersion(Integer.toString(1000 + i));
            nodes.add(node);
            NodeExecHealth neh = NodeExecHealth.forNode(node);
            neh.setStatus(TestFleet.status(i, now, null));
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
