package io.execguard.controller.fleet;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.Node;

import io.execguard.api.Action;
import io.execguard.api.ExecHealthPolicy;
import io.execguard.api.NodeExecHealth;
import io.execguard.api.PolicyResolver;
import io.execguard.controller.decide.Decision;
import io.execguard.controller.decide.DecisionInput;
import io.execguard.controller.decide.DecisionInput.Slot;
import io.execguard.controller.decide.NodePlan;
import io.execguard.controller.read.PolicyReading;
import io.execguard.controller.read.ReportReading;

/**
 * The fleet as the safety rules see it, and the hold ledger — the one place a node is admitted to be newly marked
 * unhealthy (condition, taint, cordon). Everything is counted from the Nodes themselves (execguard's marks in the
 * informer cache), per policy, never from a report the probe could write:
 * <ul>
 *   <li>A {@link Snapshot} of the caches, rebuilt when older than {@code maxAge} (or four times its last build
 *       time, if longer) or when a policy's spec changed
 *       (outside the lock: meanwhile the other threads decide with the last one): per node its policy and marks,
 *       per policy its selected, marked and failing nodes, and the incidents (nodes failing with the same cause on
 *       the same backend).</li>
 *   <li>{@link #reserve}: a slot is taken, atomically with the cap and rate-limit check, before a mark is
 *       applied; the write's outcome is {@link #settle settled}; the reservation counts until a snapshot shows the
 *       Node at (or past) the version that write produced, or the Node gone. A released Node frees its slot once
 *       the cache shows the release; a deleted Node at once.</li>
 *   <li>Dry run counts would-be marks separately, so a dry run reports the cap as it would apply.</li>
 * </ul>
 * A new leader starts from the Nodes, so it knows exactly what is held; a lost reservation of a dead leader
 * is either on the Node (counted) or never happened.
 */
public final class Fleet {

    /** The caches the fleet reads. */
    public interface Source {
        Stream<Node> nodes();

        Stream<NodeExecHealth> reports();

        Collection<ExecHealthPolicy> policies();
    }

    /** How a write that followed a reservation ended. */
    public enum Outcome {
        /** The Node was written (maybe partly): the cache will show it. */
        Written,
        /** Nothing was written (refused, conflict exhausted, Node gone). */
        NotWritten,
        /**
         * Unknown (timeout, connection lost): the slot stays taken until the cache shows the Node past the version
         * the write was made against, or for {@link #AMBIGUOUS_HOLD} while it does not.
         */
        Ambiguous
    }

    /**
     * Longer than the API server's request timeout (60 s) plus a lagging watch: a 10 s hold let a timed-out cordon
     * that had landed free its slot before the cache showed it (501 of 500 held at 5,000 nodes, 150 threads).
     */
    static final Duration AMBIGUOUS_HOLD = Duration.ofMinutes(2);
    private static final long MINUTE_NANOS = Duration.ofMinutes(1).toNanos();

    /**
     * @param rv        the Node's resourceVersion in the cache
     * @param policyKey the policy that applies ("" for the defaults)
     * @param applied   what execguard's marks on it amount to
     */
    public record NodeEntry(String rv, String policyKey, Action applied) {
    }

    /**
     * @param key          "" for the defaults
     * @param policy       the object, null for the defaults
     * @param reading      its reading for the number of nodes it applies to
     * @param selected     nodes it applies to
     * @param marked       of those, the ones execguard marks unhealthy now (from the Nodes)
     * @param failing      of those, the ones whose fresh report wants a mark
     * @param overlapping  other policy → how many nodes both select
     */
    public record PolicyStats(String key, ExecHealthPolicy policy, PolicyReading reading, int selected,
                              Set<String> marked, int failing, Map<String, Integer> overlapping) {
        public boolean storm() {
            return failing > reading.limits().maxFailing();
        }
    }

    /**
     * @param builtAt   monotonic nanos
     * @param resolver  the policies as resolved for this snapshot
     * @param nodes     by name
     * @param policies  by key ("" always present)
     * @param incidents cause@backend → nodes failing with it (fleet-wide)
     */
    public record Snapshot(long builtAt, Instant at, PolicyResolver resolver, Map<String, NodeEntry> nodes,
                           Map<String, PolicyStats> policies, Map<String, Set<String>> incidents) {

        public PolicyStats policy(String key) {
            PolicyStats s = policies.get(key);
            return s != null ? s : policies.get(PolicyResolver.DEFAULTS);
        }

        /** The incidents that count under a policy: failing on at least its incidentNodes nodes. */
        public Set<String> incidentsFor(String key) {
            int min = policy(key).reading().limits().incidentNodes();
            Set<String> out = new HashSet<>();
            incidents.forEach((k, v) -> {
                if (v.size() >= min) {
                    out.add(k);
                }
            });
            return out;
        }
    }

    private record Pending(String policyKey, String preRv, long takenAt, String writtenRv, long settledAt,
                           boolean ambiguous) {
        boolean settled() {
            return settledAt != 0;
        }
    }

    private record RateKey(String policyKey, boolean dry) {
    }

    /**
     * A node's part in the storm guard's counts.
     *
     * @param policyKey the policy that applies to it
     * @param failing   its fresh report wants a mark
     * @param incidents the incident keys (cause@backend) of its findings that want a mark
     */
    public record Failure(String policyKey, boolean failing, Set<String> incidents) {
        static final Failure NONE = new Failure(PolicyResolver.DEFAULTS, false, Set.of());
    }

    private final Source source;
    private final Clock clock;
    private final Duration probeHeartbeat;
    private final long maxAgeNanos;
    private final LongSupplier nanos;
    private final Map<String, Pending> pending = new HashMap<>();
    private final Map<String, String> dryMarked = new HashMap<>();
    private final Map<RateKey, ArrayDeque<Long>> grants = new HashMap<>();
    /** Each node's failure as last seen (snapshot, then each reconcile's own observation), and the live counts. */
    private final Map<String, Failure> contributions = new HashMap<>();
    private final Map<String, Long> observedAt = new HashMap<>();
    private final Map<String, Integer> liveIncidents = new HashMap<>();
    private final Map<String, Integer> liveFailing = new HashMap<>();
    private Snapshot snapshot;
    private boolean building;
    private long invalidations;
    private long builds;
    private long buildNanos;
    private long lastBuildNanos;

    public Fleet(Source source, Clock clock, Duration probeHeartbeat, Duration maxAge, LongSupplier nanos) {
        this.source = source;
        this.clock = clock;
        this.probeHeartbeat = probeHeartbeat;
        this.maxAgeNanos = maxAge.toNanos();
        this.nanos = nanos;
    }

    public Fleet(Source source, Clock clock, Duration probeHeartbeat) {
        this(source, clock, probeHeartbeat, Duration.ofSeconds(1), System::nanoTime);
    }

    /**
     * The current snapshot, rebuilt first when older than maxAge. The caches are read outside the lock: while one
     * thread builds, the others go on deciding with the last snapshot (the hold ledger's reservations and the
     * live failure counts, kept under the lock, are what make those decisions safe, not the snapshot's age).
     */
    public Snapshot snapshot() {
        refresh();
        synchronized (this) {
            return current();
        }
    }

    /** Builds a new snapshot outside the lock when one is due and no other thread is building one. */
    private void refresh() {
        long started;
        long generation;
        synchronized (this) {
            if (snapshot != null && policiesChanged(snapshot)) {
                invalidate(); // a policy changed: the next decision sees it at once
            }
            started = nanos.getAsLong();
            // at least maxAge apart, and 4 builds apart: at 15,000 nodes one takes ~2 s of a loaded machine's CPU
            long age = Math.max(maxAgeNanos, 4 * lastBuildNanos);
            if (building || (snapshot != null && started - snapshot.builtAt() < age)) {
                return;
            }
            building = true;
            generation = invalidations;
        }
        Map<String, Failure> fromCache = new HashMap<>();
        Snapshot built = null;
        try {
            built = build(started, fromCache);
        } finally {
            synchronized (this) {
                building = false;
                // not after an invalidate() during the build: the next decision must see what it invalidated
                if (built != null && generation == invalidations) {
                    install(built, fromCache);
                }
            }
        }
    }

    /**
     * Whether the policies in the cache differ from those the snapshot resolved with (added, deleted, being
     * deleted, or a new spec) — their status, which the operator writes itself, does not count. A handful of
     * objects, compared by reference first.
     */
    private boolean policiesChanged(Snapshot s) {
        List<ExecHealthPolicy> was = s.resolver().policies();
        int live = 0;
        for (ExecHealthPolicy p : source.policies()) {
            if (p.getMetadata().getDeletionTimestamp() != null) {
                continue;
            }
            live++;
            ExecHealthPolicy same = null;
            for (ExecHealthPolicy w : was) {
                if (w == p || w.getMetadata().getName().equals(p.getMetadata().getName())) {
                    same = w;
                    break;
                }
            }
            if (same == null || (same != p && !Objects.equals(same.getSpec(), p.getSpec()))) {
                return true;
            }
        }
        return live != was.size();
    }

    /** The snapshot, built under the lock only when there is none (the first, or just invalidated). */
    private Snapshot current() {
        if (snapshot == null) {
            long started = nanos.getAsLong();
            Map<String, Failure> fromCache = new HashMap<>();
            install(build(started, fromCache), fromCache);
        }
        return snapshot;
    }

    private void install(Snapshot built, Map<String, Failure> fromCache) {
        if (snapshot != null && snapshot.builtAt() >= built.builtAt()) {
            return; // a newer one was installed meanwhile
        }
        snapshot = built;
        resolvePending(built);
        relive(fromCache, built.builtAt());
        builds++;
        lastBuildNanos = nanos.getAsLong() - built.builtAt();
        buildNanos += lastBuildNanos;
    }

    /** How often a snapshot was built, and the time it took in all (for the operator's metrics). */
    public record BuildStats(long builds, double seconds) {
    }

    public synchronized BuildStats buildStats() {
        return new BuildStats(builds, buildNanos / 1e9);
    }

    /**
     * The storm guard's view for one node, counting its report as just read: the snapshot can be up to maxAge
     * old, and reports that arrive together (an outage) must each see the others. Atomic: of two reports decided
     * at once, the second sees the first.
     *
     * @return the incidents that count under the node's policy and whether that policy is in a storm
     */
    public DecisionInput.Fleet observe(String node, Failure now, PolicyReading.Limits limits) {
        refresh();
        synchronized (this) {
            return observeLocked(node, now, limits);
        }
    }

    private DecisionInput.Fleet observeLocked(String node, Failure now, PolicyReading.Limits limits) {
        current();
        adjust(node, now);
        observedAt.put(node, nanos.getAsLong());
        Set<String> incidents = new HashSet<>();
        liveIncidents.forEach((k, count) -> {
            if (count >= limits.incidentNodes()) {
                incidents.add(k);
            }
        });
        boolean storm = liveFailing.getOrDefault(now.policyKey(), 0) > limits.maxFailing();
        return new DecisionInput.Fleet(Set.copyOf(incidents), storm, Slot.NotAsked);
    }

    /** What a report contributes: whether it wants a mark under its policy, and its incidents. */
    public static Failure failure(String policyKey, DecisionInput.Report report, DecisionInput.Policy policy,
                                  Instant now) {
        if (Decision.stale(report, policy, now)) {
            return new Failure(policyKey, false, Set.of());
        }
        Decision.Want w = Decision.want(report, policy, Set.of());
        if (!w.action().marksUnhealthy()) {
            return new Failure(policyKey, false, Set.of());
        }
        Set<String> keys = new HashSet<>();
        for (DecisionInput.FindingView f : report.findings()) {
            if (f.incidentKey() != null && policy.actedOn().contains(f.type())) {
                keys.add(f.incidentKey());
            }
        }
        return new Failure(policyKey, true, Set.copyOf(keys));
    }

    private void relive(Map<String, Failure> fromCache, long builtAt) {
        Map<String, Failure> newer = new HashMap<>();
        observedAt.entrySet().removeIf(e -> {
            if (e.getValue() < builtAt) {
                return true; // the cache the snapshot was built from has this report (or a later one)
            }
            newer.put(e.getKey(), contributions.get(e.getKey()));
            return false;
        });
        contributions.clear();
        liveIncidents.clear();
        liveFailing.clear();
        fromCache.forEach(this::adjust);
        newer.forEach((n, f) -> {
            if (f != null) {
                adjust(n, f);
            }
        });
    }

    private void adjust(String node, Failure f) {
        Failure old = contributions.put(node, f);
        if (old != null) {
            count(old, -1);
        }
        count(f, +1);
    }

    private void count(Failure f, int by) {
        if (!f.failing()) {
            return;
        }
        // a count that reaches 0 is removed (merge's null): only the keys touched here can, so no pass over the
        // maps — that pass ran under the lock every reconcile takes, once per report in each snapshot's install
        // (5,000 reports x 1,500 scattered incidents: waits on the lock averaged 160 ms, now 61 ms)
        liveFailing.merge(f.policyKey(), by, Fleet::sumOrNull);
        for (String k : f.incidents()) {
            liveIncidents.merge(k, by, Fleet::sumOrNull);
        }
    }

    private static Integer sumOrNull(Integer a, Integer b) {
        int sum = a + b;
        return sum == 0 ? null : sum;
    }

    /** Forces the next {@link #snapshot()} to rebuild (a policy changed, a test). */
    public synchronized void invalidate() {
        snapshot = null;
        invalidations++;
    }

    /**
     * Asks for a slot to newly mark {@code node} unhealthy under policy {@code key}: granted only while fewer than
     * the policy's maxUnhealthy nodes are marked or reserved and fewer than newHoldsPerMinute were granted in the
     * last minute. A granted real slot must be {@link #settle settled}.
     *
     * @param preRv the Node's resourceVersion the write will be made against
     * @param dry   the policy is in dry run: count a would-be mark, apart from the real ones
     */
    public Slot reserve(String key, String node, String preRv, boolean dry, PolicyReading.Limits limits) {
        refresh();
        synchronized (this) {
            return reserveLocked(key, node, preRv, dry, limits);
        }
    }

    private Slot reserveLocked(String key, String node, String preRv, boolean dry, PolicyReading.Limits limits) {
        Snapshot s = current();
        if (counts(s, key, dry, node)) {
            return Slot.Granted;
        }
        if (counted(s, key, dry) >= limits.maxMarked()) {
            return Slot.Full;
        }
        long now = nanos.getAsLong();
        ArrayDeque<Long> window = grants.computeIfAbsent(new RateKey(key, dry), k -> new ArrayDeque<>());
        while (!window.isEmpty() && now - window.peekFirst() >= MINUTE_NANOS) {
            window.pollFirst();
        }
        if (window.size() >= limits.newHoldsPerMinute()) {
            return Slot.RateLimited;
        }
        window.addLast(now);
        if (dry) {
            dryMarked.put(node, key);
        } else {
            pending.put(node, new Pending(key, preRv, now, null, 0, false));
        }
        return Slot.Granted;
    }

    /** The end of the write that followed a granted slot; {@code writtenRv} is the Node's version it produced. */
    public synchronized void settle(String node, Outcome outcome, String writtenRv) {
        Pending p = pending.get(node);
        if (p == null) {
            return;
        }
        if (outcome == Outcome.NotWritten) {
            pending.remove(node);
            return;
        }
        pending.put(node, new Pending(p.policyKey(), p.preRv(), p.takenAt(), writtenRv, nanos.getAsLong(),
                outcome == Outcome.Ambiguous));
    }

    /** A dry-run node no longer wants its would-be mark. */
    public synchronized void forgetDry(String node) {
        dryMarked.remove(node);
    }

    /** Nodes of the policy marked or reserved now (real marks only). */
    public int marked(String key) {
        refresh();
        synchronized (this) {
            return markedLocked(key);
        }
    }

    /**
     * Nodes marked or reserved now under every policy, from the current snapshot (no refresh): for the held-nodes
     * metric, which every reconcile sets — one pass over the reservations instead of a refresh and a pass for each
     * policy.
     */
    public synchronized int markedAll() {
        if (snapshot == null) {
            return 0;
        }
        int n = 0;
        for (PolicyStats p : snapshot.policies().values()) {
            n += p.marked().size();
        }
        for (Map.Entry<String, Pending> e : pending.entrySet()) {
            if (notMarkedYet(snapshot, e.getKey(), e.getValue())) {
                n++;
            }
        }
        return n;
    }

    private int markedLocked(String key) {
        return counted(current(), key, false);
    }

    /** A reservation counts on top of its policy's marks until the snapshot shows its node marked. */
    private static boolean notMarkedYet(Snapshot s, String node, Pending p) {
        return !s.policy(p.policyKey()).marked().contains(node);
    }

    /** Whether the node is one of the policy's marked, reserved or (in a dry run) would-be marked nodes. */
    private boolean counts(Snapshot s, String key, boolean dry, String node) {
        Pending p = pending.get(node);
        return s.policy(key).marked().contains(node) || (p != null && p.policyKey().equals(key))
                || (dry && key.equals(dryMarked.get(node)));
    }

    /**
     * How many nodes the policy's cap counts: marked, reserved, and in a dry run would-be marked, each once. Counted
     * without copying the marked set (a copy of 1,500 names on every reservation was 6 % of the operator's Java
     * samples at 15,000 nodes).
     */
    private int counted(Snapshot s, String key, boolean dry) {
        Set<String> marked = s.policy(key).marked();
        int n = marked.size();
        for (Map.Entry<String, Pending> e : pending.entrySet()) {
            if (e.getValue().policyKey().equals(key) && !marked.contains(e.getKey())) {
                n++;
            }
        }
        if (dry) {
            for (Map.Entry<String, String> e : dryMarked.entrySet()) {
                Pending p = pending.get(e.getKey());
                if (e.getValue().equals(key) && !marked.contains(e.getKey())
                        && (p == null || !p.policyKey().equals(key))) {
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * A reservation ends once the cache has seen its write (or the Node is gone), or an ambiguous one has waited. One
     * not settled yet ends only when its Node is gone from a snapshot built after it was taken: a write can no longer
     * land on it (it carries the old Node's version), and nothing else frees a reservation whose write never ended.
     */
    private void resolvePending(Snapshot s) {
        pending.entrySet().removeIf(e -> {
            Pending p = e.getValue();
            NodeEntry n = s.nodes().get(e.getKey());
            if (!p.settled()) {
                return n == null && s.builtAt() > p.takenAt();
            }
            if (s.builtAt() <= p.settledAt()) {
                return false;
            }
            if (n == null) {
                return true;
            }
            if (p.ambiguous()) {
                if (p.writtenRv() != null && atOrPast(n.rv(), p.writtenRv())) {
                    return true; // the part that landed is in the cache: the Node's own marks count now
                }
                // the lost write carries preRv as its precondition: it can land only while the Node is at preRv,
                // so once the cache shows the Node past it, the cache has the truth (marked: counted from the
                // Node; not: it never will be). At preRv only after AMBIGUOUS_HOLD (a write may still be queued
                // at the API server, and the cache may lag behind it): never on a timer alone shorter than that.
                if (p.preRv() != null && !p.preRv().equals(n.rv()) && atOrPast(n.rv(), p.preRv())) {
                    return true;
                }
                return s.builtAt() - p.settledAt() >= AMBIGUOUS_HOLD.toNanos();
            }
            return p.writtenRv() == null || atOrPast(n.rv(), p.writtenRv());
        });
    }

    /** Whether resourceVersion {@code rv} is {@code target} or later (numeric when both are, as etcd's are). */
    static boolean atOrPast(String rv, String target) {
        if (rv == null) {
            return false;
        }
        if (rv.equals(target)) {
            return true;
        }
        try {
            return Long.parseLong(rv) >= Long.parseLong(target);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private Snapshot build(long builtAt, Map<String, Failure> contributionsOut) {
        Instant now = clock.instant();
        PolicyResolver resolver = new PolicyResolver(source.policies());
        Map<String, NodeEntry> nodes = new HashMap<>();
        Map<String, Integer> selected = new HashMap<>();
        Map<String, Set<String>> marked = new HashMap<>();
        Map<String, Map<String, Integer>> overlaps = new HashMap<>();
        source.nodes().forEach(n -> {
            String name = n.getMetadata().getName();
            PolicyResolver.Resolution r = resolver.resolve(n.getMetadata().getLabels());
            Action applied = NodePlan.applied(n);
            nodes.put(name, new NodeEntry(n.getMetadata().getResourceVersion(), r.key(), applied));
            selected.merge(r.key(), 1, Integer::sum);
            if (applied.marksUnhealthy()) {
                marked.computeIfAbsent(r.key(), k -> new HashSet<>()).add(name);
            }
            for (String other : r.overlapping()) {
                overlaps.computeIfAbsent(r.key(), k -> new TreeMap<>()).merge(other, 1, Integer::sum);
                overlaps.computeIfAbsent(other, k -> new TreeMap<>()).merge(r.key(), 1, Integer::sum);
            }
        });
        Map<String, PolicyReading> readings = new HashMap<>();
        Map<String, ExecHealthPolicy> objects = new HashMap<>();
        readings.put(PolicyResolver.DEFAULTS, PolicyReading.of(PolicyResolver.DEFAULTS,
                io.execguard.api.ExecHealthPolicySpec.defaults(), selected.getOrDefault(PolicyResolver.DEFAULTS, 0),
                probeHeartbeat));
        for (ExecHealthPolicy p : resolver.policies()) {
            String key = p.getMetadata().getName();
            objects.put(key, p);
            readings.put(key, PolicyReading.of(key, io.execguard.api.ExecHealthPolicySpec.effective(p),
                    selected.getOrDefault(key, 0), probeHeartbeat));
        }
        Map<String, Integer> failing = new HashMap<>();
        Map<String, Set<String>> incidents = new HashMap<>();
        source.reports().forEach(neh -> {
            String name = neh.getMetadata().getName();
            NodeEntry n = nodes.get(name);
            if (n == null) {
                return;
            }
            DecisionInput.Report report = ReportReading.of(neh).report();
            DecisionInput.Policy policy = readings.get(n.policyKey()).policy();
            Failure f = failure(n.policyKey(), report, policy, now);
            contributionsOut.put(name, f);
            if (!f.failing()) {
                return;
            }
            failing.merge(n.policyKey(), 1, Integer::sum);
            for (String k : f.incidents()) {
                incidents.computeIfAbsent(k, x -> new TreeSet<>()).add(name);
            }
        });
        Map<String, PolicyStats> policies = new HashMap<>();
        readings.forEach((key, reading) -> policies.put(key, new PolicyStats(key, objects.get(key), reading,
                selected.getOrDefault(key, 0), Frozen.set(marked.getOrDefault(key, Set.of())),
                failing.getOrDefault(key, 0), Map.copyOf(overlaps.getOrDefault(key, Map.of())))));
        // HashMaps frozen, not Map.copyOf (Frozen says why): the nodes' map is built here and never changed
        return new Snapshot(builtAt, now, resolver, Collections.unmodifiableMap(nodes), Map.copyOf(policies),
                Frozen.map(incidents));
    }

    /** Convenience for callers holding a supplier of nodes etc. */
    public static Source source(Supplier<Stream<Node>> nodes, Supplier<Stream<NodeExecHealth>> reports,
                                Supplier<Collection<ExecHealthPolicy>> policies) {
        return new Source() {
            @Override
            public Stream<Node> nodes() {
                return nodes.get();
            }

            @Override
            public Stream<NodeExecHealth> reports() {
                return reports.get();
            }

            @Override
            public Collection<ExecHealthPolicy> policies() {
                return policies.get();
            }
        };
    }
}
