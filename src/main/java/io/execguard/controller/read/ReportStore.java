package io.execguard.controller.read;

import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;

import io.execguard.api.NodeExecHealth;

/**
 * The operator's cache of reports: each as stored, but without {@code metadata.managedFields} — the field
 * managers' bookkeeping (a tree of every field the probe and the operator set), which no decision or write
 * reads and which is a large part of a cached report.
 */
public final class ReportStore extends TransformingItemStore<NodeExecHealth> {

    public ReportStore() {
        super(ReportStore::strip);
    }

    static NodeExecHealth strip(NodeExecHealth r) {
        if (r.getMetadata() != null && r.getMetadata().getManagedFields() != null) {
            r.getMetadata().setManagedFields(null);
        }
        return r;
    }
}
