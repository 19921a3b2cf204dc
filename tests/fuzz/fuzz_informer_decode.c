/* libFuzzer target for the in-process informers' partial decode (client/informer_decode.c):
 * for any bytes that parse as a JSON object as the store keeps it (of the informer's kind),
 * informer_decode gives what a full parse followed
 * by informer_cache_form gives, in each informer form; and a kept-fields metadata form taken
 * from the full form by reference (informer_form_from_full, what informer_shared.c hands the
 * garbage collector) has the same members as that informer's own decode, in the same order
 * unless kind or apiVersion is no string. Other bytes must only not crash or leak. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/informer.h"
#include "client/informer_internal.h"
#include "codec/json_fast.h"

enum { FULL, META, KEPT, ALL, NFORMS };

static struct kos_informer *forms[NFORMS];

static void setup(void)
{
    static const char *const fields[] = {"name", "uid", "generation", "ownerReferences", NULL};
    struct kos_client_config cc = {.server = "http://127.0.0.1:9"};
    struct kos_client *c = NULL;
    if (kos_client_new(&cc, &c) < 0)
        abort();
    const struct kos_kind *pod = kos_kind_by_kind("", "Pod");
    struct kos_informer_options o[NFORMS] = {
        [FULL] = {.kind = pod, .drop_managed_fields = true},
        [META] = {.kind = pod, .metadata_only = true},
        [KEPT] = {.kind = pod, .metadata_only = true, .metadata_fields = fields},
        [ALL] = {.kind = pod},
    };
    for (int i = 0; i < NFORMS; i++)
        if (kos_informer_new(c, &o[i], &forms[i]) < 0)
            abort();
    /* the client and informers live as long as the process */
}

/* The store keeps an object under its kind's prefix, with metadata (its name): a stored kind
 * or apiVersion is the informer's, and metadata an object. (For other bytes a metadata form
 * differs: informer_cache_form puts the descriptor's kind in, and gives no object without
 * metadata, where the partial decode keeps the stored kind and gives one without.) */
static bool other_string(const json_t *obj, const char *key, const char *want)
{
    const char *have = json_string_value(json_object_get(obj, key));
    return have && strcmp(have, want) != 0;
}

static bool as_stored(const json_t *obj)
{
    return !other_string(obj, "kind", "Pod") && !other_string(obj, "apiVersion", "v1") &&
           json_is_object(json_object_get(obj, "metadata"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!forms[0])
        setup();
    const char *s = (const char *)data;
    json_t *whole = kos_json_loadb(s, size, 0, NULL);
    json_t *got[NFORMS];
    for (int i = 0; i < NFORMS; i++) {
        got[i] = informer_decode(forms[i], s, size);
        if (json_is_object(whole) && as_stored(whole)) {
            json_t *want = informer_cache_form(forms[i], whole);
            if (want ? !json_equal(want, got[i]) : got[i] != NULL)
                abort();
            json_decref(want);
        }
    }
    json_t *derived = informer_form_from_full(forms[KEPT], got[FULL]);
    if (derived) {
        if (!json_equal(derived, got[KEPT]))
            abort();
        if (json_is_string(json_object_get(whole, "kind")) &&
            json_is_string(json_object_get(whole, "apiVersion"))) {
            char *a = json_dumps(derived, JSON_ENCODE_ANY),
                 *b = json_dumps(got[KEPT], JSON_ENCODE_ANY);
            if (!a || !b || strcmp(a, b) != 0)
                abort();
            free(a);
            free(b);
        }
    }
    json_decref(derived);
    for (int i = 0; i < NFORMS; i++)
        json_decref(got[i]);
    json_decref(whole);
    return 0;
}
