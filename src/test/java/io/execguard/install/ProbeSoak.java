package io.execguard.install;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.TestFleet;
import io.execguard.bench.BusyNode;
import io.execguard.bench.SyntheticHost;

/**
 * Not a test: the harness behind docs/RESOURCES.md. {@code tree DIR TASKS} writes a synthetic busy
 * node (BusyNode, cgroup v2) under DIR and leaves it there; {@code server NODE PORTFILE} runs
 * fabric8's mock API server in CRUD mode over HTTPS with the execguard CRDs and one Node, writes its
 * port to PORTFILE and serves until killed, so a real {@code execguard probe} process (any JVM
 * flags, any runtime) can run against it: see hack/measure-probe.sh; {@code fleet NODES PORTFILE} serves NODES
 * Nodes and reports (30 % failing) under an acting policy, for the operator's training run (hack/aot-train.sh).
 */
public final class ProbeSoak {

    private ProbeSoak() {
    }

    /** fabric8's mock API server in CRUD mode over HTTPS on 127.0.0.1, serving the execguard CRDs. */
    private static KubernetesMockServer crudServer() {
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(List.of()), true);
        server.start(InetAddress.getLoopbackAddress(), 0);
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(NodeExecHealth.class));
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(ExecHealthPolicy.class));
        return server;
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "tree" -> {
                Path dir = Path.of(args[1]);
                Files.createDirectories(dir);
                SyntheticHost h = SyntheticHost.create(dir, SyntheticHost.CgroupLayout.V2, 30 * 86400.0);
                BusyNode.Populated p = BusyNode.populate(h, Integer.parseInt(args[2]), 300, 42);
                System.out.printf("%d tasks, %d processes, %d pods under %s%n", p.tasks(), p.processes(), p.pods(),
                        dir);
            }
            case "server" -> {
                KubernetesMockServer server = crudServer();
                try (KubernetesClient client = server.createClient()) {
                    client.nodes().resource(new NodeBuilder().withNewMetadata().withName(args[1])
                            .withUid("0b6d1c52-3c1e-4a8e-b1f7-2f6f1a9d2c44").endMetadata().build()).create();
                }
                Files.writeString(Path.of(args[2]), Integer.toString(server.getPort()));
                System.out.println("mock API server on https://127.0.0.1:" + server.getPort());
                new CountDownLatch(1).await();
            }
            case "fleet" -> {
                // the operator's training run (hack/aot-train.sh ... operator): a fleet to decide, 30 % failing at
                // node scope under a policy that acts (not a dry run), so every path of a reconcile is taken
                KubernetesMockServer server = crudServer();
                int nodes = Integer.parseInt(args[1]);
                try (KubernetesClient client = server.createClient()) {
                    ExecHealthPolicy p = new ExecHealthPolicy();
                    p.getMetadata().setName("default");
                    p.setSpec(new ExecHealthPolicySpec());
                    p.getSpec().setDryRun(false);
                    client.resource(p).create();
                    Instant now = Instant.now();
                    for (int i = 0; i < nodes; i++) {
                        String name = String.format("train-%04d", i);
                        Node node = client.nodes().resource(TestFleet.node(name, Map.of("pool", "default"))).create();
                        NodeExecHealth neh = NodeExecHealth.forNode(node);
                        neh.setStatus(TestFleet.status(i, now, null));
                        client.resources(NodeExecHealth.class).resource(neh).create();
                    }
                }
                Files.writeString(Path.of(args[2]), Integer.toString(server.getPort()));
                System.out.println("mock API server with " + nodes + " nodes on https://127.0.0.1:" + server.getPort());
                new CountDownLatch(1).await();
            }
            default -> throw new IllegalArgumentException("tree DIR TASKS | server NODE PORTFILE | fleet NODES PORTFILE");
        }
    }
}
