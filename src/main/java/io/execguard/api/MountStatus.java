package io.execguard.api;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import io.execguard.detect.MountRef;
import io.fabric8.generator.annotation.Min;

/** The filesystem a stuck task waits on (status form of {@link MountRef}). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"fsType", "source", "mountPoint", "fuseConnection"})
public class MountStatus {

    @JsonPropertyDescription("Filesystem type from the task's mountinfo, e.g. fuse.sshfs, fuse.bindfs, ceph, nfs4, "
            + "cifs. Nodes with findings on the same fsType and source share one failing backend.")
    private String fsType;

    @JsonPropertyDescription("Mount source: the NFS server and export (10.0.0.5:/export), the ceph monitors, the "
            + "CIFS share, or the FUSE daemon's source string.")
    private String source;

    @JsonPropertyDescription("Where the filesystem is mounted, as seen in the stuck task's mount namespace (inside "
            + "the container for container mounts).")
    private String mountPoint;

    @Min(0)
    @JsonPropertyDescription("FUSE only: the connection number under /sys/fs/fuse/connections on the host. "
            + "'echo 1 > /sys/fs/fuse/connections/<N>/abort' fails the pending requests and frees the stuck tasks.")
    private Integer fuseConnection;

    public MountStatus() {
    }

    public MountStatus(String fsType, String source, String mountPoint, Integer fuseConnection) {
        this.fsType = fsType;
        this.source = source;
        this.mountPoint = mountPoint;
        this.fuseConnection = fuseConnection;
    }

    /** The status form of a detector's mount, or null for null. */
    public static MountStatus from(MountRef m) {
        return m == null ? null : new MountStatus(m.fsType(), m.source(), m.mountPoint(), m.fuseConnection());
    }

    public String getFsType() {
        return fsType;
    }

    public void setFsType(String fsType) {
        this.fsType = fsType;
    }

    public String getSource() {
        return source;
    }

    public void setSource(String source) {
        this.source = source;
    }

    public String getMountPoint() {
        return mountPoint;
    }

    public void setMountPoint(String mountPoint) {
        this.mountPoint = mountPoint;
    }

    public Integer getFuseConnection() {
        return fuseConnection;
    }

    public void setFuseConnection(Integer fuseConnection) {
        this.fuseConnection = fuseConnection;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MountStatus m && Objects.equals(fsType, m.fsType) && Objects.equals(source, m.source)
                && Objects.equals(mountPoint, m.mountPoint) && Objects.equals(fuseConnection, m.fuseConnection);
    }

    @Override
    public int hashCode() {
        return Objects.hash(fsType, source, mountPoint, fuseConnection);
    }

    @Override
    public String toString() {
        return "MountStatus{" + fsType + " " + source + " on " + mountPoint
                + (fuseConnection == null ? "" : " fuse#" + fuseConnection) + "}";
    }
}
