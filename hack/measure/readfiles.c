/* The C baseline of hack/measure-probe.sh: reads every file named in LIST (one path a line) with
 * open/read-until-EOF/close, RUNS times, and prints the median wall and CPU time of one pass.
 *   readfiles LIST RUNS                                   cc -O2 -o readfiles readfiles.c */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: readfiles LIST RUNS\n"); return 2; }
    FILE *f = fopen(argv[1], "r");
    if (!f) { perror(argv[1]); return 1; }
    size_t cap = 1 << 16, n = 0; char **paths = malloc(cap * sizeof *paths); char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line) continue;
        if (n == cap) paths = realloc(paths, (cap *= 2) * sizeof *paths);
        paths[n++] = strdup(line);
    }
    fclose(f);
    int runs = atoi(argv[2]); double *wall = malloc(runs * sizeof *wall), *cpu = malloc(runs * sizeof *cpu);
    static char buf[65536]; long bytes = 0, missing = 0;
    for (int r = 0; r < runs; r++) {
        double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        bytes = 0; missing = 0;
        for (size_t i = 0; i < n; i++) {
            int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
            if (fd < 0) { missing++; continue; }
            ssize_t k;
            while ((k = read(fd, buf, sizeof buf)) > 0) bytes += k;
            close(fd);
        }
        wall[r] = now(CLOCK_MONOTONIC) - w0; cpu[r] = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    qsort(wall, runs, sizeof *wall, cmp); qsort(cpu, runs, sizeof *cpu, cmp);
    printf("files %zu missing %ld bytes %ld median_wall_ms %.2f median_cpu_ms %.2f\n", n, missing, bytes,
           wall[runs / 2], cpu[runs / 2]);
    return 0;
}
