package io.execguard.controller.read;

import java.time.Instant;
import java.time.OffsetDateTime;
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
