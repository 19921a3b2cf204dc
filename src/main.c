/* kos: one binary for the whole platform; the first argument picks the role. */
#include <stdio.h>
#include <string.h>

#include "apiserver/apiserver.h"
#include "agent/runtime/container.h"
#include "cmd/commands.h"

#define KOS_VERSION "0.1.0"

/* jemalloc's options (the Makefile links it into kos), read before the first allocation: two
 * arenas, which its per-thread caches keep from contending, and freed pages returned at once
 * rather than after ten seconds (with 10,000 pods created, RSS 82 MB instead of 93, at the
 * same create rate). Without jemalloc this is an unused string. */
const char *malloc_conf = "narenas:2,dirty_decay_ms:0,muzzy_decay_ms:0";

static void usage(FILE *out)
{
    fputs("Usage: kos <command> [flags]\n"
          "\n"
          "Commands:\n"
          "  server          run the control plane (API server on an embedded SQLite store)\n"
          "  keystone-auth   serve the Keystone authentication/authorization webhook\n"
          "  keystone-login  kubectl exec credential plugin: OS_* variables -> Keystone token\n"
          "  image           pull an OCI image into a node agent's store (debugging)\n"
          "  agent           run the node agent alone, joining a server (--kubeconfig FILE)\n"
          "\n"
          "Flags:\n"
          "  --version  print the version\n"
          "  --help     show this help\n"
          "\n"
          "Run 'kos <command> --help' for a command's flags.\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("kos version %s (Kubernetes API %s)\n", KOS_VERSION, KOS_KUBE_GIT_VERSION);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "server") == 0)
        return cmd_server(argc - 1, argv + 1);
    if (strcmp(cmd, "keystone-auth") == 0)
        return cmd_keystone_auth(argc - 1, argv + 1);
    if (strcmp(cmd, "keystone-login") == 0)
        return cmd_keystone_login(argc - 1, argv + 1);
    if (strcmp(cmd, "image") == 0)
        return cmd_image(argc - 1, argv + 1);
    /* Hidden: the container monitor the agent starts, and a crictl-like debugging tool. */
    if (strcmp(cmd, "container-shim") == 0)
        return kos_shim_main(argc - 1, argv + 1);
    if (strcmp(cmd, "ctr") == 0)
        return cmd_ctr(argc - 1, argv + 1);
    if (strcmp(cmd, "agent") == 0)
        return cmd_agent(argc - 1, argv + 1);
    fprintf(stderr, "kos: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
