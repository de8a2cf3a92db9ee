package io.execguard.kube;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.marcnuri.helm.Helm;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * The real control plane of {@code hack/cluster.sh} (etcd, kube-apiserver, kube-controller-manager built
 * from the Kubernetes Go modules), as the {@code *KubeIT} tests see it: an admin client, clients that
 * authenticate with real service-account tokens (optionally bound to a Pod, which gives them the
 * node-name claim), {@code kubectl}, and the API server's own request counters.
 */
public final class KubeCluster {

    private final Path kubeconfig;
    private final Path bin;
    private final Config adminConfig;

    private KubeCluster(Path kubeconfig, Path bin) {
        this.kubeconfig = kubeconfig;
        this.bin = bin;
        try {
            this.adminConfig = Config.fromKubeconfig(Files.readString(kubeconfig));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the cluster's kubeconfig " + kubeconfig, e);
        }
        adminConfig.setRequestTimeout(30_000);
    }

    /** The cluster named by -Dexecguard.kubeconfig (hack/test.sh sets it after hack/cluster.sh up). */
    public static KubeCluster fromSystemProperties() {
        String kc = System.getProperty("execguard.kubeconfig", "");
        if (kc.isBlank()) {
            throw new IllegalStateException("no real control plane: run bash hack/cluster.sh up and pass "
                    + "-Dexecguard.kubeconfig=$(bash hack/cluster.sh kubeconfig) (hack/test.sh does both)");
        }
        String b = System.getProperty("execguard.kube.bin", "");
        Path kubeconfig = Path.of(kc);
        Path bin = b.isBlank() ? readBin(kubeconfig) : Path.of(b);
        return new KubeCluster(kubeconfig, bin);
    }

    /** The cluster of that admin kubeconfig (binaries named by the {@code bin} file hack/cluster.sh writes beside it). */
    public static KubeCluster at(Path kubeconfig) {
        return new KubeCluster(kubeconfig, readBin(kubeconfig));
    }

    /** The folder of the release's binaries (kubectl, kubelet, ...). */
    public Path bin() {
        return bin;
    }

    private static Path readBin(Path kubeconfig) {
        try {
            return Path.of(Files.readString(kubeconfig.resolveSibling("bin")).trim());
        } catch (IOException e) {
            throw new UncheckedIOException("no bin file beside " + kubeconfig + " (hack/cluster.sh writes it)", e);
        }
    }

    public Path kubeconfig() {
        return kubeconfig;
    }

    public String server() {
        return adminConfig.getMasterUrl().replaceAll("/$", "");
    }

    /** The cluster CA's certificate, as kubeconfigs of other users need it. */
    public Path caFile() {
        return kubeconfig.resolveSibling("pki").resolve("ca.crt");
    }

    /** A new admin client (system:masters). Close it. */
    public KubernetesClient admin() {
        return new KubernetesClientBuilder().withConfig(adminConfig).build();
    }

    /** A new client that authenticates with a bearer token and nothing else. Close it. */
    public KubernetesClient withToken(String token) {
        Config c = new ConfigBuilder(Config.empty()).withMasterUrl(server()).withCaCertFile(caFile().toString())
                .withOauthToken(token).withRequestTimeout(30_000).withRequestRetryBackoffLimit(0).build();
        return new KubernetesClientBuilder().withConfig(c).build();
    }

    /** Creates the namespace and service account if missing. */
    public void ensureServiceAccount(KubernetesClient admin, String namespace, String name) {
        if (admin.namespaces().withName(namespace).get() == null) {
            admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata()
                    .build()).create();
        }
        if (admin.serviceAccounts().inNamespace(namespace).withName(name).get() == null) {
            admin.serviceAccounts().inNamespace(namespace).resource(new ServiceAccountBuilder().withNewMetadata()
                    .withName(name).endMetadata().build()).create();
        }
    }

    /** A real TokenRequest for the service account, not bound to any object (no node claim). */
    public String token(KubernetesClient admin, String namespace, String serviceAccount) {
        return requestToken(admin, namespace, serviceAccount, new TokenRequestBuilder().withNewSpec()
                .withExpirationSeconds(3600L).endSpec().build());
    }

    /**
     * A real TokenRequest bound to the Pod, as the kubelet asks for a projected token: the API server
     * adds the pod's node ({@code authentication.kubernetes.io/node-name} in the user's extra).
     */
    public String podBoundToken(KubernetesClient admin, Pod pod) {
        String ns = pod.getMetadata().getNamespace();
        String sa = pod.getSpec().getServiceAccountName();
        return requestToken(admin, ns, sa, new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L)
                .withNewBoundObjectRef().withApiVersion("v1").withKind("Pod").withName(pod.getMetadata().getName())
                .withUid(pod.getMetadata().getUid()).endBoundObjectRef().endSpec().build());
    }

    private static String requestToken(KubernetesClient admin, String ns, String sa, TokenRequest req) {
        TokenRequest done = admin.serviceAccounts().inNamespace(ns).withName(sa).tokenRequest(req);
        return done.getStatus().getToken();
    }

    /** A Pod bound to the node (spec.nodeName set, so no scheduler is involved) running as the account. */
    public Pod createPodOn(KubernetesClient admin, String namespace, String name, String serviceAccount,
                           String nodeName) {
        return admin.pods().inNamespace(namespace).resource(new PodBuilder().withNewMetadata().withName(name)
                .endMetadata().withNewSpec().withNodeName(nodeName).withServiceAccountName(serviceAccount)
                .withAutomountServiceAccountToken(false).addNewContainer().withName("c").withImage("execguard.test/none:0")
                .endContainer().endSpec().build()).create();
    }

    /** A Node object (no kubelet behind it) with the given labels. */
    public Node createNode(KubernetesClient admin, String name, Map<String, String> labels) {
        return admin.nodes().resource(new NodeBuilder().withNewMetadata().withName(name).withLabels(labels)
                .endMetadata().build()).create();
    }

    /** Writes a kubeconfig that authenticates with the token (for processes: KUBECONFIG=...). */
    /** The probe's own API access (not fabric8) with this token, trusting the cluster CA. */
    public io.execguard.probe.kube.KubeApi probeApi(String token) {
        return probeApi(token, io.execguard.probe.kube.ProxySettings.DIRECT);
    }

    /** The same through a proxy. */
    public io.execguard.probe.kube.KubeApi probeApi(String token, io.execguard.probe.kube.ProxySettings proxy) {
        try {
            return new io.execguard.probe.kube.KubeApi(io.execguard.probe.kube.KubeConfig.of(
                    java.net.URI.create(server()), Files.readAllBytes(caFile()),
                    io.execguard.probe.kube.TokenSource.fixed(token), proxy),
                    io.execguard.probe.kube.KubeApi.mapper(), "execguard-probe/test");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path kubeconfigFor(String token, Path file) {
        String yaml = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: execguard-test
                  cluster: {server: "%s", certificate-authority: "%s"}
                users:
                - name: token
                  user: {token: "%s"}
                contexts:
                - name: execguard-test
                  context: {cluster: execguard-test, user: token}
                current-context: execguard-test
                """.formatted(server(), caFile(), token);
        try {
            Files.writeString(file, yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** {@code kubectl apply --server-side} of crd/ and waits until both CRDs are established. */
    public void applyCrds() {
        kubectl(null, "apply", "--server-side", "--force-conflicts", "-f", "crd/").ok();
        kubectl(null, "wait", "--for=condition=Established", "--timeout=60s",
                "crd/nodeexechealths.execguard.io", "crd/exechealthpolicies.execguard.io").ok();
    }

    /** The kinds {@link #applyChart} applies by default: identities, permissions and admission, no workloads. */
    public static final Set<String> ACCESS_KINDS = Set.of("Namespace", "ServiceAccount", "ClusterRole",
            "ClusterRoleBinding", "Role", "RoleBinding", "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding");

    /**
     * Renders helm/execguard with the real Helm library ({@code helm template execguard -n execguard
     * --set namespace.create=true --set k=v ...}) and server-side applies the objects of the given kinds
     * (field manager {@code execguard-test}). Returns what it applied.
     */
    public List<HasMetadata> applyChart(KubernetesClient admin, Set<String> kinds, Map<String, Object> set) {
        var cmd = new Helm(Path.of("helm/execguard")).template().withName("execguard").withNamespace("execguard")
                .set("namespace.create", true);
        set.forEach(cmd::set);
        List<HasMetadata> objects = admin.load(new ByteArrayInputStream(cmd.call().getBytes(StandardCharsets.UTF_8)))
                .items().stream().filter(o -> kinds.contains(o.getKind())).toList();
        List<HasMetadata> ordered = new ArrayList<>(objects);
        ordered.sort(Comparator.comparing((HasMetadata o) -> !"Namespace".equals(o.getKind())));
        for (HasMetadata o : ordered) {
            admin.resource(o).fieldManager("execguard-test").forceConflicts().serverSideApply();
        }
        awaitAdmissionPolicies(admin, ordered);
        return ordered;
    }

    /**
     * A ValidatingAdmissionPolicy takes effect asynchronously: the API server's informers must see the policy and
     * its binding. Waits until the server has type-checked each applied policy at its current generation, then a
     * little longer for the admission plugin's own informers (same process, same watch).
     */
    private static void awaitAdmissionPolicies(KubernetesClient admin, List<HasMetadata> applied) {
        List<String> names = applied.stream().filter(o -> "ValidatingAdmissionPolicy".equals(o.getKind()))
                .map(o -> o.getMetadata().getName()).toList();
        if (names.isEmpty()) {
            return;
        }
        await(Duration.ofSeconds(60), "the admission policies " + names + " to be observed", () -> names.stream()
                .allMatch(n -> {
                    var vap = admin.admissionRegistration().v1().validatingAdmissionPolicies().withName(n).get();
                    return vap != null && vap.getStatus() != null && vap.getStatus().getObservedGeneration() != null
                            && vap.getStatus().getObservedGeneration().equals(vap.getMetadata().getGeneration());
                }));
        try {
            Thread.sleep(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Deletes what {@link #applyChart} applied (namespaces last) and waits until it is gone. */
    public void deleteAll(KubernetesClient admin, List<HasMetadata> objects) {
        List<HasMetadata> ordered = new ArrayList<>(objects);
        ordered.sort(Comparator.comparing((HasMetadata o) -> "Namespace".equals(o.getKind())));
        for (HasMetadata o : ordered) {
            admin.resource(o).withTimeout(60, TimeUnit.SECONDS).delete();
        }
    }

    /**
     * Restarts the API server of {@code hack/cluster.sh} (only its recorded PID; etcd and the data stay) and waits
     * until it is ready again. Fault tests only: every other KubeIT of the JVM shares this server, so callers must
     * leave the cluster as they found it. Returns how long the server was away.
     */
    public Duration restartApiServer() {
        Path dir = kubeconfig.getParent();
        int port = java.net.URI.create(server()).getPort();
        ProcessBuilder pb = new ProcessBuilder("bash", "hack/cluster.sh", "restart-apiserver").redirectErrorStream(true);
        pb.environment().put("EXECGUARD_CLUSTER_DIR", dir.toString());
        pb.environment().put("EXECGUARD_CLUSTER_PORT", Integer.toString(port));
        long t0 = System.nanoTime();
        try {
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(180, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("hack/cluster.sh restart-apiserver failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted restarting the API server", e);
        }
        try (KubernetesClient admin = admin()) {
            await(Duration.ofSeconds(60), "the restarted API server to answer /readyz", () -> {
                try {
                    return "ok".equals(admin.raw(server() + "/readyz"));
                } catch (RuntimeException e) {
                    return false;
                }
            });
            // /readyz is ok a moment before the RBAC authorizer has its roles: service accounts get 403 until then
            await(Duration.ofSeconds(60), "the restarted API server's RBAC authorizer", () -> rbacAnswers(admin));
        }
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /** A SubjectAccessReview that only RBAC (the bootstrap role system:basic-user) allows. */
    private static boolean rbacAnswers(KubernetesClient admin) {
        try {
            SubjectAccessReview sar = admin.authorization().v1().subjectAccessReview().create(new SubjectAccessReviewBuilder()
                    .withNewSpec().withUser("execguard-test-nobody").withGroups("system:authenticated")
                    .withNewResourceAttributes().withGroup("authorization.k8s.io").withResource("selfsubjectaccessreviews")
                    .withVerb("create").endResourceAttributes().endSpec().build());
            return sar.getStatus() != null && Boolean.TRUE.equals(sar.getStatus().getAllowed());
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The result of a kubectl run. */
    public record Run(int exitCode, String stdout, String stderr) {
        public Run ok() {
            if (exitCode != 0) {
                throw new AssertionError("kubectl exited " + exitCode + ": " + stderr + stdout);
            }
            return this;
        }
    }

    /** Runs the cluster's kubectl (built from the same release) as admin, with stdin. */
    public Run kubectl(String stdin, String... args) {
        List<String> cmd = new ArrayList<>(List.of(bin.resolve("kubectl").toString(), "--kubeconfig",
                kubeconfig.toString()));
        cmd.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("kubectl", ".out");
            Path err = Files.createTempFile("kubectl", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
                Process p = pb.start();
                try (var in = p.getOutputStream()) {
                    if (stdin != null) {
                        in.write(stdin.getBytes(StandardCharsets.UTF_8));
                    }
                }
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("kubectl " + args[0] + " did not finish in 120 s");
                }
                return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * Starts a CPU profile of the API server ({@code /debug/pprof/profile}, needs the server started with
     * {@code EXECGUARD_APISERVER_PROFILING=true}) for {@code seconds}, written to {@code out} by the cluster's
     * kubectl as admin. The server runs one CPU profile at a time: wait for the returned process before the next.
     */
    public Process startCpuProfile(int seconds, Path out) {
        try {
            Files.createDirectories(out.toAbsolutePath().getParent());
            return new ProcessBuilder(bin.resolve("kubectl").toString(), "--kubeconfig", kubeconfig.toString(),
                    "--request-timeout", (seconds + 30) + "s", "get", "--raw",
                    "/debug/pprof/profile?seconds=" + seconds)
                    .redirectOutput(out.toFile())
                    .redirectError(out.resolveSibling(out.getFileName() + ".err").toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * CPU seconds (user + system) a control-plane process of this cluster has used so far ({@code etcd},
     * {@code kube-apiserver}, {@code kube-controller-manager}: the PID file hack/cluster.sh keeps next to the
     * kubeconfig), from /proc; NaN when it cannot be read (not Linux, another machine). Diff two readings.
     */
    public double cpuSeconds(String process) {
        try {
            String pid = Files.readString(kubeconfig.toAbsolutePath().getParent().resolve(process + ".pid")).trim();
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime; USER_HZ 100 on Linux
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private static final Pattern REQUEST_TOTAL = Pattern.compile("^apiserver_request_total\\{([^}]*)} ([0-9.e+]+)$");

    /**
     * The API server's own {@code apiserver_request_total} summed by verb, optionally for one resource.
     * The metric has no user label: callers diff two readings taken around their own work.
     */
    public Map<String, Long> requestsByVerb(String resourceOrNull) {
        return requestsBy("verb", resourceOrNull);
    }

    /** {@code apiserver_request_total} summed by one of its labels (verb, code, resource, ...). */
    public Map<String, Long> requestsBy(String label, String resourceOrNull) {
        Map<String, Long> byVerb = new TreeMap<>();
        try (KubernetesClient admin = admin()) {
            String text = admin.raw(server() + "/metrics");
            for (String line : text.split("\n")) {
                Matcher m = REQUEST_TOTAL.matcher(line);
                if (!m.matches()) {
                    continue;
                }
                Map<String, String> labels = labels(m.group(1));
                if (resourceOrNull != null && !resourceOrNull.equals(labels.get("resource"))) {
                    continue;
                }
                byVerb.merge(labels.getOrDefault(label, "?"), (long) Double.parseDouble(m.group(2)), Long::sum);
            }
        }
        return byVerb;
    }

    /**
     * The API server's priority-and-fairness figures by priority level: requests dispatched, seconds they waited in
     * its queues, seconds they executed ({@code apiserver_flowcontrol_request_wait_duration_seconds} and
     * {@code _execution_seconds}, sum and count). Diff two of them around a phase to see whether a client's requests
     * were slow in the server's queues, in the server, or on the client's side.
     */
    public Map<String, double[]> flowControl() {
        Map<String, double[]> out = new TreeMap<>();
        try (KubernetesClient admin = admin()) {
            String text = admin.raw(server() + "/metrics");
            for (String line : text.split("\n")) {
                Matcher m = FLOW_CONTROL.matcher(line);
                if (!m.matches()) {
                    continue;
                }
                String level = labels(m.group(3)).getOrDefault("priority_level", "?");
                double v = Double.parseDouble(m.group(4));
                int i = (m.group(1).equals("wait_duration") ? 0 : 2) + (m.group(2).equals("count") ? 1 : 0);
                out.computeIfAbsent(level, k -> new double[4])[i] += v;
            }
        }
        return out;
    }

    /** {@link #flowControl()} after minus before, as "level: n requests, wait mean x ms, execution mean y ms". */
    public static String flowControlDiff(Map<String, double[]> before, Map<String, double[]> after) {
        StringBuilder b = new StringBuilder();
        after.forEach((level, a) -> {
            double[] z = before.getOrDefault(level, new double[4]);
            double n = a[3] - z[3];
            if (n >= 1) {
                b.append(b.isEmpty() ? "" : "; ").append(String.format("%s: %.0f requests, wait mean %.1f ms, "
                                + "execution mean %.1f ms", level, n, (a[0] - z[0]) / Math.max(1, a[1] - z[1]) * 1000,
                        (a[2] - z[2]) / n * 1000));
            }
        });
        return b.toString();
    }

    /**
     * The API server's own time per request kind: {@code apiserver_request_duration_seconds} sum and count by verb,
     * resource and subresource (from the request's arrival in the handler chain, after flow control, to its
     * response: authentication, authorization, admission, storage). Diff two around a phase with {@link #durationDiff}.
     */
    public Map<String, double[]> requestDurations() {
        Map<String, double[]> out = new TreeMap<>();
        try (KubernetesClient admin = admin()) {
            String text = admin.raw(server() + "/metrics");
            for (String line : text.split("\n")) {
                Matcher m = REQUEST_DURATION.matcher(line);
                if (!m.matches()) {
                    continue;
                }
                Map<String, String> l = labels(m.group(2));
                String kind = l.getOrDefault("verb", "?") + " " + l.getOrDefault("resource", "?")
                        + (l.getOrDefault("subresource", "").isEmpty() ? "" : "/" + l.get("subresource"));
                out.computeIfAbsent(kind, k -> new double[2])[m.group(1).equals("count") ? 1 : 0]
                        += Double.parseDouble(m.group(3));
            }
        }
        return out;
    }

    /** {@link #requestDurations()} after minus before: "VERB resource: n, mean x ms", the busiest first. */
    public static String durationDiff(Map<String, double[]> before, Map<String, double[]> after) {
        List<String> out = new java.util.ArrayList<>();
        after.entrySet().stream().map(e -> {
            double[] z = before.getOrDefault(e.getKey(), new double[2]);
            return Map.entry(e.getKey(), new double[] {e.getValue()[0] - z[0], e.getValue()[1] - z[1]});
        }).filter(e -> e.getValue()[1] >= 1).sorted((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]))
                .forEach(e -> out.add(String.format("%s: %.0f, mean %.1f ms", e.getKey(), e.getValue()[1],
                        e.getValue()[0] / e.getValue()[1] * 1000)));
        return String.join("; ", out);
    }

    private static final Pattern REQUEST_DURATION = Pattern.compile(
            "^apiserver_request_duration_seconds_(sum|count)\\{([^}]*)} ([0-9.e+-]+)$");

    private static final Pattern FLOW_CONTROL = Pattern.compile(
            "^apiserver_flowcontrol_request_(wait_duration|execution)_seconds_(sum|count)\\{([^}]*)} ([0-9.e+-]+)$");

    private static Map<String, String> labels(String s) {
        Map<String, String> out = new TreeMap<>();
        Matcher m = Pattern.compile("(\\w+)=\"([^\"]*)\"").matcher(s);
        while (m.find()) {
            out.put(m.group(1), m.group(2));
        }
        return out;
    }

    /** Polls until the condition holds; fails with the message after the timeout. */
    /**
     * The lines of a process log where the API server refused a request: fabric8 logs a refusal as
     * "... is forbidden: User ..." with "code=403" in the Status. A bare "403" is not enough (a port such as
     * :34039 contains it).
     */
    public static List<String> refusals(String log) {
        return log.lines().filter(l -> REFUSAL.matcher(l).find()).toList();
    }

    private static final Pattern REFUSAL = Pattern.compile("(?i)forbidden|code\\s*[=:]\\s*403\\b|\\b403 forbidden");

    public static void await(Duration timeout, String what, BooleanSupplier cond) {
        await(timeout, Duration.ofMillis(100), what, cond);
    }

    /** Polls every {@code poll} (a benchmark's scrapes must not become part of what it measures). */
    public static void await(Duration timeout, Duration poll, String what, BooleanSupplier cond) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (cond.getAsBoolean()) {
                return;
            }
            try {
                Thread.sleep(poll.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
    }
}
