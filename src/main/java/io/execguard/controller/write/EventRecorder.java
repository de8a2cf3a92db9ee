package io.execguard.controller.write;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

import io.execguard.probe.Metrics;

/**
 * core/v1 Events, aggregated the way client-go's correlator does: the same (object, reason, message) again within
 * {@link #AGGREGATE_WITHIN} raises the existing Event's {@code count} and {@code lastTimestamp} with a patch instead
 * of creating another one. Every object execguard reports on is cluster-scoped, and the API server accepts Events
 * about cluster-scoped objects only in {@value #NAMESPACE} (where the kubelet puts Node Events too), so that is
 * where they go — granted by a Role in that namespace, not cluster-wide. Failures are logged, never fatal.
 * <p>
 * Like client-go's broadcaster, {@link #record} only queues: one writer thread sends the Events in order, so a
 * reconcile never waits on one (they are notices about writes already made, not part of them). The queue holds
 * {@value #QUEUED}; past that an Event is dropped, counted in {@code execguard_events_dropped_total} and logged.
 * Events still queued when the process exits are lost. (Not client-go's {@code maxQueuedEvents} of 1,000: the
 * operator's Events follow its holds, and at 15,000 nodes the 1,500 holds of one pass queued 1,500 Events within
 * seconds, of which a queue of 1,000 dropped ~450 — docs/SCALE.md. A waiting Event is a few hundred bytes.)
 */
public final class EventRecorder {

    public enum Type { Normal, Warning }

    /** The only namespace the API server accepts Events about cluster-scoped objects in (besides none). */
    public static final String NAMESPACE = "default";
    static final Duration AGGREGATE_WITHIN = Duration.ofMinutes(10);
    static final int QUEUED = 10_000;
    private static final int REMEMBERED = 4096;
    private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);

    private record Key(String uid, String name, String reason, String message) {
    }

    private record Seen(String eventName, int count, Instant first, Instant last) {
    }

    private final KubernetesClient client;
    private final String namespace;
    private final String component;
    private final Clock clock;
    private final Metrics metrics;
    private final Executor writer;
    private final AtomicLong dropped = new AtomicLong();
    private final Map<Key, Seen> seen = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Seen> eldest) {
            return size() > REMEMBERED;
        }
    };

    /** Events written by one daemon thread from a queue of {@value #QUEUED}. */
    public EventRecorder(KubernetesClient client, String component, Clock clock, Metrics metrics) {
        this(client, component, clock, metrics, writer(QUEUED));
    }

    /** Events written by {@code writer} (a test's {@code Runnable::run} writes them in the caller). */
    public EventRecorder(KubernetesClient client, String component, Clock clock, Metrics metrics, Executor writer) {
        this.client = client;
        this.namespace = NAMESPACE;
        this.component = component;
        this.clock = clock;
        this.metrics = metrics.counter("execguard_events_dropped_total",
                "Events not sent because " + QUEUED + " were already waiting to be written.");
        this.writer = writer;
    }

    /** One daemon thread, in order, refusing (not blocking) past {@code capacity} waiting. */
    static ThreadPoolExecutor writer(int capacity) {
        return new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(capacity), r -> {
            Thread t = new Thread(r, "execguard-events");
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
    }

    /** Queues the Event; the time it happened is now, whenever it is written. */
    public void record(HasMetadata about, Type type, String reason, String message) {
        Instant now = clock.instant();
        ObjectReference ref = new ObjectReferenceBuilder().withApiVersion(about.getApiVersion())
                .withKind(about.getKind()).withName(about.getMetadata().getName())
                .withUid(about.getMetadata().getUid()).build();
        try {
            writer.execute(() -> write(ref, type, reason, message, now));
        } catch (RejectedExecutionException e) {
            metrics.inc("execguard_events_dropped_total");
            long n = dropped.incrementAndGet();
            if (Long.bitCount(n) == 1) { // the 1st, 2nd, 4th, 8th, ... drop: said, not a flood of its own
                LOG.warn("{} Events dropped so far, {} already waiting (this one: {} on {})", n, QUEUED, reason,
                        ref.getName());
            }
        }
    }

    private void write(ObjectReference about, Type type, String reason, String message, Instant now) {
        Key key = new Key(about.getUid(), about.getName(), reason, message);
        Seen before;
        synchronized (seen) {
            before = seen.get(key);
        }
        try {
            Seen after;
            if (before != null && Duration.between(before.last(), now).compareTo(AGGREGATE_WITHIN) < 0) {
                int count = before.count() + 1;
                Event known = new EventBuilder().withNewMetadata().withName(before.eventName()).withNamespace(namespace)
                        .endMetadata().build(); // resource(), not withName(): fabric8 would GET it first
                client.v1().events().inNamespace(namespace).resource(known)
                        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"count\":" + count + ",\"lastTimestamp\":\""
                                + now + "\"}");
                after = new Seen(before.eventName(), count, before.first(), now);
            } else {
                String name = about.getName() + "." + Long.toHexString(now.toEpochMilli() * 1_000_000L
                        + (System.nanoTime() % 1_000_000L));
                Event ev = new EventBuilder().withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
                        .withInvolvedObject(about)
                        .withReason(reason).withMessage(message).withType(type.name())
                        .withFirstTimestamp(now.toString()).withLastTimestamp(now.toString()).withCount(1)
                        .withReportingComponent(component).withReportingInstance(component)
                        .withNewSource().withComponent(component).endSource().build();
                client.v1().events().inNamespace(namespace).resource(ev).create();
                after = new Seen(name, 1, now, now);
            }
            synchronized (seen) {
                seen.put(key, after);
            }
        } catch (KubernetesClientException e) {
            synchronized (seen) {
                seen.remove(key); // e.g. 404: the Event expired; the next one is created afresh
            }
            LOG.warn("cannot record event {} on {}: {}", reason, about.getName(), e.toString());
        }
    }
}
