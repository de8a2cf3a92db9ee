package io.execguard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyName;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/** What kubectl users rely on in the committed CRDs: names, columns, status subresource, descriptions. */
class CrdContentTest {

    private static CustomResourceDefinitionVersion onlyVersion(CustomResourceDefinition crd) {
        assertEquals(1, crd.getSpec().getVersions().size());
        CustomResourceDefinitionVersion v = crd.getSpec().getVersions().get(0);
        assertEquals(NodeExecHealth.VERSION, v.getName());
        assertTrue(v.getServed() && v.getStorage());
        return v;
    }

    @Test
    void nodeExecHealthNamesScopeAndStatusSubresource() {
        CustomResourceDefinition crd = Crds.load(Crds.NEH_FILE);
        assertEquals("nodeexechealths.execguard.io", crd.getMetadata().getName());
        assertEquals("execguard.io", crd.getSpec().getGroup());
        assertEquals("Cluster", crd.getSpec().getScope());
        assertEquals("NodeExecHealth", crd.getSpec().getNames().getKind());
        assertEquals("nodeexechealths", crd.getSpec().getNames().getPlural());
        assertEquals("nodeexechealth", crd.getSpec().getNames().getSingular());
        assertEquals(List.of("neh"), crd.getSpec().getNames().getShortNames());
        assertEquals(List.of("execguard"), crd.getSpec().getNames().getCategories());
        assertNotNull(onlyVersion(crd).getSubresources().getStatus(), "status subresource");
    }

    @Test
    void nodeExecHealthPrinterColumnsInOrder() {
        List<CustomResourceColumnDefinition> cols = onlyVersion(Crds.load(Crds.NEH_FILE)).getAdditionalPrinterColumns();
        assertEquals(List.of("Status", "Stuck-Exec", "Stuck-Kill", "Top-Cause", "Action", "Last-Probe", "Age"),
                cols.stream().map(CustomResourceColumnDefinition::getName).toList());
        assertEquals(List.of(".status.phase", ".status.summary.stuckExec", ".status.summary.stuckKill",
                        ".status.summary.topCause", ".status.remediation.action", ".status.lastProbeTime",
                        ".metadata.creationTimestamp"),
                cols.stream().map(CustomResourceColumnDefinition::getJsonPath).toList());
        assertEquals(List.of("string", "integer", "integer", "string", "string", "date", "date"),
                cols.stream().map(CustomResourceColumnDefinition::getType).toList());
    }

    @Test
    void policyNamesAndColumns() {
        CustomResourceDefinition crd = Crds.load(Crds.EHP_FILE);
        assertEquals("exechealthpolicies.execguard.io", crd.getMetadata().getName());
        assertEquals("Cluster", crd.getSpec().getScope());
        assertEquals(List.of("ehp"), crd.getSpec().getNames().getShortNames());
        assertEquals(List.of("execguard"), crd.getSpec().getNames().getCategories());
        CustomResourceDefinitionVersion v = onlyVersion(crd);
        assertNotNull(v.getSubresources().getStatus(), "status subresource");
        assertEquals(List.of("Dry-Run", "Max-Unhealthy", "Held", "Age"),
                v.getAdditionalPrinterColumns().stream().map(CustomResourceColumnDefinition::getName).toList());
    }

    /** Every property, at every depth, has a description: kubectl explain teaches every field. */
    @Test
    void everyPropertyHasADescription() {
        for (String file : Crds.fileNames()) {
            JSONSchemaProps root = onlyVersion(Crds.load(file)).getSchema().getOpenAPIV3Schema();
            List<String> missing = new ArrayList<>();
            List<String> seen = new ArrayList<>();
            if (blank(root.getDescription())) {
                missing.add("<root>");
            }
            walk(root, "", missing, seen);
            assertEquals(List.of(), missing, file + ": properties without a description");
            assertTrue(seen.size() > 20, file + ": suspiciously few properties " + seen);
            assertTrue(seen.contains("spec") && seen.contains("status"), file + ": " + seen);
        }
    }

    @Test
    void findingsAreFullyDescribed() {
        JSONSchemaProps findings = onlyVersion(Crds.load(Crds.NEH_FILE)).getSchema().getOpenAPIV3Schema()
                .getProperties().get("status").getProperties().get("findings");
        assertEquals(Long.valueOf(NodeExecHealthStatus.MAX_FINDINGS), findings.getMaxItems());
        JSONSchemaProps item = findings.getItems().getSchema();
        assertEquals(List.of("id", "scope", "severity", "type"), item.getRequired().stream().sorted().toList());
        assertTrue(item.getProperties().get("mount").getProperties().get("fuseConnection").getDescription()
                .contains("/sys/fs/fuse/connections"));
    }

    private static void walk(JSONSchemaProps s, String path, List<String> missing, List<String> seen) {
        if (s.getProperties() != null) {
            for (Map.Entry<String, JSONSchemaProps> e : s.getProperties().entrySet()) {
                String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                seen.add(p);
                if (blank(e.getValue().getDescription())) {
                    missing.add(p);
                }
                walk(e.getValue(), p, missing, seen);
            }
        }
        if (s.getItems() != null && s.getItems().getSchema() != null) {
            walk(s.getItems().getSchema(), path + "[]", missing, seen);
        }
        if (s.getAdditionalProperties() != null && s.getAdditionalProperties().getSchema() != null) {
            walk(s.getAdditionalProperties().getSchema(), path + "{}", missing, seen);
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /**
     * The schema declares no defaults (an absent field means "execguard's default"); the descriptions
     * quote them. Each quoted default must be the value PolicyDefaults applies.
     */
    @Test
    void describedDefaultsAreTheAppliedDefaults() {
        JSONSchemaProps spec = onlyVersion(Crds.load(Crds.EHP_FILE)).getSchema().getOpenAPIV3Schema()
                .getProperties().get("spec");
        JsonNode defaults = new KubernetesSerialization().convertValue(ExecHealthPolicySpec.defaults(), JsonNode.class);
        List<String> problems = new ArrayList<>();
        checkDefaults(spec, defaults, "spec", problems);
        assertEquals(List.of(), problems);
        assertTrue(spec.getDefault() == null, "no schema defaults");
    }

    private static void checkDefaults(JSONSchemaProps s, JsonNode value, String path, List<String> problems) {
        if (path.equals("spec.nodeSelector")) {
            return;
        }
        if (s.getDefault() != null) {
            problems.add(path + ": schema default " + s.getDefault() + " (defaults belong in PolicyDefaults)");
        }
        if (value.isObject() && s.getProperties() != null && !Boolean.TRUE.equals(s.getXKubernetesIntOrString())) {
            for (Map.Entry<String, JsonNode> e : value.properties()) {
                JSONSchemaProps child = s.getProperties().get(e.getKey());
                if (child == null) {
                    problems.add(path + "." + e.getKey() + ": not in the schema");
                } else {
                    checkDefaults(child, e.getValue(), path + "." + e.getKey(), problems);
                }
            }
            return;
        }
        String d = s.getDescription();
        if (value.isArray()) {
            for (JsonNode item : value) {
                if (!d.contains(item.asText())) {
                    problems.add(path + ": description does not name default item " + item.asText());
                }
            }
        } else if (!d.contains("Default: " + value.asText() + ".") && !d.contains("Default: \"" + value.asText() + "\".")) {
            problems.add(path + ": description does not say 'Default: " + value.asText() + ".': " + d);
        }
    }

    /** ConditionSchema documents fabric8's Condition: the same properties, one for one. */
    @Test
    void conditionSchemaMirrorsFabric8Condition() {
        ObjectMapper mapper = new ObjectMapper();
        Set<String> fabric8 = properties(mapper, Condition.class);
        Set<String> ours = properties(mapper, ConditionSchema.class);
        assertEquals(fabric8, ours);
    }

    private static Set<String> properties(ObjectMapper mapper, Class<?> type) {
        Set<String> names = new TreeSet<>();
        for (BeanPropertyDefinition p : mapper.getSerializationConfig().introspect(mapper.constructType(type))
                .findProperties()) {
            if (!p.getFullName().equals(PropertyName.construct("additionalProperties"))) {
                names.add(p.getName());
            }
        }
        return names;
    }
}
