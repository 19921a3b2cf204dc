/* GET and LIST for every kind. Both send stored bytes as they are: a LIST is the stored
 * objects joined into a List envelope without re-encoding them (unless a selector has to
 * look inside). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define LIST_BATCH 1000

int list_filter_parse(const struct resource_request *rr, struct list_filter *f,
                      struct kos_error **err)
{
    const char *ls = http_query(rr->http, "labelSelector");
    const char *fs = http_query(rr->http, "fieldSelector");
    memset(f, 0, sizeof(*f));
    if (ls && ls[0]) {
        int r = label_selector_parse(ls, &f->labels, err);
        if (r < 0)
            return r;
    }
    if (fs && fs[0]) {
        int r = field_selector_parse(fs, &f->fields, err);
        if (r == 0)
            r = field_selector_check_supported(f->fields, rr->kind->kind, err);
        if (r < 0) {
            list_filter_done(f);
            return r;
        }
    }
    return 0;
}

bool list_filter_active(const struct list_filter *f)
{
    return (f->labels && !label_selector_empty(f->labels)) ||
           (f->fields && !field_selector_empty(f->fields));
}

bool list_filter_matches(const struct list_filter *f, const json_t *obj)
{
    if (f->labels && !label_selector_matches(f->labels, obj_path(obj, "metadata.labels")))
        return false;
    if (f->fields && !field_selector_matches(f->fields, obj))
        return false;
    return true;
}

void list_filter_done(struct list_filter *f)
{
    label_selector_free(f->labels);
    field_selector_free(f->fields);
    memset(f, 0, sizeof(*f));
}

int rr_key(const struct resource_request *rr, const char *name, char *out, size_t size)
{
    return kos_kind_key(rr->kind, rr->ns, name, out, size);
}

int rr_read_object(struct resource_request *rr, json_t **ret_obj, int64_t *ret_rev,
                   struct kos_error **err)
{
    char key[1024];
    if (rr_key(rr, rr->name, key, sizeof(key)) < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid object name");
    struct store_kv kv = {0};
    int r = store_get(rr->srv->store, key, &kv);
    if (r < 0)
        return r;
    json_t *obj = obj_decode_value(kv.value, err);
    int64_t rev = kv.mod_rev;
    store_kv_clear(&kv);
    if (!obj)
        return -EIO;
    *ret_obj = obj;
    *ret_rev = rev;
    return 0;
}

void handle_get(struct resource_request *rr, struct http_reply *rep)
{
    char key[1024];
    if (rr_key(rr, rr->name, key, sizeof(key)) < 0) {
        reply_errorf(rep, 400, "BadRequest", "invalid object name");
        return;
    }
    struct store_kv kv = {0};
    int r = store_get(rr->srv->store, key, &kv);
    if (r < 0) {
        reply_store_error(rep, r, rr->kind->plural, rr->kind->group, rr->name);
        return;
    }
    reply_value(rep, 200, kv.value);
    store_kv_clear(&kv);
}

/* The values a list answers with, held until the response has been sent. */
struct list_parts {
    struct kos_value **values;
    size_t count;
    char *head;
    char *tail;
};

static void list_parts_free(void *ctx)
{
    struct list_parts *p = ctx;
    for (size_t i = 0; i < p->count; i++)
        kos_value_unref(p->values[i]);
    free(p->values);
    free(p->head);
    free(p->tail);
    free(p);
}

/* Continue tokens carry the key to resume after, relative to the list's prefix. */
static char *make_continue(int64_t rev, const char *key_suffix)
{
    _cleanup_json_ json_t *t = json_pack("{s:s, s:I, s:s}", "v", "meta.k8s.io/v1", "rv",
                                         (json_int_t)rev, "start", key_suffix);
    if (!t)
        return NULL;
    _cleanup_free_ char *s = json_dumps(t, JSON_COMPACT);
    return s ? kos_base64_encode(s, strlen(s)) : NULL;
}

static int parse_continue(const char *token, char **ret_start, struct kos_error **err)
{
    _cleanup_free_ char *raw = NULL;
    size_t len = 0;
    if (strlen(token) > 4096 || kos_base64_decode(token, strlen(token), &raw, &len) < 0)
        return kos_error_set(err, 400, "BadRequest", "continue key is not valid: %s",
                             "illegal base64 data");
    json_error_t jerr;
    _cleanup_json_ json_t *t = json_loadb(raw, len, 0, &jerr);
    const char *start = json_string_value(json_object_get(t, "start"));
    if (!start || strstr(start, ".."))
        return kos_error_set(err, 400, "BadRequest", "continue key is not valid: %s",
                             "invalid token");
    char *s = strdup(start);
    if (!s)
        return -ENOMEM;
    *ret_start = s;
    return 0;
}

struct collected {
    struct kos_value **values;
    size_t count, cap;
    char *last_key;
    int64_t rev;
    bool more;
};

static int collected_push(struct collected *c, struct kos_value *v)
{
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct kos_value **nv = realloc(c->values, cap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        c->values = nv;
        c->cap = cap;
    }
    c->values[c->count++] = kos_value_ref(v);
    return 0;
}

static void collected_done(struct collected *c)
{
    for (size_t i = 0; i < c->count; i++)
        kos_value_unref(c->values[i]);
    free(c->values);
    free(c->last_key);
    memset(c, 0, sizeof(*c));
}

/* Walks the prefix in key order and keeps what the filter accepts, up to limit (0 = all). */
static int collect(struct resource_request *rr, const char *prefix, const char *start_after,
                   const struct list_filter *f, size_t limit, struct collected *out,
                   struct kos_error **err)
{
    bool filtering = list_filter_active(f);
    _cleanup_free_ char *cursor = start_after ? strdup(start_after) : NULL;
    if (start_after && !cursor)
        return -ENOMEM;
    out->rev = 0;
    for (;;) {
        struct store_list l = {0};
        size_t want = filtering ? LIST_BATCH : (limit ? limit - out->count + 1 : 0);
        int r = store_list(rr->srv->store, prefix, cursor, want, &l);
        if (r < 0)
            return kos_error_set(err, 500, "InternalError", "listing failed: %s", strerror(-r));
        if (!out->rev)
            out->rev = l.rev;
        for (size_t i = 0; i < l.count; i++) {
            if (filtering) {
                _cleanup_json_ json_t *obj = obj_decode_value(l.items[i].value, NULL);
                if (!obj || !list_filter_matches(f, obj))
                    continue;
            }
            if (limit && out->count == limit) {
                out->more = true;
                store_list_clear(&l);
                return 0;
            }
            r = collected_push(out, l.items[i].value);
            if (r == 0) {
                free(out->last_key);
                out->last_key = strdup(l.items[i].key);
                if (!out->last_key)
                    r = -ENOMEM;
            }
            if (r < 0) {
                store_list_clear(&l);
                return r;
            }
        }
        bool more = l.more;
        if (more && l.count > 0) {
            free(cursor);
            cursor = strdup(l.items[l.count - 1].key);
        }
        store_list_clear(&l);
        if (!more || !cursor)
            return 0;
    }
}

static void list_kind_name(const struct kos_kind *k, char *out, size_t size)
{
    snprintf(out, size, "%sList", k->kind);
}

void handle_list(struct resource_request *rr, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    struct list_filter f;
    if (list_filter_parse(rr, &f, &err) < 0) {
        reply_error(rep, err);
        return;
    }

    int64_t limit = 0;
    const char *lim = http_query(rr->http, "limit");
    if (lim && (kos_parse_int64(lim, &limit) < 0 || limit < 0))
        limit = 0;

    char prefix[1024];
    const char *ns = rr->ns;
    const char *field_ns =
        f.fields ? field_selector_required_value(f.fields, "metadata.namespace") : NULL;
    if (!ns && field_ns && rr->kind->namespaced)
        ns = field_ns;
    if (kos_kind_key_prefix(rr->kind, ns, prefix, sizeof(prefix)) < 0) {
        list_filter_done(&f);
        reply_errorf(rep, 400, "BadRequest", "invalid namespace");
        return;
    }

    _cleanup_free_ char *start_after = NULL;
    const char *cont = http_query(rr->http, "continue");
    if (cont && cont[0]) {
        _cleanup_free_ char *suffix = NULL;
        if (parse_continue(cont, &suffix, &err) < 0) {
            list_filter_done(&f);
            reply_error(rep, err);
            return;
        }
        if (asprintf(&start_after, "%s%s", prefix, suffix) < 0)
            start_after = NULL;
    }

    struct collected c = {0};
    int r = collect(rr, prefix, start_after, &f, (size_t)limit, &c, &err);
    list_filter_done(&f);
    if (r < 0) {
        collected_done(&c);
        if (!err)
            kos_error_set(&err, 500, "InternalError", "listing failed");
        reply_error(rep, err);
        return;
    }

    char api_version[160], list_kind[160];
    kos_kind_api_version(rr->kind, api_version, sizeof(api_version));
    list_kind_name(rr->kind, list_kind, sizeof(list_kind));
    _cleanup_free_ char *token = NULL;
    if (c.more && c.last_key)
        token = make_continue(c.rev, c.last_key + strlen(prefix));

    struct list_parts *parts = calloc(1, sizeof(*parts));
    struct iovec *iov = calloc(2 * c.count + 2, sizeof(*iov));
    int hn = -1;
    if (parts && iov) {
        if (token)
            hn = asprintf(&parts->head,
                          "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{"
                          "\"resourceVersion\":\"%" PRId64 "\",\"continue\":\"%s\"},\"items\":[",
                          list_kind, api_version, c.rev, token);
        else
            hn = asprintf(&parts->head,
                          "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{"
                          "\"resourceVersion\":\"%" PRId64 "\"},\"items\":[",
                          list_kind, api_version, c.rev);
        parts->tail = strdup("]}");
    }
    if (!parts || !iov || hn < 0 || !parts->tail) {
        free(iov);
        if (parts)
            list_parts_free(parts);
        collected_done(&c);
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    static char comma[] = ",";
    size_t n = 0;
    iov[n++] = (struct iovec){parts->head, (size_t)hn};
    for (size_t i = 0; i < c.count; i++) {
        if (i)
            iov[n++] = (struct iovec){comma, 1};
        iov[n++] = (struct iovec){c.values[i]->data, c.values[i]->len};
    }
    iov[n++] = (struct iovec){parts->tail, 2};
    parts->values = TAKE_PTR(c.values);
    parts->count = c.count;
    c.count = 0;
    collected_done(&c);

    rep->status = 200;
    rep->content_type = CT_JSON;
    rep->iov = iov;
    rep->iovcnt = n;
    rep->iov_free = list_parts_free;
    rep->iov_ctx = parts;
}
