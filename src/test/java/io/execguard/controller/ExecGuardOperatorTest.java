package io.execguard.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import io.execguard.api.NodeExecHealth;
import io.execguard.api.Phase;

class ExecGuardOperatorTest {

    /** A report as the API server sends it: an owner reference to its Node, named by uid in managedFields. */
    static String report(int i) {
        String uid = "0b6d1c52-3c1e-4a8e-b1f7-" + String.format("%012d", i);
        return "{\"apiVersion\":\"execguard.io/v1alpha1\",\"kind\":\"NodeExecHealth\",\"metadata\":{\"name\":\"node-" + i
                + "\",\"resourceVersion\":\"" + (1000 + i) + "\",\"ownerReferences\":[{\"apiVersion\":\"v1\","
                + "\"kind\":\"Node\",\"name\":\"node-" + i + "\",\"uid\":\"" + uid + "\"}],\"managedFields\":[{"
                + "\"manager\":\"execguard-probe\",\"operation\":\"Apply\",\"apiVersion\":\"execguard.io/v1alpha1\","
                + "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:ownerReferences\":{\"k:{\\\"uid\\\":\\\""
                + uid + "\\\"}\":{}}}}}]},\"spec\":{\"nodeName\":\"node-" + i + "\"},"
                + "\"status\":{\"phase\":\"Unhealthy\",\"lastProbeTime\":\"2026-12-03T10:00:00Z\"}}";
    }

    @Test
    void theOperatorsSerializationReadsWhatFabric8sDefaultReadsWithoutTheFieldNameTable() {
        KubernetesSerialization ours = ExecGuardOperator.serialization();
        KubernetesSerialization fabric8 = new KubernetesSerialization();
        for (int i = 0; i < 50; i++) {
            NodeExecHealth a = ours.unmarshal(report(i), NodeExecHealth.class);
            NodeExecHealth b = fabric8.unmarshal(report(i), NodeExecHealth.class);
            assertEquals(fabric8.asJson(b), ours.asJson(a));
            assertEquals("node-" + i, a.getMetadata().getOwnerReferences().get(0).getName());
            assertEquals(Phase.Unhealthy, a.getStatus().getPhase());
            assertEquals(List.of("f:metadata"), List.copyOf(
                    a.getMetadata().getManagedFields().get(0).getFieldsV1().getAdditionalProperties().keySet()));
        }
    }

    /**
     * The reason for it: reading reports whose field names are each report's own (its owner's uid) made fabric8's
     * default copy Jackson's whole field-name table once per report. Allocation, not time: counted by the JVM for
     * this thread, the same every run.
     */
    @Test
    void readingReportsWithTheirOwnFieldNamesDoesNotCopyATablePerReport() {
        KubernetesSerialization ours = ExecGuardOperator.serialization();
        KubernetesSerialization fabric8 = new KubernetesSerialization();
        allocatedReading(ours, 0, 2_000); // warm both up, and fill fabric8's table as a running operator's is
        allocatedReading(fabric8, 0, 2_000);
        double perReportOurs = allocatedReading(ours, 2_000, 4_000) / 2_000.0;
        double perReportFabric8 = allocatedReading(fabric8, 2_000, 4_000) / 2_000.0;
        System.out.printf("[serialization] bytes allocated to read one report: %.0f (operator), %.0f (fabric8's "
                + "default)%n", perReportOurs, perReportFabric8);
        assertTrue(perReportOurs * 4 < perReportFabric8,
                "ours " + perReportOurs + " B a report, fabric8's default " + perReportFabric8);
    }

    private static long allocatedReading(KubernetesSerialization s, int from, int to) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = from; i < to; i++) {
            s.unmarshal(report(i), NodeExecHealth.class);
        }
        return mx.getCurrentThreadAllocatedBytes() - before;
    }
}
