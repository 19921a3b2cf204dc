/* Port resolution and address formatting shared by the network probes (see probe.h). */
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#include "agent/prober/probe.h"
#include "util/strutil.h"

int kos_probe_resolve_port(const json_t *port, const json_t *container, char *err, size_t size)
{
    int64_t v = -1;
    if (json_is_integer(port)) {
        v = json_integer_value(port);
    } else if (json_is_string(port)) {
        const char *name = json_string_value(port);
        size_t i;
        const json_t *p;
        bool found = false;
        json_array_foreach(json_object_get(container, "ports"), i, p)
        {
            const char *pn = json_string_value(json_object_get(p, "name"));
            if (pn && strcmp(pn, name) == 0 &&
                json_is_integer(json_object_get(p, "containerPort"))) {
                v = json_integer_value(json_object_get(p, "containerPort"));
                found = true;
                break;
            }
        }
        /* last ditch: an int written as a string */
        if (!found && kos_parse_int64(name, &v) < 0) {
            snprintf(err, size, "strconv.Atoi: parsing \"%s\": invalid syntax", name);
            return -EINVAL;
        }
    } else {
        snprintf(err, size, "intOrString had no kind");
        return -EINVAL;
    }
    if (v > 0 && v < 65536)
        return (int)v;
    snprintf(err, size, "invalid port number: %lld", (long long)v);
    return -EINVAL;
}

void kos_probe_join_host_port(const char *host, int port, char *out, size_t size)
{
    if (strchr(host, ':'))
        snprintf(out, size, "[%s]:%d", host, port);
    else
        snprintf(out, size, "%s:%d", host, port);
}
