package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

import io.execguard.api.NodeExecHealth;

/**
 * Issue #11, acceptance 4: the real operator process (one replica, leader-elected, through a {@link FaultProxy})
 * on the real API server under three faults — the API server restarted mid-reconcile, another tool writing the
 * same Nodes all the time (409 storms for execguard's read-modify-update), and writes answered 1–3 s late. Five
 * Nodes fail (node Critical → Cordon), the cap is three. For each fault: the process stays up and started once
 * (no crash loop), the cap is never exceeded in any state the sampler's watch delivers, at the end exactly three
 * failing Nodes are held with their whole action (no lost hold), and no Node was held twice, carries the taint
 * twice, or got more than one cordon Event or counted action (no double action). A fresh operator process per
 * fault, so a slot one fault leaks cannot hide or cause another's result.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorFaultsKubeIT {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorFaultsKubeIT.class);

    static final String PREFIX = "ha-faults-";
    static final int CAP = 3;
    static final int NODES = 5;
    static final Duration RELEASE_AFTER = Duration.ofSeconds(8);
    static final Duration RESYNC = Duration.ofSeconds(3);
    static final Duration WAIT = Duration.ofSeconds(90);
    /** Labels and annotations of some other tool (not execguard's), one per writer thread (suffix 0, 1). */
    static final String OTHER_LABEL = "other-tool.example/generation-";
    static final String OTHER_ANNOTATION = "other-tool.example/seen-";

    static KubeCluster cluster;
    static KubernetesClient admin;
    static HaFleet fleet;
    static List<HasMetadata> chart = List.of();

    /** One fault's run: its Nodes, its operator, its proxy, its sampler. */
    record Run(String name, List<String> nodes, FaultProxy proxy, OperatorProcess operator, HoldSampler sampler)
            implements AutoCloseable {
        @Override
        public void close() {
            try {
                operator.close();
            } finally {
                proxy.close();
                sampler.close();
            }
        }
    }

    Run run;

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        fleet = new HaFleet(cluster, admin, PREFIX);
        cluster.applyCrds();
        fleet.cleanUp();
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of("operator.leaseName", fleet.lease()));
        fleet.createPolicy(CAP, RELEASE_AFTER);
    }

    @AfterEach
    void endRun() {
        if (run == null) {
            return;
        }
        try {
            run.close();
        } finally {
            run.nodes().forEach(n -> admin.nodes().withName(n).delete());
            run.nodes().forEach(n -> admin.resources(NodeExecHealth.class).withName(n).delete());
            admin.leases().inNamespace(HaFleet.NAMESPACE).withName(fleet.lease()).delete();
            KubeCluster.await(Duration.ofSeconds(60), "the run's Nodes to be gone",
                    () -> run.nodes().stream().allMatch(n -> admin.nodes().withName(n).get() == null));
            run = null;
        }
    }

    @AfterAll
    static void down() {
        try {
            fleet.cleanUp();
            cluster.deleteAll(admin, chart.stream().filter(o -> !"Namespace".equals(o.getKind())).toList());
        } finally {
            admin.close();
        }
    }

    /** Nodes, sampler, proxy, and the operator leading (its Lease taken). */
    Run start(String name) {
        List<String> nodes = IntStream.rangeClosed(1, NODES).mapToObj(i -> PREFIX + name + "-" + i).toList();
        nodes.forEach(fleet::createNode);
        HoldSampler sampler = HoldSampler.start(admin, HaFleet.SUITE_LABEL, fleet.suite());
        FaultProxy proxy = FaultProxy.in(cluster);
        String identity = PREFIX + name + "-replica";
        OperatorProcess op = fleet.startOperator(proxy, identity, Map.of("RESYNC_INTERVAL", RESYNC.toSeconds() + "s"));
        run = new Run(name, nodes, proxy, op, sampler);
        await("the operator to lead", () -> identity.equals(fleet.leaseHolder()));
        return run;
    }

    @Test
    @Order(1)
    void apiServerRestartedMidReconcile() throws Exception {
        Run r = start("restart");
        // the operator's first Node writes are held; the API server goes away while they wait, then they are
        // forwarded (to nothing: the reconcile fails mid-way) and the server comes back
        FaultProxy.Hold held = r.proxy().hold(FaultProxy.Match.writes("/api/v1/nodes/" + PREFIX + "restart-[^/]+"));
        long t0 = System.nanoTime();
        r.nodes().forEach(n -> fleet.report(n, HaFleet.CRITICAL));
        held.awaitHeld(1, WAIT);
        AtomicLong down = new AtomicLong();
        Thread restart = Thread.ofPlatform().name("restart-apiserver").start(() ->
                down.set(cluster.restartApiServer().toMillis()));
        KubeCluster.await(Duration.ofSeconds(30), "the API server to stop answering", () -> !answers());
        held.release();
        restart.join(Duration.ofSeconds(120));
        assertTrue(!restart.isAlive() && down.get() > 0, "the API server restarted");
        await("the fleet to settle after the restart", () -> fleet.settled(CAP, Set.copyOf(r.nodes())));
        LOG.info("[ha-kube] faults/restart: API server restarted in {} ms with {} Node write(s) held; settled {} ms "
                        + "after the reports; held {}; proxy {} {}", down.get(), held.hits(), since(t0).toMillis(),
                r.sampler().heldNames(), r.proxy().requestsByVerb(), r.proxy().responsesByStatus());
        assertFaultSurvived(r);
    }

    @Test
    @Order(2)
    void conflictingWriterCausesConflictStorms() throws Exception {
        Run r = start("conflict");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        Map<String, String> lastWritten = new java.util.concurrent.ConcurrentHashMap<>();
        // two threads of the other tool, one merge patch per write (no read, no conflict of its own)
        List<Thread> writers = IntStream.range(0, 2).mapToObj(t -> Thread.ofPlatform().name("other-tool-" + t).start(() -> {
            try (KubernetesClient other = cluster.admin()) {
                while (!stop.get()) {
                    for (String n : r.nodes()) {
                        String gen = Long.toString(writes.incrementAndGet());
                        try {
                            other.nodes().withName(n).patch(PatchContext.of(PatchType.JSON_MERGE),
                                    "{\"metadata\":{\"labels\":{\"" + OTHER_LABEL + t + "\":\"" + gen + "\"},"
                                            + "\"annotations\":{\"" + OTHER_ANNOTATION + t + "\":\"" + gen + "\"}}}");
                            lastWritten.put(n + "/" + t, gen); // one writer per key: its last write is the value
                        } catch (KubernetesClientException e) {
                            LOG.debug("the other tool's write failed: {}", e.getMessage());
                        }
                    }
                }
            }
        })).toList();
        Map<String, Long> before = cluster.requestsBy("code", "nodes");
        long t0 = System.nanoTime();
        try {
            KubeCluster.await(Duration.ofSeconds(10), "the other tool to write", () -> writes.get() >= 20);
            r.nodes().forEach(n -> fleet.report(n, HaFleet.CRITICAL));
            await("the fleet to settle under the other tool's writes", () -> fleet.settled(CAP, Set.copyOf(r.nodes())));
            Duration settle = since(t0);
            long reconciles = (long) HaFleet.metric(r.operator(), "execguard_reconciles_total", null);
            // a few more resyncs of every report with the writer still going: nothing flaps
            await("two more resyncs under the other tool's writes", () ->
                    HaFleet.metric(r.operator(), "execguard_reconciles_total", null) >= reconciles + 2L * NODES);
            assertTrue(fleet.settled(CAP, Set.copyOf(r.nodes())), "still settled: " + fleet.summary());
            LOG.info("[ha-kube] faults/conflict: settled {} ms after the reports with {} writes by the other tool so far",
                    settle.toMillis(), writes.get());
        } finally {
            stop.set(true);
            for (Thread w : writers) {
                w.join(Duration.ofSeconds(30));
            }
        }
        Map<String, Long> codes = diff(before, cluster.requestsBy("code", "nodes"));
        LOG.info("[ha-kube] faults/conflict: API responses for nodes by code {}; the other tool wrote {} times; "
                + "execguard's responses {}", codes, writes.get(), r.proxy().responsesByStatus());
        assertTrue(r.proxy().responsesByStatus().entrySet().stream()
                .anyMatch(e -> e.getKey().endsWith(" 409") && e.getValue() > 0),
                "the other tool caused execguard conflicts: " + r.proxy().responsesByStatus());
        for (String n : r.nodes()) {
            Node node = fleet.node(n);
            for (int t = 0; t < 2; t++) {
                assertEquals(lastWritten.get(n + "/" + t), node.getMetadata().getLabels().get(OTHER_LABEL + t),
                        "the other tool's label on " + n + " is its own last write");
                assertEquals(lastWritten.get(n + "/" + t), node.getMetadata().getAnnotations().get(OTHER_ANNOTATION + t),
                        "the other tool's annotation on " + n + " is its own last write");
            }
        }
        assertFaultSurvived(r);
    }

    @Test
    @Order(3)
    void slowWrites() {
        Run r = start("slow");
        FaultProxy.Delay slow = r.proxy().delay(FaultProxy.Match.writes(".*"), Duration.ofSeconds(1),
                Duration.ofSeconds(3));
        long t0 = System.nanoTime();
        r.nodes().forEach(n -> fleet.report(n, HaFleet.CRITICAL));
        await("the fleet to settle with slow writes", () -> fleet.settled(CAP, Set.copyOf(r.nodes())));
        Duration settle = since(t0);
        long reconciles = (long) HaFleet.metric(r.operator(), "execguard_reconciles_total", null);
        await("two more resyncs with slow writes", () ->
                HaFleet.metric(r.operator(), "execguard_reconciles_total", null) >= reconciles + 2L * NODES);
        assertTrue(fleet.settled(CAP, Set.copyOf(r.nodes())), "still settled: " + fleet.summary());
        LOG.info("[ha-kube] faults/slow: settled {} ms after the reports with {} writes delayed 1-3 s; proxy {} {}",
                settle.toMillis(), slow.hits(), r.proxy().requestsByVerb(), r.proxy().responsesByStatus());
        assertTrue(slow.hits() > 0, "writes were delayed");
        assertFaultSurvived(r);
    }

    /** No crash loop, cap kept, no lost hold, no double action. */
    void assertFaultSurvived(Run r) {
        OperatorProcess op = r.operator();
        assertTrue(op.process().isAlive(), "the operator is up\n" + HaFleet.tail(op.logText(), 40));
        assertEquals(1, HaFleet.starts(op), "the operator started once (no restart in place)");
        HoldSampler s = r.sampler();
        assertTrue(s.maxHeld() <= CAP, "the cap " + CAP + " was exceeded: " + s.maxHeld() + " held at once");
        assertEquals(CAP, fleet.heldOnServer().size(), "no lost hold: " + fleet.summary());
        assertEquals(List.of(), s.doubleTaints(), "execguard's taint twice in a Node's taint list");
        Map<String, Integer> starts = s.holdStarts();
        // the Events are queued after the writes they tell of: each held node's is written soon after, not at once
        KubeCluster.await(Duration.ofSeconds(60), "a cordon Event for every held node",
                () -> fleet.heldOnServer().stream().allMatch(n -> fleet.cordonEvents(n) >= 1));
        Map<String, Integer> events = new TreeMap<>();
        r.nodes().forEach(n -> events.put(n, fleet.cordonEvents(n)));
        double cordoned = HaFleet.metric(op, "execguard_actions_total", "kind=\"cordoned\"");
        LOG.info("[ha-kube] faults/{}: hold starts {}, cordon Events {}, actions_total cordoned {}, sampler max {} "
                + "over {} states", r.name(), starts, events, cordoned, s.maxHeld(), s.samples());
        starts.forEach((n, c) -> assertTrue(c <= 1, n + " was held " + c + " times (released while failing)"));
        events.forEach((n, c) -> assertTrue(c <= 1, n + " has " + c + " cordon Events"));
        fleet.heldOnServer().forEach(n -> assertEquals(1, events.get(n), n + " is held: one cordon Event"));
        assertTrue(cordoned <= starts.values().stream().mapToInt(Integer::intValue).sum(),
                "the operator counted " + cordoned + " cordons for " + starts + " holds");
    }

    /** The API server accepts connections (it stops listening as soon as it is told to stop). */
    boolean answers() {
        int port = java.net.URI.create(cluster.server()).getPort();
        try (java.net.Socket sock = new java.net.Socket()) {
            sock.connect(new java.net.InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    void await(String what, BooleanSupplier cond) {
        long end = System.nanoTime() + WAIT.toNanos();
        while (!cond.getAsBoolean()) {
            OperatorProcess op = run.operator();
            if (System.nanoTime() > end || !op.process().isAlive()) {
                throw new AssertionError("waiting for " + what + (op.process().isAlive() ? ""
                        : " (the operator exited " + op.process().exitValue() + ")") + "; now " + fleet.summary()
                        + "\n--- " + op.log() + " (tail) ---\n" + HaFleet.tail(op.logText(), 40));
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    static Duration since(long nanos) {
        return Duration.ofNanos(System.nanoTime() - nanos);
    }

    static Map<String, Long> diff(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new TreeMap<>();
        after.forEach((k, v) -> {
            long x = v - before.getOrDefault(k, 0L);
            if (x != 0) {
                d.put(k, x);
            }
        });
        return d;
    }
}
