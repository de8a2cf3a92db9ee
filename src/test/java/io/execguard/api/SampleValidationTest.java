package io.execguard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/** The samples in crd/samples are valid against the generated schemas, and broken ones are not. */
class SampleValidationTest {

    static final KubernetesSerialization SERDE = new KubernetesSerialization();
    static final String NEH_SAMPLE = "nodeexechealth-unhealthy.yaml";
    static final String EHP_SAMPLE = "exechealthpolicy.yaml";

    static JSONSchemaProps schema(String crdFile) {
        return Crds.load(crdFile).getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
    }

    static String sampleText(String name) throws IOException {
        return Files.readString(Crds.SAMPLES_DIR.resolve(name));
    }

    static ObjectNode sample(String name) throws IOException {
        return (ObjectNode) SERDE.unmarshal(sampleText(name), JsonNode.class);
    }

    private static Map<String, String> samples() throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (var s = Files.list(Crds.SAMPLES_DIR)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).toList()) {
                out.put(p.getFileName().toString(), Files.readString(p));
            }
        }
        return out;
    }

    @Test
    void everySampleIsValidAgainstItsCrd() throws IOException {
        Map<String, String> samples = samples();
        List<String> kinds = new ArrayList<>();
        for (Map.Entry<String, String> e : samples.entrySet()) {
            JsonNode doc = SERDE.unmarshal(e.getValue(), JsonNode.class);
            assertEquals(NodeExecHealth.GROUP + "/" + NodeExecHealth.VERSION, doc.path("apiVersion").asText(),
                    e.getKey() + ": apiVersion");
            String kind = doc.path("kind").asText();
            String crd = switch (kind) {
                case NodeExecHealth.KIND -> Crds.NEH_FILE;
                case ExecHealthPolicy.KIND -> Crds.EHP_FILE;
                default -> throw new AssertionError(e.getKey() + ": unexpected kind " + kind);
            };
            assertTrue(doc.path("metadata").path("name").isTextual(), e.getKey() + ": metadata.name");
            List<String> errors = SchemaValidator.validate(schema(crd), doc);
            assertEquals(List.of(), errors, e.getKey() + " does not validate against crd/" + crd);
            kinds.add(kind);
        }
        assertTrue(kinds.contains(NodeExecHealth.KIND) && kinds.contains(ExecHealthPolicy.KIND),
                "crd/samples must hold a sample of each kind, found " + samples.keySet());
    }

    @Test
    void samplesRoundTripThroughTheJavaClassesWithoutLoss() throws IOException {
        ObjectNode neh = sample(NEH_SAMPLE);
        NodeExecHealth n = SERDE.unmarshal(sampleText(NEH_SAMPLE), NodeExecHealth.class);
        assertEquals(normalized(neh), normalized(n), "NodeExecHealth sample vs the Java classes");
        assertEquals(Phase.Unhealthy, n.getStatus().getPhase());
        assertEquals(4, n.getStatus().getFindings().size());
        assertEquals(Action.Annotate, n.getStatus().getRemediation().getAction());

        ObjectNode ehp = sample(EHP_SAMPLE);
        ExecHealthPolicy p = SERDE.unmarshal(sampleText(EHP_SAMPLE), ExecHealthPolicy.class);
        assertEquals(normalized(ehp), normalized(p), "ExecHealthPolicy sample vs the Java classes");
        assertEquals(new IntOrString("10%"), p.getSpec().getMaxUnhealthy());
    }

    /** As JSON text and back: the same numbers compare equal whatever Java type held them. */
    private static JsonNode normalized(Object o) {
        return SERDE.unmarshal(SERDE.asJson(o), JsonNode.class);
    }

    @Test
    void theDefaultPolicyAndAFullStatusAreValid() {
        ExecHealthPolicy p = new ExecHealthPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName("defaults").build());
        p.setSpec(ExecHealthPolicySpec.defaults());
        assertEquals(List.of(), SchemaValidator.validate(schema(Crds.EHP_FILE), SERDE.convertValue(p, JsonNode.class)));

        NodeExecHealth n = ApiTestData.unhealthyReport("worker-1");
        assertEquals(List.of(), SchemaValidator.validate(schema(Crds.NEH_FILE), SERDE.convertValue(n, JsonNode.class)));
    }

    /** A broken variant of a sample and a fragment the validator's error must contain. */
    private record Broken(String what, String sample, Consumer<ObjectNode> breakIt, String expected) {
    }

    private static ObjectNode at(ObjectNode root, String... path) {
        JsonNode n = root;
        for (String p : path) {
            n = p.matches("\\d+") ? n.get(Integer.parseInt(p)) : n.get(p);
        }
        return (ObjectNode) n;
    }

    @Test
    void brokenSamplesAreRejected() throws IOException {
        List<Broken> cases = List.of(
                new Broken("unknown phase", NEH_SAMPLE, d -> at(d, "status").put("phase", "Sick"),
                        "status.phase: \"Sick\" is not one of"),
                new Broken("unknown finding type", NEH_SAMPLE,
                        d -> at(d, "status", "findings", "0").put("type", "StuckExec"),
                        "status.findings[0].type: \"StuckExec\" is not one of"),
                new Broken("age as text", NEH_SAMPLE,
                        d -> at(d, "status", "findings", "1").put("ageSeconds", "9m41s"),
                        "status.findings[1].ageSeconds: must be of type integer"),
                new Broken("pid as float", NEH_SAMPLE, d -> at(d, "status", "findings", "1").put("pid", 1.5),
                        "status.findings[1].pid: must be of type integer"),
                new Broken("unknown field in a finding", NEH_SAMPLE,
                        d -> at(d, "status", "findings", "0").put("podIp", "10.1.2.3"),
                        "status.findings[0].podIp: unknown field"),
                new Broken("finding without type", NEH_SAMPLE, d -> at(d, "status", "findings", "2").remove("type"),
                        "status.findings[2]: required field 'type' is missing"),
                new Broken("spec without nodeName", NEH_SAMPLE, d -> at(d, "spec").remove("nodeName"),
                        "spec: required field 'nodeName' is missing"),
                new Broken("byType value not a number", NEH_SAMPLE,
                        d -> at(d, "status", "summary", "byType").put("HungTask", "many"),
                        "status.summary.byType.HungTask: must be of type integer"),
                new Broken("unknown condition status", NEH_SAMPLE,
                        d -> at(d, "status", "conditions", "0").put("status", "Maybe"),
                        "status.conditions[0].status: \"Maybe\" is not one of"),
                new Broken("negative scan duration", NEH_SAMPLE, d -> at(d, "status").put("scanDurationMillis", -1),
                        "status.scanDurationMillis: -1 is below the minimum"),
                new Broken("kernelStack not a list", NEH_SAMPLE,
                        d -> at(d, "status", "findings", "0").put("kernelStack", "ceph_mdsc_do_request"),
                        "status.findings[0].kernelStack: must be of type array"),
                new Broken("more than 50 findings", NEH_SAMPLE, d -> {
                    ArrayNode f = (ArrayNode) d.get("status").get("findings");
                    while (f.size() <= NodeExecHealthStatus.MAX_FINDINGS) {
                        f.add(f.get(0).deepCopy());
                    }
                }, "status.findings: 51 items, more than maxItems 50"),
                new Broken("unknown action", NEH_SAMPLE,
                        d -> at(d, "status", "remediation").put("action", "Drain"),
                        "status.remediation.action: \"Drain\" is not one of"),
                new Broken("unknown ladder action", EHP_SAMPLE, d -> at(d, "spec", "actions").put("nodeCritical", "Reboot"),
                        "spec.actions.nodeCritical: \"Reboot\" is not one of"),
                new Broken("maxUnhealthy as a boolean", EHP_SAMPLE, d -> at(d, "spec").put("maxUnhealthy", true),
                        "spec.maxUnhealthy: must be an integer or a string"),
                new Broken("releaseAfter in words", EHP_SAMPLE, d -> at(d, "spec").put("releaseAfter", "5 minutes"),
                        "spec.releaseAfter: '5 minutes' does not match"),
                new Broken("pidsPercent over 100", EHP_SAMPLE, d -> at(d, "spec", "thresholds").put("pidsPercent", 150),
                        "spec.thresholds.pidsPercent: 150 is above the maximum"),
                new Broken("threshold as text", EHP_SAMPLE,
                        d -> at(d, "spec", "thresholds").put("hungTaskSeconds", "2m"),
                        "spec.thresholds.hungTaskSeconds: must be of type integer"),
                new Broken("unknown type in unhealthyTypes", EHP_SAMPLE,
                        d -> ((ArrayNode) d.get("spec").get("unhealthyTypes")).add("Slow"),
                        "spec.unhealthyTypes[4]: \"Slow\" is not one of"),
                new Broken("nodeSelector value not a string", EHP_SAMPLE,
                        d -> at(d, "spec", "nodeSelector").put("zone", 3),
                        "spec.nodeSelector.zone: must be of type string"),
                new Broken("dryRun as text", EHP_SAMPLE, d -> at(d, "spec").put("dryRun", "yes"),
                        "spec.dryRun: must be of type boolean"),
                new Broken("misspelt spec field", EHP_SAMPLE, d -> at(d, "spec").put("maxUnhealty", 3),
                        "spec.maxUnhealty: unknown field"));
        Map<String, String> failures = new LinkedHashMap<>();
        for (Broken b : cases) {
            ObjectNode doc = sample(b.sample());
            b.breakIt().accept(doc);
            String crd = b.sample().equals(NEH_SAMPLE) ? Crds.NEH_FILE : Crds.EHP_FILE;
            List<String> errors = SchemaValidator.validate(schema(crd), doc);
            if (errors.stream().noneMatch(e -> e.contains(b.expected()))) {
                failures.put(b.what(), "expected an error containing '" + b.expected() + "', got " + errors);
            }
        }
        assertEquals(Map.of(), failures);
    }

    @Test
    void intOrStringAcceptsBothForms() throws IOException {
        for (JsonNode v : List.of(SERDE.convertValue(3, JsonNode.class), SERDE.convertValue("25%", JsonNode.class))) {
            ObjectNode doc = sample(EHP_SAMPLE);
            at(doc, "spec").set("maxUnhealthy", v);
            assertEquals(List.of(), SchemaValidator.validate(schema(Crds.EHP_FILE), doc), "maxUnhealthy " + v);
        }
    }
}
