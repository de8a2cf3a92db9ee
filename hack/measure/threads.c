/* Makes a real busy /proc for hack/measure-probe.sh: N sleeping tasks (small stacks), as one process of N
 * threads, or as processes of T threads each (a node's shape: ~1,000 processes of ~10 threads at 10,000 tasks).
 * Prints "ready M" (M tasks made) when all exist, then waits until stdin closes or it is signalled; the
 * processes it forked end with it (PR_SET_PDEATHSIG) or when stdin closes.
 *   threads N [T]                                        cc -O2 -pthread -o threads threads.c */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static void *sleeper(void *arg) { (void)arg; for (;;) pause(); return NULL; }

/* n - 1 more threads in this process; returns the tasks made, this one included */
static int spawn(int n) {
    int made = 0;
    pthread_attr_t a; pthread_attr_init(&a); pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN);
    for (; made < n - 1; made++) { pthread_t t; if (pthread_create(&t, &a, sleeper, NULL)) break; }
    return made + 1;
}

static void wait_stdin(void) { char c; while (read(0, &c, 1) > 0) { } }

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    int per = argc > 2 ? atoi(argv[2]) : n;
    if (per < 1 || per > n) per = n;
    int fds[2]; if (pipe(fds)) { perror("pipe"); return 1; }
    int made = 0, children = 0;
    for (int left = n - per; left > 0; left -= per, children++) {   /* the others: children of `per` tasks */
        int k = left < per ? left : per;
        pid_t p = fork();
        if (p < 0) break;
        if (p == 0) {
            close(fds[0]);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() == 1) _exit(0);
            int m = spawn(k);
            if (write(fds[1], &m, sizeof m) != sizeof m) _exit(1);
            close(fds[1]);
            wait_stdin();
            _exit(0);
        }
    }
    close(fds[1]);
    made = spawn(per);
    for (int i = 0, m; i < children && read(fds[0], &m, sizeof m) == sizeof m; i++) made += m;
    printf("ready %d\n", made); fflush(stdout);
    wait_stdin();
    return 0;
}
