#include "scheduler/bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "scheduler/cache.h"
#include "scheduler/schedule.h"
#include "util/json_cleanup.h"

static int add_node(struct sched_cache *c, size_t i)
{
    char name[32], zone[16];
    snprintf(name, sizeof(name), "node-%05zu", i);
    snprintf(zone, sizeof(zone), "zone-%zu", i % 3);
    _cleanup_json_ json_t *n =
        json_pack("{s:{s:s,s:{s:s,s:s,s:s}},s:{s:o},s:{s:{s:s,s:s,s:s,s:s}}}", "metadata", "name",
                  name, "labels", "kubernetes.io/hostname", name, "topology.kubernetes.io/zone",
                  zone, "disk", i % 4 ? "hdd" : "ssd", "spec", "taints",
                  i % 10 ? json_array()
                         : json_pack("[{s:s,s:s,s:s}]", "key", "dedicated", "value", "batch",
                                     "effect", "PreferNoSchedule"),
                  "status", "allocatable", "cpu", "32", "memory", "128Gi", "pods", "110",
                  "ephemeral-storage", "500Gi");
    if (!n)
        return -ENOMEM;
    return sched_cache_upsert_node(c, n);
}

static int make_pod(size_t i, struct sched_pod **ret)
{
    char uid[48], name[32], cpu[16], mem[16];
    snprintf(uid, sizeof(uid), "uid-%zu", i);
    snprintf(name, sizeof(name), "pod-%zu", i);
    snprintf(cpu, sizeof(cpu), "%zum", 50 + (i % 8) * 25);
    snprintf(mem, sizeof(mem), "%zuMi", 64 + (i % 5) * 64);
    _cleanup_json_ json_t *p = json_pack(
        "{s:{s:s,s:s,s:s,s:{s:s}},s:{s:[{s:s,s:s,s:{s:{s:s,s:s}}}]}}", "metadata", "uid", uid,
        "name", name, "namespace", "bench", "labels", "app", "bench", "spec", "containers", "name",
        "c", "image", "registry.example/app:1", "resources", "requests", "cpu", cpu, "memory", mem);
    if (!p)
        return -ENOMEM;
    json_t *spec = json_object_get(p, "spec");
    if (i % 3 == 0)
        json_object_set_new(spec, "tolerations",
                            json_pack("[{s:s,s:s}]", "key", "dedicated", "operator", "Exists"));
    if (i % 5 == 0)
        json_object_set_new(spec, "affinity",
                            json_pack("{s:{s:[{s:i,s:{s:[{s:s,s:s,s:[s]}]}}]}}", "nodeAffinity",
                                      "preferredDuringSchedulingIgnoredDuringExecution", "weight",
                                      10, "preference", "matchExpressions", "key", "disk",
                                      "operator", "In", "values", "ssd"));
    return sched_pod_from_json(p, ret);
}

static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double sched_bench_decisions(size_t n_nodes, size_t n_pods)
{
    struct sched_cache *c = NULL;
    struct sched_pod **pods = calloc(n_pods ? n_pods : 1, sizeof(*pods));
    int r = pods ? sched_cache_new(&c) : -ENOMEM;
    for (size_t i = 0; r == 0 && i < n_nodes; i++)
        r = add_node(c, i);
    for (size_t i = 0; r == 0 && i < n_pods; i++)
        r = make_pod(i, &pods[i]);

    struct sched_config cfg;
    sched_config_init(&cfg);
    size_t decided = 0;
    int64_t t0 = thread_cpu_us();
    for (size_t i = 0; r == 0 && i < n_pods; i++) {
        struct sched_result res;
        r = sched_schedule_one(c, &cfg, pods[i], &res);
        if (r == 0 && res.outcome == SCHED_SCHEDULED)
            r = sched_cache_assume_pod(c, pods[i], res.node_name);
        sched_result_clear(&res);
        decided += r == 0;
    }
    int64_t elapsed = thread_cpu_us() - t0;

    for (size_t i = 0; pods && i < n_pods; i++)
        sched_pod_unref(pods[i]);
    free(pods);
    sched_cache_free(c);
    if (r < 0)
        return r;
    return elapsed > 0 ? (double)decided * 1e6 / (double)elapsed : 0.0;
}
