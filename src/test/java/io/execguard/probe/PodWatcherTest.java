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
@EnableKubernetesMockClient(crud = true, https = false)
class PodWatcherTest {

    KubernetesClient client;
    io.fabric8.kubernetes.client.server.mock.KubernetesMockServer server;

    @Test
    void asksTheApiServerForThisNodesPodsOnly() throws Exception {
        try (PodWatcher w = new PodWatcher(ProbeTestData.api(url()), "node-a")) {
            w.start();
            boolean seen = false;
            io.fabric8.mockwebserver.http.RecordedRequest r;
            while (!seen && (r = server.takeRequest(5, java.util.concurrent.TimeUnit.SECONDS)) != null) {
                seen = r.getPath().startsWith("/api/v1/pods?")
                        && java.net.URLDecoder.decode(r.getPath(), java.nio.charset.StandardCharsets.UTF_8)
                            .contains("fieldSelector=spec.nodeName=node-a");
            }
            org.junit.jupiter.api.Assertions.assertTrue(seen, "list/watch with fieldSelector=spec.nodeName=node-a");
        }
    }

    @Test
    void indexesOnlyThisNodesPods() throws Exception {
        Pod mine = fabric8Pod("shop", "web-1", "u1", "app", "containerd://" + CID, null);
        Pod other = fabric8Pod("shop", "web-2", "u2", "app", "containerd://" + "a".repeat(64), null);
        other.getSpec().setNodeName("node-b");
        for (Pod p : new Pod[] {mine, other}) {
            client.pods().inNamespace("shop").resource(p).create();
            // like the kubelet: container ids arrive through the status subresource
            client.pods().inNamespace("shop").withName(p.getMetadata().getName()).editStatus(x -> {
                x.setStatus(p.getStatus());
                return x;
            });
        }
        // the mock ignores field selectors, so the client-side filter is what is exercised here
        try (PodWatcher w = new PodWatcher(ProbeTestData.api(url()), "node-a", false, PodWatcher.DEFAULT_WATCH_TIMEOUT, null)) {
            w.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!w.synced() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            PodIndex idx = w.index();
            assertEquals("web-1", idx.attribute(ProbeTestData.finding(FindingType.HungTask, 1, CID)).name());
            assertNull(idx.attribute(ProbeTestData.finding(FindingType.HungTask, 1, "a".repeat(64))));
            // following changes (watch events, resume, 410) needs a server that streams watches over HTTP, which
            // the mock does not (it serves watches over WebSockets): ProbeKubeAccessKubeIT, on the real API server
        }
    }

    private String url() {
        return "http://127.0.0.1:" + server.getPort();
    }

    private static Pod fabric8Pod(String namespace, String name, String uid, String container, String runtimeId,
                                  String deletionTimestamp) {
        return new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withNamespace(namespace)
                .withName(name).withUid(uid).withDeletionTimestamp(deletionTimestamp).endMetadata()
                .withNewSpec().withNodeName("node-a").endSpec()
                .withNewStatus().addNewContainerStatus().withName(container).withContainerID(runtimeId)
                .endContainerStatus().endStatus().build();
    }
}
