package io.execguard.cli;

import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import io.execguard.controller.ExecGuardOperator;
import io.execguard.controller.OperatorConfig;
import io.execguard.probe.HealthServer;
import io.execguard.probe.Metrics;

/** {@code execguard operator}: the leader-elected controller (Deployment). Configured from the environment. */
@Command(name = "operator", mixinStandardHelpOptions = true,
        description = {"Turn NodeExecHealth reports and the ExecHealthPolicy into node annotations, a condition, "
            + "a taint or a cordon, and release them.",
            "Environment: POD_NAMESPACE, POD_NAME, LEADER_ELECTION (true), LEASE_NAME (execguard-operator), METRICS_PORT (9090), "
            + "RESYNC_INTERVAL (60s), PROBE_HEARTBEAT (60s), RECONCILE_THREADS (100)."})
public final class OperatorCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        OperatorConfig config;
        try {
            config = OperatorConfig.fromEnv(System.getenv());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        Metrics metrics = new Metrics();
        try (KubernetesClient client = ExecGuardOperator.client()) {
            Operator operator = ExecGuardOperator.create(client, config, metrics, Clock.systemUTC());
            try (HealthServer health = new HealthServer(config.metricsPort(), metrics, () -> true, () -> true)) {
                operator.start();
                LOG.info("operator started (leader election {}, lease {}/{}), metrics on :{}",
                        config.leaderElection(), config.namespace(), config.leaseName(), health.port());
                CountDownLatch stop = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    operator.stop();
                    stop.countDown();
                }));
                stop.await();
            }
        }
        return 0;
    }
}
