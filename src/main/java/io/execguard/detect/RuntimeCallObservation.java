package io.execguard.detect;

import java.util.List;

/**
 * What the probe's runtime sweep saw at its last completed sweep, for {@link RuntimeCallRules}: whether the
 * runtime's daemon answered, and the containers whose runtime call went unanswered. Pure data, read by the probe
 * from its sweep (detection knows nothing of Kubernetes or the CRI).
 *
 * @param runtimeAnswers  whether the daemon answered the sweep's own calls (the container list, and CRI Version
 *                        when a container's call went unanswered); false: it is the daemon, not a container
 * @param runtimeDetail   why the daemon is taken not to answer (null when it answers)
 * @param deadlineSeconds the deadline of each call
 * @param unanswered      the containers whose call went unanswered, in the sweep's order
 */
public record RuntimeCallObservation(boolean runtimeAnswers, String runtimeDetail, double deadlineSeconds,
                                     List<Unanswered> unanswered) {

    public RuntimeCallObservation {
        unanswered = List.copyOf(unanswered);
    }

    /**
     * A container whose runtime call got no answer within the deadline, and no call since has answered.
     *
     * @param containerId       the runtime's id of the container
     * @param sandboxId         the id of its pod sandbox (the shim's {@code -id} with containerd's runc v2 shim)
     * @param podUid            the pod's uid, null when the runtime's labels do not name one
     * @param podName           namespace/name of the pod, null when unknown
     * @param containerName     the container's name in the pod
     * @param call              the call that went unanswered (e.g. {@code ContainerStats})
     * @param unansweredSeconds seconds since the first unanswered call was made
     * @param calls             how many calls in a row went unanswered
     * @param shim              the container's shim (its init's parent) as read from /proc at this scan, null when not
     *                          known
     */
    public record Unanswered(String containerId, String sandboxId, String podUid, String podName, String containerName,
                             String call, double unansweredSeconds, int calls, CanaryObservation.Task shim) {
    }
}
