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
        if (args.length > 0 && args[0].equals("scan")) {
            // a one-shot scan: only its own command is built (picocli reflects on every subcommand it is given,
            // and the operator's loads its Kubernetes client's classes): a cold `scan` starts in less time
            System.exit(scanCommandLine().execute(java.util.Arrays.copyOfRange(args, 1, args.length)));
        }
        System.exit(commandLine().execute(args));
    }

    /** {@code execguard scan} alone, as {@link #commandLine()} has it (same name in its usage and errors). */
    static CommandLine scanCommandLine() {
        return new CommandLine(new ScanCommand()).setCommandName("execguard scan")
                .setCaseInsensitiveEnumValuesAllowed(true);
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
