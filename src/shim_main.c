/* kos-shim: the container monitor alone (`kos-shim container-shim ...`, the same arguments as
 * the hidden `kos container-shim`), linked with only what it needs. The agent starts one per
 * container; the kos binary's 37 shared libraries (curl, gnutls, sqlite, microhttpd...) cost
 * every shim ~7 ms of loading before it did anything. The agent finds it beside its own
 * binary and falls back to `kos container-shim` without it. */
#include <stdio.h>
#include <string.h>

#include "agent/runtime/container.h"

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "container-shim") != 0) {
        fputs("Usage: kos-shim container-shim --id ID --dir DIR --log-path FILE --runtime RUNTIME "
              "--runtime-root DIR [--log-max-size N] [--log-max-files N] [--notify-fd FD]\n",
              stderr);
        return 2;
    }
    return kos_shim_main(argc - 1, argv + 1);
}
