/* The agent's command-line flags, shared by `kos agent` and `kos server` (which accepts every
 * one of them for its embedded agent). Names and defaults are the kubelet's. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "agent/agent.h"
#include "agent/eviction/thresholds.h"
#include "util/error.h"

/* getopt_long codes of the agent flags: [AGENT_OPT_BASE, AGENT_OPT_BASE + AGENT_OPT_COUNT) */
#define AGENT_OPT_BASE  1000
#define AGENT_OPT_COUNT 20

/* The flag texts as given (NULL: default). */
struct agent_flags {
    const char *node_name;
    const char *max_pods;
    const char *kube_reserved;
    const char *system_reserved;
    const char *eviction_hard;
    const char *cgroup_root;
    const char *container_runtime;
    const char *root_dir;
    const char *pod_log_dir;
    const char *node_ip;
    struct evict_flags eviction; /* --eviction-soft... (hard is eviction_hard above) */
    const char *network_plugin;
    const char *bridge_name;
    const char *proxy_mode;
};

/* AGENT_OPT_COUNT entries (no terminator): append them to a command's option table. */
extern const struct option agent_flag_options[AGENT_OPT_COUNT];

/* Records the flag for getopt code `opt`; returns true when opt is an agent flag. */
bool agent_flags_take(struct agent_flags *f, int opt, const char *arg);
/* The flags' help lines. */
void agent_flags_usage(FILE *out);
/* Parses and checks every flag and fills in the defaults: node name = hostname, root dir =
 * default_root_dir, container runtime = crun on a unified cgroup v2 host with crun
 * installed, runc otherwise. */
int agent_flags_resolve(const struct agent_flags *f, const char *default_root_dir,
                        struct agent_config *ret, struct kos_error **err);
