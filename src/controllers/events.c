/* The event recorder: builds core/v1 Events and writes them through the API client, folding
 * repeats into the count of the first occurrence, as client-go's EventCorrelator does. */
#include "controllers/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/json.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strmap.h"
#include "util/timeutil.h"

#define RECENT_MAX    256 /* repeats folded into an earlier event: this many remembered */
#define MESSAGE_MAX   1024
#define NAME_MAX_LEN  253
#define SUFFIX_DIGITS 16
#define EVENT_MAX     (1024 * 1024) /* an encoded Event, annotations included */

struct recent {
    char *key; /* uid, type, reason and message of the event */
    char ns[NAME_MAX_LEN + 1];
    char name[NAME_MAX_LEN + 1];
    int64_t count;
};

struct kos_event_recorder {
    struct kos_client *client;
    char *component;
    pthread_mutex_t lock;
    struct recent recent[RECENT_MAX];
    struct kos_strmap by_key; /* key → its struct recent: a scan compared every slot */
    size_t next;              /* round-robin slot to reuse */
};

int kos_event_recorder_new(struct kos_client *c, const char *component,
                           struct kos_event_recorder **ret)
{
    struct kos_event_recorder *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->client = c;
    r->component = strdup(component);
    if (!r->component) {
        free(r);
        return -ENOMEM;
    }
    pthread_mutex_init(&r->lock, NULL);
    *ret = r;
    return 0;
}

void kos_event_recorder_free(struct kos_event_recorder *r)
{
    if (!r)
        return;
    kos_strmap_free(&r->by_key);
    for (size_t i = 0; i < RECENT_MAX; i++)
        free(r->recent[i].key);
    pthread_mutex_destroy(&r->lock);
    free(r->component);
    free(r);
}

static const char *meta_str(const json_t *obj, const char *field)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

/* The literal text lit, then s as a JSON string; nothing once an earlier step failed (r < 0),
 * so that the members of an Event chain without a check after each. */
static int put_str(struct kos_buf *b, int r, const char *lit, const char *s)
{
    if (r == 0)
        r = kos_buf_append_str(b, lit);
    return r < 0 ? r : kos_buf_append_json_string(b, s);
}

/* "key": value, for a non-empty value; *first tells whether a comma goes before it. */
static int put_str_if(struct kos_buf *b, int r, bool *first, const char *key, const char *value)
{
    if (r < 0 || !value || !value[0])
        return r;
    r = kos_buf_append_str(b, *first ? "\"" : ",\"");
    *first = false;
    if (r == 0)
        r = kos_buf_append_str(b, key);
    return put_str(b, r, "\":", value);
}

static int put_annotations(struct kos_buf *b, const json_t *annotations)
{
    if (json_object_size(annotations) == 0)
        return 0;
    size_t len = 0;
    _cleanup_free_ char *enc = kos_json_encode(annotations, &len);
    if (!enc)
        return -ENOMEM;
    int r = kos_buf_append_str(b, ",\"annotations\":");
    return r < 0 ? r : kos_buf_append(b, enc, len);
}

int kos_event_encode(const char *component, const struct kos_event_object *o,
                     const json_t *annotations, const char *type, const char *reason,
                     const char *message, time_t now, unsigned long long name_suffix,
                     struct kos_buf *out)
{
    if (!o->name || !o->name[0])
        return -EINVAL;
    char ev_name[NAME_MAX_LEN + 1], ts[32];
    snprintf(ev_name, sizeof(ev_name), "%.*s.%llx", NAME_MAX_LEN - SUFFIX_DIGITS - 1, o->name,
             name_suffix);
    kos_time_rfc3339(now, ts, sizeof(ts));
    /* the members in the order kos has always written Events (the unit test holds it) */
    const char *const ref[][2] = {
        {"kind", o->kind},
        {"namespace", o->ns},
        {"name", o->name},
        {"uid", o->uid},
        {"apiVersion", o->api_version},
        {"resourceVersion", o->resource_version},
        {"fieldPath", o->field_path},
    };
    bool first = true;
    struct kos_buf *b = out;
    int r =
        put_str(b, 0, "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":", ev_name);
    r = put_str(b, r, ",\"namespace\":", o->ns && o->ns[0] ? o->ns : "default");
    if (r == 0)
        r = put_annotations(b, annotations);
    if (r == 0)
        r = kos_buf_append_str(b, "},\"involvedObject\":{");
    for (size_t i = 0; i < ARRAY_SIZE(ref); i++)
        r = put_str_if(b, r, &first, ref[i][0], ref[i][1]);
    r = put_str(b, r, "},\"reason\":", reason);
    r = put_str(b, r, ",\"message\":", message);
    r = put_str(b, r, ",\"type\":", type);
    r = put_str(b, r, ",\"source\":{\"component\":", component);
    if (r == 0)
        r = kos_buf_printf(b, "},\"firstTimestamp\":\"%s\",\"lastTimestamp\":\"%s\",\"count\":1",
                           ts, ts);
    r = put_str(b, r, ",\"reportingComponent\":", component);
    if (r == 0)
        r = kos_buf_append_str(b, ",\"reportingInstance\":\"\"}");
    return r;
}

static void object_of(const json_t *involved, struct kos_event_object *o)
{
    *o = (struct kos_event_object){
        .api_version = json_string_value(json_object_get(involved, "apiVersion")),
        .kind = json_string_value(json_object_get(involved, "kind")),
        .ns = meta_str(involved, "namespace"),
        .name = meta_str(involved, "name"),
        .uid = meta_str(involved, "uid"),
        .resource_version = meta_str(involved, "resourceVersion"),
        .field_path = json_string_value(json_object_get(involved, "fieldPath")),
    };
}

static const struct kos_kind *event_kind(void)
{
    return kos_kind_by_kind("", "Event");
}

/* Under the lock: the remembered occurrence of key, or NULL. */
static struct recent *find_recent(struct kos_event_recorder *r, const char *key)
{
    return kos_strmap_get(&r->by_key, key);
}

/* Under the lock: the slot no longer remembers its event. */
static void forget(struct kos_event_recorder *r, struct recent *rec)
{
    if (!rec->key)
        return;
    kos_strmap_remove(&r->by_key, rec->key);
    free(rec->key);
    rec->key = NULL;
}

/* Under the lock: remembers a first occurrence (best effort: without memory it is not). */
static void remember(struct kos_event_recorder *r, const char *key, const char *ns,
                     const char *name)
{
    struct recent *slot = &r->recent[r->next];
    r->next = (r->next + 1) % RECENT_MAX;
    forget(r, slot);
    slot->key = strdup(key);
    if (slot->key && kos_strmap_put(&r->by_key, slot->key, slot) < 0) {
        free(slot->key);
        slot->key = NULL;
    }
    snprintf(slot->ns, sizeof(slot->ns), "%s", ns);
    snprintf(slot->name, sizeof(slot->name), "%s", name);
    slot->count = 1;
}

/* Folds a repeat into the earlier event. -ENOENT when that event is gone. */
static int bump(struct kos_event_recorder *r, struct recent *rec, time_t now)
{
    char ts[32];
    kos_time_rfc3339(now, ts, sizeof(ts));
    _cleanup_json_ json_t *patch =
        json_pack("{s:I, s:s}", "count", (json_int_t)(rec->count + 1), "lastTimestamp", ts);
    if (!patch)
        return -ENOMEM;
    struct kos_ref ref = {.kind = event_kind(), .ns = rec->ns, .name = rec->name};
    int e = kos_client_patch(r->client, &ref, KOS_PATCH_MERGE, patch, NULL, false, NULL, NULL);
    if (e == 0)
        rec->count++;
    return e;
}

static int create(struct kos_event_recorder *r, const char *key, const struct kos_event_object *o,
                  const json_t *annotations, const char *type, const char *reason,
                  const char *message, time_t now)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    unsigned long long suffix = (unsigned long long)t.tv_sec * 1000000000ULL + (unsigned)t.tv_nsec;
    const char *ns = o->ns && o->ns[0] ? o->ns : "default";
    struct kos_ref ref = {.kind = event_kind(), .ns = ns};
    _cleanup_buf_ struct kos_buf body;
    kos_buf_init(&body, EVENT_MAX);
    int e = -EEXIST;
    for (int attempt = 0; attempt < 3 && e == -EEXIST; attempt++) {
        /* written as bytes: a tree built, encoded and freed per event cost more than the
         * rest of the recorder */
        kos_buf_reset(&body);
        int br = kos_event_encode(r->component, o, annotations, type, reason, message, now,
                                  suffix + attempt, &body);
        if (br < 0)
            return br;
        e = kos_client_create_encoded(r->client, &ref, body.data, body.len, NULL, NULL);
        if (e < 0)
            continue;
        char ev_name[NAME_MAX_LEN + 1];
        snprintf(ev_name, sizeof(ev_name), "%.*s.%llx", NAME_MAX_LEN - SUFFIX_DIGITS - 1, o->name,
                 suffix + attempt);
        remember(r, key, ns, ev_name);
    }
    return e;
}

static int record(struct kos_event_recorder *r, const struct kos_event_object *o,
                  const json_t *annotations, const char *type, const char *reason,
                  const char *message)
{
    const char *uid = o->uid;
    const char *field = o->field_path;
    size_t klen = strlen(message) + strlen(type) + strlen(reason) + (uid ? strlen(uid) : 0) +
                  (field ? strlen(field) : 0) + 8;
    _cleanup_free_ char *key = malloc(klen);
    if (!key)
        return -ENOMEM;
    snprintf(key, klen, "%s%s\x1f%s\x1f%s\x1f%s", uid ? uid : "", field ? field : "", type, reason,
             message);
    time_t now = time(NULL);
    pthread_mutex_lock(&r->lock);
    struct recent *rec = find_recent(r, key);
    int e = rec ? bump(r, rec, now) : -ENOENT;
    if (e == -ENOENT) {
        if (rec)
            forget(r, rec);
        e = create(r, key, o, annotations, type, reason, message, now);
    }
    pthread_mutex_unlock(&r->lock);
    return e;
}

int kos_event_record_object(struct kos_event_recorder *r, const struct kos_event_object *o,
                            const char *type, const char *reason, const char *message)
{
    char cut[MESSAGE_MAX];
    if (strlen(message) >= sizeof(cut)) { /* as the printf forms truncate */
        memcpy(cut, message, sizeof(cut) - 1);
        cut[sizeof(cut) - 1] = '\0';
        message = cut;
    }
    return record(r, o, NULL, type, reason, message);
}

int kos_event_record(struct kos_event_recorder *r, const json_t *involved, const char *type,
                     const char *reason, const char *fmt, ...)
{
    char message[MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    struct kos_event_object o;
    object_of(involved, &o);
    return record(r, &o, NULL, type, reason, message);
}

int kos_event_record_annotated(struct kos_event_recorder *r, const json_t *involved,
                               const json_t *annotations, const char *type, const char *reason,
                               const char *fmt, ...)
{
    char message[MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    struct kos_event_object o;
    object_of(involved, &o);
    return record(r, &o, annotations, type, reason, message);
}
