package io.execguard.controller;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.ExecHealthPolicyStatus;
import io.execguard.api.Incident;
import io.execguard.detect.Cause;

/** Events for what the operator did to Nodes, and incident reports on the policy. Failures are logged, never fatal. */
final class NodeEvents {

    private static final Logger LOG = LoggerFactory.getLogger(NodeEvents.class);
    private static final String NAMESPACE = "default";
    private static final String COMPONENT = "execguard-operator";

    private final KubernetesClient client;

    NodeEvents(KubernetesClient client) {
        this.client = client;
    }

    void nodeChanged(Node node, NodePlan plan, Decision d, boolean dryRun) {
        String what = String.join(", ", plan.describe());
        boolean release = d.action() == io.execguard.api.Action.None;
        String msg = (dryRun ? "[dry run] would have " : "") + what + " (" + d.reason() + ")"
                + (d.suppressed() != null ? "; wanted " + d.wanted() + ", suppressed: " + d.suppressed() : "");
        emit(node, release ? "ExecGuardReleased" : "ExecGuard" + d.action(), msg, release ? "Normal" : "Warning");
    }

    /** A Warning on an object the operator cannot fully use. */
    void invalid(HasMetadata about, String reason, String message) {
        emit(about, reason, message, "Warning");
    }

    /**
     * Writes the policy's incident list and held count; an Event (or, without a policy, a log line) only for
     * the incidents in {@code changed}.
     */
    void incidents(ExecHealthPolicy policy, Map<String, Set<String>> incidents, Set<String> changed, int held,
                   Instant now) {
        List<Incident> list = new ArrayList<>();
        for (var e : new java.util.TreeMap<>(incidents).entrySet()) {
            String key = e.getKey();
            int at = key.indexOf('@');
            List<String> nodes = new ArrayList<>(new TreeSet<>(e.getValue()));
            Incident i = new Incident(Cause.valueOf(key.substring(0, at)), key.substring(at + 1),
                    nodes.subList(0, Math.min(nodes.size(), Incident.MAX_NODES_LISTED)), now.toString());
            list.add(i);
            if (!changed.contains(key)) {
                continue;
            }
            if (policy != null) {
                emit(policy, "SharedBackendIncident", e.getValue().size() + " nodes fail with " + key.substring(0, at)
                        + " on the same backend " + key.substring(at + 1) + ": one incident, not "
                        + e.getValue().size() + " bad nodes", "Warning");
            } else {
                LOG.warn("incident: {} nodes fail with {}", e.getValue().size(), key);
            }
        }
        if (policy == null) {
            return;
        }
        try {
            client.resources(ExecHealthPolicy.class).withName(policy.getMetadata().getName()).editStatus(p -> {
                ExecHealthPolicyStatus st = p.getStatus() == null ? new ExecHealthPolicyStatus() : p.getStatus();
                st.setIncidents(list);
                st.setNodesHeld(held);
                st.setObservedGeneration(p.getMetadata().getGeneration());
                p.setStatus(st);
                return p;
            });
        } catch (KubernetesClientException e) {
            LOG.warn("cannot update status of ExecHealthPolicy {}: {}", policy.getMetadata().getName(), e.toString());
        }
    }

    private void emit(HasMetadata about, String reason, String message, String type) {
        String name = about.getMetadata().getName() + "." + Long.toHexString(System.nanoTime());
        var ev = new EventBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
                .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion(about.getApiVersion())
                        .withKind(about.getKind()).withName(about.getMetadata().getName())
                        .withUid(about.getMetadata().getUid()).build())
                .withReason(reason).withMessage(message).withType(type)
                .withFirstTimestamp(Instant.now().toString()).withLastTimestamp(Instant.now().toString()).withCount(1)
                .withNewSource().withComponent(COMPONENT).endSource().build();
        try {
            client.v1().events().inNamespace(NAMESPACE).resource(ev).create();
        } catch (KubernetesClientException e) {
            LOG.warn("cannot record event {} on {}: {}", reason, about.getMetadata().getName(), e.toString());
        }
    }
}
