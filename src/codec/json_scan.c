#include "codec/json_scan.h"

#include <string.h>

#include "codec/json.h"

const char *kos_json_skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

const char *kos_json_skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

const char *kos_json_skip_value(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return kos_json_skip_string(p, end);
    if (*p != '{' && *p != '[') {
        /* a number, true, false or null: up to the next delimiter */
        while (p < end && !memchr(",}] \t\r\n", *p, 7))
            p++;
        return p;
    }
    size_t depth = 0;
    while (p < end) {
        if (*p == '"') {
            p = kos_json_skip_string(p, end);
            if (!p)
                return NULL;
            continue;
        }
        if (*p == '{' || *p == '[') {
            if (++depth > KOS_JSON_MAX_DEPTH)
                return NULL;
        } else if (*p == '}' || *p == ']') {
            if (--depth == 0)
                return p + 1;
        }
        p++;
    }
    return NULL;
}
