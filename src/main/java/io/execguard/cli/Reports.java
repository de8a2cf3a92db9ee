package io.execguard.cli;

import java.io.PrintWriter;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.execguard.detect.Finding;
import io.execguard.detect.Severity;
import io.execguard.probe.ScanReport;

/** Renders a {@link ScanReport} as a table or as JSON. */
public final class Reports {

    /** Built at the first JSON report, not when warnings or a table are printed (a cold `scan` pays for it). */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }
    private static final int MAX_WARNINGS = 20;

    private Reports() {
    }

    public static String json(ScanReport report) {
        try {
            return Json.MAPPER.writeValueAsString(report);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render report as JSON", e);
        }
    }

    public static void printTable(ScanReport r, PrintWriter out) {
        List<Finding> fs = r.findings();
        if (!fs.isEmpty()) {
            String fmt = "%-8s  %-25s  %-20s  %-8s  %-7s  %-12s  %-7s  %s%n";
            out.printf(fmt, "SEVERITY", "TYPE", "CAUSE", "SCOPE", "PID", "CONTAINER", "AGE", "MESSAGE");
            for (Finding f : fs) {
                out.printf(fmt, f.severity(), f.type(), f.cause(), f.scope(),
                        f.pid() == null ? "-" : f.tid() == null ? f.pid().toString() : f.pid() + "/" + f.tid(),
                        f.containerId() == null ? "-" : f.containerId().substring(0, 12),
                        f.ageSeconds() == null ? "-" : io.execguard.detect.Evidence.duration(f.ageSeconds()),
                        f.message());
            }
        }
        long critical = fs.stream().filter(f -> f.severity() == Severity.Critical).count();
        String where = (r.host().hostname() == null ? "this host" : r.host().hostname())
                + (r.host().kernel() == null ? "" : " (kernel " + r.host().kernel() + ")");
        if (fs.isEmpty()) {
            out.printf("No stuck exec or kill found on %s: %d tasks scanned in %d ms.%n", where, r.tasksScanned(),
                    r.durationMillis());
        } else {
            out.printf("%d finding%s (%d Critical, %d Warning) on %s: %d tasks scanned in %d ms.%n", fs.size(),
                    fs.size() == 1 ? "" : "s", critical, fs.size() - critical, where, r.tasksScanned(),
                    r.durationMillis());
        }
    }

    public static void printWarnings(List<String> warnings, PrintWriter err) {
        int n = 0;
        for (String w : warnings) {
            if (n++ == MAX_WARNINGS) {
                err.println("execguard: warning: " + (warnings.size() - MAX_WARNINGS) + " more unreadable inputs skipped");
                break;
            }
            err.println("execguard: warning: " + w);
        }
        err.flush();
    }
}
