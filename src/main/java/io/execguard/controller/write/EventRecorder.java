package io.execguard.controller.write;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

/**
 * core/v1 Events, aggregated the way client-go's correlator does: the same (object, reason, message) again within
 * {@link #AGGREGATE_WITHIN} raises the existing Event's {@code count} and {@code lastTimestamp} with a patch instead
 * of creating another one. Every object execguard reports on is cluster-scoped, and the API server accepts Events
 * about cluster-scoped objects only in {@value #NAMESPACE} (where the kubelet puts Node Events too), so that is
 * where they go — granted by a Role in that namespace, not cluster-wide. Failures are logged, never fatal.
 */
public final class EventRecorder {

    public enum Type { Normal, Warning }

    /** The only namespace the API server accepts Events about cluster-scoped objects in (besides none). */
    public static final String NAMESPACE = "default";
    static final Duration AGGREGATE_WITHIN = Duration.ofMinutes(10);
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
    private final Map<Key, Seen> seen = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Seen> eldest) {
            return size() > REMEMBERED;
        }
    };

    public EventRecorder(KubernetesClient client, String component, Clock clock) {
        this.client = client;
        this.namespace = NAMESPACE;
        this.component = component;
        this.clock = clock;
    }

    public void record(HasMetadata about, Type type, String reason, String message) {
        Instant now = clock.instant();
        Key key = new Key(about.getMetadata().getUid(), about.getMetadata().getName(), reason, message);
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
                String name = about.getMetadata().getName() + "." + Long.toHexString(now.toEpochMilli() * 1_000_000L
                        + (System.nanoTime() % 1_000_000L));
                Event ev = new EventBuilder().withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
                        .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion(about.getApiVersion())
                                .withKind(about.getKind()).withName(about.getMetadata().getName())
                                .withUid(about.getMetadata().getUid()).build())
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
            LOG.warn("cannot record event {} on {}: {}", reason, about.getMetadata().getName(), e.toString());
        }
    }
}
