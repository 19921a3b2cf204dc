/* The managedFields entry of a create, remembered for creates of the same shape.
 *
 * Why: a create's entry (manager, Update, apiVersion, time, the object's field set) was the
 * largest cost of a create after parsing: the typed comparison with the zero object, the set
 * algebra and kube's sorted fieldsV1 (~0.9M of ~3.7M instructions). Clients create objects of
 * the same shape again and again (a load generator, a ReplicaSet's pods, a chart's
 * ConfigMaps), and the field set of a create depends only on that shape.
 *
 * The shape (struct shape_sig) is a byte string that determines the set: every map key at
 * every depth with the type of its value, and list contents in full (list item keys, set
 * members and atomic lists all come from item values). Scalar values of map fields do not
 * change which fields exist, so names, label values and timestamps differ freely between
 * hits. A hit copies the remembered entry (its fieldsV1 tree shared, never modified) with
 * this write's time; the full computation runs on a miss and fills the memo. Only plain
 * creates use it: no subresource, no managedFields in the body. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/apply.h"
#include "api/apply_internal.h"
#include "api/managed_fields.h"
#include "codec/json.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/hash.h"
#include "util/json_cleanup.h"
#include "util/timeutil.h"

/* Enough for the shapes of a busy cluster's creates: a ReplicaSet's pods share one shape, but
 * pods whose list items differ in a value (the requests of each container) each have their
 * own, and a workload of a few dozen such shapes must not evict its own entries in turn. */
#define MEMO_SLOTS         128
#define SHAPE_MAX_SIZE     (64 * 1024) /* a larger object is computed each time */
#define SHAPE_INITIAL_SIZE 4096

struct memo_slot {
    const struct kos_kind *kind;
    char *manager;
    char *shape;
    size_t shape_len;
    uint64_t hash;
    json_t *entry; /* a private deep copy: its members are shared by the entries handed out */
    bool used;     /* hit since the clock hand last passed: spared once (second chance) */
    /* The entry's fieldsV1 (shared with every entry handed out) and its encoding: a create's
     * stored bytes splice it in rather than encode ~2.5 KB of small objects again. */
    const json_t *fields;
    char *fields_json;
    size_t fields_json_len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct memo_slot slots[MEMO_SLOTS];
static size_t next_slot;

/* One capacity check per token (kos_buf_put): the shape is a few KB of small tokens; it is
 * not NUL-terminated (only its bytes count), and kos_buf_reserve keeps SHAPE_MAX_SIZE. */

/* A tag and a length: one byte for lengths below 255, else 255 and four bytes. Either form
 * is read back unambiguously, so two different sequences of tokens never give the same bytes. */
static inline int put_len(struct kos_buf *b, char tag, size_t n)
{
    unsigned char t[6] = {(unsigned char)tag, (unsigned char)n};
    if (n < 0xff)
        return kos_buf_put(b, t, 2);
    uint32_t len = (uint32_t)n;
    t[1] = 0xff;
    memcpy(t + 2, &len, sizeof(len));
    return kos_buf_put(b, t, sizeof(t));
}

static int shape_of(struct kos_buf *b, const json_t *v, bool full, unsigned depth)
{
    if (depth > KOS_FIELDSET_MAX_DEPTH)
        return -E2BIG;
    int r = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        size_t n;
        json_t *c;
        r = put_len(b, '{', json_object_size(v));
        json_object_keylen_foreach((json_t *)v, k, n, c)
        {
            if (r == 0)
                r = put_len(b, 'k', n);
            if (r == 0)
                r = kos_buf_put(b, k, n);
            if (r == 0)
                r = shape_of(b, c, full, depth + 1);
            if (r < 0)
                return r;
        }
        return r;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *c;
        r = put_len(b, '[', json_array_size(v));
        json_array_foreach(v, i, c)
        {
            if (r == 0)
                r = shape_of(b, c, true, depth + 1);
        }
        return r;
    }
    case JSON_STRING:
        if (!full)
            return kos_buf_put(b, "s", 1);
        r = put_len(b, 's', json_string_length(v));
        return r < 0 ? r : kos_buf_put(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: {
        json_int_t n = json_integer_value(v);
        r = kos_buf_put(b, "i", 1);
        return r < 0 || !full ? r : kos_buf_put(b, &n, sizeof(n));
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        r = kos_buf_put(b, "r", 1);
        return r < 0 || !full ? r : kos_buf_put(b, &d, sizeof(d));
    }
    case JSON_TRUE:
        return kos_buf_put(b, full ? "T" : "b", 1);
    case JSON_FALSE:
        return kos_buf_put(b, full ? "F" : "b", 1);
    case JSON_NULL:
        return kos_buf_put(b, "z", 1);
    }
    return -EINVAL;
}

static bool slot_is(const struct memo_slot *s, const struct kos_kind *kind, const char *manager,
                    const char *shape, size_t len, uint64_t hash)
{
    return s->entry && s->kind == kind && s->hash == hash && s->shape_len == len &&
           strcmp(s->manager, manager) == 0 && memcmp(s->shape, shape, len) == 0;
}

static void slot_clear(struct memo_slot *s)
{
    free(s->fields_json);
    free(s->manager);
    free(s->shape);
    json_decref(s->entry);
    *s = (struct memo_slot){0};
}

/* The entry with this write's time: a new object whose members are the remembered ones. */
static int entry_now(const json_t *remembered, time_t now, json_t **ret)
{
    _cleanup_json_ json_t *e = json_copy((json_t *)remembered);
    if (!e)
        return -ENOMEM;
    if (json_object_get(e, "time")) {
        char t[40];
        kos_time_rfc3339(now, t, sizeof(t));
        if (json_object_set_new(e, "time", json_string(t)) < 0)
            return -ENOMEM;
    }
    *ret = TAKE_PTR(e);
    return 0;
}

bool mf_memo_applies(const struct kos_field_manager *fm, const json_t *live, const json_t *obj)
{
    return !live && (!fm->subresource || !fm->subresource[0]) &&
           !json_object_get(json_object_get(obj, "metadata"), "managedFields");
}

int mf_memo_shape(const json_t *obj, struct kos_buf *ret)
{
    kos_buf_init(ret, SHAPE_MAX_SIZE);
    /* a pod's shape is a few KB: no doubling up from the buffer's 256 bytes */
    int r = kos_buf_reserve(ret, SHAPE_INITIAL_SIZE);
    if (r == 0)
        r = shape_of(ret, obj, false, 0);
    if (r < 0)
        kos_buf_free(ret);
    return r;
}

int mf_memo_get(const struct kos_field_manager *fm, const struct kos_buf *shape, json_t *obj)
{
    uint64_t h = kos_hash_bytes(shape->data, shape->len);
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta))
        return -ENOENT;
    _cleanup_json_ json_t *remembered = NULL;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < MEMO_SLOTS && !remembered; i++)
        if (slot_is(&slots[i], fm->kind, fm->manager, shape->data, shape->len, h)) {
            remembered = json_incref(slots[i].entry);
            slots[i].used = true;
        }
    pthread_mutex_unlock(&lock);
    if (!remembered)
        return -ENOENT;
    _cleanup_json_ json_t *e = NULL;
    int r = entry_now(remembered, fm->now, &e);
    if (r < 0)
        return r;
    json_t *list = json_array();
    if (!list || json_array_append_new(list, TAKE_PTR(e)) < 0 ||
        json_object_set_new(meta, "managedFields", list) < 0)
        return -ENOMEM;
    return 0;
}

void mf_memo_put(const struct kos_field_manager *fm, const struct kos_buf *shape, const json_t *obj)
{
    const json_t *list = json_object_get(json_object_get(obj, "metadata"), "managedFields");
    if (json_array_size(list) != 1)
        return; /* nothing recorded (an empty set), or not one entry: not worth remembering */
    struct memo_slot s = {.kind = fm->kind,
                          .manager = strdup(fm->manager),
                          .shape = malloc(shape->len ? shape->len : 1),
                          .shape_len = shape->len,
                          .hash = kos_hash_bytes(shape->data, shape->len),
                          .entry = json_deep_copy(json_array_get(list, 0))};
    if (!s.manager || !s.shape || !s.entry) {
        slot_clear(&s);
        return;
    }
    memcpy(s.shape, shape->data, shape->len);
    s.fields = json_object_get(s.entry, "fieldsV1");
    if (json_is_object(s.fields))
        s.fields_json = kos_json_encode(s.fields, &s.fields_json_len); /* NULL: not spliced */
    struct memo_slot old = {0};
    pthread_mutex_lock(&lock);
    bool known = false;
    for (size_t i = 0; i < MEMO_SLOTS && !known; i++)
        known = slot_is(&slots[i], s.kind, s.manager, s.shape, s.shape_len, s.hash);
    if (!known) {
        /* the clock: a slot hit since the hand last passed it is spared this round */
        for (size_t n = 0; n < MEMO_SLOTS && slots[next_slot].used; n++) {
            slots[next_slot].used = false;
            next_slot = (next_slot + 1) % MEMO_SLOTS;
        }
        old = slots[next_slot];
        slots[next_slot] = s;
        s = (struct memo_slot){0};
        next_slot = (next_slot + 1) % MEMO_SLOTS;
    }
    pthread_mutex_unlock(&lock);
    slot_clear(&old);
    slot_clear(&s);
}

int kos_managed_fields_memo_json(const json_t *fields, char **ret, size_t *ret_len)
{
    char *copy = NULL;
    size_t len = 0;
    bool found = false;
    if (!fields)
        return -ENOENT;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < MEMO_SLOTS && !found; i++) {
        const struct memo_slot *s = &slots[i];
        if (s->fields != fields || !s->fields_json)
            continue;
        found = true;
        len = s->fields_json_len;
        copy = malloc(len + 1);
        if (copy)
            memcpy(copy, s->fields_json, len + 1);
    }
    pthread_mutex_unlock(&lock);
    if (!found)
        return -ENOENT;
    if (!copy)
        return -ENOMEM;
    *ret = copy;
    *ret_len = len;
    return 0;
}
