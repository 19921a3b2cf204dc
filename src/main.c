/* kos: one binary for the whole platform; the first argument picks the role. */
#include <stdio.h>
#include <string.h>

#include "apiserver/apiserver.h"
#include "cmd/commands.h"

#define KOS_VERSION "0.1.0"

static void usage(FILE *out)
{
    fputs("Usage: kos <command> [flags]\n"
          "\n"
          "Commands:\n"
          "  server          run the control plane (API server on an embedded SQLite store)\n"
          "  keystone-auth   serve the Keystone authentication/authorization webhook\n"
          "  keystone-login  kubectl exec credential plugin: OS_* variables -> Keystone token\n"
          "  image           pull an OCI image into a node agent's store (debugging)\n"
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
    fprintf(stderr, "kos: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
