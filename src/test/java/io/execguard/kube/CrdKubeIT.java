package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.VersionInfo;

/** crd/ on the real API server: it applies, and {@code kubectl get nodeexechealth} shows README's columns. */
class CrdKubeIT {

    static KubeCluster cluster;
    static KubernetesClient admin;

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
    }

    @AfterAll
    static void close() {
        cluster.kubectl(null, "delete", "nodeexechealth", "worker-7", "--ignore-not-found").ok();
        admin.close();
    }

    @Test
    void serverIsTheBuiltRelease() {
        VersionInfo v = admin.getKubernetesVersion();
        assertEquals("1", v.getMajor());
        assertTrue(v.getGitVersion().startsWith("v1."), v.getGitVersion());
    }

    @Test
    void getShowsReadmeColumns() {
        cluster.kubectl(null, "apply", "-f", "crd/samples/nodeexechealth-unhealthy.yaml").ok();
        String out = cluster.kubectl(null, "get", "nodeexechealth", "worker-7").ok().stdout();
        List<String> header = Arrays.asList(out.lines().findFirst().orElseThrow().trim().split("\\s+"));
        assertEquals(List.of("NAME", "STATUS", "STUCK-EXEC", "STUCK-KILL", "TOP-CAUSE", "ACTION", "LAST-PROBE", "AGE"),
                header, out);
    }
}
