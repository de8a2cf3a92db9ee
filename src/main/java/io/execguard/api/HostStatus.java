package io.execguard.api;

import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import io.execguard.host.HostInfo;
import io.fabric8.generator.annotation.Min;

/**
 * Host facts that frame every finding (status form of {@link HostInfo}). Sysctls that could not be
 * read are absent. Uptime is deliberately left out: it changes every scan.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"hostname", "kernel", "cgroupLayout", "runtimes", "ptyNr", "ptyMax", "pipeUserPagesSoft",
        "pipeUserPagesHard", "pipeMaxSize"})
public class HostStatus {

    @JsonPropertyDescription("kernel.hostname of the node.")
    private String hostname;

    @JsonPropertyDescription("Kernel release (kernel.osrelease, as uname -r). Several stuck-task behaviours, e.g. "
            + "whether a SIGKILLed task waiting on FUSE can be woken, depend on it.")
    private String kernel;

    @JsonPropertyDescription("cgroup layout of the host: v1, v2 (unified) or hybrid.")
    private String cgroupLayout;

    @JsonPropertyDescription("Container runtime daemons seen running on the host (containerd, dockerd, crio, ...).")
    private List<String> runtimes;

    @Min(0)
    @JsonPropertyDescription("kernel.pty.nr: pseudo-terminals in use. Every kubectl exec -it holds one; leaked exec "
            + "sessions keep theirs.")
    private Long ptyNr;

    @Min(0)
    @JsonPropertyDescription("kernel.pty.max: the limit on pseudo-terminals. Containers' /dev/pts may use "
            + "only kernel.pty.max - kernel.pty.reserve (default 1024) of them: when ptyNr reaches that, interactive "
            + "execs into containers fail.")
    private Long ptyMax;

    @Min(0)
    @JsonPropertyDescription("fs.pipe-user-pages-soft, in pages (kernel default 16384, 0 = unlimited). A user past it "
            + "gets one-page pipes, and runtime helpers that write more than a page can deadlock.")
    private Long pipeUserPagesSoft;

    @Min(0)
    @JsonPropertyDescription("fs.pipe-user-pages-hard, in pages (0 = unlimited). A user past it cannot create pipes.")
    private Long pipeUserPagesHard;

    @Min(0)
    @JsonPropertyDescription("fs.pipe-max-size: the largest pipe buffer an unprivileged user may set, in bytes.")
    private Long pipeMaxSize;

    public HostStatus() {
    }

    /** The status form of the probe's host facts; sysctls read as -1 (unreadable) become absent. */
    public static HostStatus from(HostInfo h) {
        if (h == null) {
            return null;
        }
        HostStatus s = new HostStatus();
        s.hostname = h.hostname();
        s.kernel = h.kernel();
        s.cgroupLayout = h.cgroupLayout();
        s.runtimes = h.runtimes() == null ? null : List.copyOf(h.runtimes());
        s.ptyNr = known(h.ptyNr());
        s.ptyMax = known(h.ptyMax());
        s.pipeUserPagesSoft = known(h.pipeUserPagesSoft());
        s.pipeUserPagesHard = known(h.pipeUserPagesHard());
        s.pipeMaxSize = known(h.pipeMaxSize());
        return s;
    }

    private static Long known(long v) {
        return v < 0 ? null : v;
    }

    public String getHostname() {
        return hostname;
    }

    public void setHostname(String hostname) {
        this.hostname = hostname;
    }

    public String getKernel() {
        return kernel;
    }

    public void setKernel(String kernel) {
        this.kernel = kernel;
    }

    public String getCgroupLayout() {
        return cgroupLayout;
    }

    public void setCgroupLayout(String cgroupLayout) {
        this.cgroupLayout = cgroupLayout;
    }

    public List<String> getRuntimes() {
        return runtimes;
    }

    public void setRuntimes(List<String> runtimes) {
        this.runtimes = runtimes;
    }

    public Long getPtyNr() {
        return ptyNr;
    }

    public void setPtyNr(Long ptyNr) {
        this.ptyNr = ptyNr;
    }

    public Long getPtyMax() {
        return ptyMax;
    }

    public void setPtyMax(Long ptyMax) {
        this.ptyMax = ptyMax;
    }

    public Long getPipeUserPagesSoft() {
        return pipeUserPagesSoft;
    }

    public void setPipeUserPagesSoft(Long pipeUserPagesSoft) {
        this.pipeUserPagesSoft = pipeUserPagesSoft;
    }

    public Long getPipeUserPagesHard() {
        return pipeUserPagesHard;
    }

    public void setPipeUserPagesHard(Long pipeUserPagesHard) {
        this.pipeUserPagesHard = pipeUserPagesHard;
    }

    public Long getPipeMaxSize() {
        return pipeMaxSize;
    }

    public void setPipeMaxSize(Long pipeMaxSize) {
        this.pipeMaxSize = pipeMaxSize;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostStatus h && Objects.equals(hostname, h.hostname) && Objects.equals(kernel, h.kernel)
                && Objects.equals(cgroupLayout, h.cgroupLayout) && Objects.equals(runtimes, h.runtimes)
                && Objects.equals(ptyNr, h.ptyNr) && Objects.equals(ptyMax, h.ptyMax)
                && Objects.equals(pipeUserPagesSoft, h.pipeUserPagesSoft)
                && Objects.equals(pipeUserPagesHard, h.pipeUserPagesHard) && Objects.equals(pipeMaxSize, h.pipeMaxSize);
    }

    @Override
    public int hashCode() {
        return Objects.hash(hostname, kernel, cgroupLayout, runtimes, ptyNr, ptyMax, pipeUserPagesSoft,
                pipeUserPagesHard, pipeMaxSize);
    }

    @Override
    public String toString() {
        return "HostStatus{hostname=" + hostname + ", kernel=" + kernel + ", cgroupLayout=" + cgroupLayout
                + ", runtimes=" + runtimes + ", pty=" + ptyNr + "/" + ptyMax + ", pipeUserPages=" + pipeUserPagesSoft
                + "/" + pipeUserPagesHard + ", pipeMaxSize=" + pipeMaxSize + "}";
    }
}
