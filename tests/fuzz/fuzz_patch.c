/* libFuzzer target for the patch implementations. The input is "<original>\0<patch>" (or,
 * without a NUL, its two halves); when both decode as JSON, all three patch types run on
 * them. Nothing may crash, leak, or modify the decoded inputs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "util/json_cleanup.h"

static const struct kos_kind pod_kind = {
    .group = "", .version = "v1", .kind = "Pod", .plural = "pods", .namespaced = true};

static void run(enum patch_type type, const json_t *orig, const json_t *patch)
{
    json_t *res = NULL;
    struct kos_error *err = NULL;
    int rc = kos_patch_apply(type, &pod_kind, orig, patch, &res, &err);
    if (rc >= 0 && !json_is_object(res))
        abort();
    if (rc < 0 && res)
        abort();
    json_decref(res);
    kos_error_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t olen = nul ? (size_t)(nul - data) : size / 2;
    const uint8_t *p = nul ? nul + 1 : data + olen;
    size_t plen = size - (size_t)(p - data);

    _cleanup_json_ json_t *orig =
        json_loadb((const char *)data, olen, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    _cleanup_json_ json_t *patch =
        json_loadb((const char *)p, plen, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (!orig || !patch)
        return 0;
    _cleanup_json_ json_t *orig_copy = json_deep_copy(orig);
    _cleanup_json_ json_t *patch_copy = json_deep_copy(patch);

    run(PATCH_JSON, orig, patch);
    run(PATCH_MERGE, orig, patch);
    run(PATCH_STRATEGIC, orig, patch);

    if (!json_equal(orig, orig_copy) || !json_equal(patch, patch_copy))
        abort(); /* the inputs must never be modified */
    return 0;
}
