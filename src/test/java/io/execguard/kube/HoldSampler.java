package io.execguard.kube;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

import io.execguard.controller.decide.NodePlan;

/**
 * Watches a suite's Nodes straight on the API server (an admin informer, not through any proxy) and judges every
 * state the watch delivers, in order: how many Nodes execguard holds (its taint or its cordon mark), the most
 * ever held, how often each Node went from not held to held, and whether a Node ever carried execguard's taint
 * twice. A watch delivers every change of a Node; only while it is broken (the API server restarting) can a
 * short-lived state go unseen, which the relist then reports as it is.
 */
public final class HoldSampler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HoldSampler.class);

    private final SharedIndexInformer<Node> informer;
    private final Map<String, Boolean> held = new HashMap<>();
    private final Map<String, Integer> holdStarts = new ConcurrentHashMap<>();
    private final Set<String> doubleTaints = ConcurrentHashMap.newKeySet();
    private final Set<String> everMarked = ConcurrentHashMap.newKeySet();
    private volatile int maxHeld;
    private volatile int nowHeld;
    private volatile long samples;

    private HoldSampler(KubernetesClient admin, String labelKey, String labelValue) {
        this.informer = admin.nodes().withLabel(labelKey, labelValue).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Node n) {
                see(n);
            }

            @Override
            public void onUpdate(Node old, Node n) {
                see(n);
            }

            @Override
            public void onDelete(Node n, boolean unknownFinalState) {
                gone(n);
            }
        }, 0);
    }

    /** Starts watching the Nodes with the label; returns once the informer has listed them. */
    public static HoldSampler start(KubernetesClient admin, String labelKey, String labelValue) {
        return new HoldSampler(admin, labelKey, labelValue);
    }

    /** Execguard holds the Node: its taint, or its cordon mark. */
    public static boolean isHeld(Node n) {
        Map<String, String> a = n.getMetadata().getAnnotations() == null ? Map.of() : n.getMetadata().getAnnotations();
        return NodePlan.hasTaint(n) || NodePlan.OWNER.equals(a.get(NodePlan.ANNOTATION_CORDONED_BY));
    }

    private synchronized void see(Node n) {
        String name = n.getMetadata().getName();
        boolean h = isHeld(n);
        Boolean before = held.put(name, h);
        if (h && !Boolean.TRUE.equals(before)) {
            holdStarts.merge(name, 1, Integer::sum);
        }
        long ours = n.getSpec().getTaints() == null ? 0 : n.getSpec().getTaints().stream()
                .filter(t -> NodePlan.TAINT_KEY.equals(t.getKey())).count();
        if (ours > 1) {
            doubleTaints.add(name);
        }
        if (NodePlan.applied(n).marksUnhealthy()) {
            everMarked.add(name);
        }
        count();
    }

    private synchronized void gone(Node n) {
        held.remove(n.getMetadata().getName());
        count();
    }

    private void count() {
        int c = (int) held.values().stream().filter(Boolean::booleanValue).count();
        samples++;
        nowHeld = c;
        if (c > maxHeld) {
            maxHeld = c;
            LOG.info("[ha-kube] sampler: {} nodes held now (new maximum): {}", c, heldNames());
        }
    }

    /** The most Nodes held at once in any state seen so far. */
    public int maxHeld() {
        return maxHeld;
    }

    public int nowHeld() {
        return nowHeld;
    }

    public long samples() {
        return samples;
    }

    /** The Nodes held in the latest state seen. */
    public synchronized Set<String> heldNames() {
        Set<String> out = new TreeSet<>();
        held.forEach((k, v) -> {
            if (v) {
                out.add(k);
            }
        });
        return out;
    }

    /** How many times the Node went from not held to held (1 for a Node held once and kept). */
    public int holdStarts(String node) {
        return holdStarts.getOrDefault(node, 0);
    }

    public Map<String, Integer> holdStarts() {
        return Map.copyOf(holdStarts);
    }

    /**
     * Nodes ever seen marked unhealthy by execguard in any state: its ExecHealthy condition False (or Unknown after
     * False), its taint or its cordon — wider than {@link #isHeld}, which the condition alone does not make.
     */
    public Set<String> everMarked() {
        return new TreeSet<>(everMarked);
    }

    /** Nodes seen with execguard's taint more than once in their list. */
    public List<String> doubleTaints() {
        return List.copyOf(doubleTaints);
    }

    @Override
    public void close() {
        informer.close();
    }
}
