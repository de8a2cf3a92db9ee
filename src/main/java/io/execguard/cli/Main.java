package io.execguard.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar execguard.jar <command>}. */
@Command(name = "execguard", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Finds where exec and kill get stuck on a Linux node and names the kernel-level cause.",
        subcommands = {ScanCommand.class, ProbeCommand.class, OperatorCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // one-shot commands print only what matters; the long-running ones log their lifecycle too
        boolean daemon = args.length > 0 && (args[0].equals("probe") || args[0].equals("operator"));
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", daemon ? "info" : "warn"));
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        if (args.length == 1 && args[0].equals("probe")) {
            // the DaemonSet's invocation (configured by environment): no command-line library in the probe
            System.exit(runProbe());
        }
        System.exit(commandLine().execute(args));
    }

    private static int runProbe() {
        try {
            return ProbeRun.runFromEnvironment();
        } catch (Exception e) {
            org.slf4j.LoggerFactory.getLogger(Main.class).error("execguard probe failed", e);
            return 1;
        }
    }

    /** The configured command line, for tests and main alike. */
    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (scan, probe, operator, bench)");
    }

    /** The jar's Implementation-Version, or {@code dev} when run from classes. */
    public static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"execguard " + version()};
        }
    }
}
