/* The second C baseline of hack/measure-probe.sh: does the cheap pass's whole job in C, RUNS times — list PROC,
 * read each process's stat, and for a process of more than one thread (stat field 20) list its task directory
 * and read every other task's stat, each file opened relative to its open directory (openat), read to EOF,
 * closed — and prints the median wall and CPU time of one pass. readfiles.c reads a list made beforehand and so
 * leaves out the listing; this one is the yardstick for a scan that has to find the tasks first.
 *   walkproc PROC RUNS                                    cc -O2 -o walkproc walkproc.c */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
static int numeric(const char *s) { if (!*s) return 0; for (; *s; s++) if (*s < '0' || *s > '9') return 0; return 1; }
static char buf[65536];
static long files, bytes;

/* reads dir/name/stat relative to dirfd; returns its length, -1 when gone */
static long readstat(int dirfd, const char *name) {
    char path[300]; snprintf(path, sizeof path, "%s/stat", name);
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    long total = 0; ssize_t k;
    while ((k = read(fd, buf + total, sizeof buf - 1 - total)) > 0) total += k;
    close(fd); files++; bytes += total; buf[total] = 0;
    return total;
}

/* stat field 20 (num_threads), counted after the comm's closing parenthesis */
static long threads(void) {
    char *p = strrchr(buf, ')'); if (!p) return 1;
    int field = 2; for (; *p && field < 20; p++) if (*p == ' ') field++;
    return strtol(p, NULL, 10);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: walkproc PROC RUNS\n"); return 2; }
    int runs = atoi(argv[2]); double *wall = malloc(runs * sizeof *wall), *cpu = malloc(runs * sizeof *cpu);
    for (int r = 0; r < runs; r++) {
        double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        files = 0; bytes = 0;
        DIR *proc = opendir(argv[1]);
        if (!proc) { perror(argv[1]); return 1; }
        struct dirent *e;
        while ((e = readdir(proc))) {
            if (!numeric(e->d_name) || readstat(dirfd(proc), e->d_name) < 0 || threads() <= 1) continue;
            char task[300]; snprintf(task, sizeof task, "%s/task", e->d_name);
            int tfd = openat(dirfd(proc), task, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            DIR *t = tfd < 0 ? NULL : fdopendir(tfd);
            if (!t) { if (tfd >= 0) close(tfd); continue; }
            struct dirent *te;
            while ((te = readdir(t))) if (numeric(te->d_name) && strcmp(te->d_name, e->d_name)) readstat(dirfd(t), te->d_name);
            closedir(t);
        }
        closedir(proc);
        wall[r] = now(CLOCK_MONOTONIC) - w0; cpu[r] = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    qsort(wall, runs, sizeof *wall, cmp); qsort(cpu, runs, sizeof *cpu, cmp);
    printf("walked files %ld bytes %ld median_wall_ms %.2f median_cpu_ms %.2f\n", files, bytes, wall[runs / 2],
           cpu[runs / 2]);
    return 0;
}
