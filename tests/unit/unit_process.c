/* Linked into every unit test: the test process is set up as the kos binary sets itself up
 * (src/util/signals.c) before any test runs. Library code writes to sockets and pipes whose
 * peer may have gone (a webhook client that timed out, an exec'd process that exited, a
 * stream closed by the other end) and relies on SIGPIPE being ignored, so that such a write
 * fails with EPIPE; under the default disposition a loaded machine that happens to order
 * things that way kills the whole test binary instead. */
#include <signal.h>

__attribute__((constructor)) static void unit_process_setup(void)
{
    signal(SIGPIPE, SIG_IGN);
}
