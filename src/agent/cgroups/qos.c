/* QoS class of a pod: status.qosClass first, the spec otherwise. */
#include "agent/cgroups/qos.h"

#include <errno.h>
#include <string.h>

#include "api/defaults.h"

const char *agent_qos_name(enum agent_qos q)
{
    switch (q) {
    case AGENT_QOS_GUARANTEED:
        return "Guaranteed";
    case AGENT_QOS_BURSTABLE:
        return "Burstable";
    case AGENT_QOS_BEST_EFFORT:
        break;
    }
    return "BestEffort";
}

int agent_qos_from_name(const char *name, enum agent_qos *ret)
{
    if (!name)
        return -EINVAL;
    if (strcmp(name, "Guaranteed") == 0)
        *ret = AGENT_QOS_GUARANTEED;
    else if (strcmp(name, "Burstable") == 0)
        *ret = AGENT_QOS_BURSTABLE;
    else if (strcmp(name, "BestEffort") == 0)
        *ret = AGENT_QOS_BEST_EFFORT;
    else
        return -EINVAL;
    return 0;
}

enum agent_qos agent_qos_compute(const json_t *pod)
{
    enum agent_qos q = AGENT_QOS_BEST_EFFORT;
    if (json_is_object(pod))
        (void)agent_qos_from_name(kos_pod_qos_class(pod), &q);
    return q;
}

enum agent_qos agent_qos_of_pod(const json_t *pod)
{
    enum agent_qos q;
    const char *s = json_string_value(json_object_get(json_object_get(pod, "status"), "qosClass"));
    if (agent_qos_from_name(s, &q) == 0)
        return q;
    return agent_qos_compute(pod);
}
