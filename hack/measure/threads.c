/* Makes a real busy /proc for hack/measure-probe.sh: one process with N sleeping threads (small stacks).
 * Prints "ready" when all exist, then waits until stdin closes or it is signalled.
 *   threads N                                            cc -O2 -pthread -o threads threads.c */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *sleeper(void *arg) { (void)arg; for (;;) pause(); return NULL; }

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10000, made = 0;
    pthread_attr_t a; pthread_attr_init(&a); pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN);
    for (; made < n - 1; made++) { pthread_t t; if (pthread_create(&t, &a, sleeper, NULL)) break; }
    printf("ready %d\n", made + 1); fflush(stdout);
    char c; while (read(0, &c, 1) > 0) { }
    return 0;
}
