package io.execguard.controller;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.RemediationStatus;
import io.execguard.api.ReportedFinding;
import io.execguard.controller.DecisionInput.FindingView;

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
record ReportReading(DecisionInput.Report report, Instant remediationSince, List<InvalidField> invalid) {

    static final String LAST_PROBE_TIME = "status.lastProbeTime";
    static final String REMEDIATION_SINCE = "status.remediation.since";
    private static final DecisionInput.Report UNKNOWN = new DecisionInput.Report(null, List.of());

    static ReportReading of(NodeExecHealth neh) {
        NodeExecHealthStatus s = neh.getStatus();
        if (s == null) {
            return new ReportReading(UNKNOWN, null, List.of());
        }
        List<InvalidField> invalid = new ArrayList<>();
        Optional<Instant> probed = timestamp(LAST_PROBE_TIME, s.getLastProbeTime(), invalid);
        RemediationStatus r = s.getRemediation();
        Optional<Instant> since = timestamp(REMEDIATION_SINCE, r == null ? null : r.getSince(), invalid);
        if (!invalid.isEmpty() || probed.isEmpty()) {
            return new ReportReading(UNKNOWN, since.orElse(null), List.copyOf(invalid));
        }
        return new ReportReading(new DecisionInput.Report(probed.get(), findings(s)), since.orElse(null), List.of());
    }

    /** An RFC 3339 timestamp; empty when absent, and also (recorded in {@code invalid}) when unparsable. */
    static Optional<Instant> timestamp(String field, String value, List<InvalidField> invalid) {
        if (value == null) {
            return Optional.empty();
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

    private static List<FindingView> findings(NodeExecHealthStatus s) {
        List<FindingView> fs = new ArrayList<>();
        if (s.getFindings() != null) {
            for (ReportedFinding f : s.getFindings()) {
                fs.add(new FindingView(f.getSeverity(), f.getScope(), f.getCause(), NodeExecHealthReconciler.backend(f)));
            }
        }
        return fs;
    }
}
