/* Field set algebra on the fieldsV1 JSON shape (see managed_fields.h), after
 * sigs.k8s.io/structured-merge-diff fieldpath/set.go, serialize.go and element.go. */
#include "api/managed_fields.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

/* A conflict path is printed into a status message; nothing sensible is longer. */
#define PATH_STRING_LIMIT (64 * 1024)

static bool is_self(const char *k)
{
    return k[0] == '.' && k[1] == '\0';
}

/* {} is a leaf member; "." marks a member that also has children. */
static bool node_member(const json_t *node)
{
    return json_object_size(node) == 0 || json_object_get(node, ".") != NULL;
}

static bool node_has_children(const json_t *node)
{
    size_t n = json_object_size(node);
    return n > 1 || (n == 1 && !json_object_get(node, "."));
}

bool kos_fieldset_empty(const json_t *set)
{
    return !set || !node_has_children(set);
}

/* The node of a path from its membership and its children (taken). *ret is NULL when the
 * path is neither a member nor has children: it does not belong in the set. */
static int make_node(bool member, json_t *children, json_t **ret)
{
    *ret = NULL;
    if (!children || json_object_size(children) == 0) {
        json_decref(children);
        if (!member)
            return 0;
        *ret = json_object();
        return *ret ? 0 : -ENOMEM;
    }
    if (member && json_object_set_new(children, ".", json_object()) < 0) {
        json_decref(children);
        return -ENOMEM;
    }
    *ret = children;
    return 0;
}

/* ---- validation ------------------------------------------------------------------------ */

static bool valid_element(const char *k)
{
    if (!k[0] || k[1] != ':')
        return false;
    const char *rest = k + 2;
    if (k[0] == 'f')
        return true;
    if (k[0] == 'i') {
        int64_t i;
        return kos_parse_int64(rest, &i) == 0 && i >= 0;
    }
    if (k[0] != 'k' && k[0] != 'v')
        return false;
    _cleanup_json_ json_t *v = json_loads(rest, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    return v && (k[0] == 'v' || json_is_object(v));
}

static int validate_node(const json_t *node, unsigned depth)
{
    const char *k;
    json_t *v;
    if (!json_is_object(node) || depth > KOS_FIELDSET_MAX_DEPTH)
        return -EINVAL;
    json_object_foreach((json_t *)node, k, v)
    {
        if (is_self(k)) {
            if (!json_is_object(v))
                return -EINVAL;
            continue;
        }
        if (!valid_element(k) || validate_node(v, depth + 1) < 0)
            return -EINVAL;
    }
    return 0;
}

int kos_fieldset_validate(const json_t *fields)
{
    return validate_node(fields, 0);
}

static int normalize_children(const json_t *node, json_t **ret)
{
    _cleanup_json_ json_t *out = json_object();
    const char *k;
    json_t *v;
    if (!out)
        return -ENOMEM;
    json_object_foreach((json_t *)node, k, v)
    {
        if (is_self(k))
            continue;
        json_t *children = NULL, *child = NULL;
        int r = normalize_children(v, &children);
        if (r < 0)
            return r;
        r = make_node(node_member(v), children, &child);
        if (r < 0)
            return r;
        if (child && json_object_set_new(out, k, child) < 0)
            return -ENOMEM;
    }
    *ret = TAKE_PTR(out);
    return 0;
}

json_t *kos_fieldset_normalize(const json_t *fields)
{
    json_t *out = NULL;
    return normalize_children(fields, &out) < 0 ? NULL : out;
}

/* ---- union, intersection, differences --------------------------------------------------- */

enum set_op { OP_UNION, OP_INTERSECTION, OP_DIFFERENCE, OP_RECURSIVE_DIFFERENCE };

/* A subtree that only one side has is shared with the result, not copied: sets are never
 * changed once built (kos_fieldset_insert only fills the fresh sets of from_object and
 * compare), and copying them was a tenth of the CPU of every create. */
static int combine(enum set_op op, const json_t *a, const json_t *b, json_t **ret)
{
    _cleanup_json_ json_t *out = json_object();
    const char *k;
    json_t *v;
    if (!out)
        return -ENOMEM;
    json_object_foreach((json_t *)a, k, v)
    {
        if (is_self(k))
            continue;
        json_t *w = json_object_get(b, k), *node = NULL;
        if (!w) {
            if (op == OP_INTERSECTION)
                continue;
            node = json_incref(v); /* shared: see combine's comment */
        } else {
            bool mv = node_member(v), mw = node_member(w), member = false;
            switch (op) {
            case OP_UNION:
                member = mv || mw;
                break;
            case OP_INTERSECTION:
                member = mv && mw;
                break;
            case OP_DIFFERENCE:
                member = mv && !mw;
                break;
            case OP_RECURSIVE_DIFFERENCE:
                if (mw)
                    continue; /* the member takes its whole subtree along */
                member = mv;
                break;
            }
            json_t *children = NULL;
            int r = combine(op, v, w, &children);
            if (r < 0)
                return r;
            r = make_node(member, children, &node);
            if (r < 0)
                return r;
            if (!node)
                continue;
        }
        if (json_object_set_new(out, k, node) < 0)
            return -ENOMEM;
    }
    if (op == OP_UNION) {
        json_object_foreach((json_t *)b, k, v)
        {
            if (is_self(k) || json_object_get(a, k))
                continue;
            if (json_object_set(out, k, v) < 0)
                return -ENOMEM;
        }
    }
    *ret = TAKE_PTR(out);
    return 0;
}

static json_t *combine_sets(enum set_op op, const json_t *a, const json_t *b)
{
    _cleanup_json_ json_t *none = (!a || !b) ? json_object() : NULL;
    json_t *out = NULL;
    if ((!a || !b) && !none)
        return NULL;
    return combine(op, a ? a : none, b ? b : none, &out) < 0 ? NULL : out;
}

json_t *kos_fieldset_union(const json_t *a, const json_t *b)
{
    return combine_sets(OP_UNION, a, b);
}

json_t *kos_fieldset_intersection(const json_t *a, const json_t *b)
{
    return combine_sets(OP_INTERSECTION, a, b);
}

json_t *kos_fieldset_difference(const json_t *a, const json_t *b)
{
    return combine_sets(OP_DIFFERENCE, a, b);
}

json_t *kos_fieldset_recursive_difference(const json_t *a, const json_t *b)
{
    return combine_sets(OP_RECURSIVE_DIFFERENCE, a, b);
}

/* ---- paths ------------------------------------------------------------------------------- */

int kos_fieldset_insert(json_t *set, const char *const *path, size_t n)
{
    if (n == 0 || n > KOS_FIELDSET_MAX_DEPTH)
        return -EINVAL;
    json_t *cur = set;
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n;
        json_t *child = json_object_get(cur, path[i]);
        if (!child) {
            child = json_object();
            if (!child || json_object_set_new(cur, path[i], child) < 0)
                return -ENOMEM;
            /* a new {} is a member; an inner one loses that with the child added next */
        } else if (last) {
            if (!node_member(child) && json_object_set_new(child, ".", json_object()) < 0)
                return -ENOMEM;
        } else if (json_object_size(child) == 0) {
            /* a leaf member about to get children stays a member */
            if (json_object_set_new(child, ".", json_object()) < 0)
                return -ENOMEM;
        }
        cur = child;
    }
    return 0;
}

bool kos_fieldset_has(const json_t *set, const char *const *path, size_t n)
{
    const json_t *cur = set;
    for (size_t i = 0; i < n && cur; i++)
        cur = json_object_get(cur, path[i]);
    return n > 0 && cur && node_member(cur);
}

/* ---- order ------------------------------------------------------------------------------- */

/* structured-merge-diff value.Compare: numbers < strings < booleans < lists < maps < null. */
static int type_rank(const json_t *v)
{
    if (json_is_number(v))
        return 0;
    if (json_is_string(v))
        return 1;
    if (json_is_boolean(v))
        return 2;
    if (json_is_array(v))
        return 3;
    if (json_is_object(v))
        return 4;
    return 5;
}

static int value_cmp(const json_t *a, const json_t *b)
{
    int ra = type_rank(a), rb = type_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : x > y;
    }
    if (ra == 0) {
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y;
    }
    if (ra == 1)
        return strcmp(json_string_value(a), json_string_value(b));
    if (ra == 2)
        return (int)json_is_true(a) - (int)json_is_true(b);
    if (ra == 3) {
        size_t na = json_array_size(a), nb = json_array_size(b);
        for (size_t i = 0; i < na && i < nb; i++) {
            int c = value_cmp(json_array_get(a, i), json_array_get(b, i));
            if (c)
                return c;
        }
        return na < nb ? -1 : na > nb;
    }
    if (ra == 4) {
        /* key fields are already sorted by name in "k:" elements */
        void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
        for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia),
                         ib = json_object_iter_next((json_t *)b, ib)) {
            int c = strcmp(json_object_iter_key(ia), json_object_iter_key(ib));
            if (!c)
                c = value_cmp(json_object_iter_value(ia), json_object_iter_value(ib));
            if (c)
                return c;
        }
        return ia ? 1 : ib ? -1 : 0;
    }
    return 0;
}

static int element_rank(const char *k)
{
    switch (k[0]) {
    case 'f':
        return 0;
    case 'k':
        return 1;
    case 'v':
        return 2;
    case 'i':
        return 3;
    default:
        return 4;
    }
}

struct sort_item {
    const char *key;
    json_t *value; /* parsed payload of k:, v: and i: elements */
    json_t *node;
};

static int sort_item_cmp(const void *pa, const void *pb)
{
    const struct sort_item *a = pa, *b = pb;
    int ra = element_rank(a->key), rb = element_rank(b->key);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (a->value && b->value) {
        int c = value_cmp(a->value, b->value);
        if (c)
            return c;
    }
    return strcmp(a->key, b->key);
}

static void sort_items_free(struct sort_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        json_decref(items[i].value);
    free(items);
}

/* The children of a node in order; *ret_n may be 0 (then *ret is NULL). */
static int sorted_children(const json_t *node, struct sort_item **ret, size_t *ret_n)
{
    size_t n = 0, cap = json_object_size(node);
    const char *k;
    json_t *v;
    *ret = NULL;
    *ret_n = 0;
    if (cap == 0)
        return 0;
    struct sort_item *items = calloc(cap, sizeof(*items));
    if (!items)
        return -ENOMEM;
    size_t per_rank[5] = {0};
    json_object_foreach((json_t *)node, k, v)
    {
        if (is_self(k))
            continue;
        items[n].key = k;
        items[n].node = v;
        per_rank[element_rank(k)]++;
        n++;
    }
    /* a k:, v: or i: payload is parsed only where it is compared with another of its kind */
    for (size_t i = 0; i < n; i++) {
        const char *key = items[i].key;
        if (key[0] && key[1] == ':' && key[0] != 'f' && per_rank[element_rank(key)] > 1)
            items[i].value = json_loads(key + 2, JSON_DECODE_ANY, NULL);
    }
    qsort(items, n, sizeof(*items), sort_item_cmp);
    *ret = items;
    *ret_n = n;
    return 0;
}

static int iterate(const json_t *node, const char **path, size_t depth, kos_fieldset_fn fn,
                   void *ctx)
{
    struct sort_item *items = NULL;
    size_t n = 0;
    if (depth >= KOS_FIELDSET_MAX_DEPTH)
        return -E2BIG;
    int r = sorted_children(node, &items, &n);
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (!node_member(items[i].node))
            continue;
        path[depth] = items[i].key;
        r = fn(ctx, path, depth + 1);
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (!node_has_children(items[i].node))
            continue;
        path[depth] = items[i].key;
        r = iterate(items[i].node, path, depth + 1, fn, ctx);
    }
    sort_items_free(items, n);
    return r;
}

int kos_fieldset_iterate(const json_t *set, kos_fieldset_fn fn, void *ctx)
{
    const char *path[KOS_FIELDSET_MAX_DEPTH];
    return set ? iterate(set, path, 0, fn, ctx) : 0;
}

static json_t *sorted_copy(const json_t *node, unsigned depth)
{
    struct sort_item *items = NULL;
    size_t n = 0;
    _cleanup_json_ json_t *out = json_object();
    if (!out || depth > KOS_FIELDSET_MAX_DEPTH || sorted_children(node, &items, &n) < 0)
        return NULL;
    int r = 0;
    if (node_member(node) && n > 0)
        r = json_object_set_new(out, ".", json_object());
    for (size_t i = 0; r == 0 && i < n; i++)
        r = json_object_set_new(out, items[i].key, sorted_copy(items[i].node, depth + 1));
    sort_items_free(items, n);
    return r < 0 ? NULL : TAKE_PTR(out);
}

json_t *kos_fieldset_sorted(const json_t *set)
{
    if (!set)
        return json_object();
    /* the root is never a member: it has no "." of its own */
    struct sort_item *items = NULL;
    size_t n = 0;
    _cleanup_json_ json_t *out = json_object();
    if (!out || sorted_children(set, &items, &n) < 0)
        return NULL;
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = json_object_set_new(out, items[i].key, sorted_copy(items[i].node, 1));
    sort_items_free(items, n);
    return r < 0 ? NULL : TAKE_PTR(out);
}

/* ---- fieldpath.Path.String() --------------------------------------------------------------- */

int kos_fieldset_append_quoted(struct kos_buf *b, const char *s)
{
    int r = kos_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; r == 0 && *p; p++) {
        static const char named[] = "\a\b\f\n\r\t\v";
        static const char letters[] = "abfnrtv";
        const char *e = *p ? strchr(named, *p) : NULL;
        if (*p == '"' || *p == '\\')
            r = kos_buf_printf(b, "\\%c", *p);
        else if (e)
            r = kos_buf_printf(b, "\\%c", letters[e - named]);
        else if (*p < 0x20 || *p == 0x7f)
            r = kos_buf_printf(b, "\\x%02x", *p);
        else
            r = kos_buf_append(b, p, 1);
    }
    return r ? r : kos_buf_append(b, "\"", 1);
}

/* value.ToString of structured-merge-diff. */
static int append_value(struct kos_buf *b, const json_t *v, unsigned depth)
{
    char num[KOS_JSON_DOUBLE_BUFSZ];
    if (depth > KOS_FIELDSET_MAX_DEPTH)
        return -E2BIG;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return kos_fieldset_append_quoted(b, json_string_value(v));
    case JSON_INTEGER:
        return kos_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        if (kos_json_format_double(json_real_value(v), num, sizeof(num)) < 0)
            return -EINVAL;
        return kos_buf_append_str(b, num);
    case JSON_TRUE:
        return kos_buf_append_str(b, "true");
    case JSON_FALSE:
        return kos_buf_append_str(b, "false");
    case JSON_ARRAY: {
        int r = kos_buf_append_str(b, "[");
        for (size_t i = 0; r == 0 && i < json_array_size(v); i++) {
            if (i)
                r = kos_buf_append_str(b, ", ");
            if (r == 0)
                r = append_value(b, json_array_get(v, i), depth + 1);
        }
        return r ? r : kos_buf_append_str(b, "]");
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *item;
        bool first = true;
        int r = kos_buf_append_str(b, "{");
        json_object_foreach((json_t *)v, k, item)
        {
            if (r == 0 && !first)
                r = kos_buf_append_str(b, ", ");
            first = false;
            if (r == 0)
                r = kos_buf_printf(b, "%s:", k);
            if (r == 0)
                r = append_value(b, item, depth + 1);
        }
        return r ? r : kos_buf_append_str(b, "}");
    }
    default:
        return kos_buf_append_str(b, "null");
    }
}

static int append_element(struct kos_buf *b, const char *pe)
{
    if (pe[0] == 'f' && pe[1] == ':')
        return kos_buf_printf(b, ".%s", pe + 2);
    if (pe[0] == 'i' && pe[1] == ':')
        return kos_buf_printf(b, "[%s]", pe + 2);
    _cleanup_json_ json_t *v =
        pe[0] && pe[1] == ':' ? json_loads(pe + 2, JSON_DECODE_ANY, NULL) : NULL;
    if (!v)
        return kos_buf_append_str(b, "{{invalid path element}}");
    if (pe[0] == 'v') {
        int r = kos_buf_append_str(b, "[=");
        r = r ? r : append_value(b, v, 0);
        return r ? r : kos_buf_append_str(b, "]");
    }
    const char *k;
    json_t *item;
    bool first = true;
    int r = kos_buf_append_str(b, "[");
    json_object_foreach(v, k, item)
    {
        if (r == 0 && !first)
            r = kos_buf_append_str(b, ",");
        first = false;
        if (r == 0)
            r = kos_buf_printf(b, "%s=", k);
        if (r == 0)
            r = append_value(b, item, 0);
    }
    return r ? r : kos_buf_append_str(b, "]");
}

char *kos_fieldset_path_string(const char *const *path, size_t n)
{
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, PATH_STRING_LIMIT);
    int r = kos_buf_append(&b, "", 0);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = append_element(&b, path[i]);
    if (r < 0)
        return NULL;
    if (!b.data)
        return calloc(1, 1);
    return kos_buf_steal(&b, NULL);
}
