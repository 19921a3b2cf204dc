/* Fuzzes request-path routing: every URL path a client sends goes through route_parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = malloc(size + 1);
    if (!path)
        return 0;
    memcpy(path, data, size);
    path[size] = '\0';
    struct route r;
    route_parse(path, &r);
    /* Every field must stay a terminated string, whatever the input. */
    if (strlen(r.name) >= ROUTE_MAX_SEGMENT || strlen(r.resource) >= ROUTE_MAX_SEGMENT ||
        strlen(r.namespace_) >= ROUTE_MAX_SEGMENT)
        abort();
    if (r.type == ROUTE_RESOURCE && r.kind && strcmp(r.kind->plural, r.resource) != 0)
        abort();
    free(path);
    return 0;
}
