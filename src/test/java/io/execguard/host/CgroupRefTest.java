package io.execguard.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class CgroupRefTest {

    private static final String ID = "aa1e331ec24f621ab3152ebe94f1e533734164af86c9df0f551eab2b1967ec4e";
    private static final String UID = "64a6c0e7-830c-11eb-86d6-b8cef604db88";

    @Test
    void docker() {
        CgroupRef r = CgroupRef.ofPath("/docker/" + ID);
        assertEquals(ID, r.containerId());
        assertNull(r.podUid());
    }

    @Test
    void kubepodsCgroupfs() {
        CgroupRef r = CgroupRef.ofPath("/kubepods/burstable/pod" + UID + "/" + ID);
        assertEquals(ID, r.containerId());
        assertEquals(UID, r.podUid());
        CgroupRef pod = CgroupRef.ofPath("/kubepods/besteffort/pod" + UID);
        assertNull(pod.containerId());
        assertEquals(UID, pod.podUid());
    }

    @Test
    void systemdCriContainerdWithUnderscorePodUid() {
        CgroupRef r = CgroupRef.ofPath("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + UID.replace('-', '_') + ".slice/cri-containerd-" + ID + ".scope");
        assertEquals(ID, r.containerId());
        assertEquals(UID, r.podUid(), "dashed form");
        CgroupRef guaranteed = CgroupRef.ofPath("/kubepods.slice/kubepods-pod" + UID.replace('-', '_')
                + ".slice/cri-containerd-" + ID + ".scope");
        assertEquals(UID, guaranteed.podUid());
    }

    @Test
    void dockerAndCrioScopes() {
        assertEquals(ID, CgroupRef.ofPath("/system.slice/docker-" + ID + ".scope").containerId());
        CgroupRef crio = CgroupRef.ofPath("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
                + UID.replace('-', '_') + ".slice/crio-" + ID + ".scope");
        assertEquals(ID, crio.containerId());
        assertEquals(UID, crio.podUid());
        // cri-o's conmon lives in crio-conmon-<id>.scope: not the container itself
        assertNull(CgroupRef.ofPath("/kubepods.slice/crio-conmon-" + ID + ".scope").containerId());
    }

    @Test
    void notAContainer() {
        for (String p : new String[] {"/", "/system.slice/containerd.service", "/user.slice/user-0.slice/session-3.scope",
            "/docker/" + ID.substring(0, 63), "/docker/" + ID + "x"}) {
            CgroupRef r = CgroupRef.ofPath(p);
            assertNull(r.containerId(), p);
            assertNull(r.podUid(), p);
        }
    }

    @Test
    void procFileV1HybridPrefersTheLineNamingAContainer() {
        String text = "12:pids:/docker/" + ID + "\n11:memory:/docker/" + ID + "\n2:rdma:/\n1:name=systemd:/docker/"
                + ID + "\n0::/system.slice/containerd.service\n";
        CgroupRef r = CgroupRef.ofProcFile(text);
        assertEquals(ID, r.containerId());
        assertEquals("/docker/" + ID, r.path());
    }

    @Test
    void procFileV2() {
        CgroupRef r = CgroupRef.ofProcFile("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + UID.replace('-', '_') + ".slice/cri-containerd-" + ID + ".scope\n");
        assertEquals(ID, r.containerId());
        assertEquals(UID, r.podUid());
        CgroupRef host = CgroupRef.ofProcFile("0::/system.slice/containerd.service\n");
        assertEquals("/system.slice/containerd.service", host.path());
        assertNull(host.containerId());
        assertNull(CgroupRef.ofProcFile("garbage without colons\n"));
    }
}
