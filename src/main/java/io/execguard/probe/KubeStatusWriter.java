package io.execguard.probe;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import io.execguard.api.ConditionTypes;
import io.execguard.api.FindingSummary;
import io.execguard.api.HostStatus;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.NodeRepair;
import io.execguard.api.Phase;
import io.execguard.api.ReportedFinding;
import io.execguard.detect.Finding;
import io.execguard.repair.Repair;
import io.execguard.repair.RepairAction;

/**
 * Writes a node's {@link ProbeReport} into {@code NodeExecHealth/<node>.status}, changing the
 * probe's own fields only, so the controller's {@code status.remediation} is never
 * overwritten. Creates the resource (owned by its Node) when it is missing, and never without its Node: while
 * the Node does not exist every write fails with {@link NodeMissingException}. Conditions keep their
 * {@code lastTransitionTime} while their status is unchanged.
 */
public final class KubeStatusWriter implements StatusWriter {

    private static final Logger LOG = LoggerFactory.getLogger(KubeStatusWriter.class);
    static final String EVENT_NAMESPACE = "default";
    static final String COMPONENT = "execguard-probe";

    private final KubernetesClient client;
    private final String nodeName;
    private final String probeVersion;
    private Map<String, Condition> lastConditions;
    private NodeExecHealth cached;

    public KubeStatusWriter(KubernetesClient client, String nodeName, String probeVersion) {
        this.client = client;
        this.nodeName = nodeName;
        this.probeVersion = probeVersion;
    }

    @Override
    public void write(ProbeReport report, Instant probeTime) {
        NodeExecHealth current = ensureExists();
        if (lastConditions == null) {
            lastConditions = new HashMap<>();
            if (current.getStatus() != null && current.getStatus().getConditions() != null) {
                current.getStatus().getConditions().forEach(c -> lastConditions.put(c.getType(), c));
            }
        }
        try {
            patchStatus(report, probeTime);
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw e;
            }
            // deleted under us (or the API server lost it): recreate and write once more
            cached = null;
            ensureExists();
            patchStatus(report, probeTime);
        }
    }

    /**
     * Read-modify-write of the probe's fields: fabric8 sends the difference as a JSON patch, so the
     * controller's {@code remediation} is left as the server has it.
     */
    private void patchStatus(ProbeReport report, Instant probeTime) {
        for (int attempt = 1; ; attempt++) {
            try {
                client.resources(NodeExecHealth.class).withName(nodeName).editStatus(neh -> {
                    NodeExecHealthStatus status = neh.getStatus() == null ? new NodeExecHealthStatus() : neh.getStatus();
                    fill(status, report, probeTime);
                    neh.setStatus(status);
                    return neh;
                });
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == 3) {
                    throw e; // 409: the controller wrote remediation in between; read again and retry
                }
            }
        }
    }

    /** Sets every probe-owned field of the status; remediation is not touched. */
    void fill(NodeExecHealthStatus s, ProbeReport r, Instant probeTime) {
        List<ReportedFinding> findings = new ArrayList<>();
        for (ProbeReport.Item i : r.findings()) {
            ReportedFinding rf = ReportedFinding.from(i.tracked().finding(), i.tracked().id(), i.tracked().firstSeen());
            if (i.pod() != null) {
                rf.setPod(i.pod().namespace(), i.pod().name(), i.pod().container());
            }
            findings.add(rf);
        }
        List<Condition> conditions = List.of(
                condition(ConditionTypes.EXEC_HEALTHY, r, true, probeTime),
                condition(ConditionTypes.KILL_HEALTHY, r, false, probeTime),
                condition(ConditionTypes.PROBE_REPORTING, "True", "ScanSucceeded",
                        "Scanned " + r.tasksScanned() + " tasks in " + r.scanDurationMillis() + " ms.", probeTime));
        s.setPhase(Phase.valueOf(r.phase()));
        s.setConditions(conditions);
        s.setFindings(findings);
        s.setFindingsTruncated(r.truncated() ? Boolean.TRUE : null);
        s.setSummary(new FindingSummary(r.summary().stuckExec(), r.summary().stuckKill(), r.summary().byType(),
                r.summary().topCause()));
        s.setHost(r.host() == null ? null : HostStatus.from(r.host()));
        s.setLastProbeTime(probeTime.toString());
        s.setProbeVersion(probeVersion);
        s.setScanDurationMillis(r.scanDurationMillis());
        s.setTasksScanned(r.tasksScanned());
        s.setObservedScanCount(r.scanCount() > 0 ? r.scanCount() : null);
        s.setRepairs(r.repairs().isEmpty() ? null : r.repairs().stream().map(KubeStatusWriter::toStatus).toList());
    }

    private Condition condition(String type, ProbeReport r, boolean exec, Instant now) {
        List<Finding> hits = r.findings().stream().map(i -> i.tracked().finding())
                .filter(f -> exec ? f.type().breaksExec() : f.type().breaksKill()).toList();
        if (hits.isEmpty()) {
            return condition(type, "True", exec ? "ExecWorks" : "KillWorks",
                    exec ? "No stuck exec found." : "No stuck kill found.", now);
        }
        Finding top = hits.get(0);
        return condition(type, "False", top.type().name(), top.message(), now);
    }

    private Condition condition(String type, String status, String reason, String message, Instant now) {
        Condition prev = lastConditions.get(type);
        String since = prev != null && status.equals(prev.getStatus()) && prev.getLastTransitionTime() != null
                ? prev.getLastTransitionTime() : now.toString();
        Condition c = new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage(message)
                .withLastTransitionTime(since).build();
        lastConditions.put(type, c);
        return c;
    }

    private NodeExecHealth ensureExists() {
        if (cached != null) {
            return cached;
        }
        var resources = client.resources(NodeExecHealth.class);
        NodeExecHealth existing = resources.withName(nodeName).get();
        if (existing == null) {
            Node node = client.nodes().withName(nodeName).get();
            if (node == null) {
                // the Node was deleted (a DaemonSet pod only starts on a registered node): a report without its
                // owner reference would outlive the node forever, so none is written; the publisher retries
                throw new NodeMissingException(nodeName);
            }
            existing = resources.resource(NodeExecHealth.forNode(node)).create();
            LOG.info("node {}: created NodeExecHealth", nodeName);
        }
        cached = existing;
        return existing;
    }

    @Override
    public void event(ProbeReport.Item item, boolean appeared, Instant when) {
        Finding f = item.tracked().finding();
        String reason = appeared ? "Critical" + f.type() : f.type() + "Cleared";
        String message = appeared ? f.message() : f.type() + " (" + f.cause() + ") cleared: " + item.tracked().id();
        emitOnBoth(reason, message, appeared, when, item.tracked().id());
    }

    static NodeRepair toStatus(Repair r) {
        RepairAction a = r.action();
        return new NodeRepair(r.time().toString(), a.kind().name(), a.target(), r.result().name(), a.reason(),
                r.detail(), a.containerId(), a.findingIds());
    }

    @Override
    public void repairEvent(Repair repair) {
        RepairAction a = repair.action();
        String reason = switch (repair.result()) {
            case Done -> "Repair" + a.kind();
            case DryRun -> "DryRun" + a.kind();
            case Failed -> "RepairFailed" + a.kind();
        };
        String message = (repair.result() == Repair.Result.DryRun ? "[dry run] would have done " : "")
                + a.kind() + " on " + a.target() + ": " + a.reason() + ". " + repair.detail();
        boolean warning = repair.result() != Repair.Result.DryRun;
        emitOnBoth(reason, message, warning, repair.time(), "repair-" + repair.seq() + "-" + a.key());
    }

    /** One Event on the Node and one on this node's NodeExecHealth (once it is known). */
    private void emitOnBoth(String reason, String message, boolean warning, Instant when, String id) {
        emit(nodeRef(), reason, message, warning, when, id);
        NodeExecHealth neh = cached;
        if (neh != null) {
            emit(new ObjectReferenceBuilder().withApiVersion(neh.getApiVersion()).withKind(NodeExecHealth.KIND)
                    .withName(nodeName).withUid(neh.getMetadata().getUid()).build(), reason, message, warning, when,
                    id);
        }
    }

    private ObjectReference nodeRef() {
        NodeExecHealth neh = cached;
        String nodeUid = neh == null || neh.getMetadata().getOwnerReferences() == null ? null
                : neh.getMetadata().getOwnerReferences().stream().filter(o -> "Node".equals(o.getKind()))
                    .map(io.fabric8.kubernetes.api.model.OwnerReference::getUid).findFirst().orElse(null);
        return new ObjectReferenceBuilder().withApiVersion("v1").withKind("Node").withName(nodeName)
                .withUid(nodeUid).build();
    }

    private void emit(ObjectReference ref, String reason, String message, boolean warning, Instant when, String id) {
        String name = nodeName + "." + Integer.toHexString((ref.getKind() + id + reason + when).hashCode());
        Event ev = new EventBuilder().withNewMetadata().withName(name).withNamespace(EVENT_NAMESPACE).endMetadata()
                .withInvolvedObject(ref).withReason(reason).withMessage(truncate(message, 1024))
                .withType(warning ? "Warning" : "Normal").withFirstTimestamp(when.toString())
                .withLastTimestamp(when.toString()).withCount(1)
                .withNewSource().withComponent(COMPONENT).withHost(nodeName).endSource().build();
        try {
            client.v1().events().inNamespace(EVENT_NAMESPACE).resource(ev).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
        }
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }

    /** The probe's Node does not exist (deleted): its report is not (re)created, the write is retried later. */
    public static final class NodeMissingException extends IllegalStateException {
        NodeMissingException(String nodeName) {
            super("Node " + nodeName + " not found: not creating a NodeExecHealth without its owner (it would outlive "
                    + "the node)");
        }
    }
}
