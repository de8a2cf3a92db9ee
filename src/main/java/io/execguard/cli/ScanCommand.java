package io.execguard.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.execguard.detect.DetectorSuite;
import io.execguard.detect.Thresholds;
import io.execguard.host.DeadlineReader;
import io.execguard.host.HostPaths;
import io.execguard.host.HostReader;
import io.execguard.host.HostUnreadableException;
import io.execguard.probe.ScanReport;
import io.execguard.probe.Scanner;

/** {@code execguard scan}: run every detector once on this host (or a fixture tree) and print the findings. */
@Command(name = "scan", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Scan a Linux host once for stuck exec and kill conditions.",
            "Exit code: 0 no findings, 1 at least one finding, 2 usage error or unreadable host root."})
public final class ScanCommand implements Callable<Integer> {

    static final int EXIT_FINDINGS = 1;
    static final int EXIT_ERROR = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--host-root", paramLabel = "DIR", defaultValue = "/",
            description = "The host's root: reads DIR/proc, DIR/sys/fs/cgroup, DIR/sys/fs/fuse/connections "
                    + "(default: ${DEFAULT-VALUE}).")
    Path hostRoot;

    @Option(names = "--output", paramLabel = "table|json", defaultValue = "table",
            description = "table (default) or json.")
    Output output;

    @Option(names = "--confirm-seconds", paramLabel = "N", defaultValue = "2",
            description = "Re-read suspects after N seconds and report only those still stuck; 0 disables "
                    + "(default: ${DEFAULT-VALUE}).")
    int confirmSeconds;

    @Option(names = "--threshold", paramLabel = "NAME=SECONDS",
            description = "Override a time threshold: StuckRuntimeInit (30), UnkillableTask (10), "
                    + "PidNamespaceTeardownStuck (10), HungTask (120), LeakedExecSession (3600). Repeatable.")
    Map<String, Long> thresholds = new LinkedHashMap<>();

    @Option(names = "--read-timeout-ms", paramLabel = "MS", defaultValue = "1000",
            description = "Deadline for reads that can block on a stuck task (cmdline, mountinfo, terminal "
                    + "times) (default: ${DEFAULT-VALUE}).")
    long readTimeoutMillis;

    enum Output { table, json }

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (confirmSeconds < 0) {
            throw new CommandLine.ParameterException(cl, "--confirm-seconds must be >= 0");
        }
        if (readTimeoutMillis <= 0) {
            throw new CommandLine.ParameterException(cl, "--read-timeout-ms must be > 0");
        }
        Thresholds t = Thresholds.DEFAULTS;
        for (Map.Entry<String, Long> e : thresholds.entrySet()) {
            try {
                t = t.with(e.getKey(), e.getValue());
            } catch (IllegalArgumentException ex) {
                throw new CommandLine.ParameterException(cl, ex.getMessage());
            }
        }
        PrintWriter out = cl.getOut();
        PrintWriter err = cl.getErr();
        try (DeadlineReader slow = new DeadlineReader(Duration.ofMillis(readTimeoutMillis), 32)) {
            HostReader reader = new HostReader(new HostPaths(hostRoot), slow, Clock.systemUTC());
            Scanner scanner = new Scanner(reader, DetectorSuite.standard(t), Clock.systemUTC(),
                    d -> Thread.sleep(d.toMillis()));
            ScanReport report = scanner.scan(Duration.ofSeconds(confirmSeconds));
            Reports.printWarnings(report.warnings(), err);
            if (output == Output.json) {
                out.println(Reports.json(report));
            } else {
                Reports.printTable(report, out);
            }
            out.flush();
            return report.findings().isEmpty() ? 0 : EXIT_FINDINGS;
        } catch (HostUnreadableException e) {
            err.println("execguard scan: cannot scan " + hostRoot + ": " + e.getMessage());
            err.flush();
            return EXIT_ERROR;
        } catch (RuntimeException e) {
            // Input the readers did not anticipate must not end in a stack trace: one line, exit 2.
            err.println("execguard scan: scanning " + hostRoot + " failed: " + e);
            err.flush();
            return EXIT_ERROR;
        }
    }
}
