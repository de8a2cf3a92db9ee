package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import io.execguard.api.Action;
import io.execguard.api.ActionLadder;
import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.ExecHealthPolicyStatus;
import io.execguard.api.Incident;
import io.execguard.api.MountStatus;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.Phase;
import io.execguard.api.RemediationStatus;
import io.execguard.api.ReportedFinding;
import io.execguard.api.StormGuard;
import io.execguard.api.Suppression;
import io.execguard.api.TestFindings;
import io.execguard.controller.decide.NodePlan;
import io.execguard.controller.write.PolicyStatusRecorder;
import io.execguard.detect.Cause;
import io.execguard.detect.FindingType;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/**
 * Issue #11, acceptance 1 for points 2, 3, 5, 6 and 7, on the real API server: one real operator process
 * ({@code java -jar execguard.jar operator}, the chart's service account, RBAC and admission, leader-elected) for
 * the class; each test owns its Nodes, reports (written as admin, as the probe would) and policies, all named
 * with its own prefix, and removes them also on failure. A {@link HoldSampler} per test judges every state of its
 * Nodes the watch delivers, so "never more than N held" is about every moment, not the end state.
 *
 * <p>Each test says in a comment how the controller before the rebuild (e0a2d50^) fails it.
 */
class OperatorSafetyKubeIT {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorSafetyKubeIT.class);

    static final String PREFIX = "safety-";
    static final String NAMESPACE = HaFleet.NAMESPACE;
    static final String LEASE = PREFIX + "operator";
    static final String IDENTITY = PREFIX + "replica-1";
    static final Duration RESYNC = Duration.ofSeconds(3);
    /** The fleet snapshot's age (1 s) plus a write and a watch event on a busy two-core machine. */
    static final Duration SLACK = Duration.ofSeconds(3);
    static final Duration WAIT = Duration.ofSeconds(60);
    static final Duration RELEASE_AFTER = Duration.ofSeconds(8);
    static final String POOL = "execguard.test/safety-pool";
    static final List<String> SCENARIOS = List.of("p2", "p3", "p5b", "p5f", "p5r", "p6", "p7d", "p7t", "p7o");

    static KubeCluster cluster;
    static KubernetesClient admin;
    static List<HasMetadata> chart = List.of();
    static OperatorProcess operator;

    @BeforeAll
    static void up() throws Exception {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
        cleanUpAll();
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of("operator.leaseName", LEASE));
        Path dir = Files.createDirectories(Path.of("target", "kube-it"));
        Path kubeconfig = cluster.kubeconfigFor(cluster.token(admin, NAMESPACE, HaFleet.OPERATOR_SA),
                dir.resolve(PREFIX + "operator.kubeconfig"));
        Path jar = Path.of(System.getProperty("execguard.jar", "target/execguard.jar"));
        operator = OperatorProcess.start(jar, kubeconfig, Map.of("POD_NAMESPACE", NAMESPACE, "POD_NAME", IDENTITY,
                "LEADER_ELECTION", "true", "LEASE_NAME", LEASE, "RESYNC_INTERVAL", RESYNC.toSeconds() + "s",
                "PROBE_HEARTBEAT", "60s"), dir.resolve(PREFIX + "operator.log"));
        LOG.info("[safety] operator pid {}, log {}", operator.process().pid(), operator.log());
        await("the operator to take its Lease", () -> {
            var l = admin.leases().inNamespace(NAMESPACE).withName(LEASE).get();
            return l != null && l.getSpec() != null && IDENTITY.equals(l.getSpec().getHolderIdentity());
        }, () -> "");
    }

    @AfterAll
    static void down() {
        try {
            if (operator != null) {
                operator.close();
            }
        } finally {
            try {
                cleanUpAll();
                if (admin.namespaces().withName(NAMESPACE).get() != null) {
                    admin.leases().inNamespace(NAMESPACE).withName(LEASE).delete();
                }
                cluster.deleteAll(admin, chart.stream().filter(o -> !"Namespace".equals(o.getKind())).toList());
            } finally {
                admin.close();
            }
        }
    }

    /** What any scenario of this class (also of a failed earlier run) left behind. */
    static void cleanUpAll() {
        for (String s : SCENARIOS) {
            new Scenario(s).close();
        }
    }

    // ---- point 2 ----

    /**
     * Four probes of a release before the admission policy wrote {@code status.remediation.action: Cordon} with
     * their findings; maxUnhealthy 1. Exactly one Node is held, at every moment, and the forged remediation of the
     * others is overwritten with what they got ({@code suppressed: maxUnhealthy}). The old controller took the
     * prior action from {@code status.remediation}: each Node counted as already cordoned, so the cap let all four
     * through (sampler max 4).
     */
    @Test
    void point2_aRemediationTheProbeWroteDoesNotOpenTheCap() {
        try (Scenario s = new Scenario("p2")) {
            List<String> nodes = s.nodes(4, Map.of());
            String policy = s.policy("policy", Map.of(), spec -> spec.setMaxUnhealthy(new IntOrString(1)));
            s.awaitApplied(policy, 4);
            HoldSampler sampler = s.sample();
            RemediationStatus forged = new RemediationStatus(Action.Cordon, Instant.now().minusSeconds(60).toString(),
                    Cause.FuseRequest.name(), null);
            nodes.forEach(n -> s.report(n, forged, HaFleet.CRITICAL));

            s.await("one Node held and the others' reports corrected", () -> s.fleet.settled(1, Set.copyOf(nodes)));
            s.observe(3);
            assertTrue(s.fleet.settled(1, Set.copyOf(nodes)), "still exactly one held: " + s.fleet.summary());
            assertEquals(1, sampler.maxHeld(), "held at once, at most (hold starts " + sampler.holdStarts() + ")");
            assertEquals(1, sampler.everMarked().size(), "Nodes ever marked: " + sampler.everMarked());
            String held = sampler.heldNames().iterator().next();
            for (String n : nodes) {
                if (!n.equals(held)) {
                    RemediationStatus r = s.fleet.remediation(n);
                    assertEquals(Action.None, r.getAction(), n + ": the forged Cordon is replaced: " + r);
                    assertEquals(Suppression.MaxUnhealthy, r.getSuppressed(), n + ": " + r);
                }
            }
            assertEquals(1, s.status(policy).getNodesHeld(), "the policy's nodesHeld");
            s.assertOperatorHealthy();
        }
    }

    // ---- point 3 ----

    /**
     * maxUnhealthy 1, four failing Nodes; the held Node is deleted together with its report (what an autoscaler
     * does with a bad node), twice: each time the next failing Node is held within one resync, never two at once.
     * The old controller kept the deleted Node's slot in its held set: after the first deletion no Node was held
     * again until it restarted.
     */
    @Test
    void point3_aDeletedHeldNodeFreesItsSlotWithinAResync() {
        try (Scenario s = new Scenario("p3")) {
            List<String> nodes = s.nodes(4, Map.of());
            String policy = s.policy("policy", Map.of(), spec -> spec.setMaxUnhealthy(new IntOrString(1)));
            s.awaitApplied(policy, 4);
            HoldSampler sampler = s.sample();
            Set<String> failing = new TreeSet<>(nodes);
            nodes.forEach(n -> s.fleet.report(n, HaFleet.CRITICAL));
            s.await("one Node held", () -> s.fleet.settled(1, failing));

            List<Long> refillMillis = new ArrayList<>();
            for (int round = 1; round <= 2; round++) {
                String held = s.fleet.heldOnServer().iterator().next();
                admin.resources(NodeExecHealth.class).withName(held).delete();
                admin.nodes().withName(held).delete();
                failing.remove(held);
                long t0 = System.nanoTime();
                s.await("round " + round + ": " + held + " gone and another Node held", () -> {
                    Set<String> now = s.fleet.heldOnServer();
                    return now.size() == 1 && !now.contains(held) && admin.nodes().withName(held).get() == null;
                });
                long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
                refillMillis.add(ms);
                LOG.info("[safety] point 3, round {}: deleted {}, next held {} after {} ms", round, held,
                        s.fleet.heldOnServer(), ms);
                assertTrue(ms <= RESYNC.plus(SLACK).toMillis(), "round " + round + ": the slot was re-used after "
                        + ms + " ms, more than one resync (" + RESYNC.toMillis() + " ms) + " + SLACK.toMillis() + " ms");
                s.await("round " + round + ": settled", () -> s.fleet.settled(1, failing));
            }
            s.observe(2);
            assertTrue(s.fleet.settled(1, failing), "one of the two left held: " + s.fleet.summary());
            assertEquals(1, sampler.maxHeld(), "never two held at once (hold starts " + sampler.holdStarts() + ")");
            assertEquals(1, s.status(policy).getNodesHeld(), "the policy's nodesHeld after two deletions");
            LOG.info("[safety] point 3: slot re-used after {} ms (bound {} ms)", refillMillis,
                    RESYNC.plus(SLACK).toMillis());
            s.assertOperatorHealthy();
        }
    }

    // ---- point 5 ----

    /**
     * Four Nodes failing with CephRequest on one backend, a roomy cap: one incident. At most one Node is marked —
     * the first report can be decided while it is the only one failing on that backend, before there is an
     * incident (incidentNodes 2); every Node decided once the incident exists gets nothing new. Those say
     * {@code suppressed: incident} and get no ExecHealthy=False condition; the policy lists the incident and says
     * Suppressing=True; one SharedBackendIncident Event on the policy, not republished over three resyncs. The old
     * controller only reported incidents: it cordoned (and conditioned) all four, published one Event per
     * reconcile, and wrote no policy condition.
     */
    @Test
    void point5_aSharedBackendOutageIsOneIncidentNotFourBadNodes() {
        try (Scenario s = new Scenario("p5b")) {
            List<String> nodes = s.nodes(4, Map.of());
            String policy = s.policy("policy", Map.of(), spec -> spec.getStormGuard().setIncidentNodes(null));
            s.awaitApplied(policy, 4);
            HoldSampler sampler = s.sample();
            String source = "10.254.5.1:6789:/" + s.prefix() + "volumes";
            ReportedFinding ceph = TestFindings.finding(Severity.Critical, Scope.Node, Cause.CephRequest,
                    new MountStatus("ceph", source, "/var/lib/kubelet/pods/x/volumes/ceph", null));
            nodes.forEach(n -> s.fleet.report(n, ceph));

            s.await("every report decided and the incident on the policy", () ->
                    nodes.stream().allMatch(n -> marked(s, n) || suppressed(s, n, Suppression.Incident))
                            && incident(s.status(policy), Cause.CephRequest, "ceph " + source) != null
                            && incident(s.status(policy), Cause.CephRequest, "ceph " + source).getNodeCount() == 4
                            // Events are written after the status they tell of (queued): wait for the first
                            && s.events(policy, "SharedBackendIncident") >= 1);
            int eventsAtFirst = s.events(policy, "SharedBackendIncident");
            s.observe(3);

            Set<String> marked = sampler.everMarked();
            LOG.info("[safety] point 5 (backend): marked {}, events {} then {}; {}", marked, eventsAtFirst,
                    s.events(policy, "SharedBackendIncident"), s.fleet.summary());
            assertTrue(marked.size() <= 1, "at most the first Node (decided before the incident formed) is marked: "
                    + marked + "; " + s.fleet.summary());
            for (String n : nodes) {
                if (!marked.contains(n)) {
                    assertTrue(suppressed(s, n, Suppression.Incident), n + ": " + s.fleet.remediation(n));
                    assertFalse(conditionFalse(s.fleet.node(n)), n + " has ExecHealthy=False");
                }
            }
            ExecHealthPolicyStatus st = s.status(policy);
            Incident inc = incident(st, Cause.CephRequest, "ceph " + source);
            assertNotNull(inc, "the policy lists the incident: " + st.getIncidents());
            assertEquals(Set.copyOf(nodes), Set.copyOf(inc.getNodes()), "the incident's nodes");
            assertCondition(st, PolicyStatusRecorder.SUPPRESSING, "True", "SharedBackendIncident");
            assertEquals(1, eventsAtFirst, "one SharedBackendIncident Event on the policy " + s.eventList(policy));
            assertEquals(1, s.events(policy, "SharedBackendIncident"), "not republished over 3 resyncs: "
                    + s.eventList(policy));
            assertEquals(0, s.nodeEvents(nodes, "SharedBackendIncident"), "no incident Event per node");
            s.assertOperatorHealthy();
        }
    }

    /**
     * Three of four Nodes failing, each for its own reason (no shared backend), stormGuard.maxFailing "50%": a
     * storm once more than max(1, floor(4 × 50%)) = 2 fail. At most two are marked (those decided while no more
     * than two were failing); the third says {@code suppressed: incident} without a condition, and the policy says
     * Suppressing=True (FleetStorm). The old controller had no fraction guard: three cordoned.
     */
    @Test
    void point5_tooLargeAShareOfThePolicysNodesFailingIsAStorm() {
        try (Scenario s = new Scenario("p5f")) {
            List<String> nodes = s.nodes(4, Map.of());
            String policy = s.policy("policy", Map.of(), spec -> spec.getStormGuard().setMaxFailing(
                    new IntOrString("50%")));
            s.awaitApplied(policy, 4);
            HoldSampler sampler = s.sample();
            List<String> failing = nodes.subList(0, 3);
            failing.forEach(n -> s.fleet.report(n, HaFleet.CRITICAL));

            s.await("the three failing reports decided and the storm on the policy", () ->
                    failing.stream().allMatch(n -> marked(s, n) || suppressed(s, n, Suppression.Incident))
                            && hasCondition(s.status(policy), PolicyStatusRecorder.SUPPRESSING, "True", "FleetStorm"));
            s.observe(2);
            Set<String> marked = sampler.everMarked();
            LOG.info("[safety] point 5 (fraction): marked {}; {}", marked, s.fleet.summary());
            assertTrue(marked.size() <= 2, "no more than maxFailing (2) marked: " + marked);
            assertFalse(marked.contains(nodes.get(3)), "the healthy Node");
            int suppressedIncident = 0;
            for (String n : failing) {
                if (!marked.contains(n)) {
                    assertTrue(suppressed(s, n, Suppression.Incident), n + ": " + s.fleet.remediation(n));
                    assertFalse(conditionFalse(s.fleet.node(n)), n + " has ExecHealthy=False");
                    suppressedIncident++;
                }
            }
            assertTrue(suppressedIncident >= 1, "at least the third failing Node is held back");
            assertCondition(s.status(policy), PolicyStatusRecorder.SUPPRESSING, "True", "FleetStorm");
            s.assertOperatorHealthy();
        }
    }

    /**
     * newHoldsPerMinute 2, four failing Nodes, a roomy cap and no storm: two held within the first minute, the
     * other two say {@code suppressed: rateLimit} (nothing on their Nodes, no condition). The old controller had no rate
     * limit: four cordoned at once.
     */
    @Test
    void point5_newHoldsPerMinuteLimitsHowFastNodesAreHeld() {
        try (Scenario s = new Scenario("p5r")) {
            List<String> nodes = s.nodes(4, Map.of());
            String policy = s.policy("policy", Map.of(), spec -> spec.getStormGuard().setNewHoldsPerMinute(2));
            s.awaitApplied(policy, 4);
            HoldSampler sampler = s.sample();
            nodes.forEach(n -> s.fleet.report(n, HaFleet.CRITICAL));
            s.await("two held", () -> sampler.nowHeld() == 2);
            long firstMinuteFrom = System.nanoTime(); // the first grant was no later than this
            s.await("the other two rate limited", () -> nodes.stream().filter(n -> !sampler.heldNames().contains(n))
                    .allMatch(n -> suppressed(s, n, Suppression.RateLimit)));
            s.observe(2);
            Duration elapsed = Duration.ofNanos(System.nanoTime() - firstMinuteFrom);
            assertTrue(elapsed.compareTo(Duration.ofSeconds(50)) < 0, "observed within the minute: " + elapsed);
            LOG.info("[safety] point 5 (rate): held {} (max {}), {}", sampler.heldNames(), sampler.maxHeld(),
                    s.fleet.summary());
            assertEquals(2, sampler.maxHeld(), "held at once, at most, in the first minute");
            assertEquals(2, sampler.everMarked().size(), "marked in the first minute: " + sampler.everMarked());
            for (String n : nodes) {
                if (!sampler.heldNames().contains(n)) {
                    RemediationStatus r = s.fleet.remediation(n);
                    assertEquals(Suppression.RateLimit, r.getSuppressed(), n + ": " + r);
                    assertEquals(Action.None, r.getAction(), n + ": nothing new on the Node: " + r);
                    assertFalse(conditionFalse(s.fleet.node(n)), n + " has ExecHealthy=False");
                }
            }
            s.assertOperatorHealthy();
        }
    }

    // ---- point 6 ----

    /**
     * Two policies (pool a, pool b), each maxUnhealthy 1, each over two Nodes failing on their own and one failing
     * on an NFS export both pools share (an incident across the policies). One Node held in each pool (per-policy
     * caps), each policy's nodesHeld 1; each lists the incident with its own Node and has exactly one
     * SharedBackendIncident Event, not republished over three resyncs. The old controller counted held Nodes
     * globally (pool b got none once pool a held one) and republished the incident on every reconcile (Events
     * 4 → 11 in 6 s).
     */
    @Test
    void point6_twoPoliciesEachHaveTheirOwnCapAndPublishAnIncidentOnce() {
        try (Scenario s = new Scenario("p6")) {
            String source = "10.254.6.6:/" + s.prefix() + "export";
            ReportedFinding nfs = TestFindings.finding(Severity.Critical, Scope.Node, Cause.NfsRequest,
                    new MountStatus("nfs4", source, "/mnt/shared", null));
            Map<String, List<String>> pools = new TreeMap<>();
            Map<String, String> policies = new TreeMap<>();
            Map<String, String> onShared = new TreeMap<>();
            for (String pool : List.of("a", "b")) {
                List<String> ns = s.nodes(pool + "-", 3, Map.of(POOL, s.prefix() + pool));
                pools.put(pool, ns.subList(0, 2));
                onShared.put(pool, ns.get(2));
                policies.put(pool, s.policy("pool-" + pool, Map.of(POOL, s.prefix() + pool), spec -> {
                    spec.setMaxUnhealthy(new IntOrString(1));
                    spec.getStormGuard().setIncidentNodes(null);
                }));
            }
            policies.values().forEach(p -> s.awaitApplied(p, 3));
            Map<String, HoldSampler> samplers = new TreeMap<>();
            pools.keySet().forEach(pool -> samplers.put(pool, s.sample(POOL, s.prefix() + pool)));
            pools.values().forEach(ns -> ns.forEach(n -> s.fleet.report(n, HaFleet.CRITICAL)));
            onShared.values().forEach(n -> s.fleet.report(n, nfs));

            s.await("one held per pool, the incident on both policies", () -> pools.values().stream()
                    .allMatch(ns -> heldAmong(s, ns) == 1)
                    && policies.entrySet().stream().allMatch(e -> {
                        Incident i = incident(s.status(e.getValue()), Cause.NfsRequest, "nfs4 " + source);
                        return i != null && i.getNodes().equals(List.of(onShared.get(e.getKey())));
                    })
                    && policies.values().stream().allMatch(p -> Integer.valueOf(1).equals(s.status(p).getNodesHeld()))
                    && onShared.values().stream().allMatch(n -> suppressed(s, n, Suppression.Incident))
                    && policies.values().stream().allMatch(p -> s.events(p, "SharedBackendIncident") >= 1));
            Map<String, Integer> eventsAtFirst = new TreeMap<>();
            policies.forEach((pool, p) -> eventsAtFirst.put(pool, s.events(p, "SharedBackendIncident")));
            s.observe(3);

            for (String pool : pools.keySet()) {
                String p = policies.get(pool);
                HoldSampler sampler = samplers.get(pool);
                LOG.info("[safety] point 6: pool {} held {} (max {}), events {} then {}", pool, sampler.heldNames(),
                        sampler.maxHeld(), eventsAtFirst.get(pool), s.events(p, "SharedBackendIncident"));
                assertEquals(1, heldAmong(s, pools.get(pool)), "pool " + pool + ": one held; " + s.fleet.summary());
                assertEquals(1, sampler.maxHeld(), "pool " + pool + ": held at once, at most (per-policy cap 1)");
                assertEquals(1, s.status(p).getNodesHeld(), p + ": nodesHeld");
                assertFalse(sampler.everMarked().contains(onShared.get(pool)), "the incident's Node is not marked");
                assertEquals(1, eventsAtFirst.get(pool), p + ": one incident Event " + s.eventList(p));
                assertEquals(1, s.events(p, "SharedBackendIncident"), p + ": the unchanged incident is not "
                        + "republished over 3 resyncs " + s.eventList(p));
            }
            s.assertOperatorHealthy();
        }
    }

    // ---- point 7 ----

    /**
     * A Node no policy selects is held under the documented defaults; then a narrow policy for another label is
     * created. The Node stays held; made healthy, it stays held (Recovering) — the defaults' releaseAfter is 5m,
     * not zero. The old controller gave unselected Nodes no actions and a zero releaseAfter once any policy
     * existed: creating the narrow policy released the hold at the next reconcile.
     */
    @Test
    void point7_aNarrowPolicyDoesNotReleaseHoldsUnderTheDefaults() {
        try (Scenario s = new Scenario("p7d")) {
            String node = s.nodes(1, Map.of()).get(0);
            Map<String, String> labels = s.fleet.node(node).getMetadata().getLabels();
            List<String> selecting = admin.resources(ExecHealthPolicy.class).list().getItems().stream()
                    .filter(p -> p.getMetadata().getDeletionTimestamp() == null
                            && ExecHealthPolicySpec.effective(p).selects(labels))
                    .map(p -> p.getMetadata().getName()).toList();
            assertEquals(List.of(), selecting, "precondition: no policy of the cluster selects " + node);
            HoldSampler sampler = s.sample();
            s.fleet.report(node, HaFleet.CRITICAL);
            s.await("held under the defaults (node Critical → Cordon)", () -> HoldSampler.isHeld(s.fleet.node(node))
                    && s.fleet.remediation(node) != null && s.fleet.remediation(node).getAction() == Action.Cordon);

            String narrow = s.policy("narrow", Map.of(POOL, s.prefix() + "narrow"), spec -> { });
            s.awaitApplied(narrow, 0);
            s.observe(2);
            assertTrue(HoldSampler.isHeld(s.fleet.node(node)), "still held after a narrow policy appeared: "
                    + s.fleet.summary());

            s.fleet.report(node); // healthy from now on: the defaults' releaseAfter (5m) runs
            s.await("recovering", () -> "Recovering".equals(s.fleet.remediation(node).getReason()));
            s.observe(3);
            RemediationStatus r = s.fleet.remediation(node);
            assertTrue(HoldSampler.isHeld(s.fleet.node(node)), "released before the defaults' releaseAfter: " + r);
            assertEquals(Action.Cordon, r.getAction(), "" + r);
            assertNotNull(r.getHealthySince(), "healthySince runs: " + r);
            assertEquals(1, sampler.holdStarts(node), "held once, never released in between");
            s.assertOperatorHealthy();
        }
    }

    /**
     * degradedTypes: a policy whose unhealthyTypes and degradedTypes both leave out UnkillableTask — its Node is
     * reported (the operator records its decision: nothing) but not marked; a policy that lists UnkillableTask
     * only under degradedTypes acts on it (cordons). The old controller acted on every finding whatever its type
     * (the types only set the phase, and degradedTypes not even that): it cordoned the excluded Node too.
     */
    @Test
    void point7_onlyTheTypesAPolicyListsAreActedOn() {
        try (Scenario s = new Scenario("p7t")) {
            String excludedNode = s.nodes("excluded-", 1, Map.of(POOL, s.prefix() + "excluded")).get(0);
            String degradedNode = s.nodes("degraded-", 1, Map.of(POOL, s.prefix() + "degraded")).get(0);
            String excluded = s.policy("excluded", Map.of(POOL, s.prefix() + "excluded"), spec -> {
                spec.setUnhealthyTypes(List.of(FindingType.StuckRuntimeInit));
                spec.setDegradedTypes(List.of(FindingType.HungTask));
            });
            String degraded = s.policy("degraded", Map.of(POOL, s.prefix() + "degraded"), spec -> {
                spec.setUnhealthyTypes(List.of(FindingType.StuckRuntimeInit));
                spec.setDegradedTypes(List.of(FindingType.UnkillableTask));
            });
            s.awaitApplied(excluded, 1);
            s.awaitApplied(degraded, 1);
            HoldSampler sampler = s.sample();
            assertEquals(FindingType.UnkillableTask, HaFleet.CRITICAL.getType());
            s.fleet.report(excludedNode, HaFleet.CRITICAL);
            s.fleet.report(degradedNode, HaFleet.CRITICAL);

            s.await("the degraded type acted on", () -> HoldSampler.isHeld(s.fleet.node(degradedNode)));
            // both reports were written together and the other is decided: this one was too (its decision,
            // nothing, equals what its healthy report got, so there is no write to wait for); two more resyncs
            s.observe(2);
            RemediationStatus r = s.fleet.remediation(excludedNode);
            // absent means "nothing": a node that never needed a decision gets no write for it
            assertTrue(r == null || r.getAction() == Action.None, "not acted on: " + r);
            assertFalse(sampler.everMarked().contains(excludedNode), "never marked: " + s.fleet.summary());
            Node n = s.fleet.node(excludedNode);
            assertFalse(n.getMetadata().getAnnotations() != null
                    && n.getMetadata().getAnnotations().containsKey(NodePlan.ANNOTATION_HEALTH), "not even annotated");
            NodeExecHealth report = admin.resources(NodeExecHealth.class).withName(excludedNode).get();
            assertEquals(1, report.getStatus().getFindings().size(), "the finding stays reported");
            assertEquals(Action.Cordon, s.fleet.remediation(degradedNode).getAction());
            assertEquals(1, s.status(degraded).getNodesHeld());
            assertEquals(0, s.status(excluded).getNodesHeld());
            s.assertOperatorHealthy();
        }
    }

    /**
     * Two policies select the same Node: the first by name applies (its ladder says Taint, the second's Cordon:
     * the Node is tainted, never cordoned) and both policies say Overlapping=True. The old controller resolved
     * overlaps by list order and wrote no policy conditions.
     */
    @Test
    void point7_overlappingPoliciesAreReportedAndTheFirstByNameApplies() {
        try (Scenario s = new Scenario("p7o")) {
            String node = s.nodes(1, Map.of(POOL, s.prefix() + "shared")).get(0);
            // created second-first, so that creation order cannot be what decides
            String second = s.policy("second", Map.of(POOL, s.prefix() + "shared"), spec -> spec.setActions(
                    new ActionLadder(Action.Cordon, Action.Taint, Action.Condition, Action.Annotate)));
            String first = s.policy("first", Map.of(POOL, s.prefix() + "shared"), spec -> spec.setActions(
                    new ActionLadder(Action.Taint, Action.Condition, Action.Condition, Action.Annotate)));
            s.await("both policies say Overlapping=True", () -> hasCondition(s.status(first),
                    PolicyStatusRecorder.OVERLAPPING, "True", "OverlappingSelectors")
                    && hasCondition(s.status(second), PolicyStatusRecorder.OVERLAPPING, "True", "OverlappingSelectors"));
            s.awaitApplied(first, 1);
            HoldSampler sampler = s.sample();
            s.fleet.report(node, HaFleet.CRITICAL);
            s.await("the first policy's action", () -> NodePlan.hasTaint(s.fleet.node(node))
                    && s.fleet.remediation(node) != null && s.fleet.remediation(node).getAction() == Action.Taint);
            s.observe(2);
            Node n = s.fleet.node(node);
            assertFalse(Boolean.TRUE.equals(n.getSpec().getUnschedulable()), "the second policy's Cordon applied");
            assertEquals(Action.Taint, s.fleet.remediation(node).getAction());
            assertEquals(1, sampler.holdStarts(node));
            assertEquals(1, s.status(first).getNodesHeld(), first + " holds it");
            assertEquals(0, s.status(second).getNodesHeld(), second + " does not");
            for (String p : List.of(first, second)) {
                Condition c = condition(s.status(p), PolicyStatusRecorder.OVERLAPPING);
                assertEquals("True", c.getStatus(), p + ": " + c);
                assertTrue(c.getMessage().contains(p.equals(first) ? second : first), p + ": " + c.getMessage());
            }
            s.assertOperatorHealthy();
        }
    }

    // ---- one scenario's objects ----

    /** The objects one test owns, named with {@code safety-<name>-}; closing removes them (also a failed run's). */
    static final class Scenario implements AutoCloseable {
        final HaFleet fleet;
        private final List<String> policies = new ArrayList<>();
        private final List<HoldSampler> samplers = new ArrayList<>();
        /** Where the operator's log stood when the scenario began: its own lines are judged, not earlier tests'. */
        private final long logFrom;

        Scenario(String name) {
            this.fleet = new HaFleet(cluster, admin, PREFIX + name + "-");
            this.logFrom = operator == null ? 0 : operator.logText().length();
        }

        String prefix() {
            return fleet.prefix();
        }

        List<String> nodes(int count, Map<String, String> labels) {
            return nodes("", count, labels);
        }

        /** Nodes {@code <prefix>node-<infix><i>}, each with a healthy report (a probe that just started). */
        List<String> nodes(String infix, int count, Map<String, String> labels) {
            List<String> names = IntStream.rangeClosed(1, count).mapToObj(i -> prefix() + "node-" + infix + i).toList();
            for (String n : names) {
                fleet.createNode(n, labels);
                fleet.report(n);
            }
            return names;
        }

        /**
         * A policy {@code a-<prefix><suffix>} over this scenario's Nodes (and {@code selector}): node Critical →
         * Cordon, releaseAfter 8s, maxUnhealthy 10, not dry run, a calm storm guard (incidentNodes 100, maxFailing
         * 100%, 100 holds a minute) — each test tunes what it is about.
         */
        String policy(String suffix, Map<String, String> selector, Consumer<ExecHealthPolicySpec> tune) {
            ExecHealthPolicySpec spec = new ExecHealthPolicySpec();
            Map<String, String> sel = new HashMap<>(selector);
            sel.put(HaFleet.SUITE_LABEL, fleet.suite());
            spec.setNodeSelector(sel);
            spec.setActions(new ActionLadder(Action.Cordon, Action.Taint, Action.Condition, Action.Annotate));
            spec.setReleaseAfter(RELEASE_AFTER.toSeconds() + "s");
            spec.setMaxUnhealthy(new IntOrString(10));
            spec.setDryRun(false);
            StormGuard calm = new StormGuard();
            calm.setIncidentNodes(100);
            calm.setMaxFailing(new IntOrString("100%"));
            calm.setNewHoldsPerMinute(100);
            spec.setStormGuard(calm);
            tune.accept(spec);
            ExecHealthPolicy p = new ExecHealthPolicy();
            p.getMetadata().setName("a-" + prefix() + suffix);
            p.setSpec(spec);
            policies.add(p.getMetadata().getName());
            admin.resource(p).create();
            return p.getMetadata().getName();
        }

        /** The operator has published the policy as valid over {@code nodes} Nodes: its snapshot has them. */
        void awaitApplied(String policy, int nodes) {
            await(policy + " applied to " + nodes + " nodes", () -> hasCondition(status(policy),
                    PolicyStatusRecorder.READY, "True", "Valid")
                    && condition(status(policy), PolicyStatusRecorder.READY).getMessage()
                            .contains("applied to " + nodes + " nodes"));
        }

        ExecHealthPolicyStatus status(String policy) {
            ExecHealthPolicy p = admin.resources(ExecHealthPolicy.class).withName(policy).get();
            return p == null || p.getStatus() == null ? new ExecHealthPolicyStatus() : p.getStatus();
        }

        HoldSampler sample() {
            return sample(HaFleet.SUITE_LABEL, fleet.suite());
        }

        HoldSampler sample(String key, String value) {
            HoldSampler h = HoldSampler.start(admin, key, value);
            samplers.add(h);
            return h;
        }

        /** The probe's report with a remediation of its own in the same write (a probe before the admission rule). */
        void report(String node, RemediationStatus forged, ReportedFinding... findings) {
            for (int attempt = 1; ; attempt++) {
                try {
                    admin.resources(NodeExecHealth.class).withName(node).editStatus(n -> {
                        NodeExecHealthStatus st = n.getStatus() == null ? new NodeExecHealthStatus() : n.getStatus();
                        st.setPhase(Phase.Unhealthy);
                        st.setFindings(List.of(findings));
                        st.setLastProbeTime(Instant.now().toString());
                        st.setRemediation(forged);
                        n.setStatus(st);
                        return n;
                    });
                    return;
                } catch (KubernetesClientException e) {
                    if (e.getCode() != 409 || attempt >= 10) {
                        throw e;
                    }
                }
            }
        }

        /** SharedBackendIncident (or another reason's) Events about the policy, summed over their count. */
        int events(String policy, String reason) {
            return policyEvents(policy).stream().filter(e -> reason.equals(e.getReason()))
                    .mapToInt(e -> e.getCount() == null ? 1 : e.getCount()).sum();
        }

        int nodeEvents(List<String> nodes, String reason) {
            return admin.v1().events().inNamespace("default").list().getItems().stream()
                    .filter(e -> e.getInvolvedObject() != null && nodes.contains(e.getInvolvedObject().getName())
                            && reason.equals(e.getReason()))
                    .mapToInt(e -> e.getCount() == null ? 1 : e.getCount()).sum();
        }

        String eventList(String policy) {
            return policyEvents(policy).stream().map(e -> e.getReason() + " x" + e.getCount() + ": " + e.getMessage())
                    .toList().toString();
        }

        private List<Event> policyEvents(String policy) {
            return admin.v1().events().inNamespace("default").list().getItems().stream()
                    .filter(e -> e.getInvolvedObject() != null && policy.equals(e.getInvolvedObject().getName())
                            && ExecHealthPolicy.KIND.equals(e.getInvolvedObject().getKind())).toList();
        }

        /** Lets {@code resyncs} resyncs pass (each report is re-decided at least once per resync). */
        void observe(int resyncs) {
            sleep(RESYNC.multipliedBy(resyncs).plusSeconds(1));
        }

        void await(String what, BooleanSupplier cond) {
            OperatorSafetyKubeIT.await(what, cond, fleet::summary);
        }

        void assertOperatorHealthy() {
            assertTrue(operator.process().isAlive(), "the operator is alive");
            List<String> refused = operator.logText().substring((int) logFrom).lines()
                    .filter(l -> l.contains(" 403") || l.contains("Forbidden") || l.contains("forbidden")).toList();
            assertEquals(List.of(), refused, "the operator was refused by the API server");
        }

        @Override
        public void close() {
            samplers.forEach(HoldSampler::close);
            List<String> names = new ArrayList<>(policies);
            // a failed earlier run's policies too: every policy of this scenario starts with a-<prefix>
            admin.resources(ExecHealthPolicy.class).list().getItems().stream().map(p -> p.getMetadata().getName())
                    .filter(n -> n.startsWith("a-" + prefix())).forEach(names::add);
            fleet.cleanUp();
            names.stream().distinct().forEach(n -> admin.resources(ExecHealthPolicy.class).withName(n).delete());
            admin.v1().events().inNamespace("default").list().getItems().stream()
                    .filter(e -> e.getInvolvedObject() != null && e.getInvolvedObject().getName() != null
                            && e.getInvolvedObject().getName().startsWith("a-" + prefix()))
                    .forEach(e -> admin.resource(e).delete());
        }
    }

    // ---- reading the server ----

    static boolean marked(Scenario s, String node) {
        Node n = s.fleet.node(node);
        return n != null && NodePlan.applied(n).marksUnhealthy();
    }

    static boolean suppressed(Scenario s, String node, Suppression why) {
        RemediationStatus r = s.fleet.remediation(node);
        return r != null && r.getSuppressed() == why;
    }

    static boolean conditionFalse(Node n) {
        NodeCondition c = NodePlan.condition(n);
        return c != null && "False".equals(c.getStatus());
    }

    static int heldAmong(Scenario s, List<String> nodes) {
        Set<String> held = s.fleet.heldOnServer();
        return (int) nodes.stream().filter(held::contains).count();
    }

    static Incident incident(ExecHealthPolicyStatus st, Cause cause, String backend) {
        return st.getIncidents() == null ? null : st.getIncidents().stream()
                .filter(i -> i.getCause() == cause && backend.equals(i.getBackend())).findFirst().orElse(null);
    }

    static Condition condition(ExecHealthPolicyStatus st, String type) {
        return st.getConditions() == null ? null : st.getConditions().stream().filter(c -> type.equals(c.getType()))
                .findFirst().orElse(null);
    }

    static boolean hasCondition(ExecHealthPolicyStatus st, String type, String status, String reason) {
        Condition c = condition(st, type);
        return c != null && status.equals(c.getStatus()) && reason.equals(c.getReason());
    }

    static void assertCondition(ExecHealthPolicyStatus st, String type, String status, String reason) {
        Condition c = condition(st, type);
        assertNotNull(c, type + " in " + st.getConditions());
        assertEquals(status + "/" + reason, c.getStatus() + "/" + c.getReason(), type + ": " + c.getMessage());
    }

    static void await(String what, BooleanSupplier cond, java.util.function.Supplier<String> state) {
        long end = System.nanoTime() + WAIT.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end || !operator.process().isAlive()) {
                throw new AssertionError("waiting for " + what + (operator.process().isAlive() ? ""
                        : " (the operator exited " + operator.process().exitValue() + ")") + "; now " + state.get()
                        + "\n--- " + operator.log() + " (tail) ---\n" + HaFleet.tail(operator.logText(), 40));
            }
            sleep(Duration.ofMillis(200));
        }
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
