/* GET and LIST for every kind. Both send stored bytes as they are: a LIST is the stored
 * objects joined into a List envelope without re-encoding them (unless a selector has to
 * look inside). A client that asks for a meta.k8s.io Table (kubectl get) gets one instead,
 * built from each object decoded once. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/list_body.h"
#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "apiserver/table.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define LIST_BATCH 1000
/* Bound on a Table response being built (a full object per row with includeObject=Object). */
#define TABLE_MAX_BYTES (1024u * 1024 * 1024)

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

/* A one-row Table for a GET that asked for one (kubectl get pod x). */
static void reply_table_object(struct resource_request *rr, struct http_reply *rep,
                               const struct kos_value *v)
{
    _cleanup_error_ struct kos_error *err = NULL;
    struct table_opts o;
    if (table_opts_init(&o, http_header(rr->http, "Accept"), http_query(rr->http, "includeObject"),
                        &err) < 0) {
        reply_error(rep, err);
        return;
    }
    _cleanup_json_ json_t *obj = table_decode(v);
    if (!obj) {
        reply_errorf(rep, 500, "InternalError", "stored object is not valid JSON");
        return;
    }
    struct kos_buf b;
    kos_buf_init(&b, TABLE_MAX_BYTES);
    if (table_append_single(&b, rr->kind, obj, v, &o, true) < 0) {
        kos_buf_free(&b);
        reply_errorf(rep, 500, "InternalError", "failed to build the table");
        return;
    }
    size_t len = 0;
    char *body = kos_buf_steal(&b, &len);
    http_reply_set_body(rep, 200, CT_JSON, body, len);
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
    if (accept_wants_table(http_header(rr->http, "Accept")))
        reply_table_object(rr, rep, kv.value);
    else
        reply_value(rep, 200, kv.value);
    store_kv_clear(&kv);
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

/* Takes each value a list keeps instead of holding it, with its decoded form when the filter
 * already decoded it (NULL otherwise), so that a Table list parses every object once. */
struct collect_sink {
    int (*fn)(void *ctx, const struct kos_value *v, const json_t *decoded);
    void *ctx;
    json_t *(*decode)(const struct kos_value *v); /* how the filter decodes; NULL: fully */
};

struct collected {
    struct kos_value **values;
    size_t count, cap;
    char *last_key;
    int64_t rev;
    bool more;
};

/* Takes the list's reference to *v (the store list no longer holds it). */
static int collected_take(struct collected *c, struct kos_value **v)
{
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct kos_value **nv = realloc(c->values, cap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        c->values = nv;
        c->cap = cap;
    }
    c->values[c->count++] = TAKE_PTR(*v);
    return 0;
}

/* The key to continue after: copied once a batch, not for every item taken. */
static int keep_last_key(struct collected *c, const char *key)
{
    if (!key)
        return 0;
    char *k = strdup(key);
    if (!k)
        return -ENOMEM;
    free(c->last_key);
    c->last_key = k;
    return 0;
}

static void collected_done(struct collected *c)
{
    /* with a sink, count counts what the sink took and no values are held */
    for (size_t i = 0; c->values && i < c->count; i++)
        kos_value_unref(c->values[i]);
    free(c->values);
    free(c->last_key);
    memset(c, 0, sizeof(*c));
}

/* Walks the prefix in key order and keeps what the filter accepts, up to limit (0 = all). */
static int collect(struct resource_request *rr, const char *prefix, const char *start_after,
                   const struct list_filter *f, size_t limit, const struct collect_sink *sink,
                   struct collected *out, struct kos_error **err)
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
        const char *taken = NULL; /* key of the last item kept from this batch */
        for (size_t i = 0; i < l.count; i++) {
            _cleanup_json_ json_t *obj = NULL;
            if (filtering) {
                obj = sink && sink->decode ? sink->decode(l.items[i].value)
                                           : obj_decode_value(l.items[i].value, NULL);
                if (!obj || !list_filter_matches(f, obj))
                    continue;
            }
            if (limit && out->count == limit) {
                out->more = true;
                r = keep_last_key(out, taken);
                store_list_clear(&l);
                return r;
            }
            if (sink) {
                r = sink->fn(sink->ctx, l.items[i].value, obj);
                out->count += r == 0;
            } else {
                r = collected_take(out, &l.items[i].value);
            }
            if (r < 0) {
                store_list_clear(&l);
                return r;
            }
            if (r == 0)
                taken = l.items[i].key;
        }
        r = keep_last_key(out, taken);
        bool more = l.more && l.count > 0;
        if (r == 0 && more) {
            free(cursor);
            cursor = strdup(l.items[l.count - 1].key);
            if (!cursor)
                r = -ENOMEM;
        }
        store_list_clear(&l);
        if (r < 0)
            return r;
        if (!more)
            return 0;
    }
}

static void list_kind_name(const struct kos_kind *k, char *out, size_t size)
{
    snprintf(out, size, "%sList", k->kind);
}

/* A Table list: rows are built as the store walk finds the objects, from the one decoding
 * a selector already made where there was one; the stored values are not kept. */
struct table_list {
    const struct kos_kind *kind;
    struct table_opts opts;
    struct kos_buf rows;
};

static int table_list_add(void *ctx, const struct kos_value *v, const json_t *decoded)
{
    struct table_list *t = ctx;
    _cleanup_json_ json_t *own = decoded ? NULL : table_decode(v);
    const json_t *obj = decoded ? decoded : own;
    if (!obj)
        return -EIO;
    if (t->rows.len) {
        int r = kos_buf_append(&t->rows, ",", 1);
        if (r < 0)
            return r;
    }
    return table_append_row(&t->rows, t->kind, obj, v, &t->opts);
}

struct table_parts {
    char *head;
    char *rows;
};

static void table_parts_free(void *ctx)
{
    struct table_parts *p = ctx;
    free(p->head);
    free(p->rows);
    free(p);
}

static void table_list_done(struct table_list *t)
{
    kos_buf_free(&t->rows);
}

static void list_table(struct resource_request *rr, struct http_reply *rep, const char *prefix,
                       const char *start_after, const struct list_filter *f, size_t limit)
{
    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_(table_list_done) struct table_list t = {.kind = rr->kind};
    kos_buf_init(&t.rows, TABLE_MAX_BYTES);
    if (table_opts_init(&t.opts, http_header(rr->http, "Accept"),
                        http_query(rr->http, "includeObject"), &err) < 0) {
        reply_error(rep, err);
        return;
    }
    struct collect_sink sink = {table_list_add, &t, table_decode};
    struct collected c = {0};
    int r = collect(rr, prefix, start_after, f, limit, &sink, &c, &err);
    _cleanup_free_ char *token =
        r == 0 && c.more && c.last_key ? make_continue(c.rev, c.last_key + strlen(prefix)) : NULL;
    if (r == 0 && c.more && c.last_key && !token)
        r = -ENOMEM;
    int64_t rev = c.rev;
    collected_done(&c);
    if (r < 0) {
        if (!err)
            kos_error_set(&err, 500, "InternalError", "listing failed");
        reply_error(rep, err);
        return;
    }

    _cleanup_buf_ struct kos_buf head;
    kos_buf_init(&head, TABLE_MAX_BYTES);
    r = kos_buf_printf(&head,
                       "{\"kind\":\"Table\",\"apiVersion\":\"%s\",\"metadata\":{"
                       "\"resourceVersion\":\"%" PRId64 "\"",
                       table_api_version(t.opts.version), rev);
    if (r == 0 && token)
        r = kos_buf_printf(&head, ",\"continue\":\"%s\"", token);
    if (r == 0)
        r = kos_buf_append_str(&head, "},\"columnDefinitions\":");
    if (r == 0)
        r = table_append_columns(&head, rr->kind);
    if (r == 0)
        r = kos_buf_append_str(&head, ",\"rows\":[");
    struct table_parts *parts = calloc(1, sizeof(*parts));
    struct iovec *iov = calloc(3, sizeof(*iov));
    size_t head_len = 0, rows_len = 0;
    if (r == 0 && parts && iov) {
        parts->head = kos_buf_steal(&head, &head_len);
        parts->rows = kos_buf_steal(&t.rows, &rows_len);
    }
    if (r < 0 || !parts || !iov || !parts->head || !parts->rows) {
        if (parts)
            table_parts_free(parts);
        free(iov);
        reply_errorf(rep, 500, "InternalError", "failed to build the table");
        return;
    }
    static char tail[] = "]}";
    size_t n = 0;
    iov[n++] = (struct iovec){parts->head, head_len};
    if (rows_len)
        iov[n++] = (struct iovec){parts->rows, rows_len};
    iov[n++] = (struct iovec){tail, 2};
    rep->status = 200;
    rep->content_type = CT_JSON;
    rep->iov = iov;
    rep->iovcnt = n;
    rep->iov_free = table_parts_free;
    rep->iov_ctx = parts;
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

    if (accept_wants_table(http_header(rr->http, "Accept"))) {
        list_table(rr, rep, prefix, start_after, &f, (size_t)limit);
        list_filter_done(&f);
        return;
    }

    struct collected c = {0};
    int r = collect(rr, prefix, start_after, &f, (size_t)limit, NULL, &c, &err);
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

    char *head = NULL;
    int hn;
    if (token)
        hn = asprintf(&head,
                      "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{"
                      "\"resourceVersion\":\"%" PRId64 "\",\"continue\":\"%s\"},\"items\":[",
                      list_kind, api_version, c.rev, token);
    else
        hn = asprintf(&head,
                      "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{"
                      "\"resourceVersion\":\"%" PRId64 "\"},\"items\":[",
                      list_kind, api_version, c.rev);
    struct list_body *body = NULL;
    if (hn < 0 || list_body_new(head, (size_t)hn, c.values, c.count, "]}", &body) < 0) {
        if (hn >= 0)
            free(head);
        collected_done(&c);
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    /* the body holds the values now */
    c.values = NULL;
    c.count = 0;
    collected_done(&c);
    list_body_reply(rep, rr->http, body);
}
