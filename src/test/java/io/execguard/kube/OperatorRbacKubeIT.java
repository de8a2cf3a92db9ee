package io.execguard.kube;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.NodeExecHealth;

/**
 * The chart's operator ClusterRole and leader-election Role on the real API server, call by call with the
 * operator service account's real token: what it must never do is refused with 403, what it needs succeeds.
 * Every call names an object that exists, so a refusal is the authorizer's and not a 404.
 */
class OperatorRbacKubeIT {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorRbacKubeIT.class);

    static final String PREFIX = "orbac-";
    static final String NS = "execguard";
    static final String NODE = PREFIX + "node";
    static final String POD = PREFIX + "pod";
    static final String POLICY = PREFIX + "policy";
    static final String LEASE = PREFIX + "lease";
    static final String NEH = "/apis/execguard.io/v1alpha1/nodeexechealths/";
    static final String POLICIES = "/apis/execguard.io/v1alpha1/exechealthpolicies/";
    static final String LEASES = "/apis/coordination.k8s.io/v1/namespaces/";
    static final String JSON = "application/json";
    static final String MERGE = "application/merge-patch+json";
    static final String JSON_PATCH = "application/json-patch+json";

    enum Expect {
        /** 403 Forbidden, exactly. */
        REFUSED,
        /** 2xx. */
        ALLOWED;

        boolean matches(int code) {
            return this == REFUSED ? code == 403 : code >= 200 && code < 300;
        }
    }

    /** One request of the table. */
    record Call(Expect expect, String what, String method, String path, String contentType, String body) {
        static Call refused(String what, String method, String path, String contentType, String body) {
            return new Call(Expect.REFUSED, what, method, path, contentType, body);
        }

        static Call allowed(String what, String method, String path, String contentType, String body) {
            return new Call(Expect.ALLOWED, what, method, path, contentType, body);
        }
    }

    /** What the server answered. */
    record Result(Call call, int code) {
        boolean ok() {
            return call.expect().matches(code);
        }
    }

    static KubeCluster cluster;
    static KubernetesClient admin;
    static KubernetesClient operator;
    static List<HasMetadata> chart = List.of();

    @BeforeAll
    static void up() {
        cluster = KubeCluster.fromSystemProperties();
        admin = cluster.admin();
        cluster.applyCrds();
        cleanUp();
        chart = cluster.applyChart(admin, KubeCluster.ACCESS_KINDS, Map.of("operator.leaseName", LEASE));
        cluster.createNode(admin, NODE, Map.of());
        admin.resources(NodeExecHealth.class).resource(NodeExecHealth.forNode(admin.nodes().withName(NODE).get()))
                .create();
        ExecHealthPolicy p = new ExecHealthPolicy();
        p.getMetadata().setName(POLICY);
        ExecHealthPolicySpec spec = new ExecHealthPolicySpec();
        spec.setNodeSelector(Map.of("execguard.test/selects", "nothing"));
        p.setSpec(spec);
        admin.resource(p).create();
        cluster.createPodOn(admin, NS, POD, "execguard-operator", NODE);
        for (String ns : List.of(NS, "default")) {
            admin.leases().inNamespace(ns).resource(new LeaseBuilder().withNewMetadata().withName(LEASE).endMetadata()
                    .withNewSpec().withHolderIdentity("someone-else").endSpec().build()).create();
        }
        operator = cluster.withToken(cluster.token(admin, NS, "execguard-operator"));
    }

    @AfterAll
    static void down() {
        try {
            if (operator != null) {
                operator.close();
            }
            cleanUp();
            cluster.deleteAll(admin, chart.stream().filter(o -> !"Namespace".equals(o.getKind())).toList());
        } finally {
            admin.close();
        }
    }

    static void cleanUp() {
        if (admin.namespaces().withName(NS).get() != null) {
            admin.pods().inNamespace(NS).withName(POD).withGracePeriod(0).delete();
            admin.leases().inNamespace(NS).withName(LEASE).delete();
            admin.leases().inNamespace(NS).withName(LEASE + "-own").delete();
        }
        admin.leases().inNamespace("default").withName(LEASE).delete();
        admin.resources(ExecHealthPolicy.class).withName(POLICY).delete();
        admin.resources(NodeExecHealth.class).withName(NODE).delete();
        admin.nodes().withName(NODE).delete();
        admin.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> e.getMetadata().getName().startsWith(PREFIX)).forEach(e -> admin.resource(e).delete());
    }

    static List<Call> table() {
        KubernetesSerialization json = admin.getKubernetesSerialization();
        // PUT bodies without resourceVersion: unconditional, so the node controller's writes cannot make them 409
        var n = admin.nodes().withName(NODE).get();
        n.getMetadata().setResourceVersion(null);
        n.getMetadata().setManagedFields(null);
        String node = json.asJson(n);
        var r = admin.resources(NodeExecHealth.class).withName(NODE).get();
        r.getMetadata().setResourceVersion(null);
        String report = json.asJson(r);
        String ownLease = json.asJson(new LeaseBuilder().withNewMetadata().withName(LEASE + "-own").endMetadata()
                .withNewSpec().withHolderIdentity("execguard-test").endSpec().build());
        String holder = "{\"spec\":{\"holderIdentity\":\"execguard-operator\"}}";
        String event = json.asJson(Map.of("apiVersion", "v1", "kind", "Event",
                "metadata", Map.of("name", PREFIX + "event", "namespace", "default"),
                "involvedObject", Map.of("apiVersion", "v1", "kind", "Node", "name", NODE),
                "reason", "ExecGuardTest", "message", "rbac table", "type", "Normal",
                "firstTimestamp", Instant.now().toString(), "lastTimestamp", Instant.now().toString()));
        String condition = "[{\"op\":\"add\",\"path\":\"/status/conditions\",\"value\":[{\"type\":\"ExecHealthy\","
                + "\"status\":\"True\",\"reason\":\"ExecHealthy\"}]}]";
        return List.of(
                // what it must never do
                Call.refused("read secrets in its namespace", "GET", "/api/v1/namespaces/" + NS + "/secrets", null, null),
                Call.refused("list secrets cluster-wide", "GET", "/api/v1/secrets", null, null),
                Call.refused("list configmaps", "GET", "/api/v1/configmaps", null, null),
                Call.refused("list pods", "GET", "/api/v1/pods", null, null),
                Call.refused("create pods", "POST", "/api/v1/namespaces/" + NS + "/pods", JSON,
                        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + PREFIX + "x\"},"
                                + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}"),
                Call.refused("exec into a pod (pods/exec)", "POST", "/api/v1/namespaces/" + NS + "/pods/" + POD
                        + "/exec?command=true&stdout=true", null, ""),
                Call.refused("evict a pod (pods/eviction)", "POST", "/api/v1/namespaces/" + NS + "/pods/" + POD
                        + "/eviction", JSON, "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":"
                        + "{\"name\":\"" + POD + "\",\"namespace\":\"" + NS + "\"}}"),
                Call.refused("delete a node", "DELETE", "/api/v1/nodes/" + NODE, null, null),
                Call.refused("create a node", "POST", "/api/v1/nodes", JSON,
                        "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"" + PREFIX + "x\"}}"),
                Call.refused("replace nodes/status (PUT)", "PUT", "/api/v1/nodes/" + NODE + "/status", JSON, node),
                Call.refused("proxy to a node's kubelet (nodes/proxy)", "GET", "/api/v1/nodes/" + NODE + "/proxy/pods",
                        null, null),
                Call.refused("create a report", "POST", NEH, JSON, report.replace(NODE, PREFIX + "x")),
                Call.refused("delete a report", "DELETE", NEH + NODE, null, null),
                Call.refused("patch a report's spec", "PATCH", NEH + NODE, MERGE, "{\"spec\":{\"nodeName\":\"x\"}}"),
                Call.refused("replace a report (PUT)", "PUT", NEH + NODE, JSON, report),
                Call.refused("patch a policy's spec", "PATCH", POLICIES + POLICY, MERGE, "{\"spec\":{\"dryRun\":false}}"),
                Call.refused("delete a policy", "DELETE", POLICIES + POLICY, null, null),
                Call.refused("create a policy", "POST", POLICIES, JSON, "{\"apiVersion\":\"execguard.io/v1alpha1\","
                        + "\"kind\":\"ExecHealthPolicy\",\"metadata\":{\"name\":\"" + PREFIX + "x\"}}"),
                Call.refused("read a lease in another namespace", "GET", LEASES + "default/leases/" + LEASE, null, null),
                Call.refused("patch a lease in another namespace", "PATCH", LEASES + "default/leases/" + LEASE, MERGE,
                        holder),
                Call.refused("create a lease in another namespace", "POST", LEASES + "default/leases", JSON, ownLease),
                Call.refused("delete its namespace's lease", "DELETE", LEASES + NS + "/leases/" + LEASE, null, null),
                Call.refused("list leases", "GET", LEASES + NS + "/leases", null, null),
                Call.refused("delete events", "DELETE", "/api/v1/namespaces/default/events", null, null),
                Call.refused("mint service-account tokens", "POST", "/api/v1/namespaces/" + NS
                        + "/serviceaccounts/execguard-operator/token", JSON,
                        "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\",\"spec\":{}}"),
                Call.refused("bind itself a cluster role", "POST",
                        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", JSON,
                        "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRoleBinding\",\"metadata\":"
                                + "{\"name\":\"" + PREFIX + "x\"},\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\","
                                + "\"kind\":\"ClusterRole\",\"name\":\"cluster-admin\"},\"subjects\":[{\"kind\":"
                                + "\"ServiceAccount\",\"name\":\"execguard-operator\",\"namespace\":\"" + NS + "\"}]}"),
                Call.refused("change admission policies", "DELETE", "/apis/admissionregistration.k8s.io/v1/"
                        + "validatingadmissionpolicies/execguard-probe-own-node", null, null),
                // what the operator's code paths call
                Call.allowed("list nodes (informer)", "GET", "/api/v1/nodes?labelSelector=x%3Dy", null, null),
                Call.allowed("watch nodes (informer)", "GET", "/api/v1/nodes?watch=true&timeoutSeconds=1", null, null),
                Call.allowed("get a node", "GET", "/api/v1/nodes/" + NODE, null, null),
                Call.refused("replace a node (PUT: only patches are granted)", "PUT", "/api/v1/nodes/" + NODE, JSON, node),
                Call.allowed("JSON-patch a node (annotations, taint, cordon)", "PATCH", "/api/v1/nodes/" + NODE,
                        MERGE, "{\"metadata\":{\"annotations\":{\"execguard.io/exec-health\":\"Healthy\"}}}"),
                Call.allowed("JSON-patch nodes/status (the condition)", "PATCH", "/api/v1/nodes/" + NODE + "/status",
                        JSON_PATCH, condition),
                Call.allowed("list reports (informer)", "GET", NEH, null, null),
                Call.allowed("JSON-patch a report's status (remediation)", "PATCH", NEH + NODE + "/status"
                        + "?fieldManager=execguard-operator", JSON_PATCH, "[{\"op\":\"add\",\"path\":\"/status\","
                        + "\"value\":{\"remediation\":{\"action\":\"None\",\"reason\":\"Healthy\"}}}]"),
                Call.allowed("list policies (informer)", "GET", POLICIES, null, null),
                Call.allowed("JSON-patch a policy's status (incidents)", "PATCH", POLICIES + POLICY + "/status",
                        JSON_PATCH, "[{\"op\":\"add\",\"path\":\"/status\",\"value\":{\"nodesHeld\":0}}]"),
                Call.allowed("create an event", "POST", "/api/v1/namespaces/default/events", JSON, event),
                Call.allowed("raise an event's count (aggregation)", "PATCH", "/api/v1/namespaces/default/events/"
                        + PREFIX + "event", MERGE, "{\"count\":2}"),
                Call.refused("create an event in another namespace", "POST", "/api/v1/namespaces/" + NS + "/events",
                        JSON, event.replace("\"namespace\":\"default\"", "\"namespace\":\"" + NS + "\"")),
                Call.allowed("create its lease", "POST", LEASES + NS + "/leases", JSON, ownLease),
                Call.allowed("get its lease", "GET", LEASES + NS + "/leases/" + LEASE, null, null),
                Call.allowed("renew its lease (patch, fabric8's LeaseLock)", "PATCH", LEASES + NS + "/leases/" + LEASE,
                        MERGE, holder));
    }

    static Result send(KubernetesClient client, Call call) throws Exception {
        HttpRequest.Builder b = client.getHttpClient().newHttpRequestBuilder().uri(cluster.server() + call.path());
        if (!"GET".equals(call.method())) {
            b.method(call.method(), call.contentType() == null ? JSON : call.contentType(),
                    call.body() == null ? "" : call.body());
        }
        int code = client.getHttpClient().sendAsync(b.build(), String.class).get(30, TimeUnit.SECONDS).code();
        return new Result(call, code);
    }

    @Test
    void theOperatorAccountCanDoWhatItNeedsAndNothingElse() throws Exception {
        List<Result> results = new ArrayList<>();
        for (Call c : table()) {
            results.add(send(operator, c));
        }
        StringBuilder t = new StringBuilder(String.format("%n%-8s %-6s %-4s %-4s %s%n", "EXPECT", "VERB", "CODE", "OK",
                "WHAT (system:serviceaccount:execguard:execguard-operator)"));
        for (Result r : results) {
            t.append(String.format("%-8s %-6s %-4d %-4s %s  [%s]%n", r.call().expect(), r.call().method(), r.code(),
                    r.ok() ? "yes" : "NO", r.call().what(), r.call().path().replaceAll("\\?.*", "")));
        }
        LOG.info("operator RBAC on the real API server:{}", t);
        System.out.println(t);
        long refused = results.stream().filter(r -> r.call().expect() == Expect.REFUSED).count();
        assertTrue(refused >= 20, "the table refuses " + refused);
        List<Result> wrong = results.stream().filter(r -> !r.ok()).toList();
        assertTrue(wrong.isEmpty(), "unexpected answers: " + wrong + t);
    }
}
