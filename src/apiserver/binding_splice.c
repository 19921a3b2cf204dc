/* pods/binding on the stored bytes (see binding_splice.h). */
#include "apiserver/binding_splice.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "apiserver/objects.h"
#include "codec/json_scan.h"

/* One member of an object being walked: the key with its quotes, and the value. */
struct member {
    const char *key; /* at the opening quote */
    const char *key_end;
    const char *val;
    const char *val_end;
};

struct walk {
    const char *p, *end;
    bool first;
};

/* p at '{'. */
static int walk_begin(struct walk *w, const char *p, const char *end)
{
    if (p >= end || *p != '{')
        return -ENOTSUP;
    *w = (struct walk){.p = p + 1, .end = end, .first = true};
    return 0;
}

/* 1 with the next member, 0 past the closing brace (w->p after it), -ENOTSUP otherwise. */
static int walk_next(struct walk *w, struct member *m)
{
    const char *p = kos_json_skip_ws(w->p, w->end);
    if (p < w->end && *p == '}') {
        w->p = p + 1;
        return 0;
    }
    if (!w->first) {
        if (p >= w->end || *p != ',')
            return -ENOTSUP;
        p = kos_json_skip_ws(p + 1, w->end);
    }
    if (p >= w->end || *p != '"')
        return -ENOTSUP;
    m->key = p;
    m->key_end = kos_json_skip_string(p, w->end);
    /* a key written with escapes could spell one the splice looks for: the tree decides */
    if (!m->key_end || memchr(m->key, '\\', (size_t)(m->key_end - m->key)))
        return -ENOTSUP;
    p = kos_json_skip_ws(m->key_end, w->end);
    if (p >= w->end || *p != ':')
        return -ENOTSUP;
    m->val = kos_json_skip_ws(p + 1, w->end);
    m->val_end = kos_json_skip_value(m->val, w->end);
    if (!m->val_end)
        return -ENOTSUP;
    w->p = m->val_end;
    w->first = false;
    return 1;
}

static bool key_is(const struct member *m, const char *key)
{
    size_t n = strlen(key);
    return (size_t)(m->key_end - m->key) == n + 2 && memcmp(m->key + 1, key, n) == 0;
}

static bool bytes_are(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(end - p) == n && memcmp(p, lit, n) == 0;
}

/* Writes the output; a member at a time with the separators the compact encoding has. */
struct out {
    struct kos_buf *b;
    int r;
};

static void put(struct out *o, const void *p, size_t n)
{
    if (o->r == 0)
        o->r = kos_buf_append(o->b, p, n);
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_sep(struct out *o, bool *first)
{
    if (!*first)
        put(o, ",", 1);
    *first = false;
}

static void put_member(struct out *o, bool *first, const struct member *m)
{
    put_sep(o, first);
    put(o, m->key, (size_t)(m->key_end - m->key));
    put(o, ":", 1);
    put(o, m->val, (size_t)(m->val_end - m->val));
}

static void put_condition(struct out *o, const struct binding_splice_in *in)
{
    /* the member order of the tree path's json_pack */
    put_str(o, "{\"type\":\"PodScheduled\",\"status\":\"True\",\"lastProbeTime\":null,"
               "\"lastTransitionTime\":");
    if (o->r == 0)
        o->r = kos_buf_append_json_string(o->b, in->now);
    put(o, "}", 1);
}

/* A JSON string without escapes, copied without its quotes; -ENOTSUP otherwise. */
static int copy_plain_string(const char *v, const char *v_end, char *out, size_t size)
{
    size_t n = (size_t)(v_end - v);
    if (n < 2 || v[0] != '"' || memchr(v + 1, '\\', n - 2) || n - 2 >= size)
        return -ENOTSUP;
    memcpy(out, v + 1, n - 2);
    out[n - 2] = '\0';
    return 0;
}

struct checks {
    bool uid_mismatch, deleting, bound;
};

static int metadata(struct out *o, const struct member *mm, const struct binding_splice_in *in,
                    struct binding_splice *ret, struct checks *c)
{
    struct walk w;
    struct member m;
    int r = walk_begin(&w, mm->val, mm->val_end);
    bool first = true, seen_rv = false, seen_uid = false, seen_del = false;
    put(o, mm->key, (size_t)(mm->key_end - mm->key));
    put(o, ":{", 2);
    while (r == 0 && (r = walk_next(&w, &m)) == 1) {
        r = 0;
        if (key_is(&m, "resourceVersion")) {
            if (seen_rv || m.val[0] != '"')
                return -ENOTSUP;
            seen_rv = true;
            put_sep(o, &first);
            put(o, m.key, (size_t)(m.key_end - m.key));
            put(o, ":\"", 2);
            ret->rv_at = ret->out.len;
            put(o, "\"", 1);
            continue;
        }
        if (key_is(&m, "uid")) {
            if (seen_uid)
                return -ENOTSUP;
            seen_uid = true;
            if (in->uid && in->uid[0]) {
                char *uid = ret->pod_uid;
                if (m.val[0] == '"' &&
                    copy_plain_string(m.val, m.val_end, uid, sizeof(ret->pod_uid)) < 0)
                    return -ENOTSUP;
                if (m.val[0] != '"')
                    uid[0] = '\0';
                c->uid_mismatch = strcmp(uid, in->uid) != 0;
            }
        } else if (key_is(&m, "deletionTimestamp")) {
            if (seen_del)
                return -ENOTSUP;
            seen_del = true;
            c->deleting = m.val[0] == '"';
        }
        put_member(o, &first, &m);
    }
    if (r < 0)
        return r;
    if (!seen_rv)
        return -ENOTSUP;
    if (in->uid && in->uid[0] && !seen_uid)
        c->uid_mismatch = true; /* kube compares with the empty uid */
    put(o, "}", 1);
    return 0;
}

static int spec(struct out *o, const struct member *sm, const struct binding_splice_in *in,
                struct binding_splice *ret, struct checks *c)
{
    struct walk w;
    struct member m;
    int r = walk_begin(&w, sm->val, sm->val_end);
    bool first = true, seen = false;
    put(o, sm->key, (size_t)(sm->key_end - sm->key));
    put(o, ":{", 2);
    while (r == 0 && (r = walk_next(&w, &m)) == 1) {
        r = 0;
        if (!key_is(&m, "nodeName")) {
            put_member(o, &first, &m);
            continue;
        }
        if (seen)
            return -ENOTSUP;
        seen = true;
        /* a non-empty string is a binding already; anything else is replaced, as the tree
         * path's obj_str/obj_set_str do */
        if (m.val[0] == '"' && !bytes_are(m.val, m.val_end, "\"\"")) {
            if (copy_plain_string(m.val, m.val_end, ret->bound_node, sizeof(ret->bound_node)) < 0)
                return -ENOTSUP;
            c->bound = true;
        }
        put_sep(o, &first);
        put(o, m.key, (size_t)(m.key_end - m.key));
        put(o, ":", 1);
        if (o->r == 0)
            o->r = kos_buf_append_json_string(o->b, in->node);
    }
    if (r < 0)
        return r;
    if (!seen) {
        put_sep(o, &first);
        put_str(o, "\"nodeName\":");
        if (o->r == 0)
            o->r = kos_buf_append_json_string(o->b, in->node);
    }
    put(o, "}", 1);
    return 0;
}

static bool is_pod_scheduled(const char *v, const char *v_end)
{
    const char *t;
    size_t tlen;
    return *v == '{' && kos_json_member(v, (size_t)(v_end - v), "type", &t, &tlen) == 1 &&
           bytes_are(t, t + tlen, "\"PodScheduled\"");
}

static int conditions(struct out *o, const struct member *cm, const struct binding_splice_in *in)
{
    put(o, cm->key, (size_t)(cm->key_end - cm->key));
    put(o, ":[", 2);
    bool first = true;
    if (cm->val[0] == '[') {
        const char *p = kos_json_skip_ws(cm->val + 1, cm->val_end);
        bool first_in = true;
        while (p < cm->val_end && *p != ']') {
            if (!first_in) {
                if (*p != ',')
                    return -ENOTSUP;
                p = kos_json_skip_ws(p + 1, cm->val_end);
            }
            first_in = false;
            const char *e = kos_json_skip_value(p, cm->val_end);
            if (!e)
                return -ENOTSUP;
            /* escapes could spell "type" or "PodScheduled" another way */
            if (memchr(p, '\\', (size_t)(e - p)))
                return -ENOTSUP;
            if (!is_pod_scheduled(p, e)) {
                put_sep(o, &first);
                put(o, p, (size_t)(e - p));
            }
            p = kos_json_skip_ws(e, cm->val_end);
        }
        if (p >= cm->val_end)
            return -ENOTSUP;
    }
    put_sep(o, &first);
    put_condition(o, in);
    put(o, "]", 1);
    return 0;
}

static int status(struct out *o, const struct member *sm, const struct binding_splice_in *in)
{
    put(o, sm->key, (size_t)(sm->key_end - sm->key));
    if (sm->val[0] != '{') {
        put_str(o, ":{\"conditions\":[");
        put_condition(o, in);
        put_str(o, "]}");
        return 0;
    }
    put(o, ":{", 2);
    struct walk w;
    struct member m;
    int r = walk_begin(&w, sm->val, sm->val_end);
    bool first = true, seen = false;
    while (r == 0 && (r = walk_next(&w, &m)) == 1) {
        r = 0;
        if (!key_is(&m, "conditions")) {
            put_member(o, &first, &m);
            continue;
        }
        if (seen)
            return -ENOTSUP;
        seen = true;
        put_sep(o, &first);
        r = conditions(o, &m, in);
    }
    if (r < 0)
        return r;
    if (!seen) {
        put_sep(o, &first);
        put_str(o, "\"conditions\":[");
        put_condition(o, in);
        put(o, "]", 1);
    }
    put(o, "}", 1);
    return 0;
}

int binding_splice(const char *pod, size_t len, const struct binding_splice_in *in,
                   struct binding_splice *ret)
{
    /* the node name may grow six times in escapes; the condition and keys are small */
    kos_buf_init(&ret->out, len + 6 * strlen(in->node) + 2 * strlen(in->now) + 512);
    ret->bound_node[0] = ret->pod_uid[0] = '\0';
    ret->rv_at = 0;
    /* one allocation: the pod grows by the node name and a condition */
    struct out o = {.b = &ret->out, .r = kos_buf_reserve(&ret->out, len + strlen(in->node) + 256)};
    struct checks c = {0};
    struct walk w;
    struct member m;
    const char *end = pod + len;
    int r = walk_begin(&w, kos_json_skip_ws(pod, end), end);
    bool first = true, seen_meta = false, seen_spec = false, seen_status = false;
    put(&o, "{", 1);
    while (r == 0 && (r = walk_next(&w, &m)) == 1) {
        r = 0;
        bool *seen = key_is(&m, "metadata") ? &seen_meta
                     : key_is(&m, "spec")   ? &seen_spec
                     : key_is(&m, "status") ? &seen_status
                                            : NULL;
        if (!seen) {
            put_member(&o, &first, &m);
            continue;
        }
        if (*seen)
            return -ENOTSUP;
        *seen = true;
        put_sep(&o, &first);
        if (seen == &seen_meta)
            r = metadata(&o, &m, in, ret, &c);
        else if (seen == &seen_spec)
            r = m.val[0] == '{' ? spec(&o, &m, in, ret, &c) : -ENOTSUP;
        else
            r = status(&o, &m, in);
    }
    if (r < 0)
        return r;
    if (kos_json_skip_ws(w.p, end) != end || !seen_meta || !seen_spec)
        return -ENOTSUP;
    if (!seen_status) {
        put_sep(&o, &first);
        put_str(&o, "\"status\":{\"conditions\":[");
        put_condition(&o, in);
        put(&o, "]}", 2);
    }
    put(&o, "}", 1);
    if (o.r < 0)
        return o.r;
    if (c.uid_mismatch)
        return -ESTALE;
    if (c.deleting)
        return -EBUSY;
    if (c.bound)
        return -EEXIST;
    return 0;
}

int binding_tree_bind(json_t *pod, const struct binding_splice_in *in, struct binding_splice *found)
{
    if (!json_is_object(pod))
        return -ENOTSUP;
    if (in->uid && in->uid[0]) {
        const char *uid = obj_str(pod, "metadata.uid");
        if (!uid || strcmp(uid, in->uid) != 0) {
            snprintf(found->pod_uid, sizeof(found->pod_uid), "%s", uid ? uid : "");
            return -ESTALE;
        }
    }
    if (obj_str(pod, "metadata.deletionTimestamp"))
        return -EBUSY;
    const char *bound = obj_str(pod, "spec.nodeName");
    if (bound && bound[0]) {
        snprintf(found->bound_node, sizeof(found->bound_node), "%s", bound);
        return -EEXIST;
    }
    json_t *spec = json_object_get(pod, "spec");
    if (!json_is_object(spec))
        return -ENOTSUP;
    if (obj_set_str(spec, "nodeName", in->node) < 0)
        return -ENOMEM;
    json_t *status = json_object_get(pod, "status");
    if (!json_is_object(status)) {
        status = json_object();
        if (json_object_set_new(pod, "status", status) < 0)
            return -ENOMEM;
    }
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        if (json_object_set_new(status, "conditions", conds) < 0)
            return -ENOMEM;
    }
    /* The binding replaces what the scheduler said before (PodScheduled=False). */
    for (size_t i = json_array_size(conds); i > 0; i--) {
        const char *type = obj_str(json_array_get(conds, i - 1), "type");
        if (type && strcmp(type, "PodScheduled") == 0)
            json_array_remove(conds, i - 1);
    }
    if (json_array_append_new(conds, json_pack("{s:s, s:s, s:n, s:s}", "type", "PodScheduled",
                                               "status", "True", "lastProbeTime",
                                               "lastTransitionTime", in->now)) < 0)
        return -ENOMEM;
    return 0;
}
