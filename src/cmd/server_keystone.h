/* The `kos server` flags of the in-process Keystone login (k8s-keystone-auth without a second
 * process), kept out of server.c: server.c splices SERVER_KEYSTONE_OPTIONS into its getopt
 * table, hands option codes in [SERVER_KEYSTONE_OPT_BASE, +16) to server_keystone_flag() and
 * calls server_keystone_setup(); it then appends .authenticator to its token authenticators
 * and, when .has_authorizer, .authorizer to its authorizer chain (after RBAC, where
 * --authorization-mode puts Webhook). */
#pragma once

#include <getopt.h>
#include <stdio.h>

#include "openstack/keystone/inprocess.h"

enum {
    SERVER_KEYSTONE_OPT_BASE = 0x1100,
    SK_URL = SERVER_KEYSTONE_OPT_BASE,
    SK_POLICY,
    SK_CA,
};

#define SERVER_KEYSTONE_OPTIONS                                                                    \
    {"keystone-url", required_argument, NULL, SK_URL},                                             \
        {"keystone-policy-file", required_argument, NULL, SK_POLICY},                              \
    {                                                                                              \
        "keystone-ca-file", required_argument, NULL, SK_CA                                         \
    }

static inline int server_keystone_is_opt(int c)
{
    return c >= SERVER_KEYSTONE_OPT_BASE && c < SERVER_KEYSTONE_OPT_BASE + 16;
}

int server_keystone_flag(struct keystone_inprocess_options *o, int opt, const char *arg);
void server_keystone_usage(FILE *out);
/* 0 with nothing built when --keystone-url is absent (ret->authenticator.authenticate NULL);
 * prints the reason and returns a negative errno on a bad configuration. */
int server_keystone_setup(const struct keystone_inprocess_options *o,
                          struct keystone_inprocess *ret);
