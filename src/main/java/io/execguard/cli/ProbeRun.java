package io.execguard.cli;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.NodeExecHealth;
import io.execguard.host.DeadlineReader;
import io.execguard.host.HostPaths;
import io.execguard.host.HostReader;
import io.execguard.probe.FindingTracker;
import io.execguard.probe.HealthServer;
import io.execguard.probe.KubeStatusWriter;
import io.execguard.probe.Metrics;
import io.execguard.probe.PodWatcher;
import io.execguard.probe.ProbeConfig;
import io.execguard.probe.ProbeLoop;
import io.execguard.probe.ProbePolicy;
import io.execguard.probe.ReportPublisher;
import io.execguard.probe.canary.CanaryTarget;
import io.execguard.probe.canary.CriClient;
import io.execguard.probe.canary.ExecCanary;
import io.execguard.probe.canary.RuntimeSweep;
import io.execguard.probe.kube.KubeApi;
import io.execguard.repair.ProcHostRepairs;
import io.execguard.repair.Repairer;
import io.execguard.repair.Signals;

/**
 * The probe process, configured from the environment alone ({@link ProbeConfig}). Without picocli: the DaemonSet
 * runs {@code execguard probe} with no flags, and {@link Main} then comes here directly, so the probe does not
 * load the command-line library (~170 classes, docs/RESOURCES.md); {@link ProbeCommand} (flags) ends here too.
 */
final class ProbeRun {

    private static final Logger LOG = LoggerFactory.getLogger(ProbeRun.class);

    /** A configuration error: exit code 2 with its message. */
    static final class BadConfig extends RuntimeException {
        BadConfig(String message) {
            super(message);
        }
    }

    private ProbeRun() {
    }

    /** {@code execguard probe} without flags: exit code 2 and the message for a bad configuration. */
    static int runFromEnvironment() throws Exception {
        try {
            return run(new HashMap<>(System.getenv()));
        } catch (BadConfig e) {
            System.err.println("execguard probe: " + e.getMessage());
            return 2;
        }
    }

    static int run(Map<String, String> env) throws Exception {
        String version = Main.version();
        ProbeConfig config;
        try {
            config = ProbeConfig.fromEnv(env);
        } catch (IllegalArgumentException e) {
            throw new BadConfig(e.getMessage());
        }
        Clock clock = Clock.systemUTC();
        Metrics metrics = new Metrics();
        // the probe's own small API access, not fabric8 (docs/RESOURCES.md); no retries inside a call: the
        // publisher has its own backoff and always sends the latest report
        KubeApi client = KubeApi.fromEnv(env, version);
        try (DeadlineReader slow = new DeadlineReader(config.readTimeout(), 32);
             PodWatcher pods = new PodWatcher(client, config.nodeName())) {
            pods.start();
            ReportPublisher publisher = new ReportPublisher(
                    new KubeStatusWriter(client, config.nodeName(), version), config.heartbeat(),
                    config.nodeName(), metrics, clock);
            PolicyCache policies = new PolicyCache(client, config);
            ExecCanary canary = canary(config, () -> policies.policy().canaryInterval(), metrics, clock);
            RuntimeSweep sweep = sweep(config, () -> policies.policy().canaryInterval(), metrics, clock);
            HostReader reader = new HostReader(new HostPaths(config.hostRoot()), slow, clock);
            ProbeLoop loop = new ProbeLoop(config, reader::read,
                    new FindingTracker(), pods::index, policies::policy,
                    publisher, new Repairer(new ProcHostRepairs(config.hostRoot()), config.nodeName()), metrics,
                    clock, canary, sweep);
            ScheduledExecutorService scans = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "scan"));
            Thread publish = daemon(publisher::runLoop, "publish");
            try (HealthServer health = new HealthServer(config.metricsPort(), metrics, loop::healthy, loop::ready,
                    loop::healthDetail)) {
                LOG.info("node {}: probing {} every {}s, heartbeat {}s, metrics on :{}; tasks read with {}; "
                        + "CPU clocks sampled by pinning with {}; repairs (when a policy enables them) signal with {}",
                        config.nodeName(), config.hostRoot(), config.scanInterval().toSeconds(),
                        config.heartbeat().toSeconds(), health.port(), HostReader.walkMechanism(),
                        reader.pinMechanism(), Signals.mechanism());
                scans.scheduleWithFixedDelay(loop::runOnce, 0, config.scanInterval().toMillis(),
                        TimeUnit.MILLISECONDS);
                publish.start();
                CountDownLatch stop = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
                stop.await();
            } finally {
                if (canary != null) {
                    canary.close();
                }
                if (sweep != null) {
                    sweep.close();
                }
                scans.shutdownNow();
                publish.interrupt();
            }
        }
        return 0;
    }

    /**
     * The probe-side settings of the first policy (by name) whose nodeSelector selects this node, or the
     * documented defaults. Read from the API at most once a minute; the last answer is kept when the
     * API is unreachable.
     */
    static final class PolicyCache {
        private final KubeApi client;
        private final String nodeName;
        private final ProbePolicy fallback;
        private ProbePolicy current;
        private long readAt = Long.MIN_VALUE;

        PolicyCache(KubeApi client, ProbeConfig config) {
            this.client = client;
            this.nodeName = config.nodeName();
            this.fallback = ProbePolicy.defaults(config);
            this.current = fallback;
        }

        synchronized ProbePolicy policy() {
            long now = System.nanoTime();
            if (readAt != Long.MIN_VALUE && now - readAt < TimeUnit.MINUTES.toNanos(1)) {
                return current;
            }
            readAt = now;
            try {
                JsonNode node = client.get("/api/v1/nodes/" + nodeName);
                Map<String, String> labels = new HashMap<>();
                if (node != null) {
                    node.path("metadata").path("labels").fields()
                            .forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
                }
                JsonNode list = client.get("/apis/" + NodeExecHealth.GROUP + "/" + NodeExecHealth.VERSION
                        + "/exechealthpolicies");
                java.util.List<io.execguard.api.ExecHealthPolicy> policies = new java.util.ArrayList<>();
                for (JsonNode item : list == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance()
                        : list.path("items")) {
                    io.execguard.api.ExecHealthPolicy p = new io.execguard.api.ExecHealthPolicy();
                    p.getMetadata().setName(item.path("metadata").path("name").asText());
                    JsonNode deleting = item.path("metadata").get("deletionTimestamp");
                    p.getMetadata().setDeletionTimestamp(deleting == null || deleting.isNull() ? null
                            : deleting.asText());
                    JsonNode spec = item.get("spec");
                    p.setSpec(spec == null || spec.isNull() ? null
                            : client.json().treeToValue(spec, ExecHealthPolicySpec.class));
                    policies.add(p);
                }
                // the operator's rule, the same class: first selecting policy by name, else the defaults
                var resolved = new io.execguard.api.PolicyResolver(policies).resolve(labels);
                current = resolved.policy() == null ? fallback : ProbePolicy.from(resolved.spec());
            } catch (RuntimeException | JsonProcessingException e) {
                LOG.debug("node {}: cannot read ExecHealthPolicy, keeping the last answer: {}", nodeName, e.toString());
            }
            return current;
        }
    }

    /**
     * The exec canary, started, when CRI_SOCKET names an existing socket and the probe's cgroup names its container;
     * otherwise none (logged once): missing evidence makes no finding.
     */
    static ExecCanary canary(ProbeConfig config, java.util.function.Supplier<java.time.Duration> interval,
                             Metrics metrics, Clock clock) {
        if (config.criSocket() == null) {
            LOG.info("node {}: no exec canary (CRI_SOCKET is not set)", config.nodeName());
            return null;
        }
        if (!java.nio.file.Files.exists(config.criSocket())) {
            LOG.info("node {}: no exec canary: CRI_SOCKET {} does not exist", config.nodeName(), config.criSocket());
            return null;
        }
        java.util.Optional<CanaryTarget> target = CanaryTarget.ofSelf(java.nio.file.Path.of("/proc/self/cgroup"));
        if (target.isEmpty()) {
            LOG.info("node {}: no exec canary: /proc/self/cgroup names no container", config.nodeName());
            return null;
        }
        return new ExecCanary(new CriClient(config.criSocket()), target.get(),
                ExecCanary.Settings.defaults(config.canaryDeadline()), interval, new HostPaths(config.hostRoot()),
                metrics, clock, config.nodeName()).start();
    }

    /**
     * The per-container runtime sweep, started, when CRI_SOCKET names an existing socket (it needs no container of
     * its own); otherwise none: missing evidence makes no finding.
     */
    static RuntimeSweep sweep(ProbeConfig config, java.util.function.Supplier<java.time.Duration> interval,
                              Metrics metrics, Clock clock) {
        if (config.criSocket() == null || !java.nio.file.Files.exists(config.criSocket())) {
            return null; // logged by canary()
        }
        return new RuntimeSweep(new CriClient(config.criSocket()), new HostPaths(config.hostRoot()),
                RuntimeSweep.Settings.defaults(
                config.runtimeCallDeadline()), interval, metrics, clock, config.nodeName()).start();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, "execguard-" + name);
        t.setDaemon(true);
        return t;
    }
}
