#include "cmd/server_keystone.h"

#include <errno.h>
#include <string.h>

int server_keystone_flag(struct keystone_inprocess_options *o, int opt, const char *arg)
{
    switch (opt) {
    case SK_URL:
        o->url = arg;
        return 0;
    case SK_POLICY:
        o->policy_file = arg;
        return 0;
    case SK_CA:
        o->ca_file = arg;
        return 0;
    default:
        return -EINVAL;
    }
}

void server_keystone_usage(FILE *out)
{
    fputs("      --keystone-url URL             log Keystone users in (k8s-keystone-auth in "
          "process)\n"
          "      --keystone-policy-file FILE    authorize them by k8s-keystone-auth's policy "
          "file\n"
          "      --keystone-ca-file FILE        CA bundle that verifies Keystone\n",
          out);
}

int server_keystone_setup(const struct keystone_inprocess_options *o,
                          struct keystone_inprocess *ret)
{
    *ret = (struct keystone_inprocess){0};
    if (!o->url) {
        if (o->policy_file || o->ca_file) {
            fprintf(stderr, "kos server: --keystone-policy-file and --keystone-ca-file need "
                            "--keystone-url\n");
            return -EINVAL;
        }
        return 0;
    }
    struct kos_error *err = NULL;
    int r = keystone_inprocess_new(o, ret, &err);
    if (r < 0) {
        fprintf(stderr, "kos server: keystone: %s\n", err && err->message ? err->message : "");
        kos_error_free(err);
        return r;
    }
    return 0;
}
