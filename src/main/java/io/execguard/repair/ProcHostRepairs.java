package io.execguard.repair;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Repairs on a real host, rooted like the readers: fusectl at {@code HOST_ROOT/sys/fs/fuse/connections}, processes
 * at {@code HOST_ROOT/proc} (the probe runs with hostPID, so PIDs there are the ones it signals).
 */
public final class ProcHostRepairs implements HostRepairs {

    private final Path proc;
    private final Path fusectl;

    public ProcHostRepairs(Path hostRoot) {
        this.proc = hostRoot.resolve("proc");
        this.fusectl = hostRoot.resolve("sys/fs/fuse/connections");
    }

    @Override
    public void abortFuseConnection(int connection) throws IOException {
        Path abort = fusectl.resolve(Integer.toString(connection)).resolve("abort");
        // the abort file never blocks: fuse_conn_abort_write only sets the connection aborted and wakes waiters
        try (OutputStream out = Files.newOutputStream(abort, StandardOpenOption.WRITE)) {
            out.write("1".getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchFileException e) {
            throw new IOException("fuse connection " + connection + " is gone (" + abort + " does not exist)", e);
        } catch (IOException e) {
            throw new IOException("cannot write " + abort + ": " + e.getMessage()
                    + (e.getMessage() != null && e.getMessage().contains("Read-only")
                    ? " (mount the host's fusectl read-write: Helm probe.repairs.enabled=true)" : ""), e);
        }
    }

    /**
     * Signals only when {@code HOST_ROOT/proc} is this process's own PID namespace (the pod's hostPID):
     * otherwise the PID and start time read there name a process the kernel would not find by that PID here.
     */
    @Override
    public boolean signal(int pid, long startTimeTicks, String signal) throws IOException {
        String self;
        try {
            self = Files.readSymbolicLink(proc.resolve("self")).getFileName().toString();
        } catch (IOException | UnsupportedOperationException e) {
            throw new IOException("cannot read " + proc.resolve("self") + ": " + e.getMessage(), e);
        }
        if (!self.equals(Long.toString(ProcessHandle.current().pid()))) {
            throw new IOException(proc + " is not this process's PID namespace (" + proc + "/self is " + self
                    + ", this is " + ProcessHandle.current().pid() + "): the probe needs hostPID to signal host processes");
        }
        return Signals.send(proc, pid, startTimeTicks, signal);
    }

}
