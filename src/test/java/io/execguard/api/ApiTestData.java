package io.execguard.api;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.execguard.detect.Cause;
import io.execguard.detect.Finding;
import io.execguard.detect.FindingType;
import io.execguard.detect.MountRef;
import io.execguard.detect.Scope;
import io.execguard.detect.Severity;
import io.execguard.host.HostInfo;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;

/** Test data built the way the probe builds it: from detector findings and host facts. */
final class ApiTestData {

    static final String CID = "9c4e2a71b0d35f60718293a4b5c6d7e8f9012a3b4c5d6e7f8091a2b3c4d5e6f70";
    static final String POD_UID = "7e1f3a5b-9c2d-4e6f-8a1b-3c5d7e9f1a2b";
    static final Instant T0 = Instant.parse("2026-11-23T09:57:12Z");

    static final HostInfo HOST = new HostInfo("worker-1", "6.8.0-1017-aws", "v2", List.of("containerd"), 3, 4096, 1024,
            16384, 0, 1048576, 86400.5);

    private ApiTestData() {
    }

    /** seed 004: a thread flushing a FUSE file on exit, SIGKILL pending, with every Finding field set. */
    static Finding unkillableOnFuse() {
        return new Finding(FindingType.UnkillableTask, Cause.FuseRequest, Severity.Critical, Scope.Container,
                "thread 24817 of pid 24790 (python3) has had SIGKILL pending for 9m41s but cannot die", 24790, 24817,
                "python3", "D", "request_wait_answer",
                List.of("request_wait_answer", "fuse_simple_request", "fuse_flush", "filp_close", "do_exit"),
                List.of("SIGKILL"), 581L, CID, POD_UID, "/kubepods.slice/pod/cri-containerd-" + CID + ".scope",
                new MountRef("fuse.bindfs", "/srv/reports", "/reports", 52));
    }

    static Finding teardown() {
        return new Finding(FindingType.PidNamespaceTeardownStuck, Cause.PidNamespaceTeardown, Severity.Critical,
                Scope.Container, "the init of 9c4e2a71b0d3 (pid 24702, tini) has been tearing down its pid namespace",
                24702, null, "tini", "S", "do_wait", List.of("do_wait", "kernel_wait4", "zap_pid_ns_processes"),
                List.of(), 578L, CID, POD_UID, null, null);
    }

    static Node node(String name) {
        return new NodeBuilder().withNewMetadata().withName(name).withUid("uid-" + name).endMetadata().build();
    }

    static NodeExecHealth unhealthyReport(String nodeName) {
        NodeExecHealth neh = NodeExecHealth.forNode(node(nodeName));
        neh.setStatus(unhealthyStatus());
        return neh;
    }

    static NodeExecHealthStatus unhealthyStatus() {
        NodeExecHealthStatus s = new NodeExecHealthStatus();
        s.setPhase(Phase.Unhealthy);
        List<ReportedFinding> findings = new ArrayList<>();
        findings.add(ReportedFinding.from(unkillableOnFuse(), "UnkillableTask/9c4e2a71b0d3/24790@77120987", T0)
                .setPod("batch", "report-gen-28911540-q7wzt", "report"));
        findings.add(ReportedFinding.from(teardown(), "PidNamespaceTeardownStuck/9c4e2a71b0d3/24702@77118311",
                T0.plusSeconds(10)).setPod("batch", "report-gen-28911540-q7wzt", "report"));
        s.setFindings(findings);
        s.setFindingsTruncated(false);
        s.setSummary(new FindingSummary(1, 2, Map.of("UnkillableTask", 1, "PidNamespaceTeardownStuck", 1), "FuseRequest"));
        s.setConditions(List.of(
                condition(ConditionTypes.EXEC_HEALTHY, ConditionTypes.STATUS_FALSE, "PidNamespaceTeardownStuck"),
                condition(ConditionTypes.KILL_HEALTHY, ConditionTypes.STATUS_FALSE, "UnkillableTask"),
                condition(ConditionTypes.PROBE_REPORTING, ConditionTypes.STATUS_TRUE, "Reporting")));
        s.setHost(HostStatus.from(HOST));
        s.setLastProbeTime(T0.plusSeconds(60).toString());
        s.setProbeVersion("0.1.0");
        s.setScanDurationMillis(187L);
        s.setTasksScanned(2214);
        s.setObservedScanCount(42L);
        return s;
    }

    static Condition condition(String type, String status, String reason) {
        return new ConditionBuilder().withType(type).withStatus(status).withReason(reason)
                .withMessage(type + " is " + status).withLastTransitionTime(T0.toString()).build();
    }
}
