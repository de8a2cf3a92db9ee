package io.execguard.controller.write;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

import io.execguard.api.ConditionStatus;
import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.ExecHealthPolicyStatus;
import io.execguard.api.Incident;
import io.execguard.api.PolicyResolver;
import io.execguard.controller.fleet.Fleet;
import io.execguard.controller.fleet.PublishedIncidents;
import io.execguard.detect.Cause;
import io.execguard.probe.Metrics;

/**
 * The policies' status — observedGeneration, nodesHeld, incidents and the conditions Ready, Suppressing and
 * Overlapping — computed from a fleet snapshot and written (a JSON patch of the status subresource, field manager
 * {@value ReportRecorder#FIELD_MANAGER}; every field the operator owns is in it) only when it changed; one Event per incident that is new or changed and
 * one when the storm guard starts holding back.
 */
public final class PolicyStatusRecorder {

    public static final String READY = "Ready";
    public static final String SUPPRESSING = "Suppressing";
    public static final String OVERLAPPING = "Overlapping";
    private static final Logger LOG = LoggerFactory.getLogger(PolicyStatusRecorder.class);

    private final KubernetesClient client;
    private final EventRecorder events;
    private final Metrics metrics;
    private final PublishedIncidents published = new PublishedIncidents();
    private final Map<String, ExecHealthPolicyStatus> written = new HashMap<>();
    private final Map<String, String> incidentSince = new HashMap<>();
    private long publishedSnapshot = Long.MIN_VALUE;

    public PolicyStatusRecorder(KubernetesClient client, EventRecorder events, Metrics metrics) {
        this.client = client;
        this.events = events;
        this.metrics = metrics;
    }

    /** Publishes what a snapshot says, once per snapshot. */
    public void publish(Fleet.Snapshot snap, Fleet fleet) {
        synchronized (this) {
            if (snap.builtAt() == publishedSnapshot) {
                return;
            }
            publishedSnapshot = snap.builtAt();
        }
        for (Fleet.PolicyStats stats : snap.policies().values()) {
            try {
                publish(snap, fleet, stats);
            } catch (RuntimeException e) {
                LOG.warn("policy {}: cannot publish its status: {}", stats.key(), e.toString());
            }
        }
    }

    private void publish(Fleet.Snapshot snap, Fleet fleet, Fleet.PolicyStats stats) {
        String key = stats.key();
        Map<String, Set<String>> incidents = new TreeMap<>();
        int min = stats.reading().limits().incidentNodes();
        snap.incidents().forEach((k, nodes) -> {
            if (nodes.size() < min) {
                return;
            }
            Set<String> ours = nodes.stream().filter(n -> snap.nodes().containsKey(n)
                    && key.equals(snap.nodes().get(n).policyKey())).collect(Collectors.toCollection(TreeSet::new));
            if (!ours.isEmpty()) {
                incidents.put(k, ours);
            }
        });
        ExecHealthPolicy policy = stats.policy();
        String at = snap.at().toString();
        published.update(key.isEmpty() ? PublishedIncidents.NO_POLICY : key, incidents).ifPresent(change -> {
            for (String k : change.added()) {
                int i = k.indexOf('@');
                String msg = "Nodes fail with " + k.substring(0, i) + " on the same backend " + k.substring(i + 1)
                        + ": one incident, not bad nodes; execguard marks none of them anew (status.incidents lists "
                        + "them)";
                if (policy != null) {
                    events.record(policy, EventRecorder.Type.Warning, "SharedBackendIncident", msg);
                } else {
                    LOG.warn("incident (nodes no policy selects): {}", msg);
                }
            }
        });
        if (policy == null) {
            return;
        }
        int held = fleet.marked(key);
        List<Incident> list = new ArrayList<>();
        synchronized (this) {
            incidentSince.keySet().removeIf(k -> k.startsWith(key + "/") && !incidents.containsKey(k.substring(key.length() + 1)));
            incidents.forEach((k, nodes) -> {
                int i = k.indexOf('@');
                String since = incidentSince.computeIfAbsent(key + "/" + k, x -> at);
                list.add(new Incident(Cause.valueOf(k.substring(0, i)), k.substring(i + 1), new ArrayList<>(nodes),
                        since));
            });
        }
        ExecHealthPolicyStatus cached = policy.getStatus();
        List<Condition> conds = List.of(
                ready(stats, cached, at), suppressing(stats, incidents, held, cached, at), overlapping(stats, cached, at));
        ExecHealthPolicyStatus want = new ExecHealthPolicyStatus();
        want.setObservedGeneration(policy.getMetadata().getGeneration());
        want.setNodesHeld(held);
        want.setIncidents(list);
        want.setConditions(conds);
        synchronized (this) {
            if (want.equals(written.get(key)) || want.equals(cached)) {
                written.put(key, want);
                return;
            }
        }
        boolean wasSuppressing = cached != null && cached.getConditions() != null && cached.getConditions().stream()
                .anyMatch(c -> SUPPRESSING.equals(c.getType()) && "True".equals(c.getStatus()));
        Condition sup = conds.get(1);
        if ("True".equals(sup.getStatus()) && !wasSuppressing) {
            events.record(policy, EventRecorder.Type.Warning, "ExecGuardSuppressing", sup.getMessage());
        }
        // the whole status is the operator's: replaced as one value
        List<Map<String, Object>> body = List.of(Map.of("op", "add", "path", "/status", "value", want));
        try {
            client.resources(ExecHealthPolicy.class).resource(policy).subresource("status") // resource(): no GET first
                    .patch(new PatchContext.Builder().withPatchType(PatchType.JSON)
                            .withFieldManager(ReportRecorder.FIELD_MANAGER).build(),
                            client.getKubernetesSerialization().asJson(body));
            metrics.inc("execguard_node_writes_total", "object", "exechealthpolicy");
            synchronized (this) {
                written.put(key, want);
            }
        } catch (KubernetesClientException e) {
            LOG.warn("cannot update status of ExecHealthPolicy {}: {}", key, e.toString());
        }
    }

    private static Condition ready(Fleet.PolicyStats s, ExecHealthPolicyStatus cached, String at) {
        if (s.reading().invalid().isEmpty()) {
            return condition(cached, READY, ConditionStatus.True, "Valid", "The spec is valid and applied to "
                    + s.selected() + " nodes.", at);
        }
        return condition(cached, READY, ConditionStatus.False, "InvalidSpec", "Cannot read "
                + s.reading().invalid().stream().map(f -> f.describe()).collect(Collectors.joining("; "))
                + ": no node is newly marked or released until it is fixed.", at);
    }

    private static Condition suppressing(Fleet.PolicyStats s, Map<String, Set<String>> incidents, int held,
                                         ExecHealthPolicyStatus cached, String at) {
        var l = s.reading().limits();
        if (s.storm()) {
            return condition(cached, SUPPRESSING, ConditionStatus.True, "FleetStorm", s.failing() + " of " + s.selected()
                    + " nodes are failing, more than stormGuard.maxFailing allows (" + l.maxFailing()
                    + "): the failure is not the nodes'; no node is newly marked.", at);
        }
        if (!incidents.isEmpty()) {
            return condition(cached, SUPPRESSING, ConditionStatus.True, "SharedBackendIncident", incidents.size()
                    + " incident(s) (one backend failing on several nodes): their nodes are not newly marked.", at);
        }
        if (s.failing() > held && held >= l.maxMarked()) {
            return condition(cached, SUPPRESSING, ConditionStatus.True, "MaxUnhealthy", held
                    + " nodes are marked, the most maxUnhealthy allows; " + (s.failing() - held)
                    + " more failing nodes are not newly marked (their reports say suppressed: maxUnhealthy).", at);
        }
        return condition(cached, SUPPRESSING, ConditionStatus.False, "WithinLimits", held + " of at most "
                + l.maxMarked() + " nodes marked.", at);
    }

    private static Condition overlapping(Fleet.PolicyStats s, ExecHealthPolicyStatus cached, String at) {
        if (s.overlapping().isEmpty()) {
            return condition(cached, OVERLAPPING, ConditionStatus.False, "NoOverlap",
                    "No other policy selects its nodes.", at);
        }
        String others = s.overlapping().entrySet().stream().map(e -> e.getKey() + " (" + e.getValue() + " nodes)")
                .collect(Collectors.joining(", "));
        return condition(cached, OVERLAPPING, ConditionStatus.True, "OverlappingSelectors", "Shares nodes with "
                + others + "; on a shared node the policy first by name applies.", at);
    }

    private static Condition condition(ExecHealthPolicyStatus cached, String type, ConditionStatus status,
                                       String reason, String message, String at) {
        String since = at;
        if (cached != null && cached.getConditions() != null) {
            for (Condition c : cached.getConditions()) {
                if (type.equals(c.getType()) && status.name().equals(c.getStatus())
                        && c.getLastTransitionTime() != null) {
                    since = c.getLastTransitionTime();
                }
            }
        }
        return new ConditionBuilder().withType(type).withStatus(status.name()).withReason(reason).withMessage(message)
                .withLastTransitionTime(since).build();
    }
}
