/* Pressure taints on the Node. */
#include "agent/eviction/taints.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "agent/eviction/thresholds.h"
#include "util/cleanup.h"

int evict_node_taints(json_t *node, unsigned conditions)
{
    static const struct {
        unsigned bit;
        const char *key;
    } map[] = {{EVICT_COND_MEMORY, "node.kubernetes.io/memory-pressure"},
               {EVICT_COND_DISK, "node.kubernetes.io/disk-pressure"},
               {EVICT_COND_PID, "node.kubernetes.io/pid-pressure"}};
    json_t *spec = json_object_get(node, "spec");
    if (!json_is_object(spec)) {
        if (json_object_set_new(node, "spec", json_object()) < 0)
            return -ENOMEM;
        spec = json_object_get(node, "spec");
    }
    json_t *taints = json_object_get(spec, "taints");
    bool changed = false;
    for (size_t k = 0; k < ARRAY_SIZE(map); k++) {
        bool want = conditions & map[k].bit;
        bool have = false;
        for (size_t i = 0; i < json_array_size(taints);) {
            json_t *t = json_array_get(taints, i);
            const char *key = json_string_value(json_object_get(t, "key"));
            const char *effect = json_string_value(json_object_get(t, "effect"));
            if (key && !strcmp(key, map[k].key) && effect && !strcmp(effect, "NoSchedule")) {
                if (!want) {
                    json_array_remove(taints, i);
                    changed = true;
                    continue;
                }
                have = true;
            }
            i++;
        }
        if (want && !have) {
            if (!json_is_array(taints)) {
                if (json_object_set_new(spec, "taints", json_array()) < 0)
                    return -ENOMEM;
                taints = json_object_get(spec, "taints");
            }
            if (json_array_append_new(
                    taints, json_pack("{s:s, s:s}", "key", map[k].key, "effect", "NoSchedule")) < 0)
                return -ENOMEM;
            changed = true;
        }
    }
    if (json_is_array(taints) && json_array_size(taints) == 0 && changed)
        json_object_del(spec, "taints");
    return changed ? 1 : 0;
}
