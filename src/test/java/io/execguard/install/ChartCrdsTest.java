package io.execguard.install;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * helm/execguard/crds/ holds byte-identical copies of crd/*.yml (Helm installs CRDs only from a
 * chart's crds/ directory). {@code -Dexecguard.golden.update=true} copies crd/ over instead.
 */
class ChartCrdsTest {

    static final Path CRD = Path.of("crd");
    static final Path CHART_CRDS = Chart.DIR.resolve("crds");

    @Test
    void chartCrdsAreTheCommittedCrds() throws IOException {
        Map<String, String> want = ymls(CRD);
        assertFalse(want.isEmpty(), "no CRDs in crd/");
        if (Boolean.getBoolean(Chart.UPDATE_PROPERTY)) {
            Files.createDirectories(CHART_CRDS);
            for (String stale : ymls(CHART_CRDS).keySet()) {
                Files.delete(CHART_CRDS.resolve(stale));
            }
            for (var e : want.entrySet()) {
                Files.writeString(CHART_CRDS.resolve(e.getKey()), e.getValue());
            }
            return;
        }
        Map<String, String> have = ymls(CHART_CRDS);
        assertEquals(want.keySet(), have.keySet(), "helm/execguard/crds/ must hold exactly the files of crd/ "
                + "(run the install tests with -D" + Chart.UPDATE_PROPERTY + "=true)");
        for (String name : want.keySet()) {
            assertEquals(want.get(name), have.get(name), "helm/execguard/crds/" + name + " differs from crd/" + name
                    + " (run the install tests with -D" + Chart.UPDATE_PROPERTY + "=true)");
        }
    }

    static Map<String, String> ymls(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".yml")
                    || f.getFileName().toString().endsWith(".yaml")).toList()) {
                out.put(p.getFileName().toString(), Files.readString(p));
            }
        }
        return out;
    }
}
