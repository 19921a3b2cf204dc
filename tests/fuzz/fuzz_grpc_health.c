/* libFuzzer target: the gRPC health answer a pod's server sends to a grpc probe
 * (kos_probe_grpc_answer_status). Must never crash or read out of bounds, and only ever
 * report -1 or a status number. */
#include <stdint.h>
#include <stdlib.h>

#include "agent/prober/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t st = kos_probe_grpc_answer_status(data, size);
    if (st < -1)
        abort();
    return 0;
}
