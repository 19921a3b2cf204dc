/* Eviction and admission messages. */
#include "agent/eviction/message.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/node/allocatable.h"
#include "api/quantity.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

void evict_format_quantity(int64_t v, bool binary, char *out, size_t size)
{
    /* BinarySI values within (-1024, 1024) print as DecimalSI (Quantity.CanonicalizeBytes) */
    if (binary && (v <= -1024 || v >= 1024)) {
        agent_format_bytes(v, out, size);
        return;
    }
    static const char *const suffix[] = {"", "k", "M", "G", "T", "P", "E"};
    size_t i = 0;
    int64_t m = v;
    while (m != 0 && i + 1 < ARRAY_SIZE(suffix) && m % 1000 == 0) {
        m /= 1000;
        i++;
    }
    snprintf(out, size, "%" PRId64 "%s", m, suffix[i]);
}

/* The container's own request of a resource (Quantity.String() of the spec's text, "0" when
 * it has none). */
static void request_text(const json_t *c, const char *res, char *out, size_t size)
{
    const char *q = json_string_value(
        json_object_get(json_object_get(json_object_get(c, "resources"), "requests"), res));
    struct kos_quantity k;
    if (!q || strlen(q) > KOS_QUANTITY_MAX_LEN || kos_quantity_parse(q, &k) < 0) {
        snprintf(out, size, "0");
        return;
    }
    evict_format_quantity(kos_quantity_value(&k), q[strlen(q) - 1] == 'i', out, size);
}

static const json_t *find_container(const json_t *pod, const char *name)
{
    static const char *const lists[] = {"containers", "initContainers"};
    const json_t *spec = json_object_get(pod, "spec");
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            const char *n = json_string_value(json_object_get(c, "name"));
            if (n && !strcmp(n, name))
                return c;
        }
    }
    return NULL;
}

/* names and usages joined with "," as the event annotations carry them */
static int join(struct kos_buf *list, const char *item)
{
    return kos_buf_printf(list, "%s%s", list->len ? "," : "", item);
}

char *evict_message_annotated(enum evict_resource res, const struct evict_threshold *threshold,
                              const struct evict_observation *obs, const json_t *pod,
                              const struct evict_pod_stats *stats, json_t **ret_annotations)
{
    _cleanup_buf_ struct kos_buf names, usages;
    kos_buf_init(&names, 4096);
    kos_buf_init(&usages, 4096);
    struct kos_buf b;
    kos_buf_init(&b, 4096);
    const char *rn = evict_resource_name(res);
    int r = kos_buf_printf(&b, "The node was low on resource: %s. ", rn);
    if (r >= 0 && threshold && obs && obs->present) {
        /* percentages become NewQuantity(int64, BinarySI); inodes and pids are DecimalSI */
        bool bytes = res == EVICT_RES_MEMORY || res == EVICT_RES_EPHEMERAL_STORAGE;
        char q[48], a[48];
        if (threshold->value.is_percent)
            evict_format_quantity(agent_threshold_quantity(&threshold->value, obs->capacity), bytes,
                                  q, sizeof(q));
        else
            evict_format_quantity(threshold->value.quantity, threshold->value.binary, q, sizeof(q));
        evict_format_quantity(obs->available, bytes, a, sizeof(a));
        r = kos_buf_printf(&b, "Threshold quantity: %s, available: %s. ", q, a);
    }
    /* only memory has per-container usage here (ephemeral storage per container is not
     * measured apart from the pod's) */
    for (size_t i = 0; r >= 0 && stats && res == EVICT_RES_MEMORY && i < stats->n_containers; i++) {
        const json_t *c = find_container(pod, stats->containers[i].name);
        if (!c)
            continue;
        const char *q = json_string_value(
            json_object_get(json_object_get(json_object_get(c, "resources"), "requests"), rn));
        struct kos_quantity k;
        int64_t req = 0;
        if (q && strlen(q) <= KOS_QUANTITY_MAX_LEN && kos_quantity_parse(q, &k) == 0)
            req = kos_quantity_value(&k);
        if (stats->containers[i].memory <= req)
            continue;
        char use[48], rq[48];
        evict_format_quantity(stats->containers[i].memory, true, use, sizeof(use));
        request_text(c, rn, rq, sizeof(rq));
        r = kos_buf_printf(&b,
                           "Container %s was using %s, request is %s, has larger consumption "
                           "of %s. ",
                           stats->containers[i].name, use, rq, rn);
        if (r >= 0)
            r = join(&names, stats->containers[i].name);
        if (r >= 0)
            r = join(&usages, use);
    }
    /* evictionMessage: no stats, no annotations; otherwise all three, lists maybe empty */
    _cleanup_json_ json_t *ann = json_object();
    if (!ann)
        r = -ENOMEM;
    if (r >= 0 && stats &&
        (json_object_set_new(ann, "offending_containers",
                             json_stringn(names.len ? names.data : "", names.len)) < 0 ||
         json_object_set_new(ann, "offending_containers_usage",
                             json_stringn(usages.len ? usages.data : "", usages.len)) < 0 ||
         json_object_set_new(ann, "starved_resource", json_string(rn)) < 0))
        r = -ENOMEM;
    if (r < 0) {
        kos_buf_free(&b);
        return NULL;
    }
    if (ret_annotations)
        *ret_annotations = TAKE_PTR(ann);
    return kos_buf_steal(&b, NULL);
}

char *evict_message(enum evict_resource res, const struct evict_threshold *threshold,
                    const struct evict_observation *obs, const json_t *pod,
                    const struct evict_pod_stats *stats)
{
    return evict_message_annotated(res, threshold, obs, pod, stats, NULL);
}

void evict_conditions_text(unsigned conditions, char *out, size_t size)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{EVICT_COND_MEMORY, "MemoryPressure"},
                 {EVICT_COND_DISK, "DiskPressure"},
                 {EVICT_COND_PID, "PIDPressure"}};
    size_t used = 0;
    out[0] = '\0';
    used += (size_t)snprintf(out, size, "[");
    bool first = true;
    for (size_t i = 0; i < ARRAY_SIZE(names) && used < size; i++) {
        if (!(conditions & names[i].bit))
            continue;
        used += (size_t)snprintf(out + used, size - used, "%s%s", first ? "" : " ", names[i].name);
        first = false;
    }
    if (used < size)
        snprintf(out + used, size - used, "]");
}
