package io.execguard.probe;

import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;

import io.execguard.probe.kube.KubeApi;

/** Test access to a {@link PodWatcher}'s counters from other packages (the real-server tests). */
public final class PodWatcherProbe implements AutoCloseable {

    private final PodWatcher w;

    private PodWatcherProbe(PodWatcher w) {
        this.w = w;
    }

    public static PodWatcherProbe start(KubeApi api, String node, Duration watchTimeout, String resumeFrom) {
        PodWatcherProbe p = new PodWatcherProbe(new PodWatcher(api, node, true, watchTimeout, resumeFrom));
        p.w.start();
        return p;
    }

    public boolean synced() {
        return w.synced();
    }

    public long relists() {
        return w.relists();
    }

    public long bookmarks() {
        return w.bookmarks();
    }

    public long watches() {
        return w.watches();
    }

    public Set<String> podNames() {
        return w.index().pods().stream().map(PodInfo::name).collect(Collectors.toSet());
    }

    @Override
    public void close() {
        w.close();
    }
}
