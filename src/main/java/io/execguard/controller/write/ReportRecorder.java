package io.execguard.controller.write;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

import io.execguard.api.ConditionStatus;
import io.execguard.api.ConditionTypes;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.Phase;
import io.execguard.api.RemediationStatus;
import io.execguard.controller.decide.Decision;
import io.execguard.probe.Metrics;

/**
 * Writes the operator's part of a report — {@code status.remediation}, and for a stale report its phase and
 * conditions as Unknown — as a JSON patch of the status subresource under the field manager
 * {@value #FIELD_MANAGER}, and only when it differs from what the report (as cached) already says. The patch
 * names only those paths, so the probe's fields are never overwritten; the admission policy keeps the probe off
 * {@code status.remediation}. (A patch rather than server-side apply: an apply that later omits a field it once
 * set — phase, after a stale report — would delete it.)
 */
public final class ReportRecorder {

    public static final String FIELD_MANAGER = "execguard-operator";

    private final KubernetesClient client;
    private final Metrics metrics;

    public ReportRecorder(KubernetesClient client, Metrics metrics) {
        this.client = client;
        this.metrics = metrics;
    }

    private static Map<String, Object> op(String op, String path, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", op);
        m.put("path", path);
        m.put("value", value);
        return m;
    }

    /** What "nothing to do" records; an absent remediation means the same. */
    static final RemediationStatus NOTHING = new RemediationStatus(io.execguard.api.Action.None, null, "Healthy", null);

    /** The remediation a decision records. */
    public static RemediationStatus remediation(Decision d) {
        return new RemediationStatus(d.action(), d.since() == null ? null : d.since().toString(), d.reason(),
                d.suppressed(), d.healthySince() == null ? null : d.healthySince().toString());
    }

    /** Writes when needed; returns whether it wrote. */
    public boolean record(NodeExecHealth cached, Decision d, Instant now) {
        RemediationStatus want = remediation(d);
        NodeExecHealthStatus s = cached.getStatus();
        boolean stale = d.phaseOverride() == Phase.Unknown;
        boolean markStale = stale && (s == null || s.getPhase() != Phase.Unknown);
        if (s != null && Objects.equals(s.getRemediation(), want) && !markStale) {
            return false;
        }
        if (!markStale && (s == null || s.getRemediation() == null) && want.equals(NOTHING)) {
            return false; // a healthy node that never had a decision: absent says the same, no write for it
        }
        List<Map<String, Object>> ops = new ArrayList<>();
        if (markStale && cached.getMetadata().getResourceVersion() != null) {
            // marking stale overwrites the probe's phase: only against the report as read (409 if it just wrote)
            ops.add(op("replace", "/metadata/resourceVersion", cached.getMetadata().getResourceVersion()));
        }
        if (s == null) {
            ops.add(op("add", "/status", Map.of("remediation", want)));
        } else {
            ops.add(op("add", "/status/remediation", want));
        }
        if (markStale) {
            List<Map<String, Object>> conds = new ArrayList<>();
            String since = s == null || s.getLastProbeTime() == null ? "ever" : s.getLastProbeTime();
            for (String type : List.of(ConditionTypes.EXEC_HEALTHY, ConditionTypes.KILL_HEALTHY,
                    ConditionTypes.PROBE_REPORTING)) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("type", type);
                c.put("status", ConditionStatus.Unknown.name());
                c.put("reason", "ProbeNotReporting");
                c.put("message", "No report from the probe since " + since + ".");
                c.put("lastTransitionTime", now.toString());
                conds.add(c);
            }
            ops.add(op("add", "/status/phase", Phase.Unknown));
            ops.add(op("add", "/status/conditions", conds));
        }
        client.resources(NodeExecHealth.class).resource(PatchTarget.report(cached.getMetadata().getName()))
                .subresource("status") // resource(): no GET first
                .patch(new PatchContext.Builder().withPatchType(PatchType.JSON).withFieldManager(FIELD_MANAGER)
                        .build(), client.getKubernetesSerialization().asJson(ops));
        metrics.inc("execguard_node_writes_total", "object", "nodeexechealth");
        return true;
    }
}
