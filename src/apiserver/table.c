/* meta.k8s.io Table output: content negotiation, the Table and row envelopes, and the cell
 * writer the per-kind printers (table_printers.c) use. */
#include "apiserver/table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apiserver/table_internal.h"
#include "codec/json.h"
#include "util/cleanup.h"
#include "util/timeutil.h"

/* A client-controlled header: ranges beyond this are not looked at. */
#define ACCEPT_MAX_LEN 8192

/* Go's zero time, 0001-01-01T00:00:00Z, in seconds since the epoch. */
#define GO_ZERO_TIME_SECONDS (-62135596800LL)

static bool token_eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

static void trim(const char **s, const char **end)
{
    while (*s < *end && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*end > *s && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

/* One media range [s, end): application/json with as=Table, g=meta.k8s.io and v=v1|v1beta1. */
static enum table_version media_range_version(const char *s, const char *end)
{
    const char *semi = memchr(s, ';', (size_t)(end - s));
    const char *type_end = semi ? semi : end;
    const char *t = s;
    trim(&t, &type_end);
    if (!token_eq(t, (size_t)(type_end - t), "application/json"))
        return TABLE_NONE;
    bool as_table = false, group = false;
    enum table_version v = TABLE_NONE;
    const char *p = semi;
    while (p && p < end) {
        const char *param = p + 1;
        const char *next = memchr(param, ';', (size_t)(end - param));
        const char *pend = next ? next : end;
        const char *eq = memchr(param, '=', (size_t)(pend - param));
        if (eq) {
            const char *k = param, *kend = eq, *val = eq + 1, *vend = pend;
            trim(&k, &kend);
            trim(&val, &vend);
            if (vend - val >= 2 && *val == '"' && vend[-1] == '"') {
                val++;
                vend--;
            }
            size_t klen = (size_t)(kend - k), vlen = (size_t)(vend - val);
            if (token_eq(k, klen, "as"))
                as_table = vlen == 5 && memcmp(val, "Table", 5) == 0;
            else if (token_eq(k, klen, "g"))
                group = vlen == 11 && memcmp(val, "meta.k8s.io", 11) == 0;
            else if (token_eq(k, klen, "v"))
                v = vlen == 2 && memcmp(val, "v1", 2) == 0        ? TABLE_V1
                    : vlen == 7 && memcmp(val, "v1beta1", 7) == 0 ? TABLE_V1BETA1
                                                                  : TABLE_NONE;
        }
        p = next;
    }
    return as_table && group ? v : TABLE_NONE;
}

enum table_version table_negotiate(const char *accept)
{
    if (!accept)
        return TABLE_NONE;
    const char *end = accept + strnlen(accept, ACCEPT_MAX_LEN);
    const char *s = accept;
    while (s < end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *rend = comma ? comma : end;
        enum table_version v = media_range_version(s, rend);
        if (v != TABLE_NONE)
            return v;
        s = comma ? comma + 1 : end;
    }
    return TABLE_NONE;
}

bool accept_wants_table(const char *accept)
{
    return table_negotiate(accept) != TABLE_NONE;
}

const char *table_api_version(enum table_version v)
{
    return v == TABLE_V1BETA1 ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1";
}

int64_t table_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int table_opts_init(struct table_opts *o, const char *accept, const char *include_object,
                    struct kos_error **err)
{
    enum table_include inc = TABLE_INCLUDE_METADATA;
    if (include_object && include_object[0]) {
        if (strcmp(include_object, "None") == 0)
            inc = TABLE_INCLUDE_NONE;
        else if (strcmp(include_object, "Object") == 0)
            inc = TABLE_INCLUDE_OBJECT;
        else if (strcmp(include_object, "Metadata") != 0)
            return kos_error_set(err, 400, "BadRequest",
                                 "unrecognized includeObject value: \"%.64s\"", include_object);
    }
    o->version = table_negotiate(accept);
    o->include = inc;
    o->now_ms = table_now_ms();
    return 0;
}

void table_human_duration(int64_t ms, char *out, size_t size)
{
    /* Integer division truncates toward zero, as Go's int(d.Seconds()) does. */
    int64_t seconds = ms / 1000;
    if (seconds < -1) {
        snprintf(out, size, "<invalid>");
        return;
    }
    if (seconds < 0) {
        snprintf(out, size, "0s");
        return;
    }
    if (seconds < 60 * 2) {
        snprintf(out, size, "%" PRId64 "s", seconds);
        return;
    }
    int64_t minutes = ms / 60000;
    if (minutes < 10) {
        int64_t s = seconds % 60;
        if (s == 0)
            snprintf(out, size, "%" PRId64 "m", minutes);
        else
            snprintf(out, size, "%" PRId64 "m%" PRId64 "s", minutes, s);
        return;
    }
    if (minutes < 60 * 3) {
        snprintf(out, size, "%" PRId64 "m", minutes);
        return;
    }
    int64_t hours = ms / 3600000;
    if (hours < 8) {
        int64_t m = minutes % 60;
        if (m == 0)
            snprintf(out, size, "%" PRId64 "h", hours);
        else
            snprintf(out, size, "%" PRId64 "h%" PRId64 "m", hours, m);
    } else if (hours < 48) {
        snprintf(out, size, "%" PRId64 "h", hours);
    } else if (hours < 24 * 8) {
        int64_t h = hours % 24;
        if (h == 0)
            snprintf(out, size, "%" PRId64 "d", hours / 24);
        else
            snprintf(out, size, "%" PRId64 "d%" PRId64 "h", hours / 24, h);
    } else if (hours < 24 * 365 * 2) {
        snprintf(out, size, "%" PRId64 "d", hours / 24);
    } else if (hours < 24 * 365 * 8) {
        int64_t dy = (hours / 24) % 365;
        if (dy == 0)
            snprintf(out, size, "%" PRId64 "y", hours / 24 / 365);
        else
            snprintf(out, size, "%" PRId64 "y%" PRId64 "d", hours / 24 / 365, dy);
    } else {
        snprintf(out, size, "%" PRId64 "y", hours / 24 / 365);
    }
}

/* The milliseconds of the fraction after the seconds of an RFC 3339 time ("…:05.123456Z"),
 * which kos_time_parse_rfc3339 drops: ages are truncated to seconds, so the fraction
 * decides them at the boundary (44.9s is "44s"). */
static int64_t fraction_ms(const char *s)
{
    const char *t = strchr(s, 'T');
    const char *dot = t ? strchr(t, '.') : NULL;
    int64_t ms = 0, scale = 100;
    for (const char *p = dot ? dot + 1 : ""; *p >= '0' && *p <= '9' && scale; p++, scale /= 10)
        ms += (*p - '0') * scale;
    return ms;
}

int64_t table_time(const json_t *v)
{
    const char *s = json_string_value(v);
    time_t t;
    if (!s || !s[0] || kos_time_parse_rfc3339(s, &t) < 0 || (int64_t)t <= GO_ZERO_TIME_SECONDS)
        return TABLE_TIME_ZERO;
    return (int64_t)t * 1000 + fraction_ms(s);
}

void table_age(const struct table_cells *c, int64_t t, char *out, size_t size)
{
    if (t == TABLE_TIME_ZERO)
        snprintf(out, size, "<unknown>");
    else
        table_human_duration(c->now_ms - t, out, size);
}

void cell_age(struct table_cells *c, const json_t *obj)
{
    char age[32];
    table_age(c, table_time(json_object_get(json_object_get(obj, "metadata"), "creationTimestamp")),
              age, sizeof(age));
    cell_str(c, age);
}

static bool cell_begin(struct table_cells *c)
{
    if (c->err)
        return false;
    if (c->count++ && (c->err = kos_buf_append(c->b, ",", 1)) < 0)
        return false;
    return true;
}

void cell_str(struct table_cells *c, const char *s)
{
    if (cell_begin(c))
        c->err = kos_buf_append_json_string(c->b, s ? s : "");
}

void cell_int(struct table_cells *c, int64_t v)
{
    if (cell_begin(c))
        c->err = kos_buf_printf(c->b, "%" PRId64, v);
}

void cell_bool(struct table_cells *c, bool v)
{
    if (cell_begin(c))
        c->err = kos_buf_append_str(c->b, v ? "true" : "false");
}

void cell_fmt(struct table_cells *c, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        c->err = c->err ? c->err : -EINVAL;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        cell_str(c, small);
        return;
    }
    _cleanup_free_ char *big = malloc((size_t)n + 1);
    if (!big) {
        c->err = c->err ? c->err : -ENOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cell_str(c, big);
}

int table_append_columns(struct kos_buf *b, const struct kos_kind *k)
{
    const struct table_printer *p = table_printer_find(k->group, k->kind);
    int r = kos_buf_append(b, "[", 1);
    for (size_t i = 0; r == 0 && i < p->ncolumns; i++) {
        const struct table_column *col = &p->columns[i];
        r = kos_buf_append_str(b, i ? ",{\"name\":" : "{\"name\":");
        if (r == 0)
            r = kos_buf_append_json_string(b, col->name);
        if (r == 0)
            r = kos_buf_printf(b, ",\"type\":\"%s\",\"format\":\"%s\",\"description\":", col->type,
                               col->format ? col->format : "");
        if (r == 0)
            r = kos_buf_append_json_string(b, col->description);
        if (r == 0)
            r = kos_buf_printf(b, ",\"priority\":%d}", col->priority);
    }
    return r == 0 ? kos_buf_append(b, "]", 1) : r;
}

static int append_encoded(struct kos_buf *b, const json_t *v)
{
    size_t len = 0;
    _cleanup_free_ char *s = v ? kos_json_encode(v, &len) : NULL;
    if (!v)
        return kos_buf_append(b, "{}", 2);
    return s ? kos_buf_append(b, s, len) : -ENOMEM;
}

static int append_value(struct kos_buf *b, const struct kos_value *v)
{
    struct iovec iov[kos_value_iovcnt(v)];
    size_t n = kos_value_iov(v, iov);
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = kos_buf_append(b, iov[i].iov_base, iov[i].iov_len);
    return r;
}

static int append_row_object(struct kos_buf *b, const json_t *obj, const struct kos_value *raw,
                             const struct table_opts *o)
{
    switch (o->include) {
    case TABLE_INCLUDE_NONE:
        return 0;
    case TABLE_INCLUDE_OBJECT: {
        int r = kos_buf_append_str(b, ",\"object\":");
        if (r < 0)
            return r;
        return raw ? append_value(b, raw) : append_encoded(b, obj);
    }
    case TABLE_INCLUDE_METADATA:
        break;
    }
    int r = kos_buf_printf(b,
                           ",\"object\":{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"%s\","
                           "\"metadata\":",
                           table_api_version(o->version));
    /* the stored text as it is: obj may lack managedFields (table_decode) */
    const char *meta = NULL;
    size_t meta_len = 0;
    _cleanup_free_ char *tmp = NULL;
    const char *data = raw ? kos_value_bytes(raw, &tmp) : NULL;
    if (r == 0 && data && table_raw_metadata(data, raw->len, &meta, &meta_len) == 0)
        r = kos_buf_append(b, meta, meta_len);
    else if (r == 0)
        r = append_encoded(b, json_object_get(obj, "metadata"));
    return r == 0 ? kos_buf_append(b, "}", 1) : r;
}

int table_append_row(struct kos_buf *b, const struct kos_kind *k, const json_t *obj,
                     const struct kos_value *raw, const struct table_opts *o)
{
    const struct table_printer *p = table_printer_find(k->group, k->kind);
    struct table_cells c = {.b = b, .now_ms = o->now_ms};
    int r = kos_buf_append_str(b, "{\"cells\":[");
    if (r < 0)
        return r;
    p->cells(&c, obj);
    if (c.err)
        return c.err;
    r = kos_buf_append(b, "]", 1);
    if (r == 0 && c.cond_reason) {
        r = kos_buf_printf(b,
                           ",\"conditions\":[{\"type\":\"Completed\",\"status\":\"True\","
                           "\"reason\":\"%s\",\"message\":\"%s\"}]",
                           c.cond_reason, c.cond_message);
    }
    if (r == 0)
        r = append_row_object(b, obj, raw, o);
    return r == 0 ? kos_buf_append(b, "}", 1) : r;
}

int table_append_single(struct kos_buf *b, const struct kos_kind *k, const json_t *obj,
                        const struct kos_value *raw, const struct table_opts *o, bool with_columns)
{
    const char *rv =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    int r = kos_buf_printf(b, "{\"kind\":\"Table\",\"apiVersion\":\"%s\",\"metadata\":{",
                           table_api_version(o->version));
    if (r == 0 && rv && rv[0]) {
        r = kos_buf_append_str(b, "\"resourceVersion\":");
        if (r == 0)
            r = kos_buf_append_json_string(b, rv);
    }
    if (r == 0)
        r = kos_buf_append_str(b, "},\"columnDefinitions\":");
    if (r == 0)
        r = with_columns ? table_append_columns(b, k) : kos_buf_append_str(b, "null");
    if (r == 0)
        r = kos_buf_append_str(b, ",\"rows\":[");
    if (r == 0)
        r = table_append_row(b, k, obj, raw, o);
    return r == 0 ? kos_buf_append(b, "]}", 2) : r;
}

json_t *table_row_cells(const struct kos_kind *k, const json_t *obj, int64_t now_ms)
{
    const struct table_printer *p = table_printer_find(k->group, k->kind);
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, 16u * 1024 * 1024);
    struct table_cells c = {.b = &b, .now_ms = now_ms};
    if (kos_buf_append(&b, "[", 1) < 0)
        return NULL;
    p->cells(&c, obj);
    if (c.err || kos_buf_append(&b, "]", 1) < 0)
        return NULL;
    return json_loadb(b.data, b.len, 0, NULL);
}

void cell_buf(struct table_cells *c, const struct kos_buf *b, int r, const char *empty)
{
    if (r < 0 && !c->err)
        c->err = r;
    else
        cell_str(c, b->len ? b->data : empty);
}
