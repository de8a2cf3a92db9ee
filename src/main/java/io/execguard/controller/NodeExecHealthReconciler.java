package io.execguard.controller;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;

import io.execguard.api.Action;
import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.PolicyResolver;
import io.execguard.api.Suppression;
import io.execguard.controller.decide.Decision;
import io.execguard.controller.decide.DecisionInput;
import io.execguard.controller.decide.DecisionInput.Slot;
import io.execguard.controller.decide.NodePlan;
import io.execguard.controller.fleet.Fleet;
import io.execguard.controller.read.NodeStripper;
import io.execguard.controller.read.ReportReading;
import io.execguard.controller.read.ReportStore;
import io.execguard.controller.write.EventRecorder;
import io.execguard.controller.write.InvalidObjects;
import io.execguard.controller.write.NodeWriter;
import io.execguard.controller.write.PolicyStatusRecorder;
import io.execguard.controller.write.ReportRecorder;
import io.execguard.probe.Metrics;

/**
 * Orchestration only: gather (the report, its Node and policy from the caches, a fleet snapshot), decide (the
 * pure {@link Decision}, with a slot from the hold ledger when it newly marks the node), apply (the Node, then the
 * report's remediation, each written only when it changes), and say when to look again.
 */
// not generation-aware: the probe writes only the status (no generation bump), and every report must be seen at once
// reports cached without their managedFields (ReportStore): no decision reads them
@ControllerConfiguration(name = "nodeexechealth", generationAwareEventProcessing = false,
        informer = @Informer(itemStore = ReportStore.class))
public final class NodeExecHealthReconciler implements Reconciler<NodeExecHealth> {

    private static final Logger LOG = LoggerFactory.getLogger(NodeExecHealthReconciler.class);

    private final OperatorConfig config;
    private final Metrics metrics;
    private final Clock clock;
    private final NodeWriter nodeWriter;
    private final ReportRecorder reports;
    private final EventRecorder events;
    private final PolicyStatusRecorder policyStatus;
    private final InvalidObjects invalid;
    private InformerEventSource<Node, NodeExecHealth> nodes;
    private Fleet fleet;

    public NodeExecHealthReconciler(KubernetesClient client, OperatorConfig config, Metrics metrics, Clock clock) {
        this.config = config;
        this.metrics = metrics;
        this.clock = clock;
        this.nodeWriter = new NodeWriter(client, metrics);
        this.reports = new ReportRecorder(client, metrics);
        this.events = new EventRecorder(client, "execguard-operator", clock, metrics);
        this.policyStatus = new PolicyStatusRecorder(client, events, metrics);
        this.invalid = new InvalidObjects(events, metrics);
        metrics.counter("execguard_actions_total", "Node changes made, by kind (cordoned, tainted, ...).")
                .counter("execguard_suppressed_total", "Decisions that applied less than wanted, by reason.")
                .gauge("execguard_nodes_held", "Nodes execguard marks unhealthy (condition, taint, cordon) now.")
                .counter("execguard_reconciles_total", "Reconciliations.")
                .counter("execguard_reconcile_seconds_total", "Time spent reconciling.")
                .counter("execguard_node_conflicts_total", "Node writes refused with 409 and planned again.")
                .counter("execguard_node_writes_total", "Node and NodeExecHealth writes, by object.")
                .counter("execguard_reconcile_phase_seconds_total", "Time spent reconciling, by phase (gather: "
                        + "caches, fleet and hold ledger; node, report, event: the writes).")
                .counter("execguard_fleet_snapshots_total", "Fleet snapshots built from the caches.")
                .counter("execguard_fleet_snapshot_seconds_total", "Time spent building fleet snapshots.");
    }

    @Override
    public List<EventSource<?, NodeExecHealth>> prepareEventSources(EventSourceContext<NodeExecHealth> context) {
        nodes = new InformerEventSource<>(InformerEventSourceConfiguration.from(Node.class, NodeExecHealth.class)
                .withSecondaryToPrimaryMapper(n -> Set.of(new ResourceID(n.getMetadata().getName())))
                .withItemStore(new TransformingItemStore<>(NodeStripper::strip))
                .build(), context);
        InformerEventSource<ExecHealthPolicy, NodeExecHealth> policies = new InformerEventSource<>(
                InformerEventSourceConfiguration.from(ExecHealthPolicy.class, NodeExecHealth.class)
                        // its status is the operator's own output (written up to once a snapshot while holds
                        // change): only a new spec re-decides the fleet, else each status write would queue every
                        // report again
                        .withOnUpdateFilter(NodeExecHealthReconciler::specChanged)
                        // (the fleet notices a new spec by itself: JOSDK calls this mapper on every update,
                        // filtered or not, to index the policy)
                        .withSecondaryToPrimaryMapper(p -> context.getPrimaryCache().list()
                                .map(ResourceID::fromResource).collect(Collectors.toSet())).build(), context);
        fleet = new Fleet(Fleet.source(nodes::list, () -> context.getPrimaryCache().list(),
                () -> policies.list().toList()), clock, config.probeHeartbeat());
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
            // gather
            Fleet.Snapshot snap = fleet.snapshot();
            policyStatus.publish(snap, fleet);
            ReportReading reading = ReportReading.of(neh);
            invalid.check(InvalidObjects.Kind.NodeExecHealth, neh, reading.invalid());
            PolicyResolver.Resolution res = snap.resolver().resolve(node.getMetadata().getLabels());
            Fleet.PolicyStats stats = snap.policy(res.key());
            if (res.policy() != null) {
                invalid.check(InvalidObjects.Kind.ExecHealthPolicy, res.policy(), stats.reading().invalid());
            }
            DecisionInput.Policy policy = stats.reading().policy();
            DecisionInput.Node view = new DecisionInput.Node(name,
                    "disabled".equals(labels(node).get(NodePlan.OPT_OUT_LABEL)), NodePlan.applied(node));
            Instant now = clock.instant();
            DecisionInput.Fleet around = fleet.observe(name, Fleet.failure(res.key(), reading.report(), policy, now),
                    stats.reading().limits());
            // decide
            Decision d = Decision.decide(reading.report(), view, policy, around, reading.prior(), now);
            Slot slot = Slot.NotAsked;
            if (d.needsSlot()) {
                slot = fleet.reserve(res.key(), name, node.getMetadata().getResourceVersion(), policy.dryRun(),
                        stats.reading().limits());
                d = Decision.decide(reading.report(), view, policy, around.withSlot(slot), reading.prior(), now);
            } else if (policy.dryRun() && !d.action().marksUnhealthy()) {
                fleet.forgetDry(name);
            }
            phase("gather", t0);
            // apply
            boolean reserved = slot == Slot.Granted && !policy.dryRun();
            try {
                apply(neh, reading, node, d, reserved, now);
            } catch (RuntimeException e) {
                if (reserved) {
                    // its write may have landed: the slot is held until the cache tells (never freed on a guess)
                    fleet.settle(name, Fleet.Outcome.Ambiguous, null);
                }
                throw e;
            }
            metrics.set("execguard_nodes_held", fleet.markedAll());
            return UpdateControl.<NodeExecHealth>noUpdate().rescheduleAfter(next(d, policy, now));
        } finally {
            metrics.inc("execguard_reconciles_total");
            metrics.add("execguard_reconcile_seconds_total", (System.nanoTime() - t0) / 1e9);
            Fleet.BuildStats b = fleet.buildStats();
            metrics.set("execguard_fleet_snapshots_total", b.builds());
            metrics.set("execguard_fleet_snapshot_seconds_total", b.seconds());
        }
    }

    /** Adds the time since {@code since} to a phase; returns now, the start of the next phase. */
    private long phase(String name, long since) {
        long now = System.nanoTime();
        metrics.add("execguard_reconcile_phase_seconds_total", (now - since) / 1e9, "phase", name);
        return now;
    }

    private void apply(NodeExecHealth neh, ReportReading reading, Node node, Decision d, boolean reserved,
                       Instant now) {
        String message = message(neh, reading, d);
        String phase = d.phaseOverride() != null ? d.phaseOverride().name()
                : neh.getStatus() == null || neh.getStatus().getPhase() == null ? "Unknown"
                : neh.getStatus().getPhase().name();
        long t = System.nanoTime();
        NodeWriter.Result written = nodeWriter.apply(node, n -> NodePlan.plan(n, d, phase, message, now.toString()));
        t = phase("node", t);
        if (reserved) {
            fleet.settle(node.getMetadata().getName(), written.outcome(), written.writtenRv());
        }
        if (written.changed() && written.node() != null) {
            nodes.handleRecentResourceUpdate(ResourceID.fromResource(node), NodeStripper.strip(written.node()), node);
        }
        if (d.suppressed() != null && d.wanted() != d.action()) {
            metrics.inc("execguard_suppressed_total", "reason", d.suppressed().value());
        }
        written.applied().forEach(what -> metrics.inc("execguard_actions_total", "kind", what.split(" ")[0]));
        boolean recorded;
        try {
            recorded = reports.record(neh, d, now);
        } catch (KubernetesClientException e) {
            LOG.warn("node {}: cannot record the decision on its report ({}): {}", neh.getMetadata().getName(),
                    e.getCode(), e.getMessage());
            recorded = false;
        }
        t = phase("report", t);
        try {
            event(node, d, written, recorded, phase, message, now);
        } finally {
            phase("event", t);
        }
    }

    private void event(Node node, Decision d, NodeWriter.Result written, boolean recorded, String phase,
                       String message, Instant now) {
        if (d.suppressed() == Suppression.Incident) {
            return; // one Event per incident, on its policy, not one per node
        }
        if (written.applied().stream().anyMatch(NodeExecHealthReconciler::marks)) {
            events.record(node, d.action() == Action.None ? EventRecorder.Type.Normal : EventRecorder.Type.Warning,
                    d.action() == Action.None ? "ExecGuardReleased" : "ExecGuard" + d.action(),
                    String.join(", ", written.applied()) + " (" + d.reason() + ")" + suppressedText(d));
        } else if (recorded && d.suppressed() == Suppression.DryRun) {
            Decision asIf = new Decision(d.wanted(), d.action(), d.reason(), d.suppressed(), d.phaseOverride(),
                    d.since(), d.healthySince(), true, d.incident(), d.needsSlot());
            NodePlan would = NodePlan.plan(node, asIf, phase, message, now.toString());
            if (!would.isEmpty()) {
                events.record(node, EventRecorder.Type.Normal, "ExecGuardDryRun", "[dry run] would have "
                        + String.join(", ", would.describe()) + " (" + d.reason() + ")");
            }
        }
    }

    /** A policy update that can change decisions: its spec or generation, or its deletion mark. */
    static boolean specChanged(ExecHealthPolicy now, ExecHealthPolicy before) {
        return !java.util.Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
                || !java.util.Objects.equals(now.getMetadata().getDeletionTimestamp(),
                        before.getMetadata().getDeletionTimestamp())
                || !java.util.Objects.equals(now.getSpec(), before.getSpec());
    }

    /** A change other tools see (condition, taint, cordon) is worth an Event; an annotation alone is not. */
    private static boolean marks(String change) {
        return !change.equals("annotated") && !change.equals("removed annotations");
    }

    private static String suppressedText(Decision d) {
        return d.suppressed() == null ? "" : "; wanted " + d.wanted() + ", suppressed: " + d.suppressed().value();
    }

    /** Look again at the resync, or just after releaseAfter when a step-down is due sooner. */
    private Duration next(Decision d, DecisionInput.Policy policy, Instant now) {
        Duration next = config.resync();
        if (d.healthySince() != null) {
            Duration left = policy.releaseAfter().minus(Duration.between(d.healthySince(), now));
            next = left.isNegative() ? Duration.ofSeconds(1) : min(next, left.plusSeconds(1));
        }
        return next;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static String message(NodeExecHealth neh, ReportReading reading, Decision d) {
        if (!reading.invalid().isEmpty()) {
            return "The execguard report of this node cannot be read (" + reading.invalid().get(0).field() + ").";
        }
        if (d.suppressed() == Suppression.Stale) {
            return "The execguard probe on this node has not reported recently.";
        }
        var fs = neh.getStatus() == null || neh.getStatus().getFindings() == null ? List.<io.execguard.api.ReportedFinding>of()
                : neh.getStatus().getFindings();
        return fs.isEmpty() ? "No stuck exec or kill." : fs.get(0).getMessage();
    }

    static Map<String, String> labels(Node n) {
        return n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
    }
}
