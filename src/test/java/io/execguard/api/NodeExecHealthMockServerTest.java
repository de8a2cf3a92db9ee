package io.execguard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;

/** The API classes round-trip through a Kubernetes API (fabric8's mock server in CRUD mode). */
@EnableKubernetesMockClient(crud = true)
class NodeExecHealthMockServerTest {

    KubernetesClient client;

    private NonNamespaceOperation<NodeExecHealth, KubernetesResourceList<NodeExecHealth>, Resource<NodeExecHealth>> reports() {
        return client.resources(NodeExecHealth.class);
    }

    @BeforeEach
    void installCrds() {
        // the committed CRDs, so the server knows status is a subresource
        for (String file : Crds.fileNames()) {
            client.apiextensions().v1().customResourceDefinitions().resource(Crds.load(file)).create();
        }
    }

    @Test
    void createWithOwnerReferenceThenPatchAndEditStatus() {
        Node node = client.nodes().resource(ApiTestData.node("worker-1")).create();

        NodeExecHealth created = reports().resource(NodeExecHealth.forNode(node)).create();
        assertEquals("worker-1", created.getMetadata().getName());
        assertEquals("worker-1", created.getSpec().getNodeName());
        OwnerReference owner = created.getMetadata().getOwnerReferences().get(0);
        assertEquals(List.of("v1", "Node", "worker-1", node.getMetadata().getUid()),
                List.of(owner.getApiVersion(), owner.getKind(), owner.getName(), owner.getUid()));
        assertNull(created.getStatus());

        // the probe: patch the whole status it owns
        NodeExecHealth withStatus = reports().withName("worker-1").get();
        withStatus.setStatus(ApiTestData.unhealthyStatus());
        reports().resource(withStatus).patchStatus();

        NodeExecHealth read = reports().withName("worker-1").get();
        assertEquals(ApiTestData.unhealthyStatus(), read.getStatus());
        assertEquals(Phase.Unhealthy, read.getStatus().getPhase());
        assertEquals("batch", read.getStatus().getFindings().get(0).getPodNamespace());
        assertEquals(52, read.getStatus().getFindings().get(0).getMount().getFuseConnection());

        // the controller: edit only the remediation block
        reports().withName("worker-1").editStatus(n -> {
            n.getStatus().setRemediation(new RemediationStatus(Action.Annotate, "2026-11-23T10:05:20Z",
                    "container-scope Critical findings", null));
            return n;
        });
        NodeExecHealth edited = reports().withName("worker-1").get();
        assertEquals(Action.Annotate, edited.getStatus().getRemediation().getAction());
        assertEquals(2, edited.getStatus().getFindings().size(), "the probe's fields are kept");

        // a status subresource: an update of the main resource does not touch status
        NodeExecHealth spec = reports().withName("worker-1").get();
        spec.getStatus().setPhase(Phase.Healthy);
        spec.getMetadata().setLabels(java.util.Map.of("pool", "a"));
        reports().resource(spec).update();
        NodeExecHealth after = reports().withName("worker-1").get();
        assertEquals("a", after.getMetadata().getLabels().get("pool"));
        assertEquals(Phase.Unhealthy, after.getStatus().getPhase());

        assertTrue(reports().list().getItems().size() == 1);
        assertNotNull(client.resources(ExecHealthPolicy.class).list());
    }

    @Test
    void policyRoundTrip() {
        ExecHealthPolicy p = new ExecHealthPolicy();
        p.getMetadata().setName("workers");
        p.setSpec(ExecHealthPolicySpec.defaults());
        client.resources(ExecHealthPolicy.class).resource(p).create();
        ExecHealthPolicy read = client.resources(ExecHealthPolicy.class).withName("workers").get();
        assertEquals(ExecHealthPolicySpec.defaults(), read.getSpec());
    }
}
