package io.execguard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/** The test validator itself, on small hand-made schemas: it must reject what Kubernetes rejects. */
class SchemaValidatorTest {

    private static final KubernetesSerialization SERDE = new KubernetesSerialization();

    private static JsonNode json(String s) {
        return SERDE.unmarshal(s, JsonNode.class);
    }

    private static final JSONSchemaProps SCHEMA = new JSONSchemaPropsBuilder()
            .withType("object")
            .addToProperties("spec", new JSONSchemaPropsBuilder().withType("object")
                    .withRequired("name")
                    .addToProperties("name", new JSONSchemaPropsBuilder().withType("string").build())
                    .addToProperties("count", new JSONSchemaPropsBuilder().withType("integer").withMinimum(0.0).build())
                    .addToProperties("mode", new JSONSchemaPropsBuilder().withType("string")
                            .withEnum(json("\"A\""), json("\"B\"")).build())
                    .addToProperties("max", new JSONSchemaPropsBuilder().withXKubernetesIntOrString(true)
                            .withAnyOf(new JSONSchemaPropsBuilder().withType("integer").build(),
                                    new JSONSchemaPropsBuilder().withType("string").build()).build())
                    .addToProperties("labels", new JSONSchemaPropsBuilder().withType("object")
                            .withNewAdditionalProperties().withNewSchema().withType("string").endSchema()
                            .endAdditionalProperties().build())
                    .addToProperties("tags", new JSONSchemaPropsBuilder().withType("array")
                            .withNewItems().withNewSchema().withType("string").endSchema().endItems().build())
                    .addToProperties("raw", new JSONSchemaPropsBuilder().withType("object")
                            .withXKubernetesPreserveUnknownFields(true).build())
                    .addToProperties("note", new JSONSchemaPropsBuilder().withType("string").withNullable(true).build())
                    .build())
            .build();

    private static List<String> errors(String doc) {
        return SchemaValidator.validate(SCHEMA, json(doc));
    }

    @Test
    void acceptsAValidDocument() {
        assertEquals(List.of(), errors("""
                {"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"},
                 "spec": {"name": "a", "count": 2, "mode": "B", "max": "10%", "labels": {"k": "v"},
                          "tags": ["t"], "raw": {"anything": {"goes": [1, true]}}, "note": null}}"""));
        assertEquals(List.of(), errors("{\"spec\": {\"name\": \"a\", \"max\": 3}}"));
    }

    @Test
    void rejectsEachKindOfViolation() {
        assertHas(errors("{\"spec\": {}}"), "spec: required field 'name' is missing");
        assertHas(errors("{\"spec\": {\"name\": 1}}"), "spec.name: must be of type string");
        assertHas(errors("{\"spec\": {\"name\": \"a\", \"count\": \"2\"}}"), "spec.count: must be of type integer");
        assertHas(errors("{\"spec\": {\"name\": \"a\", \"count\": -1}}"), "spec.count: -1 is below the minimum");
        assertHas(errors("{\"spec\": {\"name\": \"a\", \"mode\": \"C\"}}"), "spec.mode: \"C\" is not one of");
        assertHas(errors("{\"spec\": {\"name\": \"a\", \"max\": 1.5}}"), "spec.max: must be an integer or a string");
        assertHas(errors("{\"spec\": {\"name\": \"a\", \"labels\": {\"k\": 1}}}"), "spec.labels.k: must be of type string");
        assertHas(errors("{\"spec\": {\"name\": \"a\", \"tags\": [\"t\", 2]}}"), "spec.tags[1]: must be of type string");
        assertHas(errors("{\"spec\": {\"name\": \"a\", \"extra\": 1}}"), "spec.extra: unknown field");
        assertHas(errors("{\"spec\": {\"name\": null}}"), "spec.name: null is not allowed");
        assertHas(errors("{\"spec\": {\"name\": \"a\"}, \"other\": 1}"), "other: unknown field");
    }

    private static void assertHas(List<String> errors, String expected) {
        assertTrue(errors.stream().anyMatch(e -> e.contains(expected)), "expected '" + expected + "' in " + errors);
    }
}
