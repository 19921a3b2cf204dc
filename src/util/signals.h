/* Process-wide signal set-up shared by the long-running commands (server, agent,
 * keystone-auth). */
#pragma once

#include <signal.h>

/* Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it starts later),
 * to be taken with sigwait(set) by the main thread only, and ignores SIGPIPE (a client that
 * goes away must not kill the process). Call before starting any thread. */
void kos_signals_block_stop(sigset_t *set);
