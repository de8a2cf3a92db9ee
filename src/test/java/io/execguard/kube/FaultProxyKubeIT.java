package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;

import io.execguard.controller.decide.NodePlan;

/**
 * The {@link FaultProxy} itself, with a fabric8 client (JDK HTTP client, as the operator jar) authenticated as the
 * chart's operator account through it: requests reach the real API server, injected errors arrive as Kubernetes
 * Status codes, held requests wait and dropped ones fail, delays are felt, watches (WebSocket) are relayed and
 * {@link FaultProxy#cutAll} breaks them (the informer re-lists and sees what changed meanwhile).
 */
class FaultProxyKubeIT {

    static final String PREFIX = "fault-proxy-it-";
    static final String SUITE = PREFIX + "suite";
    static KubeCluster cluster;
    static KubernetesClient admin;
    static List<HasMetadata> chart = List.of();
    static FaultProxy proxy;
    static KubernetesClient client;

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cleanUp();
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of());
        proxy = FaultProxy.in(cluster);
        String token = cluster.token(admin, HaFleet.NAMESPACE, HaFleet.OPERATOR_SA);
        client = new KubernetesClientBuilder().withConfig(new ConfigBuilder(io.fabric8.kubernetes.client.Config.empty())
                .withMasterUrl(proxy.url()).withOauthToken(token).withRequestTimeout(10_000)
                .withRequestRetryBackoffLimit(0).build()).build();
    }

    @AfterAll
    static void down() {
        try {
            if (client != null) {
                client.close();
            }
            if (proxy != null) {
                proxy.close();
            }
        } finally {
            cleanUp();
            cluster.deleteAll(admin, chart.stream().filter(o -> !"Namespace".equals(o.getKind())).toList());
            admin.close();
        }
    }

    static void cleanUp() {
        admin.nodes().withLabel(HaFleet.SUITE_LABEL, SUITE).delete();
    }

    static Node createNode(String name) {
        return cluster.createNode(admin, name, Map.of(HaFleet.SUITE_LABEL, SUITE));
    }

    @Test
    void relaysInjectsHoldsDelaysAndCuts() throws Exception {
        String a = PREFIX + "a";
        createNode(a);
        Set<String> seen = ConcurrentHashMap.newKeySet();
        var informer = client.nodes().withLabel(HaFleet.SUITE_LABEL, SUITE).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Node n) {
                seen.add(n.getMetadata().getName());
            }

            @Override
            public void onUpdate(Node o, Node n) {
                seen.add(n.getMetadata().getName());
            }

            @Override
            public void onDelete(Node n, boolean unknown) {
            }
        }, 0);
        try {
            // relayed: a GET as the operator's account, a watch over a WebSocket
            assertNotNull(client.nodes().withName(a).get());
            KubeCluster.await(Duration.ofSeconds(20), "the informer to list " + a, () -> seen.contains(a));
            assertTrue(proxy.responsesByStatus().getOrDefault("WATCH 101", 0L) >= 1, proxy.responsesByStatus().toString());

            // injected errors: exactly N, then through again
            FaultProxy.Fail conflict = proxy.fail(FaultProxy.Match.of("GET", "/api/v1/nodes/" + a), 409, 1);
            KubernetesClientException e = assertThrows(KubernetesClientException.class, () -> client.nodes().withName(a).get());
            assertEquals(409, e.getCode());
            assertEquals("Conflict", e.getStatus().getReason());
            assertNotNull(client.nodes().withName(a).get());
            assertEquals(1, conflict.hits());
            for (int code : new int[] {500, 503, 429}) {
                proxy.fail(FaultProxy.Match.of("GET", "/api/v1/nodes/" + a), code, 1);
                assertEquals(code, assertThrows(KubernetesClientException.class,
                        () -> client.nodes().withName(a).get()).getCode());
            }

            // held until released; dropped: never sent, the client's connection closes
            FaultProxy.Hold hold = proxy.hold(FaultProxy.Match.of("GET", "/api/v1/nodes/" + a));
            CompletableFuture<Node> waiting = CompletableFuture.supplyAsync(() -> client.nodes().withName(a).get());
            hold.awaitHeld(1, Duration.ofSeconds(10));
            assertTrue(!waiting.isDone(), "held");
            hold.release();
            assertNotNull(waiting.get(10, TimeUnit.SECONDS));
            // (a write: the JDK client retries an idempotent GET by itself on a closed connection, not a PATCH)
            FaultProxy.Hold drop = proxy.hold(FaultProxy.Match.of("PATCH", "/api/v1/nodes/" + a));
            CompletableFuture<Node> dropped = CompletableFuture.supplyAsync(() -> client.nodes().withName(a)
                    .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"annotations\":{\""
                            + NodePlan.ANNOTATION_HEALTH + "\":\"Healthy\"}}}"));
            drop.awaitHeld(1, Duration.ofSeconds(10));
            drop.drop();
            assertThrows(Exception.class, () -> dropped.get(15, TimeUnit.SECONDS));
            Map<String, String> ann = admin.nodes().withName(a).get().getMetadata().getAnnotations();
            assertTrue(ann == null || !ann.containsKey(NodePlan.ANNOTATION_HEALTH), "the dropped PATCH never reached "
                    + "the server: " + ann);

            // delayed after the server answered
            FaultProxy.Delay slow = proxy.delay(FaultProxy.Match.of("GET", "/api/v1/nodes/" + a), Duration.ofMillis(1500),
                    Duration.ofMillis(1500));
            long t0 = System.nanoTime();
            assertNotNull(client.nodes().withName(a).get());
            assertTrue(System.nanoTime() - t0 >= Duration.ofMillis(1500).toNanos(), "delayed");
            slow.remove();

            // every connection cut, the watch too: the informer comes back and sees a Node made meanwhile
            long watchesBefore = proxy.requestsByVerb().getOrDefault("WATCH", 0L);
            proxy.cutAll();
            String b = PREFIX + "b";
            createNode(b);
            KubeCluster.await(Duration.ofSeconds(60), "the informer to re-watch and see " + b, () -> seen.contains(b));
            assertTrue(proxy.requestsByVerb().getOrDefault("WATCH", 0L) > watchesBefore, "a new watch after the cut: "
                    + proxy.requestsByVerb());
        } finally {
            informer.close();
        }
    }
}
