package io.execguard.node;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;

import io.execguard.kube.KubeCluster;

/**
 * The cluster of {@code hack/cluster.sh up --node}: its control plane (a {@link KubeCluster}) plus the one real
 * node hack/node.sh runs (a kubelet on Debian's containerd), as the node e2e sees it: where the cluster lives,
 * the node's name and cgroups, {@code kubectl} runs with the admin kubeconfig, images imported into the node.
 *
 * @param cluster the control plane
 * @param dir     EXECGUARD_CLUSTER_DIR (the kubeconfig's folder)
 * @param port    EXECGUARD_CLUSTER_PORT (the API server's)
 * @param node    the node's name (DIR/node/name)
 */
public record NodeE2E(KubeCluster cluster, Path dir, int port, String node) {

    /** The cluster named by -Dexecguard.node.kubeconfig; the test is skipped (one line) without one. */
    public static NodeE2E fromSystemProperties() {
        String kc = System.getProperty("execguard.node.kubeconfig", "");
        skipUnless(!kc.isBlank(), "no node cluster; run bash hack/cluster.sh up --node (root) and pass "
                + "-Dexecguard.node.kubeconfig=$(bash hack/cluster.sh kubeconfig)");
        Path kubeconfig = Path.of(kc).toAbsolutePath();
        Path dir = kubeconfig.getParent();
        Path nameFile = dir.resolve("node").resolve("name");
        skipUnless(Files.isRegularFile(nameFile), dir + " has no node (bash hack/cluster.sh node-up)");
        KubeCluster cluster = KubeCluster.at(kubeconfig);
        int port = Integer.parseInt(cluster.server().replaceAll(".*:", ""));
        try {
            return new NodeE2E(cluster, dir, port, Files.readString(nameFile).strip());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void skipUnless(boolean ok, String reason) {
        if (!ok) {
            System.out.println("[node-e2e] SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
    }

    /** The node's cgroups (kubelet cgroupRoot) below each hierarchy's root. */
    public String cgroupRoot() {
        return "/execguard-" + port;
    }

    /** The pods cgroup v1 folder of a container of the pod (kubepods/QOS/pod UID/container id). */
    public Path pidsCgroupOf(Pod pod, String containerId) {
        return cgroupOf("pids", pod, containerId);
    }

    /** A cgroup v1 controller's folder of a container of the pod (kubepods/QOS/pod UID/container id). */
    public Path cgroupOf(String controller, Pod pod, String containerId) {
        String qos = pod.getStatus().getQosClass().toLowerCase(java.util.Locale.ROOT);
        Path base = Path.of("/sys/fs/cgroup/" + controller + cgroupRoot(), "kubepods");
        Path podDir = (qos.equals("guaranteed") ? base : base.resolve(qos)).resolve("pod" + pod.getMetadata().getUid());
        return podDir.resolve(containerId);
    }

    /** {@code hack/cluster.sh node-image JAR}: the execguard image (lab/execguard:dev) built from the jar, imported. */
    public void importImage(Path jar) throws IOException, InterruptedException {
        Result r = run(Duration.ofMinutes(5), Map.of("EXECGUARD_CLUSTER_DIR", dir.toString(),
                "EXECGUARD_CLUSTER_PORT", Integer.toString(port)), "bash", "hack/cluster.sh", "node-image", jar.toString());
        if (r.exit() != 0) {
            fail("hack/cluster.sh node-image failed (" + r.exit() + "): " + r.stderr() + r.stdout());
        }
        System.out.println("[node-e2e] " + r.stderr().strip().replace("\n", "\n[node-e2e] "));
    }

    /** The node as the API server has it. */
    public Node nodeObject(KubernetesClient admin) {
        return admin.nodes().withName(node).get();
    }

    public record Result(int exit, String stdout, String stderr, long millis) {
    }

    /** The release's kubectl with the admin kubeconfig, to completion; fails the test past the timeout. */
    public Result kubectl(Duration timeout, String... args) throws IOException, InterruptedException {
        return run(timeout, Map.of(), kubectlArgv(args).toArray(String[]::new));
    }

    /** The kubectl command line (release binary, admin kubeconfig). */
    public List<String> kubectlArgv(String... args) {
        List<String> cmd = new ArrayList<>(List.of(cluster.bin().resolve("kubectl").toString(), "--kubeconfig",
                cluster.kubeconfig().toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts kubectl in the background, output to the log file; the caller stops it (Process handle). */
    public Process startKubectl(Path log, String... args) throws IOException {
        return new ProcessBuilder(kubectlArgv(args)).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    }

    static Result run(Duration timeout, Map<String, String> env, String... argv) throws IOException, InterruptedException {
        Path out = Files.createTempFile("execguard-node", ".out");
        Path err = Files.createTempFile("execguard-node", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().putAll(env);
            long t0 = System.nanoTime();
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                fail(String.join(" ", argv) + " did not finish within " + timeout);
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err),
                    (System.nanoTime() - t0) / 1_000_000);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
