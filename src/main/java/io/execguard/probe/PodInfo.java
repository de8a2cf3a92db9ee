package io.execguard.probe;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What the probe needs of a Pod on its node: identity, where it runs, whether it is being deleted, and its
 * containers' runtime ids (init, regular and ephemeral). Read from the API server's JSON.
 *
 * @param deletionTimestamp RFC 3339, or null while the pod is not being deleted
 */
public record PodInfo(String namespace, String name, String uid, String nodeName, String deletionTimestamp,
                      List<Container> containers) {

    /** A container status: the container's name and its runtime id ({@code containerd://<id>}), null until started. */
    public record Container(String name, String containerId) {
    }

    public PodInfo {
        containers = List.copyOf(containers);
    }

    public static PodInfo from(JsonNode pod) {
        JsonNode meta = pod.path("metadata");
        List<Container> cs = new ArrayList<>();
        JsonNode status = pod.path("status");
        for (String list : new String[] {"initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"}) {
            for (JsonNode c : status.path(list)) {
                cs.add(new Container(text(c, "name"), text(c, "containerID")));
            }
        }
        return new PodInfo(text(meta, "namespace"), text(meta, "name"), text(meta, "uid"),
                text(pod.path("spec"), "nodeName"), text(meta, "deletionTimestamp"), cs);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
