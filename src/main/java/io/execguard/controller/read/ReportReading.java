package io.execguard.controller.read;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.execguard.api.Action;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.RemediationStatus;
import io.execguard.api.ReportedFinding;
import io.execguard.controller.decide.DecisionInput;
import io.execguard.controller.decide.DecisionInput.FindingView;

/**
 * A {@link NodeExecHealth} read into decision values without trusting its timestamps. A report with an
 * unparsable {@code status.lastProbeTime} or {@code status.remediation.since} is unknown evidence: it reads
 * as a report that never arrived (no findings, no probe time), which the decision treats as stale, so it
 * can neither start a hold nor release one, and it never counts towards a shared-backend incident.
 *
 * @param report           what the decision sees
 * @param remediationSince when the prior action began, null when absent or invalid
 * @param invalid          the fields that could not be read, empty for a sound report
 */
public record ReportReading(DecisionInput.Report report, DecisionInput.Prior prior, List<InvalidField> invalid) {

    public static final String LAST_PROBE_TIME = "status.lastProbeTime";
    public static final String REMEDIATION_SINCE = "status.remediation.since";
    public static final String REMEDIATION_HEALTHY_SINCE = "status.remediation.healthySince";
    private static final DecisionInput.Report UNKNOWN = DecisionInput.Report.UNKNOWN;

    public static ReportReading of(NodeExecHealth neh) {
        NodeExecHealthStatus s = neh.getStatus();
        if (s == null) {
            return new ReportReading(UNKNOWN, DecisionInput.Prior.NONE, List.of());
        }
        List<InvalidField> invalid = new ArrayList<>();
        Optional<Instant> probed = timestamp(LAST_PROBE_TIME, s.getLastProbeTime(), invalid);
        RemediationStatus r = s.getRemediation();
        Optional<Instant> since = timestamp(REMEDIATION_SINCE, r == null ? null : r.getSince(), invalid);
        Optional<Instant> healthy = timestamp(REMEDIATION_HEALTHY_SINCE, r == null ? null : r.getHealthySince(),
                invalid);
        DecisionInput.Prior prior = new DecisionInput.Prior(r == null || r.getAction() == null ? Action.None
                : r.getAction(), since.orElse(null), healthy.orElse(null));
        if (!invalid.isEmpty() || probed.isEmpty()) {
            return new ReportReading(UNKNOWN, prior, List.copyOf(invalid));
        }
        return new ReportReading(new DecisionInput.Report(probed.get(), findings(s)), prior, List.of());
    }

    /** An RFC 3339 timestamp; empty when absent, and also (recorded in {@code invalid}) when unparsable. */
    public static Optional<Instant> timestamp(String field, String value, List<InvalidField> invalid) {
        if (value == null) {
            return Optional.empty();
        }
        Instant utc = utc(value);
        if (utc != null) {
            return Optional.of(utc);
        }
        try {
            return Optional.of(Instant.parse(value));
        } catch (DateTimeParseException notUtc) {
            try {
                return Optional.of(OffsetDateTime.parse(value).toInstant());
            } catch (DateTimeParseException e) {
                invalid.add(new InvalidField(field, value, "not an RFC 3339 date-time"));
                return Optional.empty();
            }
        }
    }

    /**
     * The form every Kubernetes writer uses, {@code 2026-12-02T05:31:33Z} or with 1-9 fraction digits before the
     * {@code Z}, read without java.time's formatter (its general parser was 7 % of the operator's Java samples at
     * 5,000 nodes: a snapshot reads every report's timestamps); null for anything else, which the formatters then read
     * or refuse exactly as before (offsets, lowercase, a leap second, an impossible date).
     */
    static Instant utc(String v) {
        int n = v.length();
        if (n < 20 || n > 30 || v.charAt(n - 1) != 'Z' || v.charAt(4) != '-' || v.charAt(7) != '-'
                || v.charAt(10) != 'T' || v.charAt(13) != ':' || v.charAt(16) != ':') {
            return null;
        }
        int year = digits(v, 0, 4);
        int month = digits(v, 5, 7);
        int day = digits(v, 8, 10);
        int hour = digits(v, 11, 13);
        int minute = digits(v, 14, 16);
        int second = digits(v, 17, 19);
        if (year < 0 || month < 1 || month > 12 || day < 1 || day > YearMonth.of(year, month).lengthOfMonth()
                || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
            return null;
        }
        int nanos = 0;
        if (n > 20) {
            if (v.charAt(19) != '.' || n == 21) {
                return null;
            }
            int fraction = digits(v, 20, n - 1);
            if (fraction < 0) {
                return null;
            }
            nanos = fraction;
            for (int i = n - 1 - 20; i < 9; i++) {
                nanos *= 10;
            }
        } else if (v.charAt(19) != 'Z') {
            return null;
        }
        long epochDay = LocalDate.of(year, month, day).toEpochDay();
        return Instant.ofEpochSecond(epochDay * 86_400 + hour * 3_600L + minute * 60L + second, nanos);
    }

    /** The decimal number in {@code v[from, to)}; -1 unless every char is an ASCII digit. */
    private static int digits(String v, int from, int to) {
        int x = 0;
        for (int i = from; i < to; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            x = x * 10 + (c - '0');
        }
        return x;
    }

    /** A shared backend: {@code ceph 10.0.0.1:6789:/}, {@code fuse.sshfs host:/x}; null for local causes. */
    public static String backend(ReportedFinding f) {
        if (f.getMount() == null || f.getMount().getSource() == null) {
            return null;
        }
        return f.getMount().getFsType() + " " + f.getMount().getSource();
    }

    private static List<FindingView> findings(NodeExecHealthStatus s) {
        List<FindingView> fs = new ArrayList<>();
        if (s.getFindings() != null) {
            for (ReportedFinding f : s.getFindings()) {
                fs.add(new FindingView(f.getType(), f.getSeverity(), f.getScope(), f.getCause(), backend(f)));
            }
        }
        return fs;
    }
}
