package io.execguard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.execguard.kube.KubeCluster;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.FieldValidateable.Validation;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * The CRD schema (crd/) on the real API server: the samples and what our code writes are accepted,
 * on the main resource and through the status subresource, and every broken variant is refused
 * with the server's own status code and a message that names the field. Strict field validation
 * (what kubectl uses) on every write; {@link #withoutStrictValidationUnknownFieldsArePruned} shows
 * what the server does without it.
 */
class CrdSchemaKubeIT {

    private static final String PREFIX = "crdschemakubeit-";
    private static final String LABEL = "execguard.io/test";
    private static final KubernetesSerialization SERDE = new KubernetesSerialization();
    private static final String NEH_SAMPLE = "nodeexechealth-unhealthy.yaml";
    private static final String EHP_SAMPLE = "exechealthpolicy.yaml";
    private static final String API_VERSION = NodeExecHealth.GROUP + "/" + NodeExecHealth.VERSION;

    static KubeCluster cluster;
    static KubernetesClient admin;

    /** Where a write goes: the resource itself (create) or its status subresource (PUT .../status). */
    enum Target { MAIN, STATUS }

    /** The two kinds, with the sample of each. */
    enum Kind {
        NEH(NodeExecHealth.KIND, NEH_SAMPLE), EHP(ExecHealthPolicy.KIND, EHP_SAMPLE);

        final String kind;
        final String sample;

        Kind(String kind, String sample) {
            this.kind = kind;
            this.sample = sample;
        }
    }

    /** One row of the table: a broken variant of a sample, and what the server must answer. */
    record Broken(String what, Kind kind, Target target, Consumer<ObjectNode> breakIt, int code, String field,
                  String message) {
    }

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
    }

    @AfterAll
    static void close() {
        if (admin == null) {
            return;
        }
        for (Kind k : Kind.values()) {
            admin.genericKubernetesResources(API_VERSION, k.kind).withLabel(LABEL, "crdschemakubeit").delete();
        }
        admin.close();
    }

    // ---- the table ----

    static List<Broken> brokenVariants() {
        List<Broken> b = new ArrayList<>();
        // NodeExecHealth, main resource: spec
        b.add(new Broken("no spec", Kind.NEH, Target.MAIN, d -> d.remove("spec"), 422, "spec", "Required value"));
        b.add(new Broken("spec without nodeName", Kind.NEH, Target.MAIN, d -> at(d, "spec").remove("nodeName"), 422,
                "spec.nodeName", "Required value"));
        b.add(new Broken("nodeName is not metadata.name", Kind.NEH, Target.MAIN,
                d -> at(d, "spec").put("nodeName", "some-other-node"), 422, "spec.nodeName",
                "spec.nodeName must equal metadata.name"));
        b.add(new Broken("unknown spec field", Kind.NEH, Target.MAIN, d -> at(d, "spec").put("node", "x"), 400,
                null, "unknown field \"spec.node\""));
        // NodeExecHealth, status subresource: enums
        b.add(status("unknown phase", d -> at(d, "status").put("phase", "Sick"), "status.phase", "Unsupported value"));
        b.add(status("unknown finding type", d -> at(d, "status", "findings", "0").put("type", "StuckExec"),
                "status.findings[0].type", "Unsupported value"));
        b.add(status("unknown cause", d -> at(d, "status", "findings", "0").put("cause", "Gremlins"),
                "status.findings[0].cause", "Unsupported value"));
        b.add(status("unknown severity", d -> at(d, "status", "findings", "0").put("severity", "Fatal"),
                "status.findings[0].severity", "Unsupported value"));
        b.add(status("unknown scope", d -> at(d, "status", "findings", "0").put("scope", "Pod"),
                "status.findings[0].scope", "Unsupported value"));
        b.add(status("unknown condition status", d -> at(d, "status", "conditions", "0").put("status", "Maybe"),
                "status.conditions[0].status", "Unsupported value"));
        b.add(status("unknown remediation action", d -> at(d, "status", "remediation").put("action", "Drain"),
                "status.remediation.action", "Unsupported value"));
        b.add(status("unknown suppressed reason", d -> at(d, "status", "remediation").put("suppressed", "busy"),
                "status.remediation.suppressed", "Unsupported value"));
        b.add(status("unknown repair action", d -> at(d, "status", "repairs", "0").put("action", "Reboot"),
                "status.repairs[0].action", "Unsupported value"));
        b.add(status("unknown repair result", d -> at(d, "status", "repairs", "0").put("result", "Maybe"),
                "status.repairs[0].result", "Unsupported value"));
        // required fields
        b.add(status("finding without type", d -> at(d, "status", "findings", "2").remove("type"),
                "status.findings[2].type", "Required value"));
        b.add(status("finding without id", d -> at(d, "status", "findings", "1").remove("id"),
                "status.findings[1].id", "Required value"));
        b.add(status("finding without severity", d -> at(d, "status", "findings", "1").remove("severity"),
                "status.findings[1].severity", "Required value"));
        b.add(status("condition without type", d -> at(d, "status", "conditions", "1").remove("type"),
                "status.conditions[1].type", "Required value"));
        b.add(status("repair without time", d -> at(d, "status", "repairs", "0").remove("time"),
                "status.repairs[0].time", "Required value"));
        // every timestamp must be RFC 3339
        b.add(status("lastProbeTime in words", d -> at(d, "status").put("lastProbeTime", "yesterday"),
                "status.lastProbeTime", "must be of type date-time"));
        b.add(status("remediation.since with a space", d -> at(d, "status", "remediation")
                .put("since", "2026-11-23 10:05:20Z"), "status.remediation.since", "must be of type date-time"));
        b.add(status("lastTransitionTime without zone", d -> at(d, "status", "conditions", "1")
                .put("lastTransitionTime", "2026-11-23T10:05:12"), "status.conditions[1].lastTransitionTime",
                "must be of type date-time"));
        b.add(status("firstSeen as epoch seconds", d -> at(d, "status", "findings", "0")
                .put("firstSeen", "1795428161"), "status.findings[0].firstSeen", "must be of type date-time"));
        b.add(status("repair time with month 13", d -> at(d, "status", "repairs", "0")
                .put("time", "2026-13-23T10:05:33Z"), "status.repairs[0].time", "must be of type date-time"));
        // types, bounds, shapes
        b.add(status("age as text", d -> at(d, "status", "findings", "1").put("ageSeconds", "9m41s"),
                "status.findings[1].ageSeconds", "Invalid value"));
        b.add(status("pid as float", d -> at(d, "status", "findings", "1").put("pid", 1.5),
                "status.findings[1].pid", "Invalid value"));
        b.add(status("negative scan duration", d -> at(d, "status").put("scanDurationMillis", -1),
                "status.scanDurationMillis", "should be greater than or equal to 0"));
        b.add(status("byType value not a number", d -> at(d, "status", "summary", "byType").put("HungTask", "many"),
                "status.summary.byType.HungTask", "Invalid value"));
        b.add(status("kernelStack not a list", d -> at(d, "status", "findings", "0")
                .put("kernelStack", "ceph_mdsc_do_request"), "status.findings[0].kernelStack", "Invalid value"));
        b.add(status("more than 50 findings", d -> {
            ArrayNode f = (ArrayNode) d.get("status").get("findings");
            while (f.size() <= NodeExecHealthStatus.MAX_FINDINGS) {
                f.add(f.get(0).deepCopy());
            }
        }, "status.findings", "must have at most 50 items"));
        b.add(new Broken("unknown field in a finding", Kind.NEH, Target.STATUS,
                d -> at(d, "status", "findings", "0").put("podIp", "10.1.2.3"), 400, null,
                "unknown field \"status.findings[0].podIp\""));
        // ExecHealthPolicy, main resource: spec
        for (String v : List.of("abc", "150%", "10 %", "101%", "-1%", "5", "010%")) {
            b.add(policy("maxUnhealthy '" + v + "'", d -> at(d, "spec").put("maxUnhealthy", v), "spec.maxUnhealthy",
                    "must be a count (0, 5) or a percentage from 0% to 100%"));
        }
        b.add(policy("maxUnhealthy -1", d -> at(d, "spec").put("maxUnhealthy", -1), "spec.maxUnhealthy",
                "must be a count (0, 5) or a percentage from 0% to 100%"));
        b.add(policy("maxUnhealthy as a boolean", d -> at(d, "spec").put("maxUnhealthy", true), "spec.maxUnhealthy",
                "Invalid value"));
        b.add(policy("unknown ladder action", d -> at(d, "spec", "actions").put("nodeCritical", "Reboot"),
                "spec.actions.nodeCritical", "Unsupported value"));
        b.add(policy("releaseAfter in words", d -> at(d, "spec").put("releaseAfter", "5 minutes"),
                "spec.releaseAfter", "should match"));
        b.add(policy("pidsPercent over 100", d -> at(d, "spec", "thresholds").put("pidsPercent", 150),
                "spec.thresholds.pidsPercent", "should be less than or equal to 100"));
        b.add(policy("threshold as text", d -> at(d, "spec", "thresholds").put("hungTaskSeconds", "2m"),
                "spec.thresholds.hungTaskSeconds", "Invalid value"));
        b.add(policy("unknown type in unhealthyTypes", d -> ((ArrayNode) d.get("spec").get("unhealthyTypes"))
                .add("Slow"), "spec.unhealthyTypes[4]", "Unsupported value"));
        b.add(policy("nodeSelector value not a string", d -> at(d, "spec", "nodeSelector").put("zone", 3),
                "spec.nodeSelector.zone", "Invalid value"));
        b.add(policy("dryRun as text", d -> at(d, "spec").put("dryRun", "yes"), "spec.dryRun", "Invalid value"));
        b.add(policy("staleAfterHeartbeats 0", d -> at(d, "spec").put("staleAfterHeartbeats", 0),
                "spec.staleAfterHeartbeats", "should be greater than or equal to 1"));
        b.add(new Broken("misspelt spec field", Kind.EHP, Target.MAIN, d -> at(d, "spec").put("maxUnhealty", 3), 400,
                null, "unknown field \"spec.maxUnhealty\""));
        // ExecHealthPolicy, status subresource
        b.add(policyStatus("incident since in words", d -> at(d, "status", "incidents", "0").put("since", "last tuesday"),
                "status.incidents[0].since", "must be of type date-time"));
        b.add(policyStatus("policy condition date only", d -> at(d, "status", "conditions", "0")
                .put("lastTransitionTime", "2026-11-23"), "status.conditions[0].lastTransitionTime",
                "must be of type date-time"));
        b.add(policyStatus("unknown incident cause", d -> at(d, "status", "incidents", "0").put("cause", "Gremlins"),
                "status.incidents[0].cause", "Unsupported value"));
        b.add(policyStatus("negative nodesHeld", d -> at(d, "status").put("nodesHeld", -1), "status.nodesHeld",
                "should be greater than or equal to 0"));
        b.add(policyStatus("policy condition without status", d -> at(d, "status", "conditions", "0").remove("status"),
                "status.conditions[0].status", "Required value"));
        return b;
    }

    private static Broken status(String what, Consumer<ObjectNode> breakIt, String field, String message) {
        return new Broken(what, Kind.NEH, Target.STATUS, breakIt, 422, field, message);
    }

    private static Broken policy(String what, Consumer<ObjectNode> breakIt, String field, String message) {
        return new Broken(what, Kind.EHP, Target.MAIN, breakIt, 422, field, message);
    }

    private static Broken policyStatus(String what, Consumer<ObjectNode> breakIt, String field, String message) {
        return new Broken(what, Kind.EHP, Target.STATUS, breakIt, 422, field, message);
    }

    // ---- tests ----

    @Test
    void samplesAreAcceptedWithTheirStatusAndNothingIsPruned() throws IOException {
        for (Kind k : Kind.values()) {
            ObjectNode doc = document(k, "accepted-" + k.name().toLowerCase());
            GenericKubernetesResource created = create(doc);
            JsonNode status = doc.get("status");
            GenericKubernetesResource updated = replaceStatus(created, status);
            JsonNode back = SERDE.convertValue(updated, JsonNode.class);
            assertEquals(status, back.get("status"), k + ": status read back from the server");
            assertEquals(doc.get("spec"), back.get("spec"), k + ": spec read back from the server");
        }
    }

    @Test
    void whatOurCodeWritesIsAccepted() {
        String name = PREFIX + "java-report";
        NodeExecHealth report = ApiTestData.unhealthyReport(name);
        report.getMetadata().setOwnerReferences(null);
        report.getMetadata().setLabels(Map.of(LABEL, "crdschemakubeit"));
        report.getStatus().setRemediation(new RemediationStatus(Action.Taint, ApiTestData.T0.plusNanos(123456789)
                .toString(), "test", io.execguard.api.Suppression.MaxUnhealthy));
        NodeExecHealth created = admin.resource(report).fieldValidation(Validation.STRICT).create();
        created.setStatus(report.getStatus());
        NodeExecHealth updated = admin.resource(created).fieldValidation(Validation.STRICT).updateStatus();
        assertEquals(report.getStatus(), updated.getStatus());

        ExecHealthPolicy p = new ExecHealthPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName(PREFIX + "defaults").addToLabels(LABEL, "crdschemakubeit")
                .build());
        p.setSpec(ExecHealthPolicySpec.defaults());
        assertEquals(p.getSpec(), admin.resource(p).fieldValidation(Validation.STRICT).create().getSpec());
    }

    @Test
    void maxUnhealthyAcceptsCountsAndPercentages() throws IOException {
        List<JsonNode> values = List.of(num(0), num(5), text("0%"), text("7%"), text("25%"), text("100%"));
        for (int i = 0; i < values.size(); i++) {
            ObjectNode doc = document(Kind.EHP, "max-" + i);
            at(doc, "spec").set("maxUnhealthy", values.get(i));
            GenericKubernetesResource created = create(doc);
            JsonNode back = SERDE.convertValue(created, JsonNode.class).path("spec").path("maxUnhealthy");
            assertEquals(values.get(i), back, "maxUnhealthy " + values.get(i));
            // the code reads what the server let through
            ExecHealthPolicySpec spec = SERDE.convertValue(created, ExecHealthPolicy.class).getSpec();
            assertTrue(spec.maxUnhealthyNodes(20) >= 0, "maxUnhealthy " + values.get(i));
        }
    }

    @Test
    void brokenVariantsAreRefusedNamingTheField() throws IOException {
        Map<Kind, GenericKubernetesResource> existing = new LinkedHashMap<>();
        for (Kind k : Kind.values()) {
            ObjectNode doc = document(k, "status-base-" + k.name().toLowerCase());
            existing.put(k, replaceStatus(create(doc), doc.get("status")));
        }
        Map<String, String> failures = new LinkedHashMap<>();
        List<Broken> table = brokenVariants();
        for (int i = 0; i < table.size(); i++) {
            Broken b = table.get(i);
            String problem = refusal(b, i, existing.get(b.kind()));
            if (problem != null) {
                failures.put(b.what(), problem);
            }
        }
        assertEquals(Map.of(), failures, failures.size() + " of " + table.size() + " broken variants");
    }

    @Test
    void withoutStrictValidationUnknownFieldsArePruned() throws IOException {
        ObjectNode doc = document(Kind.EHP, "pruned");
        at(doc, "spec").put("maxUnhealty", 3);
        GenericKubernetesResource created = admin.resource(SERDE.convertValue(doc, GenericKubernetesResource.class))
                .create();
        JsonNode spec = SERDE.convertValue(created, JsonNode.class).get("spec");
        assertFalse(spec.has("maxUnhealty"), "the server drops the unknown field: " + spec);
        assertEquals(doc.get("spec").get("maxUnhealthy"), spec.get("maxUnhealthy"));
    }

    // ---- helpers ----

    /** Null when the server refused as expected, else what it did instead. */
    private static String refusal(Broken b, int index, GenericKubernetesResource existing) throws IOException {
        ObjectNode doc = document(b.kind(), "broken-" + index);
        if (b.target() == Target.STATUS) {
            ObjectNode current = SERDE.convertValue(existing, ObjectNode.class);
            current.set("status", doc.get("status").deepCopy());
            // unconditional (no resourceVersion): a variant wrongly accepted does not turn the next ones into 409s
            at(current, "metadata").remove("resourceVersion");
            doc = current;
        }
        b.breakIt().accept(doc);
        GenericKubernetesResource r = SERDE.convertValue(doc, GenericKubernetesResource.class);
        try {
            if (b.target() == Target.MAIN) {
                admin.resource(r).fieldValidation(Validation.STRICT).create();
            } else {
                admin.resource(r).fieldValidation(Validation.STRICT).updateStatus();
            }
            return "accepted by the server";
        } catch (KubernetesClientException e) {
            return mismatch(b, e);
        }
    }

    private static String mismatch(Broken b, KubernetesClientException e) {
        Status s = e.getStatus();
        String got = e.getCode() + " " + (s == null ? e.getMessage() : s.getMessage());
        if (e.getCode() != b.code()) {
            return "expected HTTP " + b.code() + ", got " + got;
        }
        if (b.field() == null) {
            return got.contains(b.message()) ? null : "expected '" + b.message() + "' in " + got;
        }
        List<StatusCause> causes = s == null || s.getDetails() == null ? List.of() : s.getDetails().getCauses();
        boolean named = causes.stream().anyMatch(c -> b.field().equals(c.getField())
                && c.getMessage() != null && c.getMessage().contains(b.message()));
        return named ? null : "expected a cause on " + b.field() + " with '" + b.message() + "', got " + got;
    }

    /** A sample, renamed to PREFIX + suffix (and spec.nodeName with it), labelled, without owner references. */
    private static ObjectNode document(Kind k, String suffix) throws IOException {
        ObjectNode doc = (ObjectNode) SERDE.unmarshal(Files.readString(Crds.SAMPLES_DIR.resolve(k.sample)),
                JsonNode.class);
        String name = PREFIX + suffix;
        ObjectNode meta = at(doc, "metadata");
        meta.put("name", name);
        meta.remove("ownerReferences");
        meta.putObject("labels").put(LABEL, "crdschemakubeit");
        if (k == Kind.NEH) {
            at(doc, "spec").put("nodeName", name);
        } else {
            doc.set("status", policyStatus());
        }
        return doc;
    }

    /** A policy status with every field (the sample has none: users do not write status). */
    private static JsonNode policyStatus() {
        return SERDE.unmarshal("""
                {"observedGeneration": 1, "nodesHeld": 2,
                 "incidents": [{"cause": "NfsRequest", "backend": "nfs4 10.0.0.5:/export", "nodeCount": 2,
                                "nodes": ["worker-3", "worker-7"], "since": "2026-11-23T10:01:00.5+01:00"}],
                 "conditions": [{"type": "Suppressing", "status": "True", "reason": "MaxUnhealthy",
                                 "message": "2 of 2 nodes held", "lastTransitionTime": "2026-11-23T10:01:00Z",
                                 "observedGeneration": 1}]}""", JsonNode.class);
    }

    private static GenericKubernetesResource create(ObjectNode doc) {
        GenericKubernetesResource r = SERDE.convertValue(doc, GenericKubernetesResource.class);
        GenericKubernetesResource created = admin.resource(r).fieldValidation(Validation.STRICT).create();
        assertNotNull(created.getMetadata().getUid());
        return created;
    }

    private static GenericKubernetesResource replaceStatus(GenericKubernetesResource current, JsonNode status) {
        ObjectNode doc = SERDE.convertValue(current, ObjectNode.class);
        doc.set("status", status.deepCopy());
        GenericKubernetesResource r = SERDE.convertValue(doc, GenericKubernetesResource.class);
        return admin.resource(r).fieldValidation(Validation.STRICT).updateStatus();
    }

    private static ObjectNode at(ObjectNode root, String... path) {
        JsonNode n = root;
        for (String p : path) {
            n = p.matches("\\d+") ? n.get(Integer.parseInt(p)) : n.get(p);
        }
        return (ObjectNode) n;
    }

    private static JsonNode num(int v) {
        return JsonNodeFactory.instance.numberNode(v);
    }

    private static JsonNode text(String v) {
        return JsonNodeFactory.instance.textNode(v);
    }
}
