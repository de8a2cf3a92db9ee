package io.execguard.install;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;

import io.fabric8.kubernetes.client.utils.Serialization;

/** Renders helm/execguard with the real Helm library (helm-java) and parses the result. */
final class Chart {

    static final Path DIR = Path.of("helm/execguard");
    static final String RELEASE = "execguard";
    static final String NAMESPACE = "execguard";
    /** The values the plain manifests in operator/ are rendered with, on top of the defaults. */
    static final Map<String, Object> PLAIN_MANIFEST_VALUES = Map.of("namespace.create", true);
    static final String UPDATE_PROPERTY = "execguard.golden.update";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Chart() {
    }

    /** {@code helm template execguard helm/execguard -n execguard --set k=v ...}. */
    static String template(Map<String, Object> set) {
        var cmd = new Helm(DIR).template().withName(RELEASE).withNamespace(NAMESPACE);
        set.forEach(cmd::set);
        return cmd.call();
    }

    /** {@code helm template ... -f valuesFile}. */
    static String template(Path valuesFile) {
        return new Helm(DIR).template().withName(RELEASE).withNamespace(NAMESPACE).withValuesFile(valuesFile).call();
    }

    /** A rendered release as a list of objects. */
    record Rendered(List<Map<String, Object>> objects) {

        static Rendered of(Map<String, Object> set) {
            return parse(template(set));
        }

        static Rendered parse(String yaml) {
            List<Map<String, Object>> out = new ArrayList<>();
            try (MappingIterator<Map<String, Object>> it = YAML.readerFor(new TypeReference<Map<String, Object>>() {
            }).readValues(yaml)) {
                while (it.hasNext()) {
                    Map<String, Object> doc = it.next();
                    if (doc != null && !doc.isEmpty()) {
                        out.add(doc);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Rendered(out);
        }

        List<Map<String, Object>> ofKind(String kind) {
            return objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
        }

        Map<String, Object> get(String kind, String name) {
            return ofKind(kind).stream().filter(o -> name.equals(str(o, "metadata", "name"))).findFirst()
                    .orElseThrow(() -> new NoSuchElementException(kind + "/" + name + " not rendered; have "
                            + objects.stream().map(o -> o.get("kind") + "/" + str(o, "metadata", "name")).toList()));
        }

        boolean has(String kind) {
            return !ofKind(kind).isEmpty();
        }

        /** One object as a fabric8 model class, for typed assertions. */
        <T> T typed(String kind, String name, Class<T> type) {
            return Serialization.unmarshal(Serialization.asYaml(get(kind, name)), type);
        }
    }

    static String str(Map<String, Object> o, String... path) {
        Object v = at(o, path);
        return v == null ? null : v.toString();
    }

    @SuppressWarnings("unchecked")
    static Object at(Map<String, Object> o, String... path) {
        Object cur = o;
        for (String p : path) {
            if (!(cur instanceof Map<?, ?> m)) {
                return null;
            }
            cur = ((Map<String, Object>) m).get(p);
        }
        return cur;
    }

    static Map<String, Object> values(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
