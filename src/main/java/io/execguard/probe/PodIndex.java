package io.execguard.probe;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.execguard.detect.Cause;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;

/**
 * The pods of this node, indexed by container id (from {@code status.containerStatuses[].containerID},
 * {@code containerd://<id>} or {@code docker://<id>}) and by pod UID. Immutable; rebuilt from the
 * informer's cache before each report. Pure functions of pods and time.
 */
public final class PodIndex {

    private final Map<String, PodRef> byContainer = new HashMap<>();
    private final Map<String, PodRef> byUid = new HashMap<>();
    private final List<PodInfo> pods;

    public PodIndex(Collection<PodInfo> pods) {
        this.pods = List.copyOf(pods);
        for (PodInfo p : this.pods) {
            if (p.uid() != null) {
                byUid.put(p.uid(), new PodRef(p.namespace(), p.name(), p.uid(), null));
            }
            for (PodInfo.Container cs : p.containers()) {
                String id = containerId(cs.containerId());
                if (id != null) {
                    byContainer.put(id, new PodRef(p.namespace(), p.name(), p.uid(), cs.name()));
                }
            }
        }
    }

    /** The pods indexed, as the watch's cache had them. */
    public List<PodInfo> pods() {
        return pods;
    }

    /** {@code containerd://abc…} → {@code abc…}; null when absent. */
    static String containerId(String runtimeId) {
        if (runtimeId == null || runtimeId.isBlank()) {
            return null;
        }
        int i = runtimeId.indexOf("://");
        return i >= 0 ? runtimeId.substring(i + 3) : runtimeId;
    }

    /** The pod (and container) a finding belongs to, or null. */
    public PodRef attribute(Finding f) {
        if (f.containerId() != null && byContainer.containsKey(f.containerId())) {
            return byContainer.get(f.containerId());
        }
        return f.podUid() == null ? null : byUid.get(f.podUid());
    }

    /**
     * Pods whose deletion is overdue: deletion timestamp plus {@code threshold} has passed. The API server
     * sets the deletion timestamp to the delete request's time plus the grace period (it moves it earlier
     * when a later request shortens the grace period), so the timestamp is already the end of the grace
     * period and {@code deletionGracePeriodSeconds} is not added again. Linked to host evidence (a finding of the same pod) when there is any.
     */
    public List<Finding> stuckTerminating(Instant now, Duration threshold, List<Finding> hostFindings) {
        List<Finding> out = new ArrayList<>();
        for (PodInfo p : pods) {
            String ts = p.deletionTimestamp();
            if (ts == null) {
                continue;
            }
            Instant graceEnded = OffsetDateTime.parse(ts).toInstant();
            Instant due = graceEnded.plus(threshold);
            if (now.isBefore(due)) {
                continue;
            }
            String uid = p.uid();
            Finding evidence = hostFindings.stream()
                    .filter(f -> f.type() != FindingType.PodStuckTerminating)
                    .filter(f -> { PodRef r = attribute(f); return r != null && r.uid() != null && r.uid().equals(uid); })
                    .findFirst().orElse(null);
            String who = p.namespace() + "/" + p.name();
            long overdue = Duration.between(graceEnded, now).toSeconds();
            String msg = "pod " + who + " was deleted " + io.execguard.detect.Evidence.duration(overdue)
                    + " past its grace period and is still terminating"
                    + (evidence == null ? "; no stuck task of it was found on the host (check finalizers and kubelet logs)."
                        : ": " + evidence.type() + " (" + evidence.cause() + ") holds it: " + evidence.message());
            out.add(new Finding(FindingType.PodStuckTerminating, evidence == null ? Cause.Unknown : evidence.cause(),
                    evidence == null ? Severity.Warning : Severity.Critical, Scope.Container, msg,
                    evidence == null ? null : evidence.pid(), null, evidence == null ? null : evidence.comm(),
                    null, null, List.of(), List.of(), overdue, evidence == null ? null : evidence.containerId(), uid,
                    null, evidence == null ? null : evidence.mount()));
        }
        return out;
    }
}
