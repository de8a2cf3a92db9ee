package io.execguard.probe;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.fabric8.kubernetes.api.model.Condition;

import io.execguard.api.ConditionTypes;
import io.execguard.api.FindingSummary;
import io.execguard.api.HostStatus;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.NodeRepair;
import io.execguard.api.Phase;
import io.execguard.api.ReportedFinding;
import io.execguard.detect.Finding;
import io.execguard.probe.kube.KubeApi;
import io.execguard.probe.kube.KubeApiException;
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

    static final String NEH_PATH = "/apis/" + NodeExecHealth.GROUP + "/" + NodeExecHealth.VERSION + "/"
            + NodeExecHealth.PLURAL;
    /** Every field of the status the probe owns: all but {@code remediation}, the controller's. */
    static final List<String> PROBE_FIELDS = List.of("phase", "conditions", "summary", "findings",
            "findingsTruncated", "host", "lastProbeTime", "probeVersion", "scanDurationMillis", "tasksScanned",
            "observedScanCount", "repairs");

    private final KubeApi api;
    private final String nodeName;
    private final String probeVersion;
    private final Map<String, Condition> lastConditions = new HashMap<>();
    private boolean conditionsSeeded;
    private Known cached;

    /** What the probe keeps of its NodeExecHealth: its uid and its Node's uid (from the owner reference). */
    private record Known(String uid, String nodeUid, JsonNode conditions) {
    }

    public KubeStatusWriter(KubeApi api, String nodeName, String probeVersion) {
        this.api = api;
        this.nodeName = nodeName;
        this.probeVersion = probeVersion;
    }

    @Override
    public void write(ProbeReport report, Instant probeTime) {
        Known current = ensureExists();
        if (!conditionsSeeded) {
            conditionsSeeded = true;
            for (JsonNode c : current.conditions()) {
                Condition prev = new Condition();
                prev.setType(c.path("type").asText());
                prev.setStatus(c.path("status").asText(null));
                prev.setLastTransitionTime(c.path("lastTransitionTime").asText(null));
                lastConditions.put(prev.getType(), prev);
            }
        }
        try {
            patchStatus(report, probeTime);
        } catch (KubeApiException e) {
            if (e.code() != 404) {
                throw e;
            }
            // deleted under us (or the API server lost it): recreate and write once more
            cached = null;
            ensureExists();
            patchStatus(report, probeTime);
        }
    }

    /**
     * Read-modify-write of the probe's fields, as before with fabric8's {@code editStatus}: the current object is
     * read and a JSON patch (RFC 6902) of the status subresource sets every probe-owned field and removes those
     * the probe now has no value for; {@code remediation} is never in it, so the controller's decision is left
     * as the server has it.
     */
    private void patchStatus(ProbeReport report, Instant probeTime) {
        JsonNode current = api.get(NEH_PATH + "/" + nodeName);
        if (current == null) {
            throw new KubeApiException(404, "NodeExecHealth " + nodeName + " not found");
        }
        api.jsonPatch(NEH_PATH + "/" + nodeName + "/status", jsonPatch(current.get("status"),
                probeStatus(report, probeTime)));
    }

    /** The probe-owned fields of the status for this report, as JSON (absent: no value). */
    ObjectNode probeStatus(ProbeReport report, Instant probeTime) {
        NodeExecHealthStatus status = new NodeExecHealthStatus();
        fill(status, report, probeTime);
        ObjectNode s = api.json().valueToTree(status);
        s.remove("remediation");
        return s;
    }

    /** The operations that turn {@code current} (null: no status yet) into one with {@code desired}'s probe fields. */
    ArrayNode jsonPatch(JsonNode current, ObjectNode desired) {
        ArrayNode ops = api.json().createArrayNode();
        boolean hasStatus = current != null && current.isObject();
        if (!hasStatus) {
            ops.addObject().put("op", "add").put("path", "/status").putObject("value");
        }
        for (String f : PROBE_FIELDS) {
            JsonNode v = desired.get(f);
            if (v != null && !v.isNull()) {
                ops.addObject().put("op", "add").put("path", "/status/" + f).set("value", v);
            } else if (hasStatus && current.has(f)) {
                ops.addObject().put("op", "remove").put("path", "/status/" + f);
            }
        }
        return ops;
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
        Condition c = new Condition();
        c.setType(type);
        c.setStatus(status);
        c.setReason(reason);
        c.setMessage(message);
        c.setLastTransitionTime(since);
        lastConditions.put(type, c);
        return c;
    }

    private Known ensureExists() {
        if (cached != null) {
            return cached;
        }
        JsonNode existing = api.get(NEH_PATH + "/" + nodeName);
        if (existing == null) {
            JsonNode node = api.get("/api/v1/nodes/" + nodeName);
            if (node == null) {
                // the Node was deleted (a DaemonSet pod only starts on a registered node): a report without its
                // owner reference would outlive the node forever, so none is written; the publisher retries
                throw new NodeMissingException(nodeName);
            }
            existing = api.create(NEH_PATH, forNode(nodeName, node.path("metadata").path("uid").asText()));
            LOG.info("node {}: created NodeExecHealth", nodeName);
        }
        String nodeUid = null;
        for (JsonNode o : existing.path("metadata").path("ownerReferences")) {
            if ("Node".equals(o.path("kind").asText())) {
                nodeUid = o.path("uid").asText(null);
                break;
            }
        }
        cached = new Known(existing.path("metadata").path("uid").asText(null), nodeUid,
                existing.path("status").path("conditions"));
        return cached;
    }

    /**
     * {@link NodeExecHealth#forNode} as JSON: named after the node, {@code spec.nodeName}, owned by the Node
     * (no blockOwnerDeletion: that would need delete permission on Nodes).
     */
    ObjectNode forNode(String name, String nodeUid) {
        ObjectNode neh = api.json().createObjectNode();
        neh.put("apiVersion", NodeExecHealth.GROUP + "/" + NodeExecHealth.VERSION).put("kind", NodeExecHealth.KIND);
        ObjectNode meta = neh.putObject("metadata").put("name", name);
        meta.putArray("ownerReferences").addObject().put("apiVersion", "v1").put("kind", "Node").put("name", name)
                .put("uid", nodeUid);
        neh.putObject("spec").put("nodeName", name);
        return neh;
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
        Known neh = cached;
        emit(ref("v1", "Node", neh == null ? null : neh.nodeUid()), reason, message, warning, when, id);
        if (neh != null) {
            emit(ref(NodeExecHealth.GROUP + "/" + NodeExecHealth.VERSION, NodeExecHealth.KIND, neh.uid()), reason,
                    message, warning, when, id);
        }
    }

    private ObjectNode ref(String apiVersion, String kind, String uid) {
        ObjectNode r = api.json().createObjectNode().put("apiVersion", apiVersion).put("kind", kind)
                .put("name", nodeName);
        if (uid != null) {
            r.put("uid", uid);
        }
        return r;
    }

    private void emit(ObjectNode ref, String reason, String message, boolean warning, Instant when, String id) {
        String name = nodeName + "." + Integer.toHexString((ref.path("kind").asText() + id + reason + when).hashCode());
        ObjectNode ev = api.json().createObjectNode().put("apiVersion", "v1").put("kind", "Event");
        ev.putObject("metadata").put("name", name).put("namespace", EVENT_NAMESPACE);
        ev.set("involvedObject", ref);
        ev.put("reason", reason).put("message", truncate(message, 1024)).put("type", warning ? "Warning" : "Normal")
                .put("firstTimestamp", when.toString()).put("lastTimestamp", when.toString()).put("count", 1);
        ev.putObject("source").put("component", COMPONENT).put("host", nodeName);
        try {
            api.create("/api/v1/namespaces/" + EVENT_NAMESPACE + "/events", ev);
        } catch (KubeApiException e) {
            if (e.code() != 409) {
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
