package io.execguard.controller.write;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.HasMetadata;

import io.execguard.controller.read.InvalidField;
import io.execguard.probe.Metrics;

/**
 * Reports objects the operator cannot fully use, once each: a Warning Event on the object naming the fields,
 * a log line and {@code execguard_invalid_objects_total{kind}}. The same problems are not reported again on
 * the next reconcile; an object that becomes valid is forgotten, so a later breakage is reported anew.
 */
public final class InvalidObjects {

    public static final String METRIC = "execguard_invalid_objects_total";
    private static final Logger LOG = LoggerFactory.getLogger(InvalidObjects.class);

    /** The kinds whose objects are checked (the metric's {@code kind} label). */
    public enum Kind { NodeExecHealth, ExecHealthPolicy }

    private record Key(Kind kind, String name, String uid) {
    }

    private final EventRecorder events;
    private final Metrics metrics;
    private final Map<Key, List<InvalidField>> reported = new ConcurrentHashMap<>();

    public InvalidObjects(EventRecorder events, Metrics metrics) {
        this.events = events;
        this.metrics = metrics;
        metrics.counter(METRIC, "Objects with fields the operator cannot use (reported once each), by kind.");
    }

    /** Records the object's current problems (empty: it is valid); reports them when they are new. */
    public void check(Kind kind, HasMetadata object, List<InvalidField> invalid) {
        Key key = new Key(kind, object.getMetadata().getName(), object.getMetadata().getUid());
        if (invalid.isEmpty()) {
            reported.remove(key);
            return;
        }
        if (invalid.equals(reported.put(key, invalid))) {
            return;
        }
        String what = invalid.stream().map(InvalidField::describe).collect(Collectors.joining("; "));
        String effect = kind == Kind.NodeExecHealth
                ? "the report is treated as unknown (stale) evidence: no new hold from it, nothing released"
                : "its nodes get no new holds and no releases until it is fixed";
        LOG.warn("{} {} is invalid ({}); {}", kind, key.name(), what, effect);
        metrics.inc(METRIC, "kind", kind.name());
        events.record(object, EventRecorder.Type.Warning, "Invalid" + kind.name(), "Invalid " + what + "; " + effect + ".");
    }
}
