/*
 * The exec canary's command (docs/DETECTION.md, ExecPathStuck): the probe runs it in its own container through the
 * runtime's CRI ExecSync and checks that it prints "ok". Static, no libc start-up beyond the minimum, no files: it
 * measures the exec path, not a program. Built with gcc -static (hack/lab-image.sh, the Dockerfile's canary stage).
 */
#include <unistd.h>

int main(void) {
    static const char ok[] = "ok\n";
    return write(STDOUT_FILENO, ok, sizeof ok - 1) == (ssize_t) (sizeof ok - 1) ? 0 : 1;
}
