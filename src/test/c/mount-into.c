/*
 * Test helper (CanaryNodeIT): bind-mounts a host file into another process's mount namespace, or detaches it,
 * without any binary inside that namespace: open_tree(OPEN_TREE_CLONE) of the source here, setns() into the
 * target's mount namespace, move_mount() onto the target path (Linux >= 5.2).
 *   mount-into PID SOURCE TARGET     bind SOURCE (a host path) at TARGET in PID's mount namespace
 *   mount-into PID -u TARGET         umount2(TARGET, MNT_DETACH) there
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s PID SOURCE|-u TARGET\n", argv[0]);
        return 2;
    }
    char ns[64];
    snprintf(ns, sizeof ns, "/proc/%s/ns/mnt", argv[1]);
    int tree = -1;
    if (strcmp(argv[2], "-u") != 0) {
        tree = (int) syscall(SYS_open_tree, AT_FDCWD, argv[2], OPEN_TREE_CLONE | O_CLOEXEC);
        if (tree < 0) { perror("open_tree"); return 1; }
    }
    int nsfd = open(ns, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNS) != 0) { perror(ns); return 1; }
    if (tree < 0) {
        if (umount2(argv[3], MNT_DETACH) != 0) { perror("umount2"); return 1; }
        return 0;
    }
    if (syscall(SYS_move_mount, tree, "", AT_FDCWD, argv[3], MOVE_MOUNT_F_EMPTY_PATH) != 0) {
        perror("move_mount");
        return 1;
    }
    return 0;
}
