package io.execguard.probe;

import static io.execguard.probe.ProbeTestData.CID;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;

import io.execguard.detect.FindingType;

/** The node-local pod watch against the CRUD mock: this node's pods only, updates followed. */
@EnableKubernetesMockClient(crud = true)
class PodWatcherTest {

    KubernetesClient client;

    @Test
    void indexesOnlyThisNodesPodsAndFollowsChanges() throws Exception {
        Pod mine = ProbeTestData.pod("shop", "web-1", "u1", "app", "containerd://" + CID, null);
        Pod other = ProbeTestData.pod("shop", "web-2", "u2", "app", "containerd://" + "a".repeat(64), null);
        other.getSpec().setNodeName("node-b");
        client.pods().inNamespace("shop").resource(mine).create();
        client.pods().inNamespace("shop").resource(other).create();
        try (PodWatcher w = new PodWatcher(client, "node-a")) {
            w.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!w.synced() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            PodIndex idx = w.index();
            assertEquals("web-1", idx.attribute(ProbeTestData.finding(FindingType.HungTask, 1, CID)).name());
            assertNull(idx.attribute(ProbeTestData.finding(FindingType.HungTask, 1, "a".repeat(64))));
            client.pods().inNamespace("shop").withName("web-1").delete();
            while (w.index().attribute(ProbeTestData.finding(FindingType.HungTask, 1, CID)) != null
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertNull(w.index().attribute(ProbeTestData.finding(FindingType.HungTask, 1, CID)), "deletion followed");
        }
    }
}
