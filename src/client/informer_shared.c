/* One parse of a stored value for every in-process informer that wants the same form of it.
 *
 * Why: inside `kos server` the scheduler and the endpoints controllers each follow every pod
 * with an informer that drops managedFields, so every pod write was parsed twice into the
 * same tree, the largest single cost of a create (each parse ~0.5M instructions of a ~4M
 * create). Informers of one kind and form register here; the first of them to decode a
 * value leaves the tree in a small ring, the others take a reference to it, and the entry
 * leaves the ring once every sharer took it (so an idle server keeps nothing here). A miss
 * (a sharer more than RING_SLOTS values behind) only costs the parse it would have cost
 * anyway. Handlers never modify the objects they get (informer.h), so one tree serves all. */
#include <pthread.h>
#include <stdlib.h>

#include "util/cleanup.h"
#include "client/informer_internal.h"
#include "store/value.h"

#define RING_SLOTS 512
#define MAX_FORMS  32

struct form_id {
    const struct kos_kind *kind;
    bool metadata_only;
    bool drop_managed_fields;
};

struct form {
    struct form_id id;
    unsigned sharers;
};

struct slot {
    struct kos_value *value; /* a reference: the pointer stays this value's while here */
    struct form_id form;     /* by value: a forms[] entry may serve another form later */
    json_t *obj;
    unsigned uses; /* sharers that took it (the decoder included) */
    bool pending;  /* claimed by the sharer parsing it; obj not set yet */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t parsed = PTHREAD_COND_INITIALIZER;
static struct form forms[MAX_FORMS];
static struct slot ring[RING_SLOTS];
static size_t ring_next;

/* Informers with a kept-fields list would have to compare their lists: they decode alone. */
static bool shareable(const struct kos_informer *inf)
{
    return !inf->metadata_fields;
}

static struct form_id id_of(const struct kos_informer *inf)
{
    return (struct form_id){inf->kind, inf->metadata_only, inf->drop_managed_fields};
}

static bool same_id(struct form_id a, struct form_id b)
{
    return a.kind == b.kind && a.metadata_only == b.metadata_only &&
           a.drop_managed_fields == b.drop_managed_fields;
}

static struct form *form_of(const struct kos_informer *inf)
{
    for (size_t i = 0; i < MAX_FORMS; i++)
        if (forms[i].sharers > 0 && same_id(forms[i].id, id_of(inf)))
            return &forms[i];
    return NULL;
}

void informer_shared_join(struct kos_informer *inf)
{
    if (!shareable(inf))
        return;
    pthread_mutex_lock(&lock);
    struct form *f = form_of(inf);
    for (size_t i = 0; !f && i < MAX_FORMS; i++)
        if (forms[i].sharers == 0) {
            f = &forms[i];
            *f = (struct form){id_of(inf), 0};
        }
    if (f)
        f->sharers++;
    pthread_mutex_unlock(&lock);
}

static void slot_take(struct slot *s, struct slot *out)
{
    *out = *s;
    *s = (struct slot){0};
}

static void slot_clear(struct slot *s)
{
    kos_value_unref(s->value);
    json_decref(s->obj);
}

void informer_shared_leave(struct kos_informer *inf)
{
    if (!shareable(inf))
        return;
    struct slot drop[RING_SLOTS];
    size_t ndrop = 0;
    pthread_mutex_lock(&lock);
    struct form *f = form_of(inf);
    if (f && --f->sharers == 0)
        for (size_t i = 0; i < RING_SLOTS; i++)
            if (ring[i].value && same_id(ring[i].form, f->id) && !ring[i].pending)
                slot_take(&ring[i], &drop[ndrop++]);
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; i < ndrop; i++)
        slot_clear(&drop[i]);
}

/* A value may be held in shared pieces (store/value.h): the parser wants one piece. */
static json_t *decode_value(const struct kos_informer *inf, const struct kos_value *v)
{
    _cleanup_free_ char *tmp = NULL;
    const char *data = kos_value_bytes(v, &tmp);
    return data ? informer_decode(inf, data, v->len) : NULL;
}

json_t *informer_shared_decode(const struct kos_informer *inf, struct kos_value *v)
{
    if (!v)
        return NULL;
    if (!shareable(inf))
        return decode_value(inf, v);
    pthread_mutex_lock(&lock);
    struct form *f = form_of(inf);
    struct slot *mine = NULL;
    for (size_t n = 0; f && f->sharers >= 2 && n < RING_SLOTS; n++) {
        struct slot *s = &ring[(ring_next + RING_SLOTS - 1 - n) % RING_SLOTS];
        if (s->value != v || !same_id(s->form, f->id))
            continue;
        /* another sharer is parsing it: a parse's time, not worth a second parse */
        while (s->pending)
            pthread_cond_wait(&parsed, &lock);
        if (s->value != v || !same_id(s->form, f->id) || !s->obj)
            break; /* evicted meanwhile, or the bytes did not parse: parse them here */
        json_t *obj = json_incref(s->obj);
        struct slot done = {0};
        if (++s->uses >= f->sharers)
            slot_take(s, &done);
        pthread_mutex_unlock(&lock);
        slot_clear(&done);
        return obj;
    }
    struct slot old = {0};
    if (f && f->sharers >= 2) {
        /* claim a slot before parsing, so that a sharer at the same event waits for this
         * parse instead of making its own */
        mine = &ring[ring_next];
        ring_next = (ring_next + 1) % RING_SLOTS;
        if (mine->pending)
            mine = NULL; /* the ring came round to a parse still running: share nothing */
        else {
            slot_take(mine, &old);
            *mine = (struct slot){kos_value_ref(v), f->id, NULL, 1, true};
        }
    }
    pthread_mutex_unlock(&lock);
    slot_clear(&old);
    json_t *obj = decode_value(inf, v);
    if (!mine)
        return obj;
    pthread_mutex_lock(&lock);
    mine->obj = json_incref(obj);
    mine->pending = false;
    pthread_cond_broadcast(&parsed);
    pthread_mutex_unlock(&lock);
    return obj;
}
