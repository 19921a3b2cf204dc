/* libFuzzer target for the YAML request-body decoder. Beyond "no crash, no leak" it checks
 * that every tree it produces is one the JSON side accepts: within the depth bound, and its
 * encoding decodes as JSON (valid UTF-8, no NUL, no duplicate keys, no Inf/NaN). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "codec/json.h"
#include "codec/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = NULL, *back = NULL;
    struct kos_error *err = NULL;
    size_t len = 0;

    if (kos_yaml_decode((const char *)data, size, &v, &err) < 0) {
        if (!err || err->code != 400 || !err->message)
            abort();
        /* The message goes into a Status body, so it must be valid UTF-8. */
        json_t *m = json_string(err->message);
        if (!m)
            abort();
        json_decref(m);
        kos_error_free(err);
        return 0;
    }
    if (err || kos_json_depth(v) > KOS_YAML_MAX_DEPTH)
        abort();
    char *s = kos_json_encode(v, &len);
    if (!s || kos_json_decode(s, len, &back, &err) < 0)
        abort();
    free(s);
    json_decref(back);
    json_decref(v);
    return 0;
}
