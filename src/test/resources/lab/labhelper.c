/*
 * Helper for execguard's lab tests (*IT): puts a real process into the kernel state a test needs.
 * Compiled with gcc at test time. Usage:
 *
 *   labhelper pipe NAME [CGROUP_PROCS]
 *       Joins the cgroup (writes its own pid to CGROUP_PROCS) if given, renames itself to NAME
 *       (prctl PR_SET_NAME, e.g. "runc:[2:INIT]"), creates a pipe that nobody reads and writes
 *       into it until the pipe is full: it then blocks in pipe_write for good. Prints "ready PID"
 *       before the first write.
 *
 *   labhelper forkfail CGROUP_PROCS
 *       Joins the cgroup, then forks once. Prints "fork-failed ERRNO" when the kernel refused
 *       the fork (EAGAIN at pids.max) or "fork-ok" when it did not, then sleeps until killed.
 *
 *   labhelper mmaplock FUSE_FILE GO_FILE CGROUP_PROCS
 *       Makes its own /proc/PID/cmdline read block, the way the kernel allows it (cmdline faults in no
 *       file page: FOLL_ANON). Joins the cgroup, maps FUSE_FILE (one page, not touched) and prints
 *       "ready PID". Once GO_FILE exists (the test has stopped the FUSE daemon): a child reads that page
 *       through /proc/PID/mem, which faults it in under this process's mmap lock (read) without retry, so
 *       the child holds the lock while FUSE never answers; prints "locked CHILD_PID", then calls mmap(),
 *       which waits for the lock as a writer (D). Any later mmap_read_lock, such as the one a
 *       /proc/PID/cmdline read takes, queues behind that writer. Sleeps once FUSE answers.
 *
 * Exit code 2 on a setup error (message on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int join_cgroup(const char *procs) {
    int fd = open(procs, O_WRONLY);
    if (fd < 0) {
        fprintf(stderr, "labhelper: open %s: %s\n", procs, strerror(errno));
        return -1;
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    if (write(fd, buf, (size_t)n) != n) {
        fprintf(stderr, "labhelper: write %s: %s\n", procs, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int do_pipe(const char *name, const char *procs) {
    if (procs != NULL && join_cgroup(procs) != 0) {
        return 2;
    }
    if (prctl(PR_SET_NAME, name, 0, 0, 0) != 0) {
        fprintf(stderr, "labhelper: prctl(PR_SET_NAME): %s\n", strerror(errno));
        return 2;
    }
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "labhelper: pipe: %s\n", strerror(errno));
        return 2;
    }
    /* fds[0] stays open and is never read: the writer blocks instead of getting EPIPE. */
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    static char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    for (;;) {
        if (write(fds[1], chunk, sizeof chunk) < 0 && errno != EINTR) {
            fprintf(stderr, "labhelper: write: %s\n", strerror(errno));
            return 2;
        }
    }
}

static int do_forkfail(const char *procs) {
    if (join_cgroup(procs) != 0) {
        return 2;
    }
    pid_t child = fork();
    if (child < 0) {
        printf("fork-failed %d\n", errno);
    } else if (child == 0) {
        _exit(0);
    } else {
        waitpid(child, NULL, 0);
        printf("fork-ok\n");
    }
    fflush(stdout);
    for (;;) {
        pause();
    }
}

static int do_mmaplock(const char *fuse, const char *go, const char *procs) {
    if (join_cgroup(procs) != 0) {
        return 2;
    }
    int fd = open(fuse, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "labhelper: open %s: %s\n", fuse, strerror(errno));
        return 2;
    }
    void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "labhelper: mmap %s: %s\n", fuse, strerror(errno));
        return 2;
    }
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    while (access(go, F_OK) != 0) {
        usleep(20000);
    }
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "labhelper: fork: %s\n", strerror(errno));
        return 2;
    }
    if (child == 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/mem", (int)parent);
        int mem = open(path, O_RDONLY);
        char c;
        if (mem < 0 || pread(mem, &c, 1, (off_t)(unsigned long)m) != 1) {
            _exit(1);
        }
        _exit(0);
    }
    usleep(300000); /* the child is in the fault by now */
    printf("locked %d\n", (int)child);
    fflush(stdout);
    /* waits as a writer behind the child, in D (mmap_write_lock_killable), until FUSE answers */
    void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    (void)w;
    for (;;) {
        pause();
    }
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "mmaplock") == 0) {
        return do_mmaplock(argv[2], argv[3], argv[4]);
    }
    if (argc >= 3 && strcmp(argv[1], "pipe") == 0) {
        return do_pipe(argv[2], argc >= 4 ? argv[3] : NULL);
    }
    if (argc == 3 && strcmp(argv[1], "forkfail") == 0) {
        return do_forkfail(argv[2]);
    }
    fprintf(stderr, "usage: labhelper pipe NAME [CGROUP_PROCS] | labhelper forkfail CGROUP_PROCS"
                        " | labhelper mmaplock FUSE_FILE GO_FILE CGROUP_PROCS\n");
    return 2;
}
