/* Go's fmt printing of the values kube-apiserver puts in "Invalid value: <v>" (strconv.Quote
 * and %#v of maps, label selectors, IntOrString), and the omitempty-aware JSON equality the
 * immutability checks use. */
#include "api/validate_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"

/* Same bound as the error messages themselves. */
#define MAX_MESSAGE (1024 * 1024)

/* ---- Go value printing ---- */

static int buf_go_quote(struct kos_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int r = kos_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; r == 0 && *p; p++) {
        switch (*p) {
        case '"':
            r = kos_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            r = kos_buf_append(b, "\\\\", 2);
            break;
        case '\a':
            r = kos_buf_append(b, "\\a", 2);
            break;
        case '\b':
            r = kos_buf_append(b, "\\b", 2);
            break;
        case '\f':
            r = kos_buf_append(b, "\\f", 2);
            break;
        case '\n':
            r = kos_buf_append(b, "\\n", 2);
            break;
        case '\r':
            r = kos_buf_append(b, "\\r", 2);
            break;
        case '\t':
            r = kos_buf_append(b, "\\t", 2);
            break;
        case '\v':
            r = kos_buf_append(b, "\\v", 2);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                char esc[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
                r = kos_buf_append(b, esc, sizeof(esc));
            } else {
                /* jansson strings are valid UTF-8: printable runes pass through as Go
                 * prints them */
                r = kos_buf_append(b, p, 1);
            }
        }
    }
    if (r == 0)
        r = kos_buf_append(b, "\"", 1);
    return r;
}

char *go_quote(const char *s)
{
    struct kos_buf b;
    kos_buf_init(&b, MAX_MESSAGE);
    if (buf_go_quote(&b, s) < 0) {
        kos_buf_free(&b);
        return NULL;
    }
    return kos_buf_steal(&b, NULL);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int buf_strmap(struct kos_buf *b, const json_t *m)
{
    if (!json_is_object(m))
        return kos_buf_append_str(b, "map[string]string(nil)");
    size_t n = json_object_size(m);
    _cleanup_free_ const char **keys = calloc(n ? n : 1, sizeof(*keys));
    if (!keys)
        return -ENOMEM;
    size_t i = 0;
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)m, k, val) keys[i++] = k;
    qsort(keys, n, sizeof(*keys), cmp_str);
    int r = kos_buf_append_str(b, "map[string]string{");
    for (i = 0; r == 0 && i < n; i++) {
        const char *s = json_string_value(json_object_get(m, keys[i]));
        if (i)
            r = kos_buf_append_str(b, ", ");
        if (r == 0)
            r = buf_go_quote(b, keys[i]);
        if (r == 0)
            r = kos_buf_append(b, ":", 1);
        if (r == 0)
            r = buf_go_quote(b, s ? s : "");
    }
    if (r == 0)
        r = kos_buf_append(b, "}", 1);
    return r;
}

char *go_strmap_repr(const json_t *m)
{
    struct kos_buf b;
    kos_buf_init(&b, MAX_MESSAGE);
    if (buf_strmap(&b, m) < 0) {
        kos_buf_free(&b);
        return NULL;
    }
    return kos_buf_steal(&b, NULL);
}

static int buf_strlist(struct kos_buf *b, const json_t *arr)
{
    if (!json_is_array(arr))
        return kos_buf_append_str(b, "[]string(nil)");
    int r = kos_buf_append_str(b, "[]string{");
    for (size_t i = 0; r == 0 && i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (i)
            r = kos_buf_append_str(b, ", ");
        if (r == 0)
            r = buf_go_quote(b, s ? s : "");
    }
    if (r == 0)
        r = kos_buf_append(b, "}", 1);
    return r;
}

char *go_strlist_repr(const json_t *arr)
{
    struct kos_buf b;
    kos_buf_init(&b, MAX_MESSAGE);
    if (buf_strlist(&b, arr) < 0) {
        kos_buf_free(&b);
        return NULL;
    }
    return kos_buf_steal(&b, NULL);
}

static bool is_empty_value(const json_t *j)
{
    return !j || json_is_null(j) || (json_is_object(j) && json_object_size(j) == 0) ||
           (json_is_array(j) && json_array_size(j) == 0);
}

bool json_equal_loose(const json_t *a, const json_t *b)
{
    if (is_empty_value(a) || is_empty_value(b))
        return is_empty_value(a) && is_empty_value(b);
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)a, k,
                            x) if (!json_equal_loose(x, json_object_get(b, k))) return false;
        json_object_foreach((json_t *)b, k,
                            x) if (!json_object_get(a, k) && !is_empty_value(x)) return false;
        return true;
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!json_equal_loose(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

char *go_label_selector_repr(const json_t *sel)
{
    struct kos_buf b;
    kos_buf_init(&b, MAX_MESSAGE);
    const json_t *ml = json_object_get(sel, "matchLabels");
    const json_t *me = json_object_get(sel, "matchExpressions");
    int r = kos_buf_append_str(&b, "v1.LabelSelector{MatchLabels:");
    if (r == 0)
        r = buf_strmap(&b, ml);
    if (r == 0)
        r = kos_buf_append_str(&b, ", MatchExpressions:");
    if (r == 0 && !json_is_array(me)) {
        r = kos_buf_append_str(&b, "[]v1.LabelSelectorRequirement(nil)");
    } else if (r == 0) {
        r = kos_buf_append_str(&b, "[]v1.LabelSelectorRequirement{");
        for (size_t i = 0; r == 0 && i < json_array_size(me); i++) {
            const json_t *e = json_array_get(me, i);
            const char *key = json_string_value(json_object_get(e, "key"));
            const char *op = json_string_value(json_object_get(e, "operator"));
            if (i)
                r = kos_buf_append_str(&b, ", ");
            if (r == 0)
                r = kos_buf_append_str(&b, "v1.LabelSelectorRequirement{Key:");
            if (r == 0)
                r = buf_go_quote(&b, key ? key : "");
            if (r == 0)
                r = kos_buf_append_str(&b, ", Operator:");
            if (r == 0)
                r = buf_go_quote(&b, op ? op : "");
            if (r == 0)
                r = kos_buf_append_str(&b, ", Values:");
            if (r == 0)
                r = buf_strlist(&b, json_object_get(e, "values"));
            if (r == 0)
                r = kos_buf_append(&b, "}", 1);
        }
        if (r == 0)
            r = kos_buf_append(&b, "}", 1);
    }
    if (r == 0)
        r = kos_buf_append(&b, "}", 1);
    if (r < 0) {
        kos_buf_free(&b);
        return NULL;
    }
    return kos_buf_steal(&b, NULL);
}

char *go_intstr_repr(const json_t *val)
{
    struct kos_buf b;
    kos_buf_init(&b, MAX_MESSAGE);
    int r;
    if (json_is_string(val)) {
        r = kos_buf_append_str(&b, "intstr.IntOrString{Type:1, IntVal:0, StrVal:");
        if (r == 0)
            r = buf_go_quote(&b, json_string_value(val));
        if (r == 0)
            r = kos_buf_append(&b, "}", 1);
    } else {
        r = kos_buf_printf(&b, "intstr.IntOrString{Type:0, IntVal:%lld, StrVal:\"\"}",
                           (long long)json_integer_value(val));
    }
    if (r < 0) {
        kos_buf_free(&b);
        return NULL;
    }
    return kos_buf_steal(&b, NULL);
}
