/* libFuzzer target for the JSON request-body decoder (and its fast path) and the compact encoder.
 * Beyond "no crash, no leak" it checks what callers rely on: a decoded tree is within the
 * depth bound, and whatever we encode decodes again and re-encodes to a fixed point. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "codec/json_fast.h"

static void check_reencodes(const json_t *v)
{
    size_t len1 = 0, len2 = 0;
    char *e1 = kos_json_encode(v, &len1);
    if (!e1)
        abort();
    json_t *v2 = NULL;
    struct kos_error *err = NULL;
    if (kos_json_decode(e1, len1, &v2, &err) < 0)
        abort(); /* our own output must be valid input */
    /* One pass may turn whole reals into integers (1.0 -> 1, as Go does); after that the
     * encoding must be stable. */
    char *e2 = kos_json_encode(v2, &len2);
    json_t *v3 = NULL;
    if (!e2 || kos_json_decode(e2, len2, &v3, &err) < 0)
        abort();
    size_t len3 = 0;
    char *e3 = kos_json_encode(v3, &len3);
    if (!e3 || len3 != len2 || memcmp(e2, e3, len2) != 0)
        abort();
    free(e1);
    free(e2);
    free(e3);
    json_decref(v2);
    json_decref(v3);
}

/* The fast path takes only what jansson takes, into the same tree. */
static void check_fast_path(const uint8_t *data, size_t size)
{
    json_t *fast = NULL;
    if (kos_json_fast_parse((const char *)data, size, &fast) < 0)
        return;
    json_t *slow = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!slow || !json_equal(fast, slow))
        abort();
    json_decref(fast);
    json_decref(slow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_fast_path(data, size);
    json_t *v = NULL;
    struct kos_error *err = NULL;

    if (kos_json_decode((const char *)data, size, &v, &err) < 0) {
        if (!err || err->code != 400 || !err->message)
            abort(); /* every refusal is a 400 with a message (short of ENOMEM) */
        json_t *m = json_string(err->message); /* it must fit into a Status: valid UTF-8 */
        if (!m)
            abort();
        json_decref(m);
        kos_error_free(err);
        return 0;
    }
    if (err || kos_json_depth(v) > KOS_JSON_MAX_DEPTH)
        abort();
    check_reencodes(v);
    json_decref(v);
    return 0;
}
