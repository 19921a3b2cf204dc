/* Decoding stored objects into the informer's form without parsing what it drops.
 *
 * Why: a stored pod is about half managedFields (a deep tree of small objects, the most
 * expensive bytes to parse), and a metadata informer keeps only metadata. Parsing it all and
 * then deleting or deep-copying parts (informer_cache_form) was most of the informers' CPU.
 * Here the top-level object (and metadata) are split into members with a small scanner, and
 * only the members kept are handed to jansson. The bytes come from the store, which holds
 * what the API server encoded; anything the scanner does not expect falls back to a full
 * parse, so odd input costs time, never correctness. */
#include <stdbool.h>
#include <string.h>

#include "codec/json_fast.h"
#include "codec/json_scan.h"
#include "client/informer_internal.h"
#include "util/json_cleanup.h"

struct span {
    const char *p;
    size_t n;
};

static bool key_is(struct span k, const char *s)
{
    size_t n = strlen(s);
    return k.n == n && memcmp(k.p, s, n) == 0;
}

/* Keeps a member (k already unescaped). */
static int keep(json_t *out, struct span k, struct span v)
{
    json_t *val = kos_json_loadb(v.p, v.n, JSON_DECODE_ANY, NULL);
    return val ? json_object_setn_new(out, k.p, k.n, val) : -1;
}

enum which { ALL_BUT_MANAGED_FIELDS, IDENTITY_AND_METADATA };

/* Decodes the object starting at p member by member: at the top level everything (or only
 * kind, apiVersion and metadata), and metadata without managedFields. *ret_end: just past
 * the object. NULL when the bytes are not the plain object expected. */
static json_t *load_members(const struct kos_informer *inf, const char *p, const char *end,
                            enum which which, bool is_metadata, const char **ret_end)
{
    p = kos_json_skip_ws(p, end);
    if (p >= end || *p != '{')
        return NULL;
    _cleanup_json_ json_t *out = json_object();
    if (!out)
        return NULL;
    p = kos_json_skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        *ret_end = p + 1;
        return json_incref(out);
    }
    for (;;) {
        if (p >= end || *p != '"')
            return NULL;
        const char *kend = kos_json_skip_string(p, end);
        if (!kend)
            return NULL;
        struct span k = {p + 1, (size_t)(kend - p - 2)};
        /* an escaped key is judged (and kept) by its text, as the full parse would: the
         * kept-fields form then never differs from it in which members or their order */
        _cleanup_json_ json_t *unescaped = NULL;
        if (memchr(k.p, '\\', k.n)) {
            unescaped = json_loadb(p, (size_t)(kend - p), JSON_DECODE_ANY, NULL);
            if (!json_is_string(unescaped))
                return NULL;
            k = (struct span){json_string_value(unescaped), json_string_length(unescaped)};
        }
        p = kos_json_skip_ws(kend, end);
        if (p >= end || *p != ':')
            return NULL;
        p = kos_json_skip_ws(p + 1, end);
        bool wanted =
            is_metadata ? informer_keeps_meta(inf, k.p, k.n)
                        : !key_is(k, "metadata") && (which == ALL_BUT_MANAGED_FIELDS ||
                                                     key_is(k, "kind") || key_is(k, "apiVersion"));
        const char *vend = NULL;
        if (!is_metadata && key_is(k, "metadata")) {
            /* decoded where it stands: a scan for its end first went over its
             * managedFields (half a pod's bytes) a second time */
            json_t *meta = load_members(inf, p, end, which, true, &vend);
            if (!meta || json_object_set_new(out, "metadata", meta) < 0)
                return NULL;
        } else if (wanted) {
            /* parsed where it stands: no scan for its end first (the spec and status of
             * every pod write pass here); what the fast path leaves goes the long way */
            json_t *val = NULL;
            size_t used;
            if (kos_json_fast_parse_prefix(p, (size_t)(end - p), &val, &used) == 0) {
                if (json_object_setn_new(out, k.p, k.n, val) < 0)
                    return NULL;
                vend = p + used;
            }
        }
        if (!vend) {
            if (!(vend = kos_json_skip_value(p, end)))
                return NULL;
            struct span v = {p, (size_t)(vend - p)};
            if (is_metadata) {
                if (informer_keeps_meta(inf, k.p, k.n) && keep(out, k, v) < 0)
                    return NULL;
            } else if (which == ALL_BUT_MANAGED_FIELDS || key_is(k, "kind") ||
                       key_is(k, "apiVersion")) {
                if (keep(out, k, v) < 0)
                    return NULL;
            }
        }
        p = kos_json_skip_ws(vend, end);
        if (p < end && *p == ',') {
            p = kos_json_skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            *ret_end = p + 1;
            return json_incref(out);
        }
        return NULL;
    }
}

json_t *informer_decode(const struct kos_informer *inf, const char *data, size_t len)
{
    json_t *obj = NULL;
    const char *end = data;
    if (inf->metadata_only || inf->drop_managed_fields)
        obj = load_members(inf, data, data + len,
                           inf->metadata_only ? IDENTITY_AND_METADATA : ALL_BUT_MANAGED_FIELDS,
                           false, &end);
    if (obj && kos_json_skip_ws(end, data + len) != data + len) {
        json_decref(obj); /* bytes after the object */
        obj = NULL;
    }
    if (obj && json_is_string(json_object_get(obj, "kind")) &&
        json_is_string(json_object_get(obj, "apiVersion")))
        return obj;
    json_decref(obj);
    _cleanup_json_ json_t *full = kos_json_loadb(data, len, 0, NULL);
    return json_is_object(full) ? informer_cache_form(inf, full) : NULL;
}

/* Members are taken in full's order, so the object equals informer_decode's member for member
 * and in order: both follow the stored order. Where informer_decode takes the long way
 * (informer_cache_form, which puts metadata first) when kind or apiVersion are missing, full
 * has them after metadata (from the descriptor): NULL then. Only for a kind or apiVersion that
 * is no string, which the API server never stores, is the order metadata-first there and not
 * here (the members are the same). */
json_t *informer_form_from_full(const struct kos_informer *inf, const json_t *full)
{
    const json_t *meta = json_object_get(full, "metadata");
    if (!json_is_object(meta))
        return NULL;
    /* kind and apiVersion first, as strings, before metadata */
    unsigned seen = 0;
    const char *key;
    size_t klen;
    json_t *val;
    json_object_keylen_foreach((json_t *)full, key, klen, val)
    {
        struct span k = {key, klen};
        if (key_is(k, "metadata"))
            break;
        if (key_is(k, "kind") || key_is(k, "apiVersion")) {
            if (!json_is_string(val))
                return NULL;
            seen |= key_is(k, "kind") ? 1u : 2u;
        }
    }
    if (seen != 3)
        return NULL;
    _cleanup_json_ json_t *out = json_object();
    if (!out)
        return NULL;
    json_object_keylen_foreach((json_t *)full, key, klen, val)
    {
        json_t *kept = NULL;
        if (key_is((struct span){key, klen}, "metadata")) {
            kept = json_object();
            const char *mkey;
            size_t mlen;
            json_t *mval;
            json_object_keylen_foreach((json_t *)meta, mkey, mlen, mval)
            {
                if (!kept)
                    break;
                if (informer_keeps_meta(inf, mkey, mlen) &&
                    json_object_setn(kept, mkey, mlen, mval) < 0) {
                    json_decref(kept);
                    kept = NULL;
                }
            }
            if (!kept)
                return NULL;
        } else if (key_is((struct span){key, klen}, "kind") ||
                   key_is((struct span){key, klen}, "apiVersion")) {
            kept = json_incref(val);
        } else {
            continue;
        }
        if (json_object_setn_new(out, key, klen, kept) < 0)
            return NULL;
    }
    return json_incref(out);
}
