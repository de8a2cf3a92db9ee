package io.execguard.probe;

import java.util.List;
import java.util.Map;

import io.execguard.detect.Cause;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;
import io.execguard.host.HostInfo;
import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.Read;
import io.execguard.host.ThreadSnapshot;

/** Small hand-written snapshots and findings for probe tests. */
final class ProbeTestData {
    static final String CID = "e318f67bce5c36e39bc2e0c136ea9cd366b22ba5ae216c485232ce4a0541858b";
    static final HostInfo HOST = new HostInfo("node-a", "6.18.0", "hybrid", List.of("containerd"), 3, 4096, 1024, 16384, 0,
            1048576, 1000);

    private ProbeTestData() {
    }

    static ThreadSnapshot dThread(int tid, long ctx, double blockedFor) {
        return new ThreadSnapshot(tid, "runc:[2:INIT]", 'D', 0x40004140L, 0, 0, "request_wait_answer",
                List.of("request_wait_answer", "fuse_lookup"), ctx, blockedFor);
    }

    static ProcessSnapshot process(int pid, long startTicks, ThreadSnapshot... threads) {
        return new ProcessSnapshot(pid, 1, "runc", "runc:[2:INIT]", startTicks, 500, 0, Read.ok("runc\0init\0"), null,
                5, null, Double.NaN, List.of(threads));
    }

    static HostSnapshot snapshot(ProcessSnapshot... ps) {
        return new HostSnapshot(HOST, List.of(ps), List.of(), Map.of(), List.of(), 100, List.of());
    }

    /** A pod on node-a with one container status; deletionTimestamp may be null. */
    static PodInfo pod(String namespace, String name, String uid, String container, String runtimeContainerId,
                       String deletionTimestamp) {
        return new PodInfo(namespace, name, uid, "node-a", deletionTimestamp,
                List.of(new PodInfo.Container(container, runtimeContainerId)));
    }

    /** The probe's API access to a (mock) API server at {@code url}, without credentials. */
    static io.execguard.probe.kube.KubeApi api(String url) {
        return new io.execguard.probe.kube.KubeApi(new io.execguard.probe.kube.KubeConfig(java.net.URI.create(url),
                null, false, io.execguard.probe.kube.TokenSource.none(), io.execguard.probe.kube.ProxySettings.DIRECT),
                io.execguard.probe.kube.KubeApi.mapper(), "execguard-probe/test");
    }

    static Finding finding(FindingType type, int pid, String containerId) {
        return new Finding(type, Cause.FuseRequest, Severity.Critical, Scope.Container, "stuck for a while", pid, null,
                "runc:[2:INIT]", "D", "request_wait_answer", List.of("request_wait_answer"), List.of(), 500L,
                containerId, null, null, null);
    }
}
