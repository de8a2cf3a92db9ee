package io.execguard.controller;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;

import io.execguard.api.Action;
import io.execguard.api.ConditionTypes;
import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.Phase;
import io.execguard.api.RemediationStatus;
import io.execguard.api.ReportedFinding;
import io.execguard.controller.DecisionInput.FindingView;
import io.execguard.probe.Metrics;

/**
 * Orchestrates: reads a {@link NodeExecHealth}, its Node and the policy that selects the node, asks the
 * pure {@link Decision} what the node deserves, applies the {@link NodePlan} (update with
 * resourceVersion, retried on conflict), and records {@code status.remediation}. Nodes and policies are
 * secondary resources: a change to either re-decides the affected reports.
 */
@ControllerConfiguration(name = "nodeexechealth")
public final class NodeExecHealthReconciler implements Reconciler<NodeExecHealth> {

    private static final Logger LOG = LoggerFactory.getLogger(NodeExecHealthReconciler.class);
    private static final int CONFLICT_RETRIES = 5;

    private final KubernetesClient client;
    private final OperatorConfig config;
    private final Metrics metrics;
    private final Clock clock;
    private final Fleet fleet;
    private final NodeEvents events;
    private final InvalidObjects invalidObjects;
    /** Start of each node's current healthy stretch; rebuilt as "now" after a failover (conservative). */
    private final Map<String, Instant> healthySince = new ConcurrentHashMap<>();

    private InformerEventSource<Node, NodeExecHealth> nodes;
    private InformerEventSource<ExecHealthPolicy, NodeExecHealth> policies;

    public NodeExecHealthReconciler(KubernetesClient client, OperatorConfig config, Metrics metrics, Clock clock) {
        this.client = client;
        this.config = config;
        this.metrics = metrics;
        this.clock = clock;
        this.fleet = new Fleet(clock);
        this.events = new NodeEvents(client);
        this.invalidObjects = new InvalidObjects(events, metrics);
        metrics.counter("execguard_actions_total", "Node changes made, by kind (cordoned, tainted, ...).")
                .counter("execguard_suppressed_total", "Decisions that applied less than wanted, by reason.")
                .gauge("execguard_nodes_held", "Nodes execguard holds (tainted or cordoned) now.")
                .counter("execguard_reconciles_total", "Reconciliations.")
                .counter("execguard_reconcile_seconds_total", "Time spent reconciling.")
                .counter("execguard_node_writes_total", "Node and NodeExecHealth writes, by object.");
    }

    @Override
    public List<EventSource<?, NodeExecHealth>> prepareEventSources(EventSourceContext<NodeExecHealth> context) {
        nodes = new InformerEventSource<>(InformerEventSourceConfiguration.from(Node.class, NodeExecHealth.class)
                .withSecondaryToPrimaryMapper(n -> Set.of(new ResourceID(n.getMetadata().getName())))
                .build(), context);
        policies = new InformerEventSource<>(InformerEventSourceConfiguration
                .from(ExecHealthPolicy.class, NodeExecHealth.class)
                .withSecondaryToPrimaryMapper(p -> context.getPrimaryCache().list().map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
                .build(), context);
        return List.of(nodes, policies);
    }

    @Override
    public UpdateControl<NodeExecHealth> reconcile(NodeExecHealth neh, Context<NodeExecHealth> ctx) {
        long t0 = System.nanoTime();
        String name = neh.getMetadata().getName();
        try {
            Node node = nodes.get(new ResourceID(name)).orElse(null);
            if (node == null) {
                return UpdateControl.<NodeExecHealth>noUpdate().rescheduleAfter(config.resync());
            }
            ReportReading reading = ReportReading.of(neh);
            invalidObjects.check(InvalidObjects.Kind.NodeExecHealth, neh, reading.invalid());
            List<NodeExecHealth> all = ctx.getPrimaryCache().list().toList();
            fleet.initialiseFrom(all);
            ExecHealthPolicy policyObject = policyFor(node);
            ExecHealthPolicySpec spec = policyObject == null ? ExecHealthPolicySpec.effective(null)
                    : ExecHealthPolicySpec.effective(policyObject);
            boolean managed = policyObject != null || policies.list().findAny().isEmpty();
            int selected = (int) nodes.list().filter(n -> spec.selects(labels(n))).count();
            DecisionInput.Policy policy = readPolicy(policyObject, spec, managed, selected);
            DecisionInput.Report report = reading.report();
            DecisionInput.Node nodeView = new DecisionInput.Node(name,
                    "disabled".equals(labels(node).get(NodePlan.OPT_OUT_LABEL)));
            Instant now = clock.instant();
            Decision d = fleet.decide(name, all, report, nodeView, policy, prior(neh, reading, name), now);
            if (d.healthySince() != null) {
                healthySince.put(name, d.healthySince());
            } else {
                healthySince.remove(name);
            }
            String phase = d.phaseOverride() != null ? d.phaseOverride()
                    : neh.getStatus() == null || neh.getStatus().getPhase() == null ? "Unknown"
                    : neh.getStatus().getPhase().name();
            String message = message(neh, reading, d);
            NodePlan plan = applyToNode(name, d, phase, message, now);
            if (d.suppressed() != null && d.wanted() != d.action()) {
                metrics.inc("execguard_suppressed_total", "reason", d.suppressed());
            }
            boolean decisionChanged = writeRemediation(neh, d, now);
            if (!plan.isEmpty()) {
                events.nodeChanged(node, plan, d, false);
            } else if (policy.dryRun() && decisionChanged && RemediationStatus.SUPPRESSED_DRY_RUN.equals(d.suppressed())) {
                // dry run: say once what would be done, computed exactly as it would be applied
                Decision asIf = new Decision(d.wanted(), d.action(), d.reason(), d.suppressed(), d.condition(),
                        d.phaseOverride(), d.since(), d.healthySince(), true, d.incident());
                NodePlan would = NodePlan.plan(node, asIf, phase, message, now.toString());
                if (!would.isEmpty()) {
                    events.nodeChanged(node, would, d, true);
                }
            }
            fleet.publishIncidents(policyObject, client, events);
            metrics.set("execguard_nodes_held", fleet.heldCount());
            Duration next = config.resync();
            if (d.healthySince() != null && d.action() != Action.None) {
                Duration left = policy.releaseAfter().minus(Duration.between(d.healthySince(), now));
                next = left.isNegative() ? Duration.ofSeconds(1) : min(next, left.plusSeconds(1));
            }
            return UpdateControl.<NodeExecHealth>noUpdate().rescheduleAfter(next);
        } finally {
            metrics.inc("execguard_reconciles_total");
            metrics.add("execguard_reconcile_seconds_total", (System.nanoTime() - t0) / 1e9);
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** The first policy by name whose nodeSelector selects the node, or null. */
    private ExecHealthPolicy policyFor(Node node) {
        Map<String, String> labels = labels(node);
        return policies.list().sorted(Comparator.comparing(p -> p.getMetadata().getName()))
                .filter(p -> ExecHealthPolicySpec.effective(p).selects(labels)).findFirst().orElse(null);
    }

    /** The policy as the decision sees it; an unreadable stored policy is reported (once) and made inert. */
    private DecisionInput.Policy readPolicy(ExecHealthPolicy object, ExecHealthPolicySpec spec, boolean managed,
                                            int selected) {
        PolicyReading r = PolicyReading.of(spec, managed, selected, config.probeHeartbeat());
        if (object != null) {
            invalidObjects.check(InvalidObjects.Kind.ExecHealthPolicy, object, r.invalid());
        }
        return r.policy();
    }

    /** The report as the decision sees it (unknown evidence when its timestamps cannot be read). */
    static DecisionInput.Report report(NodeExecHealth neh) {
        return ReportReading.of(neh).report();
    }

    /** A shared backend: {@code ceph 10.0.0.1:6789:/}, {@code fuse.sshfs host:/x}; null for local causes. */
    static String backend(ReportedFinding f) {
        if (f.getMount() == null || f.getMount().getSource() == null) {
            return null;
        }
        return f.getMount().getFsType() + " " + f.getMount().getSource();
    }

    private DecisionInput.Prior prior(NodeExecHealth neh, ReportReading reading, String name) {
        RemediationStatus r = neh.getStatus() == null ? null : neh.getStatus().getRemediation();
        Action a = r == null || r.getAction() == null ? Action.None : r.getAction();
        return new DecisionInput.Prior(a, reading.remediationSince(), healthySince.get(name));
    }

    private static String message(NodeExecHealth neh, ReportReading reading, Decision d) {
        if (!reading.invalid().isEmpty()) {
            return "The execguard report of this node cannot be read (" + reading.invalid().get(0).field() + ").";
        }
        if (RemediationStatus.SUPPRESSED_STALE.equals(d.suppressed())) {
            return "The execguard probe on this node has not reported recently.";
        }
        List<ReportedFinding> fs = neh.getStatus() == null || neh.getStatus().getFindings() == null ? List.of()
                : neh.getStatus().getFindings();
        return fs.isEmpty() ? "No stuck exec or kill." : fs.get(0).getMessage();
    }

    /** Read-modify-update of the Node with its resourceVersion, re-planned and retried on conflict. */
    private NodePlan applyToNode(String name, Decision d, String phase, String message, Instant now) {
        NodePlan last = new NodePlan(Map.of(), null, null, null);
        for (int attempt = 1; attempt <= CONFLICT_RETRIES; attempt++) {
            Node fresh = client.nodes().withName(name).get();
            if (fresh == null) {
                return last;
            }
            NodePlan plan = NodePlan.plan(fresh, d, phase, message, now.toString());
            last = plan;
            if (plan.isEmpty()) {
                return plan;
            }
            try {
                Node current = fresh;
                if (plan.touchesSpecOrMetadata()) {
                    plan.applyTo(fresh);
                    current = client.nodes().resource(fresh).update();
                    metrics.inc("execguard_node_writes_total", "object", "node");
                }
                if (plan.condition() != null) {
                    patchCondition(current, keepTransitionTime(current, plan.condition()));
                    metrics.inc("execguard_node_writes_total", "object", "node-status");
                }
                plan.describe().forEach(what -> metrics.inc("execguard_actions_total", "kind", what.split(" ")[0]));
                return plan;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == CONFLICT_RETRIES) {
                    throw e;
                }
                LOG.debug("node {}: conflict updating, retry {}", name, attempt);
            }
        }
        return last;
    }

    /**
     * Our condition as it should be written: the transition time stays the one the Node carries while the
     * status (True/False/Unknown) does not change.
     */
    private static NodeCondition keepTransitionTime(Node node, NodeCondition c) {
        NodeCondition prev = NodePlan.condition(node);
        if (prev != null && Objects.equals(prev.getStatus(), c.getStatus())) {
            c.setLastTransitionTime(prev.getLastTransitionTime());
        }
        return c;
    }

    /**
     * Writes our condition into the Node's status.conditions with a JSON patch of nodes/status (the verb the
     * chart grants there): it replaces or appends only our entry, by its index in the Node as read, and
     * carries that read's resourceVersion, so the API server answers 409 if the kubelet (or anyone) changed
     * the Node since, and the caller re-reads and re-plans. Other conditions are never rewritten.
     */
    private void patchCondition(Node read, NodeCondition c) {
        List<NodeCondition> conds = read.getStatus() == null || read.getStatus().getConditions() == null ? List.of()
                : read.getStatus().getConditions();
        int at = -1;
        for (int i = 0; i < conds.size(); i++) {
            if (NodePlan.CONDITION_TYPE.equals(conds.get(i).getType())) {
                at = i;
            }
        }
        List<Map<String, Object>> ops = new ArrayList<>();
        ops.add(Map.of("op", "replace", "path", "/metadata/resourceVersion",
                "value", read.getMetadata().getResourceVersion()));
        if (read.getStatus() == null) {
            ops.add(Map.of("op", "add", "path", "/status", "value", Map.of("conditions", List.of(c))));
        } else if (conds.isEmpty()) {
            // fabric8 reads an absent list as empty: "add .../conditions/-" would be 422 on a Node without
            // conditions, so set the whole list (safe: the resourceVersion above says it is still empty)
            ops.add(Map.of("op", "add", "path", "/status/conditions", "value", List.of(c)));
        } else if (at < 0) {
            ops.add(Map.of("op", "add", "path", "/status/conditions/-", "value", c));
        } else {
            ops.add(Map.of("op", "replace", "path", "/status/conditions/" + at, "value", c));
        }
        client.nodes().withName(read.getMetadata().getName()).subresource("status")
                .patch(PatchContext.of(PatchType.JSON), client.getKubernetesSerialization().asJson(ops));
    }

    /** Writes status.remediation (and Unknown for stale reports) when it changed; returns whether it did. */
    private boolean writeRemediation(NodeExecHealth neh, Decision d, Instant now) {
        RemediationStatus want = new RemediationStatus(d.action(), d.since() == null ? null : d.since().toString(),
                d.reason(), d.suppressed());
        NodeExecHealthStatus s = neh.getStatus();
        boolean stale = d.phaseOverride() != null;
        boolean same = s != null && Objects.equals(s.getRemediation(), want)
                && (!stale || s.getPhase() == Phase.Unknown);
        if (same) {
            return false;
        }
        String name = neh.getMetadata().getName();
        for (int attempt = 1; ; attempt++) {
            try {
                client.resources(NodeExecHealth.class).withName(name).editStatus(cur -> remediate(cur, want, stale, now));
                break;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == CONFLICT_RETRIES) {
                    throw e;
                }
            }
        }
        metrics.inc("execguard_node_writes_total", "object", "nodeexechealth");
        return true;
    }

    /**
     * Sets remediation on the freshly read object; marks it Unknown only if that fresh copy is still
     * the stale one (the probe may have just come back), so a probe's new report is never overwritten.
     */
    private NodeExecHealth remediate(NodeExecHealth cur, RemediationStatus want, boolean stale, Instant now) {
        NodeExecHealthStatus st = cur.getStatus() == null ? new NodeExecHealthStatus() : cur.getStatus();
        st.setRemediation(want);
        DecisionInput.Report fresh = report(cur);
        boolean stillStale = stale && (fresh.lastProbeTime() == null
                || Duration.between(fresh.lastProbeTime(), now).compareTo(config.probeHeartbeat()) > 0);
        {
            if (stillStale) {
                st.setPhase(Phase.Unknown);
                List<Condition> conds = new ArrayList<>();
                for (String type : List.of(ConditionTypes.EXEC_HEALTHY, ConditionTypes.KILL_HEALTHY,
                        ConditionTypes.PROBE_REPORTING)) {
                    conds.add(new ConditionBuilder().withType(type).withStatus("Unknown").withReason("ProbeNotReporting")
                            .withMessage("No report from the probe since " + (st.getLastProbeTime() == null ? "ever"
                                    : st.getLastProbeTime()) + ".").withLastTransitionTime(now.toString()).build());
                }
                st.setConditions(conds);
            }
        }
        cur.setStatus(st);
        return cur;
    }

    static Map<String, String> labels(Node n) {
        return n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
    }

    /** Fleet-wide state the decision needs, kept consistent under one lock so the cap cannot be overrun. */
    static final class Fleet {
        private final Clock clock;
        private final Map<String, Action> held = new HashMap<>();
        private boolean initialised;
        private final PublishedIncidents published = new PublishedIncidents();
        private Map<String, Set<String>> backendNodes = Map.of();
        private long backendsAt;

        Fleet(Clock clock) {
            this.clock = clock;
        }

        synchronized void initialiseFrom(List<NodeExecHealth> all) {
            if (initialised) {
                return;
            }
            for (NodeExecHealth n : all) {
                RemediationStatus r = n.getStatus() == null ? null : n.getStatus().getRemediation();
                if (r != null && r.getAction() != null && r.getAction().holdsNode()) {
                    held.put(n.getMetadata().getName(), r.getAction());
                }
            }
            initialised = true;
        }

        synchronized Decision decide(String node, List<NodeExecHealth> all, DecisionInput.Report report,
                                     DecisionInput.Node nodeView, DecisionInput.Policy policy,
                                     DecisionInput.Prior prior, Instant now) {
            refreshBackends(all);
            Set<String> others = new HashSet<>(held.keySet());
            others.remove(node);
            Set<String> shared = new HashSet<>();
            backendNodes.forEach((k, v) -> {
                if (v.size() >= 2) {
                    shared.add(k);
                }
            });
            Decision d = Decision.decide(report, nodeView, policy, new DecisionInput.Fleet(others, shared), prior, now);
            if (d.action().holdsNode()) {
                held.put(node, d.action());
            } else {
                held.remove(node);
            }
            return d;
        }

        synchronized int heldCount() {
            return held.size();
        }

        private void refreshBackends(List<NodeExecHealth> all) {
            long now = System.nanoTime(); // cache freshness is wall-clock work, not domain time
            if (backendsAt != 0 && now - backendsAt < 2_000_000_000L) {
                return;
            }
            Map<String, Set<String>> m = new HashMap<>();
            for (NodeExecHealth n : all) {
                for (FindingView f : report(n).findings()) {
                    if (f.backend() != null) {
                        m.computeIfAbsent(Decision.key(f), k -> new HashSet<>()).add(n.getMetadata().getName());
                    }
                }
            }
            backendNodes = m;
            backendsAt = now;
        }

        /** The policy's status when its incidents change, and one Event per incident that is new or changed. */
        void publishIncidents(ExecHealthPolicy policy, KubernetesClient client, NodeEvents events) {
            Map<String, Set<String>> incidents = new HashMap<>();
            synchronized (this) {
                backendNodes.forEach((k, v) -> {
                    if (v.size() >= 2) {
                        incidents.put(k, v);
                    }
                });
            }
            String key = policy == null ? PublishedIncidents.NO_POLICY : policy.getMetadata().getName();
            published.update(key, incidents).ifPresent(change ->
                    events.incidents(policy, change.incidents(), change.changed(), heldCount(), clock.instant()));
        }
    }
}
