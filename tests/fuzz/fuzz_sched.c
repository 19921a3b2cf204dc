/* libFuzzer target: the scheduler's object parsers and one scheduling cycle. The input is
 * JSON used as a Pod, a Node and a PodDisruptionBudget at once; objects come from the API
 * (already validated), but a malformed one must still never crash, leak or hang the
 * scheduler. */
#include <stdint.h>
#include <stdlib.h>

#include "scheduler/cache.h"
#include "scheduler/schedule.h"

static const char node_json[] =
    "{\"metadata\":{\"name\":\"n1\",\"labels\":{\"zone\":\"a\",\"cores\":\"8\"}},"
    "\"spec\":{\"taints\":[{\"key\":\"k\",\"value\":\"v\",\"effect\":\"PreferNoSchedule\"}]},"
    "\"status\":{\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"3\","
    "\"example.com/dev\":\"2\"}}}";
static const char victim_json[] =
    "{\"metadata\":{\"name\":\"v\",\"uid\":\"v\",\"labels\":{\"app\":\"x\"}},"
    "\"spec\":{\"nodeName\":\"n1\",\"priority\":-5,\"containers\":[{\"resources\":"
    "{\"requests\":{\"cpu\":\"3\",\"memory\":\"1Gi\"}}}]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, 0, NULL);
    if (!in)
        return 0;
    struct sched_cache *c = NULL;
    json_t *node = json_loads(node_json, 0, NULL);
    json_t *victim = json_loads(victim_json, 0, NULL);
    if (!node || !victim || sched_cache_new(&c) < 0)
        abort();
    if (sched_cache_upsert_node(c, node) < 0 || sched_cache_upsert_pod_json(c, victim) < 0)
        abort();
    sched_cache_upsert_node(c, in);
    sched_cache_upsert_pdb(c, in);

    struct sched_pod *pod = NULL;
    if (sched_pod_from_json(in, &pod) == 0) {
        struct sched_config cfg;
        sched_config_init(&cfg);
        struct sched_result res;
        if (sched_schedule_one(c, &cfg, pod, &res) == 0) {
            if (res.outcome != SCHED_SCHEDULED && !res.message)
                abort();
            sched_result_clear(&res);
        }
        sched_cache_upsert_pod(c, pod);
        sched_cache_remove_pod(c, pod->uid);
        sched_pod_unref(pod);
    }
    sched_cache_free(c);
    json_decref(node);
    json_decref(victim);
    json_decref(in);
    return 0;
}
