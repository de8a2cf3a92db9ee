package io.execguard.cli;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code execguard probe}: the per-node DaemonSet process. Configured from the environment
 * ({@link io.execguard.probe.ProbeConfig}); each flag overrides its variable.
 */
@Command(name = "probe", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Scan this node every interval and keep its NodeExecHealth current (DaemonSet mode).")
public final class ProbeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--node-name", description = "Overrides NODE_NAME (required; from the downward API).")
    String nodeName;
    @Option(names = "--host-root", description = "Overrides HOST_ROOT (default /host).")
    String hostRoot;
    @Option(names = "--scan-interval", description = "Overrides SCAN_INTERVAL (default 10s).")
    String scanInterval;
    @Option(names = "--heartbeat", description = "Overrides HEARTBEAT (default 60s).")
    String heartbeat;
    @Option(names = "--metrics-port", description = "Overrides METRICS_PORT (default 9090).")
    String metricsPort;

    @Override
    public Integer call() throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        put(env, "NODE_NAME", nodeName);
        put(env, "HOST_ROOT", hostRoot);
        put(env, "SCAN_INTERVAL", scanInterval);
        put(env, "HEARTBEAT", heartbeat);
        put(env, "METRICS_PORT", metricsPort);
        try {
            return ProbeRun.run(env);
        } catch (ProbeRun.BadConfig e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private static void put(Map<String, String> env, String key, String value) {
        if (value != null) {
            env.put(key, value);
        }
    }
}
