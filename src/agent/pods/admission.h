/* The kubelet's resource-fit admission of a pod bound to this node (lifecycle/predicate.go
 * with noderesources.Fits): the pod's requests (PodRequests: init-container max rule,
 * overhead) must fit in allocatable minus what the pods already admitted request, and the
 * pod count must stay within allocatable pods. A rejected pod becomes phase Failed with
 * reason OutOf<resource> and the message "Pod was rejected: Node didn't have enough
 * resource: cpu, requested: 3000, used: 0, capacity: 1900". */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "agent/node/allocatable.h"

struct admit_used {
    int64_t milli_cpu, memory, ephemeral_storage, pods;
};

struct admit_result {
    bool admit;
    char reason[48];   /* "OutOfcpu", "OutOfmemory", "OutOfephemeral-storage", "OutOfpods" */
    char message[320]; /* with the "Pod was rejected: " prefix */
};

/* *used: the requests of the pods admitted so far (agent_admit_add to account a pod).
 * -EINVAL on a pod whose requests cannot be read (the caller rejects it too). */
int agent_admit(const json_t *pod, const struct admit_used *used,
                const struct node_resources *allocatable, struct admit_result *ret);
/* used += the pod's requests (sign -1 to take them away again). */
int agent_admit_account(struct admit_used *used, const json_t *pod, int sign);
