package io.execguard.controller.write;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;

import io.execguard.probe.Metrics;

/** Aggregation (the same Event again raises its count) and the queue: a reconcile never waits on an Event. */
@EnableKubernetesMockClient(crud = true)
class EventRecorderTest {

    KubernetesClient client;

    private static Node node(String name) {
        return new NodeBuilder().withNewMetadata().withName(name).withUid("uid-" + name).endMetadata().build();
    }

    private List<Event> events() {
        return client.v1().events().inNamespace(EventRecorder.NAMESPACE).list().getItems();
    }

    @Test
    void theSameEventAgainRaisesItsCountAndADifferentOneIsNew() {
        Clock clock = Clock.fixed(Instant.parse("2026-12-03T08:00:00Z"), ZoneOffset.UTC);
        EventRecorder rec = new EventRecorder(client, "execguard-operator", clock, new Metrics(), Runnable::run);
        rec.record(node("n1"), EventRecorder.Type.Warning, "ExecGuardCordon", "cordoned (PidsMax)");
        rec.record(node("n1"), EventRecorder.Type.Warning, "ExecGuardCordon", "cordoned (PidsMax)");
        rec.record(node("n1"), EventRecorder.Type.Normal, "ExecGuardReleased", "uncordoned (Healthy)");
        List<Event> evs = events();
        assertEquals(2, evs.size(), evs.toString());
        Event cordon = evs.stream().filter(e -> e.getReason().equals("ExecGuardCordon")).findFirst().orElseThrow();
        assertEquals(2, cordon.getCount());
        assertEquals("n1", cordon.getInvolvedObject().getName());
        assertEquals("uid-n1", cordon.getInvolvedObject().getUid());
        assertEquals("Warning", cordon.getType());
        assertEquals("execguard-operator", cordon.getReportingComponent());
    }

    @Test
    void recordQueuesAndDropsPastTheQueueWithACountNeverBlocking() throws Exception {
        ThreadPoolExecutor writer = EventRecorder.writer(2);
        CountDownLatch hold = new CountDownLatch(1);
        writer.execute(() -> { // the writer busy on a slow request
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Metrics metrics = new Metrics();
        EventRecorder rec = new EventRecorder(client, "execguard-operator", Clock.systemUTC(), metrics, writer);
        long t0 = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            rec.record(node("n" + i), EventRecorder.Type.Warning, "ExecGuardCordon", "cordoned");
        }
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(1).toNanos(), "record() waited on the writer");
        assertEquals(3.0, metrics.value("execguard_events_dropped_total"), "2 queued, 3 dropped");
        assertTrue(events().isEmpty(), "nothing written while the writer is busy");
        hold.countDown();
        writer.shutdown();
        assertTrue(writer.awaitTermination(10, TimeUnit.SECONDS));
        assertEquals(List.of("n0", "n1"), events().stream().map(e -> e.getInvolvedObject().getName()).sorted().toList(),
                "the queued ones written once the writer is free, the dropped ones never");
    }
}
