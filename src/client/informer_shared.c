/* One parse of a stored value for every in-process informer that wants the same form of it.
 *
 * Why: inside `kos server` the scheduler and the endpoints controllers each follow every pod
 * with an informer that drops managedFields, so every pod write was parsed twice into the
 * same tree, the largest single cost of a create (each parse ~0.5M instructions of a ~4M
 * create). Informers of one kind and form register here; the first of them to decode a
 * value leaves the tree in a small ring, the others take a reference to it, and the entry
 * leaves the ring once every sharer took it (so an idle server keeps nothing here). A miss
 * (a sharer more than RING_SLOTS values behind) only costs the parse it would have cost
 * anyway. Handlers never modify the objects they get (informer.h), so one tree serves all.
 * A kept-fields metadata informer shares the tree of its kind's full form and takes its
 * members from it (see derives()). */
#include <pthread.h>
#include <stdlib.h>

#include "util/cleanup.h"
#include "client/informer_internal.h"
#include "store/value.h"

#define RING_SLOTS 512
#define MAX_FORMS  64

struct form_id {
    const struct kos_kind *kind;
    bool metadata_only;
    bool drop_managed_fields;
};

struct informer_form {
    struct form_id id;
    unsigned sharers; /* joined informers, derivers included */
    unsigned full;    /* of which take the tree as it is */
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
static struct informer_form forms[MAX_FORMS];
static struct slot ring[RING_SLOTS];
static size_t ring_next;

/* A kept-fields metadata informer (the garbage collector's, on every kind) derives its form
 * from the tree of the kind's full form (informer_form_from_full: a few references) when an
 * informer of that form parses each value anyway: the pods' is parsed for the scheduler and
 * the endpoints controllers, and a parse of its own was ~6% of a pod create. */
static bool derives(const struct kos_informer *inf)
{
    return inf->metadata_only && inf->metadata_fields;
}

static struct form_id id_of(const struct kos_informer *inf)
{
    if (derives(inf))
        return (struct form_id){inf->kind, false, true};
    return (struct form_id){inf->kind, inf->metadata_only, inf->drop_managed_fields};
}

static bool same_id(struct form_id a, struct form_id b)
{
    return a.kind == b.kind && a.metadata_only == b.metadata_only &&
           a.drop_managed_fields == b.drop_managed_fields;
}

void informer_shared_join(struct kos_informer *inf)
{
    struct form_id id = id_of(inf);
    pthread_mutex_lock(&lock);
    struct informer_form *f = NULL;
    for (size_t i = 0; !f && i < MAX_FORMS; i++)
        if (forms[i].sharers > 0 && same_id(forms[i].id, id))
            f = &forms[i];
    for (size_t i = 0; !f && i < MAX_FORMS; i++)
        if (forms[i].sharers == 0) {
            f = &forms[i];
            *f = (struct informer_form){id, 0, 0};
        }
    /* a full table leaves the informer to parse alone */
    if (f) {
        f->sharers++;
        if (!derives(inf))
            f->full++;
    }
    inf->form = f;
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
    struct slot drop[RING_SLOTS];
    size_t ndrop = 0;
    pthread_mutex_lock(&lock);
    struct informer_form *f = inf->form;
    inf->form = NULL;
    if (f && !derives(inf))
        f->full--;
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

/* The tree the ring holds for the informer's form (its own, or the full one it derives from). */
static json_t *decode_shared_form(const struct kos_informer *inf, const struct kos_value *v)
{
    if (!derives(inf))
        return decode_value(inf, v);
    const struct kos_informer full = {.kind = inf->kind, .drop_managed_fields = true};
    return decode_value(&full, v);
}

/* The informer's form from the shared tree (a new reference; takes tree's). */
static json_t *own_form(const struct kos_informer *inf, const struct kos_value *v, json_t *tree)
{
    if (!derives(inf) || !tree)
        return tree;
    json_t *obj = informer_form_from_full(inf, tree);
    json_decref(tree);
    /* values the full form cannot stand for (see informer_form_from_full): decoded alone */
    return obj ? obj : decode_value(inf, v);
}

json_t *informer_shared_decode(const struct kos_informer *inf, struct kos_value *v)
{
    if (!v)
        return NULL;
    pthread_mutex_lock(&lock);
    struct informer_form *f = inf->form;
    bool share = f && f->full >= 1 && f->sharers >= 2;
    struct slot *mine = NULL;
    for (size_t n = 0; share && n < RING_SLOTS; n++) {
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
        return own_form(inf, v, obj);
    }
    struct slot old = {0};
    if (share) {
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
    if (!mine)
        return decode_value(inf, v);
    json_t *obj = decode_shared_form(inf, v);
    pthread_mutex_lock(&lock);
    mine->obj = json_incref(obj);
    mine->pending = false;
    pthread_cond_broadcast(&parsed);
    pthread_mutex_unlock(&lock);
    return own_form(inf, v, obj);
}
