/* RFC 6902 JSON Patch over jansson trees, with the error wording of evanphx/json-patch (the
 * library kube-apiserver uses) so that clients see familiar messages.
 *
 * The whole patch document is validated before the first operation runs: a malformed
 * document (not an array, an operation without "op"/"path", an unknown op, a bad pointer)
 * is a 400 BadRequest, and an operation that does not apply to the document is a 422. The
 * operations run on a private deep copy, so a failure in the middle leaves nothing half
 * applied and the caller's trees are never touched. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "api/patch_internal.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

/* A `copy` duplicates a subtree, so a short patch could otherwise double the document on
 * every operation; this bounds the values all copies of one patch may add together. */
#define JSON_PATCH_MAX_COPY_NODES 100000

enum op_kind { OP_ADD, OP_REMOVE, OP_REPLACE, OP_MOVE, OP_COPY, OP_TEST };

struct token {
    const char *s;
    size_t len;
};

/* A parsed JSON Pointer (RFC 6901): the unescaped reference tokens. */
struct pointer {
    const char *text; /* as written in the patch, for messages */
    struct token *tok;
    size_t n;
    char *buf; /* storage of the unescaped tokens */
};

static void pointer_free(struct pointer *p)
{
    free(p->tok);
    free(p->buf);
    p->tok = NULL;
    p->buf = NULL;
    p->n = 0;
}

/* Returns 0, or -EINVAL for text that is not a JSON Pointer. */
static int pointer_parse(const char *text, size_t len, struct pointer *ret)
{
    struct pointer p = {.text = text};

    if (len == 0) {
        *ret = p;
        return 0;
    }
    if (text[0] != '/')
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '/')
            p.n++;
    p.tok = calloc(p.n, sizeof(*p.tok));
    p.buf = malloc(len);
    if (!p.tok || !p.buf) {
        pointer_free(&p);
        return -ENOMEM;
    }
    /* buf never moves, so tokens can point into it while it fills. */
    size_t out = 0, i = 1;
    for (size_t t = 0; t < p.n; t++, i++) {
        size_t start = out;
        p.tok[t].s = p.buf + start;
        for (; i < len && text[i] != '/'; i++) {
            char c = text[i];
            if (c == '~') {
                if (i + 1 >= len || (text[i + 1] != '0' && text[i + 1] != '1')) {
                    pointer_free(&p);
                    return -EINVAL;
                }
                c = text[i + 1] == '0' ? '~' : '/';
                i++;
            }
            p.buf[out++] = c;
        }
        p.tok[t].len = out - start;
    }
    *ret = p;
    return 0;
}

/* RFC 6901 array index: "0" or digits without a leading zero; -1 if not one. */
static long long token_index(const struct token *t)
{
    if (t->len == 0 || t->len > 18)
        return -1;
    if (t->len > 1 && t->s[0] == '0')
        return -1;
    long long v = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->s[i] < '0' || t->s[i] > '9')
            return -1;
        v = v * 10 + (t->s[i] - '0');
    }
    return v;
}

static bool token_is_dash(const struct token *t)
{
    return t->len == 1 && t->s[0] == '-';
}

/* The value `depth` tokens down from root, or NULL when the path does not exist. */
static json_t *pointer_walk(json_t *root, const struct pointer *p, size_t depth)
{
    json_t *cur = root;
    for (size_t i = 0; i < depth && cur; i++) {
        const struct token *t = &p->tok[i];
        if (json_is_object(cur)) {
            cur = json_object_getn(cur, t->s, t->len);
        } else if (json_is_array(cur)) {
            long long idx = token_index(t);
            cur = idx < 0 ? NULL : json_array_get(cur, (size_t)idx);
        } else {
            cur = NULL;
        }
    }
    return cur;
}

struct op {
    enum op_kind kind;
    struct pointer path;
    struct pointer from; /* move and copy */
    const json_t *value; /* add, replace and test */
};

struct patch_run {
    json_t *doc; /* owned */
    size_t copied_nodes;
    struct kos_error **err;
};

static int fail_missing(struct patch_run *r, const char *fmt, const char *path)
{
    return kos_error_set(r->err, 422, "Invalid", fmt, path);
}

/* Inserts value (a new reference, stolen) at p: RFC 6902 "add" semantics. */
static int insert_at(struct patch_run *r, const struct pointer *p, json_t *value,
                     const char *opname)
{
    _cleanup_json_ json_t *v = value;

    if (p->n + patch_json_depth(v, KOS_PATCH_MAX_DEPTH) > KOS_PATCH_MAX_DEPTH)
        return kos_error_set(r->err, 422, "Invalid",
                             "%s operation does not apply: the result would nest deeper than %d "
                             "levels at path: %s",
                             opname, KOS_PATCH_MAX_DEPTH, p->text);
    if (p->n == 0) {
        json_decref(r->doc);
        r->doc = TAKE_PTR(v);
        return 0;
    }
    json_t *parent = pointer_walk(r->doc, p, p->n - 1);
    const struct token *last = &p->tok[p->n - 1];
    if (json_is_object(parent)) {
        if (json_object_setn_new(parent, last->s, last->len, TAKE_PTR(v)) < 0)
            return -ENOMEM;
        return 0;
    }
    if (json_is_array(parent)) {
        size_t size = json_array_size(parent);
        if (token_is_dash(last))
            return json_array_append_new(parent, TAKE_PTR(v)) < 0 ? -ENOMEM : 0;
        long long idx = token_index(last);
        if (idx < 0)
            return kos_error_set(r->err, 422, "Invalid",
                                 "error in %s for path: '%s': value was not a proper array "
                                 "index: '%.*s'",
                                 opname, p->text, (int)last->len, last->s);
        if ((size_t)idx > size)
            return kos_error_set(r->err, 422, "Invalid",
                                 "error in %s for path: '%s': Unable to access invalid index: "
                                 "%lld: invalid index referenced",
                                 opname, p->text, idx);
        return json_array_insert_new(parent, (size_t)idx, TAKE_PTR(v)) < 0 ? -ENOMEM : 0;
    }
    return kos_error_set(r->err, 422, "Invalid",
                         "%s operation does not apply: doc is missing path: \"%s\": missing value",
                         opname, p->text);
}

/* Detaches the value at p and returns it (new reference) in *ret. */
static int detach_at(struct patch_run *r, const struct pointer *p, const char *opname, json_t **ret)
{
    if (p->n == 0)
        return kos_error_set(r->err, 422, "Invalid",
                             "%s operation does not apply: cannot remove the whole document",
                             opname);
    json_t *parent = pointer_walk(r->doc, p, p->n - 1);
    const struct token *last = &p->tok[p->n - 1];
    if (json_is_object(parent)) {
        json_t *v = json_object_getn(parent, last->s, last->len);
        if (!v)
            return kos_error_set(r->err, 422, "Invalid",
                                 "error in %s for path: '%s': Unable to remove nonexistent key: "
                                 "%.*s: missing value",
                                 opname, p->text, (int)last->len, last->s);
        json_incref(v);
        json_object_deln(parent, last->s, last->len);
        *ret = v;
        return 0;
    }
    if (json_is_array(parent)) {
        long long idx = token_index(last);
        if (idx < 0 || (size_t)idx >= json_array_size(parent))
            return kos_error_set(r->err, 422, "Invalid",
                                 "error in %s for path: '%s': Unable to access invalid index: "
                                 "%.*s: invalid index referenced",
                                 opname, p->text, (int)last->len, last->s);
        json_t *v = json_incref(json_array_get(parent, (size_t)idx));
        json_array_remove(parent, (size_t)idx);
        *ret = v;
        return 0;
    }
    return kos_error_set(r->err, 422, "Invalid",
                         "%s operation does not apply: doc is missing path: \"%s\": missing value",
                         opname, p->text);
}

static int op_replace(struct patch_run *r, const struct op *op)
{
    const struct pointer *p = &op->path;
    _cleanup_json_ json_t *v = patch_copy(op->value);
    if (!v)
        return -ENOMEM;
    if (p->n + patch_json_depth(v, KOS_PATCH_MAX_DEPTH) > KOS_PATCH_MAX_DEPTH)
        return kos_error_set(r->err, 422, "Invalid",
                             "replace operation does not apply: the result would nest deeper "
                             "than %d levels at path: %s",
                             KOS_PATCH_MAX_DEPTH, p->text);
    if (p->n == 0) {
        json_decref(r->doc);
        r->doc = TAKE_PTR(v);
        return 0;
    }
    json_t *parent = pointer_walk(r->doc, p, p->n - 1);
    const struct token *last = &p->tok[p->n - 1];
    if (json_is_object(parent)) {
        if (!json_object_getn(parent, last->s, last->len))
            return fail_missing(r,
                                "replace operation does not apply: doc is missing key: %s: "
                                "missing value",
                                p->text);
        return json_object_setn_new(parent, last->s, last->len, TAKE_PTR(v)) < 0 ? -ENOMEM : 0;
    }
    if (json_is_array(parent)) {
        long long idx = token_index(last);
        if (idx < 0 || (size_t)idx >= json_array_size(parent))
            return kos_error_set(r->err, 422, "Invalid",
                                 "replace operation does not apply: doc is missing key: %s: "
                                 "invalid index referenced",
                                 p->text);
        return json_array_set_new(parent, (size_t)idx, TAKE_PTR(v)) < 0 ? -ENOMEM : 0;
    }
    return fail_missing(r,
                        "replace operation does not apply: doc is missing path: %s: missing "
                        "value",
                        p->text);
}

static int op_test(struct patch_run *r, const struct op *op)
{
    json_t *cur = pointer_walk(r->doc, &op->path, op->path.n);
    if (!cur || !json_equal(cur, op->value))
        return fail_missing(r, "testing value %s failed: test failed", op->path.text);
    return 0;
}

static int op_move(struct patch_run *r, const struct op *op)
{
    /* Moving a value into one of its own children would detach it from the document. */
    if (op->path.n > op->from.n) {
        bool prefix = true;
        for (size_t i = 0; i < op->from.n && prefix; i++)
            prefix = op->path.tok[i].len == op->from.tok[i].len &&
                     memcmp(op->path.tok[i].s, op->from.tok[i].s, op->from.tok[i].len) == 0;
        if (prefix)
            return kos_error_set(r->err, 422, "Invalid",
                                 "move operation does not apply: from path %s is a prefix of "
                                 "path %s",
                                 op->from.text, op->path.text);
    }
    if (!pointer_walk(r->doc, &op->from, op->from.n))
        return fail_missing(r,
                            "move operation does not apply: doc is missing from path: %s: "
                            "missing value",
                            op->from.text);
    json_t *v = NULL;
    int rc = detach_at(r, &op->from, "move", &v);
    if (rc < 0)
        return rc;
    return insert_at(r, &op->path, v, "move");
}

static int op_copy(struct patch_run *r, const struct op *op)
{
    json_t *src = pointer_walk(r->doc, &op->from, op->from.n);
    if (!src)
        return fail_missing(r,
                            "copy operation does not apply: doc is missing from path: %s: "
                            "missing value",
                            op->from.text);
    r->copied_nodes += patch_json_nodes(src, JSON_PATCH_MAX_COPY_NODES);
    if (r->copied_nodes > JSON_PATCH_MAX_COPY_NODES)
        return kos_error_set(r->err, 422, "Invalid",
                             "Unable to complete the copy, the accumulated size increase of copy "
                             "exceeds the limit of %d values",
                             JSON_PATCH_MAX_COPY_NODES);
    json_t *v = patch_copy(src);
    if (!v)
        return -ENOMEM;
    return insert_at(r, &op->path, v, "copy");
}

static int op_run(struct patch_run *r, const struct op *op)
{
    switch (op->kind) {
    case OP_ADD: {
        json_t *v = patch_copy(op->value);
        if (!v)
            return -ENOMEM;
        return insert_at(r, &op->path, v, "add");
    }
    case OP_REMOVE: {
        json_t *v = NULL;
        if (op->path.n > 0 && !pointer_walk(r->doc, &op->path, op->path.n - 1))
            return kos_error_set(r->err, 422, "Invalid",
                                 "remove operation does not apply: doc is missing path: \"%s\": "
                                 "missing value",
                                 op->path.text);
        int rc = detach_at(r, &op->path, "remove", &v);
        json_decref(v);
        return rc;
    }
    case OP_REPLACE:
        return op_replace(r, op);
    case OP_MOVE:
        return op_move(r, op);
    case OP_COPY:
        return op_copy(r, op);
    case OP_TEST:
        return op_test(r, op);
    }
    return -EINVAL;
}

static int bad_op(struct kos_error **err, size_t i, const char *what)
{
    return kos_error_set(err, 400, "BadRequest", "json patch operation %zu: %s", i, what);
}

/* Decodes one operation, pointing into the patch document (which outlives it). */
static int op_decode(const json_t *o, size_t i, struct op *op, struct kos_error **err)
{
    static const struct {
        const char *name;
        enum op_kind kind;
    } kinds[] = {{"add", OP_ADD},   {"remove", OP_REMOVE}, {"replace", OP_REPLACE},
                 {"move", OP_MOVE}, {"copy", OP_COPY},     {"test", OP_TEST}};

    if (!json_is_object(o))
        return bad_op(err, i, "an operation must be a JSON object");
    json_t *jop = json_object_get(o, "op");
    if (!json_is_string(jop))
        return bad_op(err, i, "missing or invalid \"op\" field");
    size_t k = 0;
    for (; k < ARRAY_SIZE(kinds); k++)
        if (strcmp(json_string_value(jop), kinds[k].name) == 0)
            break;
    if (k == ARRAY_SIZE(kinds))
        return kos_error_set(err, 400, "BadRequest", "Unexpected kind: %s", json_string_value(jop));
    op->kind = kinds[k].kind;

    json_t *jpath = json_object_get(o, "path");
    if (!json_is_string(jpath))
        return bad_op(err, i, "missing or invalid \"path\" field");
    int rc = pointer_parse(json_string_value(jpath), json_string_length(jpath), &op->path);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0)
        return bad_op(err, i, "\"path\" is not a valid JSON pointer");

    if (op->kind == OP_MOVE || op->kind == OP_COPY) {
        json_t *jfrom = json_object_get(o, "from");
        if (!json_is_string(jfrom))
            return bad_op(err, i, "missing or invalid \"from\" field");
        rc = pointer_parse(json_string_value(jfrom), json_string_length(jfrom), &op->from);
        if (rc == -ENOMEM)
            return rc;
        if (rc < 0)
            return bad_op(err, i, "\"from\" is not a valid JSON pointer");
    }
    if (op->kind == OP_ADD || op->kind == OP_REPLACE || op->kind == OP_TEST) {
        op->value = json_object_get(o, "value");
        if (!op->value)
            return bad_op(err, i, "missing \"value\" field");
    }
    return 0;
}

static void ops_free(struct op *ops, size_t n)
{
    if (!ops)
        return;
    for (size_t i = 0; i < n; i++) {
        pointer_free(&ops[i].path);
        pointer_free(&ops[i].from);
    }
    free(ops);
}

int kos_json_patch(const json_t *doc, const json_t *patch, json_t **ret, struct kos_error **err)
{
    if (!doc || !patch || !ret)
        return -EINVAL;
    if (!json_is_array(patch))
        return kos_error_set(err, 400, "BadRequest",
                             "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
                             json_is_object(patch) ? "object" : "non-array value");
    size_t n = json_array_size(patch);
    if (n > KOS_JSON_PATCH_MAX_OPS)
        return kos_error_set(err, 413, "RequestEntityTooLarge",
                             "The allowed maximum operations in a JSON patch is %d, got %zu",
                             KOS_JSON_PATCH_MAX_OPS, n);

    struct op *ops = calloc(n ? n : 1, sizeof(*ops));
    if (!ops)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && rc >= 0; i++)
        rc = op_decode(json_array_get(patch, i), i, &ops[i], err);

    struct patch_run r = {.err = err};
    if (rc >= 0) {
        r.doc = patch_copy(doc);
        if (!r.doc)
            rc = -ENOMEM;
    }
    for (size_t i = 0; i < n && rc >= 0; i++)
        rc = op_run(&r, &ops[i]);
    ops_free(ops, n);
    if (rc < 0) {
        json_decref(r.doc);
        return rc;
    }
    *ret = r.doc;
    return 0;
}

size_t patch_json_depth(const json_t *v, size_t limit)
{
    if (limit == 0)
        return 1;
    size_t max = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c)
        {
            size_t d = patch_json_depth(c, limit - 1);
            if (d > max)
                max = d;
            if (max >= limit)
                break;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
        {
            size_t d = patch_json_depth(c, limit - 1);
            if (d > max)
                max = d;
            if (max >= limit)
                break;
        }
    }
    return max + 1;
}

size_t patch_json_nodes(const json_t *v, size_t limit)
{
    size_t n = 1;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c)
        {
            n += patch_json_nodes(c, limit);
            if (n > limit)
                return n;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
        {
            n += patch_json_nodes(c, limit);
            if (n > limit)
                return n;
        }
    }
    return n;
}
