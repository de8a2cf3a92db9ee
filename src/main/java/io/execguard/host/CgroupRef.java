package io.execguard.host;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which container and pod a cgroup path belongs to. Understands docker ({@code /docker/<id>}),
 * kubepods with the cgroupfs driver ({@code /kubepods/burstable/pod<uid>/<id>}) and the systemd
 * driver ({@code kubepods-burstable-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope},
 * {@code docker-<id>.scope}, {@code crio-<id>.scope}, {@code libpod-<id>.scope}).
 *
 * @param path        the cgroup path as the kernel shows it
 * @param containerId 64 hex characters, or null
 * @param podUid      dashed pod UID, or null
 */
public record CgroupRef(String path, String containerId, String podUid) {

    private static final Pattern CONTAINER = Pattern.compile(
            "(?:^|/)(?:(?:docker|cri-containerd|crio|libpod|containerd)-)?([0-9a-f]{64})(?:\\.scope)?(?=/|$)");
    private static final Pattern POD = Pattern.compile(
            "pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\\.slice)?(?=/|$)");

    public static CgroupRef ofPath(String path) {
        String container = null;
        Matcher m = CONTAINER.matcher(path);
        while (m.find()) {
            container = m.group(1); // innermost wins
        }
        String pod = null;
        Matcher p = POD.matcher(path);
        while (p.find()) {
            pod = p.group(1).replace('_', '-');
        }
        return new CgroupRef(path, container, pod);
    }

    /**
     * Picks the most telling line of {@code /proc/PID/cgroup} (v1, v2 or hybrid): the first line
     * that names a container, preferring the pids controller, else the v2 line, else the first line.
     */
    public static CgroupRef ofProcFile(String text) {
        CgroupRef best = null;
        int bestRank = -1;
        for (String line : text.split("\n")) {
            int first = line.indexOf(':');
            int second = first < 0 ? -1 : line.indexOf(':', first + 1);
            if (second < 0) {
                continue;
            }
            String controllers = line.substring(first + 1, second);
            CgroupRef ref = ofPath(line.substring(second + 1).trim());
            int rank = (ref.containerId != null ? 4 : 0) + (ref.podUid != null ? 2 : 0)
                    + (controllers.equals("pids") || controllers.contains("pids") ? 1 : 0)
                    + (controllers.isEmpty() ? 1 : 0);
            if (rank > bestRank) {
                best = ref;
                bestRank = rank;
            }
        }
        return best;
    }
}
