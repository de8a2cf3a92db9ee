package io.execguard.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;

/**
 * A small, strict validator of a JSON document against a CRD's structural openAPIV3Schema, covering
 * what execguard's CRDs use: {@code type}, {@code required}, {@code enum}, {@code properties} and
 * {@code additionalProperties}, {@code items}, {@code minItems}/{@code maxItems}, {@code minimum}/
 * {@code maximum}, {@code pattern}, {@code nullable}, {@code anyOf}, {@code x-kubernetes-int-or-string}
 * and {@code x-kubernetes-preserve-unknown-fields}. Unknown fields are errors, as with
 * {@code kubectl apply}'s default strict field validation. At the root, {@code apiVersion},
 * {@code kind} and {@code metadata} are left to the caller, as the API server handles them itself.
 * Not implemented (and not used by the CRDs): CEL rules, formats, oneOf/allOf/not.
 */
final class SchemaValidator {

    private static final Set<String> ROOT_FIELDS = Set.of("apiVersion", "kind", "metadata");

    private SchemaValidator() {
    }

    /** Errors, each as "path: problem"; empty when the document is valid. */
    static List<String> validate(JSONSchemaProps root, JsonNode document) {
        List<String> errors = new ArrayList<>();
        check(root, document, "", errors, true);
        return errors;
    }

    private static void check(JSONSchemaProps s, JsonNode v, String path, List<String> errors, boolean root) {
        String at = path.isEmpty() ? "<root>" : path;
        if (v == null || v.isMissingNode()) {
            return;
        }
        if (v.isNull()) {
            if (!Boolean.TRUE.equals(s.getNullable())) {
                errors.add(at + ": null is not allowed");
            }
            return;
        }
        if (Boolean.TRUE.equals(s.getXKubernetesIntOrString())) {
            if (!v.isIntegralNumber() && !v.isTextual()) {
                errors.add(at + ": must be an integer or a string, got " + kind(v));
                return;
            }
        } else if (s.getAnyOf() != null && !s.getAnyOf().isEmpty()) {
            boolean any = false;
            for (JSONSchemaProps branch : s.getAnyOf()) {
                List<String> e = new ArrayList<>();
                check(branch, v, path, e, false);
                any |= e.isEmpty();
            }
            if (!any) {
                errors.add(at + ": matches none of anyOf");
                return;
            }
        }
        String type = s.getType();
        if (type != null && !typeMatches(type, v)) {
            errors.add(at + ": must be of type " + type + ", got " + kind(v) + " " + v);
            return;
        }
        if (s.getEnum() != null && !s.getEnum().isEmpty()) {
            boolean found = false;
            for (JsonNode allowed : s.getEnum()) {
                found |= allowed.equals(v);
            }
            if (!found) {
                errors.add(at + ": " + v + " is not one of " + s.getEnum());
            }
        }
        if (v.isTextual() && s.getPattern() != null && !Pattern.compile(s.getPattern()).matcher(v.asText()).find()) {
            errors.add(at + ": '" + v.asText() + "' does not match " + s.getPattern());
        }
        if (v.isNumber()) {
            if (s.getMinimum() != null && v.asDouble() < s.getMinimum()) {
                errors.add(at + ": " + v + " is below the minimum " + s.getMinimum());
            }
            if (s.getMaximum() != null && v.asDouble() > s.getMaximum()) {
                errors.add(at + ": " + v + " is above the maximum " + s.getMaximum());
            }
        }
        if (v.isArray()) {
            if (s.getMaxItems() != null && v.size() > s.getMaxItems()) {
                errors.add(at + ": " + v.size() + " items, more than maxItems " + s.getMaxItems());
            }
            if (s.getMinItems() != null && v.size() < s.getMinItems()) {
                errors.add(at + ": " + v.size() + " items, fewer than minItems " + s.getMinItems());
            }
            if (s.getItems() != null && s.getItems().getSchema() != null) {
                for (int i = 0; i < v.size(); i++) {
                    check(s.getItems().getSchema(), v.get(i), path + "[" + i + "]", errors, false);
                }
            } else if (s.getItems() != null) {
                errors.add(at + ": schema uses tuple items, not supported by this validator");
            }
        }
        if (v.isObject()) {
            checkObject(s, v, path, at, errors, root);
        }
    }

    private static void checkObject(JSONSchemaProps s, JsonNode v, String path, String at, List<String> errors,
                                    boolean root) {
        Map<String, JSONSchemaProps> props = s.getProperties();
        if (s.getRequired() != null) {
            for (String r : s.getRequired()) {
                if (!v.has(r) || v.get(r).isNull()) {
                    errors.add(at + ": required field '" + r + "' is missing");
                }
            }
        }
        boolean preserveUnknown = Boolean.TRUE.equals(s.getXKubernetesPreserveUnknownFields());
        for (Map.Entry<String, JsonNode> e : v.properties()) {
            String name = e.getKey();
            String child = path.isEmpty() ? name : path + "." + name;
            if (root && ROOT_FIELDS.contains(name)) {
                continue;
            }
            if (props != null && props.containsKey(name)) {
                check(props.get(name), e.getValue(), child, errors, false);
            } else if (s.getAdditionalProperties() != null && s.getAdditionalProperties().getSchema() != null) {
                check(s.getAdditionalProperties().getSchema(), e.getValue(), child, errors, false);
            } else if (s.getAdditionalProperties() != null && Boolean.TRUE.equals(s.getAdditionalProperties().getAllows())) {
                // any value
            } else if (!preserveUnknown) {
                errors.add(child + ": unknown field");
            }
        }
    }

    private static boolean typeMatches(String type, JsonNode v) {
        return switch (type) {
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "string" -> v.isTextual();
            case "integer" -> v.isIntegralNumber();
            case "number" -> v.isNumber();
            case "boolean" -> v.isBoolean();
            default -> throw new IllegalArgumentException("unsupported schema type " + type);
        };
    }

    private static String kind(JsonNode v) {
        return v.getNodeType().name().toLowerCase();
    }
}
