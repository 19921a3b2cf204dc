/* The memory cgroup threshold notification that makes the eviction manager look at once
 * instead of at the next housekeeping tick (the kubelet's KernelMemcgNotification): a cgroup
 * v1 eventfd registered through cgroup.event_control on memory.usage_in_bytes of kos's own
 * kubepods cgroup -- never a cgroup outside kos's subtree. Not available on a unified v2
 * host (the periodic check is all there is then). */
#pragma once

#include <stdint.h>

struct evict_notifier {
    int efd; /* readable when usage crossed the threshold; -1: not armed */
    int usage_fd;
    int64_t threshold; /* bytes of kubepods usage */
};

void evict_notifier_init(struct evict_notifier *n);
/* (Re-)registers at `threshold` bytes in the memory cgroup directory `dir`: 1 when it did, 0
 * when a threshold within 1 MiB of the armed one was kept. */
int evict_notifier_arm(struct evict_notifier *n, const char *dir, int64_t threshold);
/* Drains the eventfd after it fired. */
void evict_notifier_ack(struct evict_notifier *n);
void evict_notifier_close(struct evict_notifier *n);
