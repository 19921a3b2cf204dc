/* What the informer's two sources share: the HTTP list+watch (informer.c) and the in-process
 * one that reads the store directly (informer_local.c). */
#pragma once

#include <pthread.h>

#include "client/informer.h"
#include "util/strmap.h"

#define INFORMER_BACKOFF_MIN_MS 100
#define INFORMER_BACKOFF_MAX_MS 5000
#define INFORMER_KEY_MAX        512
#define INFORMER_RV_MAX         64

struct store;
struct watch_sub;
struct informer_form;

struct kos_informer {
    struct kos_client *client;
    const struct kos_kind *kind;
    char *ns;
    char *label_selector;
    char *field_selector;
    bool metadata_only;
    const char **metadata_fields; /* NULL-terminated copy, or NULL */
    bool drop_managed_fields;
    int64_t page_size;
    struct kos_informer_handlers handlers[KOS_INFORMER_MAX_HANDLERS];
    size_t nhandlers;
    /* The in-process source (see informer_local.c), or NULL for list+watch over HTTP. */
    struct store *store;
    char prefix[INFORMER_KEY_MAX]; /* store: the key prefix of the kind (and namespace) */

    pthread_t thread;
    bool started;
    pthread_mutex_t lock; /* cache, values, synced, stopping, watch */
    pthread_cond_t cond;  /* synced or stopping changed */
    json_t *cache;        /* HTTP: "ns/name" -> object */
    /* store: store key -> struct informer_entry (the stored bytes, shared with the store's
     * index, so the cache costs a pointer per object rather than a parsed tree) */
    struct kos_strmap values;
    bool synced;
    bool stopping;
    struct kos_watch *watch;    /* the open watch, for stop to cancel */
    struct watch_sub *sub;      /* store: the open subscription, for stop to cancel */
    char rv[INFORMER_RV_MAX];   /* thread only: where the next watch starts */
    struct informer_form *form; /* informer_shared.c: the form it shares while joined, or NULL */
};

json_t *informer_cache_form(const struct kos_informer *inf, json_t *obj);
/* Whether a metadata member is kept in the informer's form. */
bool informer_keeps_meta(const struct kos_informer *inf, const char *key, size_t len);
/* Stored or received JSON bytes in the informer's form (informer_cache_form of the parsed
 * object), parsing only the members that form keeps. NULL when the bytes are not an object. */
json_t *informer_decode(const struct kos_informer *inf, const char *data, size_t len);
/* A kept-fields metadata informer's form (informer_decode's) from the object's full form
 * without managedFields (a drop_managed_fields informer's): the kept members by reference,
 * no parse, in the same order (see there). NULL when full lacks string kind and apiVersion
 * before metadata (informer_decode puts metadata first then), or has no metadata object. */
json_t *informer_form_from_full(const struct kos_informer *inf, const json_t *full);
void informer_notify_add(struct kos_informer *inf, const json_t *obj);
void informer_notify_update(struct kos_informer *inf, const json_t *old_obj, const json_t *obj);
void informer_notify_delete(struct kos_informer *inf, const json_t *obj);
bool informer_is_stopping(struct kos_informer *inf);
/* Sleeps ms unless the informer is stopped meanwhile; false when it is stopping. */
bool informer_pause_ms(struct kos_informer *inf, int ms);
int informer_next_backoff(int ms);
void informer_set_synced(struct kos_informer *inf);

/* ---- the in-process source (informer_local.c) ---- */

/* Sets inf->store and inf->prefix when the client has a local store and the informer can be
 * served from it (no selectors); 0 either way, or a negative errno. */
int informer_local_init(struct kos_informer *inf);
/* The informer thread's body for the local source: returns when the informer stops. */
void informer_local_run(struct kos_informer *inf);
json_t *informer_local_get(struct kos_informer *inf, const char *ns, const char *name);
json_t *informer_local_snapshot(struct kos_informer *inf);
/* Informers of one kind and form share the parse of each value (informer_shared.c): join
 * before following the store, leave when done; decode returns a new reference. */
void informer_shared_join(struct kos_informer *inf);
void informer_shared_leave(struct kos_informer *inf);
struct kos_value;
json_t *informer_shared_decode(const struct kos_informer *inf, struct kos_value *v);
void informer_local_free(struct kos_informer *inf);
