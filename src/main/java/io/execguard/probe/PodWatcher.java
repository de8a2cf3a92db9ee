package io.execguard.probe;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

/**
 * Watches the pods of this node only ({@code spec.nodeName} field selector) and serves a
 * {@link PodIndex} from the informer's cache. Starting does not wait for the API server: until the
 * first list arrives the index is empty and findings go unattributed.
 */
public final class PodWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PodWatcher.class);

    private static final long RETRY_SECONDS = 10;

    private final KubernetesClient client;
    private final String nodeName;
    private final java.util.concurrent.ScheduledExecutorService retries =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "execguard-pod-watch");
                t.setDaemon(true);
                return t;
            });
    private final boolean serverSideSelector;
    private volatile SharedIndexInformer<Pod> informer;

    public PodWatcher(KubernetesClient client, String nodeName) {
        this(client, nodeName, true);
    }

    /** {@code serverSideSelector=false} only for API servers without field selectors (test doubles). */
    PodWatcher(KubernetesClient client, String nodeName, boolean serverSideSelector) {
        this.client = client;
        this.nodeName = nodeName;
        this.serverSideSelector = serverSideSelector;
        this.informer = newInformer();
    }

    private SharedIndexInformer<Pod> newInformer() {
        return serverSideSelector
                ? client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).runnableInformer(0)
                : client.pods().inAnyNamespace().runnableInformer(0);
    }

    /** Starts the watch; if the API server is unreachable (the first list fails), tries again every 10 s. */
    public void start() {
        informer.start().whenComplete((v, e) -> {
            if (e != null) {
                LOG.warn("node {}: pod watch could not start ({}); retrying in {}s, findings stay unattributed until then",
                        nodeName, e.toString(), RETRY_SECONDS);
                retries.schedule(() -> {
                    informer.close();
                    informer = newInformer();
                    start();
                }, RETRY_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
            }
        });
    }

    public boolean synced() {
        return informer.hasSynced();
    }

    /** The node's pods as the cache has them now (filtered again, in case a server ignores the selector). */
    public PodIndex index() {
        List<Pod> pods = informer.getStore().list().stream()
                .filter(p -> p.getSpec() != null && nodeName.equals(p.getSpec().getNodeName()))
                .toList();
        return new PodIndex(pods);
    }

    @Override
    public void close() {
        retries.shutdownNow();
        informer.close();
    }
}
