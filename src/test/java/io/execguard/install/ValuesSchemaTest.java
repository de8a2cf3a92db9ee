package io.execguard.install;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** values.schema.json, enforced by Helm itself during template: wrong types and unknown keys fail. */
class ValuesSchemaTest {

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "probe.scanInterval: 5 (a number, not a duration string)|probe:\\n  scanInterval: 5|scanInterval",
            "probe.scanInterval: ten seconds|probe:\\n  scanInterval: ten seconds|scanInterval",
            "operator.replicas: two|operator:\\n  replicas: two|replicas",
            "operator.leaderElection: \"yes\"|operator:\\n  leaderElection: \"yes\"|leaderElection",
            "probe.maxFindings: 51 (the CRD keeps at most 50)|probe:\\n  maxFindings: 51|maxFindings",
            "probe.metricsPort: \"9090\"|probe:\\n  metricsPort: \"9090\"|metricsPort",
            "policy.actions.nodeCritical: Reboot|policy:\\n  actions:\\n    nodeCritical: Reboot|nodeCritical",
            "policy.dryRun: \"true\"|policy:\\n  dryRun: \"true\"|dryRun",
            "a misspelt key: probe.scanIntervall|probe:\\n  scanIntervall: 10s|scanIntervall",
    })
    void wrongValuesAreRejected(String what, String yaml, String key) throws IOException {
        Path values = tmp.resolve("values.yaml");
        Files.writeString(values, yaml.replace("\\n", "\n") + "\n");
        RuntimeException e = assertThrows(RuntimeException.class, () -> Chart.template(values), what);
        assertTrue(e.getMessage().contains("schema") && e.getMessage().contains(key),
                () -> what + ": unexpected error " + e.getMessage());
    }

    @Test
    void wrongTypeThroughSetIsRejectedToo() {
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> Chart.template(Chart.values("operator.replicas", "two")));
        assertTrue(e.getMessage().contains("replicas"), e.getMessage());
    }

    @Test
    void rightValuesPass() throws IOException {
        Path values = tmp.resolve("values.yaml");
        Files.writeString(values, """
                probe:
                  scanInterval: 1m30s
                  maxFindings: 50
                operator:
                  replicas: 1
                policy:
                  maxUnhealthy: 5
                  dryRun: true
                """);
        assertTrue(Chart.template(values).contains("kind: DaemonSet"));
    }
}
