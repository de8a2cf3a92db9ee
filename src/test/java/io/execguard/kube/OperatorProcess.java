package io.execguard.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real {@code java -jar execguard.jar operator} as a child process: configured only through its
 * environment (as the chart's Deployment does), logging stdout and stderr to one file. Close it to stop it.
 *
 * @param process     the running JVM
 * @param log         where it logs
 * @param metricsPort its METRICS_PORT
 */
public record OperatorProcess(Process process, Path log, int metricsPort) implements AutoCloseable {

    /** Starts the operator with KUBECONFIG = {@code kubeconfig} and the given extra environment. */
    public static OperatorProcess start(Path jar, Path kubeconfig, Map<String, String> env, Path log) {
        int port = freePort();
        ProcessBuilder pb = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(), "operator"))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        // only what we give it: no inherited cluster address or in-cluster settings
        pb.environment().keySet().removeIf(k -> k.startsWith("KUBERNETES") || k.startsWith("KUBECONFIG"));
        pb.environment().putAll(env);
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("METRICS_PORT", Integer.toString(port));
        try {
            return new OperatorProcess(pb.start(), log, port);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the operator jar " + jar, e);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The operator's own /metrics on 127.0.0.1, or an empty string while it is not serving. */
    public String metrics() {
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort
                    + "/metrics")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** SIGKILL (a node lost, an OOM kill): no shutdown hook runs, the Lease is not given back. */
    public void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new AssertionError("the operator (pid " + process.pid() + ") did not die on SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
