/* Node allocatable (spec/resource-semantics.md §3): the kubelet's --kube-reserved /
 * --system-reserved and --eviction-hard syntax, and
 *   allocatable = capacity − kube-reserved − system-reserved − hard eviction thresholds
 * with memory.available reserving memory and nodefs.available reserving ephemeral-storage
 * (percentages of capacity), each clamped at 0. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define AGENT_EVICTION_HARD_DEFAULT                                                                \
    "memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%"
#define AGENT_MAX_THRESHOLDS 16

/* Amounts as the kubelet counts them: cpu in millicores, the rest in whole units. */
struct node_resources {
    int64_t milli_cpu;
    int64_t memory;
    int64_t ephemeral_storage;
    int64_t pods;
    int64_t pid; /* internal only: never reported in node status */
};

/* "cpu=100m,memory=100Mi,ephemeral-storage=1Gi,pid=1000" (empty: nothing reserved). Errors
 * carry the kubelet's words ("cannot reserve \"gpu\" resource", ...). */
int agent_parse_reserved(const char *flag, const char *value, struct node_resources *ret,
                         struct kos_error **err);

struct eviction_threshold {
    char signal[32]; /* "memory.available", "nodefs.available", ... */
    bool is_percent;
    float percentage; /* 0.1 for "10%" (float32 as the kubelet keeps it) */
    int64_t quantity; /* whole units, when !is_percent */
    bool binary;      /* the quantity had a binary suffix (Ki, Mi, ...): printed back so */
};

struct eviction_thresholds {
    size_t n;
    struct eviction_threshold t[AGENT_MAX_THRESHOLDS];
};

/* "memory.available<100Mi,nodefs.available<10%" (kubelet --eviction-hard / --eviction-soft
 * syntax). 0% and 100% thresholds are dropped as the kubelet drops them; a quantity must be
 * positive. */
int agent_parse_eviction(const char *flag, const char *value, struct eviction_thresholds *ret,
                         struct kos_error **err);
/* "memory.available=0Mi,nodefs.available=5%" (--eviction-minimum-reclaim): a percentage must
 * be positive, a quantity not negative. */
int agent_parse_eviction_reclaim(const char *flag, const char *value,
                                 struct eviction_thresholds *ret, struct kos_error **err);
/* One of the kubelet's eviction signals (memory.available, nodefs.inodesFree, ...). */
bool agent_eviction_signal_valid(const char *signal);
/* The threshold's value for a capacity: the quantity, or int64(capacity * percentage). */
int64_t agent_threshold_quantity(const struct eviction_threshold *t, int64_t capacity);
/* The threshold for a signal, or NULL. */
const struct eviction_threshold *agent_eviction_find(const struct eviction_thresholds *th,
                                                     const char *signal);

/* allocatable from capacity; -EINVAL with the kubelet's message when a reservation exceeds
 * capacity (validateNodeAllocatable refuses to start then). */
int agent_allocatable(const struct node_resources *capacity, const struct node_resources *kube,
                      const struct node_resources *sys, const struct eviction_thresholds *hard,
                      struct node_resources *ret, struct kos_error **err);

/* Quantity text as node status shows it: cpu "2" / "1900m"; bytes in the canonical binary
 * form ("24684084Ki", or plain digits when no binary suffix is exact). */
void agent_format_milli_cpu(int64_t milli, char *out, size_t size);
void agent_format_bytes(int64_t bytes, char *out, size_t size);
