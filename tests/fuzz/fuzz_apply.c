/* libFuzzer target for server-side apply and managedFields. The input is "<live>\0<config>"
 * (or, without a NUL, its two halves), both JSON; live may carry any metadata.managedFields.
 * Apply (with and without force), an Update of config over live, and the set algebra on what
 * they produce must never crash, leak or modify their inputs, and what they store must read
 * back as valid managedFields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/apply.h"
#include "api/managed_fields.h"
#include "util/json_cleanup.h"

static const struct kos_kind pod_kind = {.group = "",
                                         .version = "v1",
                                         .kind = "Pod",
                                         .plural = "pods",
                                         .namespaced = true,
                                         .subresources = SUB_STATUS};

/* Every stored entry has a valid fieldsV1 whose algebra behaves. */
static void check_stored(const json_t *obj)
{
    json_t *mf = json_object_get(json_object_get(obj, "metadata"), "managedFields");
    size_t i;
    json_t *e;
    if (!mf)
        return;
    if (!json_is_array(mf) || json_array_size(mf) == 0)
        abort();
    json_array_foreach(mf, i, e)
    {
        json_t *f = json_object_get(e, "fieldsV1");
        if (kos_fieldset_validate(f) < 0 || kos_fieldset_empty(f))
            abort();
        json_t *self = kos_fieldset_difference(f, f);
        json_t *both = kos_fieldset_union(f, f);
        if (!self || !both || !kos_fieldset_empty(self) || !json_equal(both, f))
            abort();
        json_decref(self);
        json_decref(both);
    }
}

static void run_apply(const json_t *live, const json_t *config, bool force, const char *sub)
{
    struct kos_field_manager fm = {
        .kind = &pod_kind, .manager = "kubectl", .subresource = sub, .now = 1700000000};
    json_t *out = NULL;
    struct kos_error *err = NULL;
    int r = kos_apply(&fm, live, config, force, "web", "default", &out, &err);
    if ((r < 0) != (out == NULL))
        abort();
    if (r >= 0)
        check_stored(out);
    json_decref(out);
    kos_error_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t llen = nul ? (size_t)(nul - data) : size / 2;
    const uint8_t *p = nul ? nul + 1 : data + llen;
    size_t clen = size - (size_t)(p - data);

    _cleanup_json_ json_t *live =
        json_loadb((const char *)data, llen, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    _cleanup_json_ json_t *config =
        json_loadb((const char *)p, clen, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (!live || !config)
        return 0;
    _cleanup_json_ json_t *live_copy = json_deep_copy(live);
    _cleanup_json_ json_t *config_copy = json_deep_copy(config);
    const json_t *maybe_live = json_is_object(live) ? live : NULL;

    run_apply(maybe_live, config, false, NULL);
    run_apply(maybe_live, config, true, "status");

    if (json_is_object(config)) {
        struct kos_field_manager fm = {.kind = &pod_kind, .manager = "m", .now = 1700000000};
        json_t *next = json_deep_copy(config);
        if (next && kos_managed_fields_update(&fm, maybe_live, next) == 0)
            check_stored(next);
        json_decref(next);

        struct kos_fieldset_diff d;
        if (maybe_live && kos_fieldset_compare(&pod_kind, live, config, &d) == 0)
            kos_fieldset_diff_clear(&d);
    }

    if (!json_equal(live, live_copy) || !json_equal(config, config_copy))
        abort(); /* the inputs must never be modified */
    return 0;
}
