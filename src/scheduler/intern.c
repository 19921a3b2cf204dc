#include "scheduler/intern.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "util/strmap.h"

/* Keyed by the object's canonical bytes (sorted keys, compact), so equal objects meet. */
struct interned {
    json_t *obj;
    size_t holders;
    char key[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct kos_strmap table;

static char *canonical(const json_t *obj)
{
    return kos_json_encode_sorted(obj, NULL);
}

json_t *sched_intern_object(const json_t *obj)
{
    if (!json_is_object(obj))
        return NULL;
    char *key = canonical(obj);
    if (!key)
        return NULL;
    json_t *ret = NULL;
    pthread_mutex_lock(&lock);
    struct interned *e = kos_strmap_get(&table, key);
    if (e) {
        e->holders++;
        ret = json_incref(e->obj);
    } else {
        size_t n = strlen(key);
        e = malloc(sizeof(*e) + n + 1);
        if (e) {
            memcpy(e->key, key, n + 1);
            e->holders = 1;
            e->obj = json_deep_copy(obj);
        }
        if (e && e->obj && kos_strmap_put(&table, e->key, e) == 0) {
            ret = json_incref(e->obj);
        } else if (e) {
            json_decref(e->obj);
            free(e);
        }
    }
    pthread_mutex_unlock(&lock);
    free(key);
    return ret;
}

void sched_intern_release(json_t *obj)
{
    if (!obj)
        return;
    char *key = canonical(obj);
    pthread_mutex_lock(&lock);
    struct interned *e = key ? kos_strmap_get(&table, key) : NULL;
    if (e && e->obj == obj && --e->holders == 0) {
        kos_strmap_remove(&table, e->key);
        json_decref(e->obj);
        free(e);
    }
    if (!table.len)
        kos_strmap_free(&table);
    pthread_mutex_unlock(&lock);
    free(key);
    /* the holder's own reference; without a key (out of memory) the entry stays, which only
     * keeps one copy alive */
    json_decref(obj);
}

size_t sched_intern_count(void)
{
    pthread_mutex_lock(&lock);
    size_t n = table.len;
    pthread_mutex_unlock(&lock);
    return n;
}
