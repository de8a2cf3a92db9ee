package io.execguard.probe;

import static io.execguard.probe.ProbeTestData.CID;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.NodeExecHealthStatus;
import io.execguard.api.ReportedFinding;
import io.execguard.detect.DetectorSuite;
import io.execguard.detect.FindingType;
import io.execguard.detect.Thresholds;
import io.execguard.host.CgroupRef;
import io.execguard.host.HostSnapshot;
import io.execguard.host.ProcessSnapshot;
import io.execguard.host.Read;
import io.execguard.host.ThreadSnapshot;
import io.execguard.probe.ReportPublisherTest.ManualClock;
import io.execguard.repair.Repairer;
import io.execguard.repair.HostRepairs;
import io.execguard.api.ExecHealthPolicySpec;
import io.execguard.api.NodeRemediation;

/**
 * The probe's scan → track → attribute → publish path against fabric8's mock API server in CRUD
 * mode. Host snapshots are hand-made so each scan's truth is known; everything from the detectors to
 * the HTTP requests is the production code.
 */
class ProbeMockServerTest {

    private static final String NODE = "node-a";
    private static final String POD_UID = "164ea21a-cc71-4cb0-8f83-6d160a720163";

    private KubernetesMockServer server;
    private KubernetesClient client;
    private int port;
    private final ManualClock clock = new ManualClock();
    private final AtomicReference<HostSnapshot> host = new AtomicReference<>(snapshot());
    private final List<PodInfo> pods = new ArrayList<>();
    private final AtomicReference<ProbePolicy> policy = new AtomicReference<>(ProbePolicy.defaults());
    private final List<String> hostRepairs = new ArrayList<>();
    private ProbeLoop loop;
    private ReportPublisher publisher;

    private static KubernetesMockServer newServer() {
        return new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(List.of()), false);
    }

    @BeforeEach
    void setUp() {
        server = newServer();
        server.start(InetAddress.getLoopbackAddress(), 0);
        port = server.getPort();
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(NodeExecHealth.class));
        client = server.createClient(b -> b.editOrNewConfig().withRequestRetryBackoffLimit(0).endConfig());
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata().build()).create();
        ProbeConfig config = ProbeConfig.fromEnv(Map.of("NODE_NAME", NODE));
        Metrics metrics = new Metrics();
        publisher = new ReportPublisher(new KubeStatusWriter(ProbeTestData.api("http://127.0.0.1:" + port), NODE, "test"), config.heartbeat(), NODE, metrics,
                clock);
        loop = new ProbeLoop(config, host::get,
                new FindingTracker(), () -> new PodIndex(pods),
                policy::get, publisher, new Repairer(new HostRepairs() {
                    @Override
                    public void abortFuseConnection(int connection) {
                        hostRepairs.add("abort " + connection);
                    }

                    @Override
                    public boolean signal(int pid, long startTimeTicks, String signal) {
                        hostRepairs.add("SIG" + signal + " " + pid);
                        return true;
                    }
                }, NODE), metrics, clock);
    }

    @AfterEach
    void tearDown() {
        client.close();
        server.shutdown();
    }

    /** A host with nothing stuck. */
    private static HostSnapshot snapshot(ProcessSnapshot... ps) {
        return new HostSnapshot(ProbeTestData.HOST, List.of(ps), List.of(), Map.of(), List.of(), 120, List.of());
    }

    /** A runc init stuck on FUSE for 600 s in the given container. */
    private static ProcessSnapshot stuckInit(int pid, String containerId) {
        ThreadSnapshot t = ProbeTestData.dThread(pid, 7, 600);
        return new ProcessSnapshot(pid, 1, "runc", "runc:[2:INIT]", 5000, 600, 0, Read.ok("runc\0init\0"),
                CgroupRef.ofPath("/kubepods/burstable/pod" + POD_UID + "/" + containerId), 5, null, Double.NaN,
                List.of(t));
    }

    /** One scan 10 s after the previous, then a synchronous publish. */
    private void scan() {
        loop.runOnce();
        publisher.publishOnce();
        clock.now = clock.now.plusSeconds(10);
    }

    private NodeExecHealth neh() {
        return client.resources(NodeExecHealth.class).withName(NODE).get();
    }

    /** Status writes recorded by the server since the last call. */
    private int statusWrites() throws InterruptedException {
        int n = 0;
        RecordedRequest r;
        while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
            if ("PATCH".equals(r.getMethod()) && r.getPath().contains("/nodeexechealths/" + NODE + "/status")) {
                n++;
            }
        }
        return n;
    }

    @Test
    void writesNoOwnerlessReportOnceItsNodeIsGone() {
        scan();
        assertNotNull(neh());
        client.nodes().withName(NODE).delete();
        client.resources(NodeExecHealth.class).withName(NODE).delete(); // what the garbage collector does
        host.set(snapshot(stuckInit(4242, "c0ffee"))); // a change: the publisher writes at once
        scan();
        assertNull(neh(), "a report without its Node would never be garbage-collected");
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata().build()).create();
        clock.now = clock.now.plusSeconds(120); // past the publisher's backoff
        scan();
        assertEquals(client.nodes().withName(NODE).get().getMetadata().getUid(),
                neh().getMetadata().getOwnerReferences().get(0).getUid());
    }

    @Test
    void createsTheReportOwnedByItsNode() {
        scan();
        NodeExecHealth neh = neh();
        assertNotNull(neh);
        assertEquals(NODE, neh.getSpec().getNodeName());
        assertEquals("Node", neh.getMetadata().getOwnerReferences().get(0).getKind());
        assertEquals(client.nodes().withName(NODE).get().getMetadata().getUid(),
                neh.getMetadata().getOwnerReferences().get(0).getUid());
        NodeExecHealthStatus s = neh.getStatus();
        assertEquals("Healthy", s.getPhase().name());
        assertEquals(List.of("ExecHealthy", "KillHealthy", "ProbeReporting"),
                s.getConditions().stream().map(c -> c.getType()).toList());
        assertEquals("test", s.getProbeVersion());
    }

    @Test
    void twentyUnchangedScansCostOnlyHeartbeatWritesAndEachChangeExactlyOne() throws Exception {
        scan();
        statusWrites();
        for (int i = 0; i < 20; i++) {
            scan();
        }
        // 20 scans over 200 s with a 60 s heartbeat
        assertEquals(3, statusWrites(), "only heartbeats");
        String firstProbe = neh().getStatus().getLastProbeTime();

        host.set(snapshot(stuckInit(4242, CID)));           // new finding, and a phase change to Unhealthy
        scan();
        assertEquals(1, statusWrites());
        assertEquals("Unhealthy", neh().getStatus().getPhase().name());
        scan();
        scan();
        assertEquals(0, statusWrites(), "unchanged finding, heartbeat not due");

        host.set(snapshot());                                // cleared
        scan();
        assertEquals(1, statusWrites());
        NodeExecHealthStatus s = neh().getStatus();
        assertEquals("Healthy", s.getPhase().name());
        assertTrue(s.getFindings() == null || s.getFindings().isEmpty(), String.valueOf(s.getFindings()));
        assertTrue(Instant.parse(s.getLastProbeTime()).isAfter(Instant.parse(firstProbe)));
    }

    @Test
    void findingsAreAttributedToPodAndContainerAndEventsMarkCriticalTransitions() throws Exception {
        pods.add(ProbeTestData.pod("shop", "web-1", POD_UID, "app", "containerd://" + CID, null));
        host.set(snapshot(stuckInit(4242, CID)));
        scan();
        ReportedFinding f = neh().getStatus().getFindings().stream()
                .filter(x -> x.getType() == FindingType.StuckRuntimeInit).findFirst().orElseThrow();
        assertEquals("shop", f.getPodNamespace());
        assertEquals("web-1", f.getPodName());
        assertEquals("app", f.getContainerName());
        assertEquals(CID, f.getContainerId());
        assertNotNull(f.getFirstSeen());
        var events = client.v1().events().inNamespace("default").list().getItems();
        assertTrue(events.stream().anyMatch(e -> e.getReason().equals("CriticalStuckRuntimeInit")
                && e.getInvolvedObject().getKind().equals("Node")), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.getInvolvedObject().getKind().equals("NodeExecHealth")));
        int before = events.size();
        scan();
        assertEquals(before, client.v1().events().inNamespace("default").list().getItems().size(), "deduplicated");
        host.set(snapshot());
        scan();
        assertTrue(client.v1().events().inNamespace("default").list().getItems().stream()
                .anyMatch(e -> e.getReason().equals("StuckRuntimeInitCleared")));
    }

    @Test
    void repairsAreListedInTheStatusAndEachIsOneEvent() {
        ExecHealthPolicySpec spec = new ExecHealthPolicySpec();
        NodeRemediation remediation = new NodeRemediation();
        remediation.setKillLeakedExecSessions(true);
        remediation.setLeakedExecSessionTtl("1h");
        remediation.setDryRun(false);
        spec.setRemediation(remediation);
        policy.set(ProbePolicy.from(spec));
        // an exec'd shell, child of the shim, its terminal idle for 2 h: leaked, past the 1 h TTL
        ProcessSnapshot shell = new ProcessSnapshot(4300, 10, "containerd-shim", "sh", 7777, 7200, 34816,
                Read.ok("sh\0"), CgroupRef.ofPath("/kubepods/burstable/pod" + POD_UID + "/" + CID), 9, null, 7200,
                List.of(new ThreadSnapshot(4300, "sh", 'S', 0, 0, 0, "n_tty_read", List.of(), 3, 7200)));
        host.set(snapshot(shell));
        scan();
        assertEquals(List.of("SIGHUP 4300"), hostRepairs);
        var repairs = neh().getStatus().getRepairs();
        assertEquals(1, repairs.size(), repairs::toString);
        assertEquals("HangUpLeakedSession", repairs.get(0).getAction());
        assertEquals("Done", repairs.get(0).getResult());
        assertEquals("pid 4300", repairs.get(0).getTarget());
        assertEquals(CID, repairs.get(0).getContainerId());
        assertTrue(repairs.get(0).getReason().contains("past the TTL of 1h"), repairs.get(0).getReason());
        scan(); // 10 s later the shell ignored the hangup: SIGKILL, newest first
        assertEquals(List.of("SIGHUP 4300", "SIGKILL 4300"), hostRepairs);
        repairs = neh().getStatus().getRepairs();
        assertEquals(List.of("KillLeakedSession", "HangUpLeakedSession"),
                repairs.stream().map(r -> r.getAction()).toList());
        host.set(snapshot());
        scan();
        scan();
        assertEquals(2, hostRepairs.size(), "nothing more once the shell is gone");
        assertEquals(2, neh().getStatus().getRepairs().size(), "the history stays");
        var events = client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> e.getReason().startsWith("Repair")).toList();
        // one on the Node and one on the NodeExecHealth per repair
        assertEquals(4, events.size(), events::toString);
        assertEquals(2, events.stream().filter(e -> "Node".equals(e.getInvolvedObject().getKind())).count());
        assertTrue(events.stream().anyMatch(e -> e.getReason().equals("RepairKillLeakedSession")
                && e.getMessage().contains("sent SIGKILL to pid 4300")), events::toString);
    }

    @Test
    void podStuckTerminatingAppearsAndClears() {
        String deleted = clock.now.minusSeconds(300).toString();
        pods.add(ProbeTestData.pod("shop", "web-1", POD_UID, "app", "containerd://" + CID, deleted));
        scan();
        List<ReportedFinding> fs = neh().getStatus().getFindings();
        assertEquals(1, fs.size());
        assertEquals(FindingType.PodStuckTerminating, fs.get(0).getType());
        assertEquals("web-1", fs.get(0).getPodName());
        assertEquals(1, neh().getStatus().getSummary().getStuckKill());
        pods.clear();
        scan();
        List<ReportedFinding> after = neh().getStatus().getFindings();
        assertTrue(after == null || after.isEmpty(), String.valueOf(after));
    }

    @Test
    void apiDownThenBackCatchesUpWithoutCrashing() throws Exception {
        scan();
        server.shutdown();
        host.set(snapshot(stuckInit(4242, CID)));
        for (int i = 0; i < 5; i++) {
            scan();                                   // scans go on; writes fail and back off
        }
        assertTrue(loop.ready() && loop.healthy());
        // the API server comes back empty on the same address (e.g. restored from nothing)
        server = newServer();
        server.start(InetAddress.getLoopbackAddress(), port);
        server.expectCustomResource(CustomResourceDefinitionContext.fromCustomResourceType(NodeExecHealth.class));
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata().build()).create();
        clock.now = clock.now.plus(Duration.ofSeconds(61));
        scan();
        NodeExecHealth neh = neh();
        assertNotNull(neh, "recreated");
        assertEquals("Unhealthy", neh.getStatus().getPhase().name());
        assertEquals(4242, neh.getStatus().getFindings().get(0).getPid());
        assertNull(neh.getStatus().getRemediation());
    }
}
