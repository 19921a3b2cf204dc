/* The kubelet's image pull back-off: after a failed pull the same key may not pull again for
 * 10 s, doubling per failure up to 300 s; a success forgets the key. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image/store.h"

#define BACKOFF_INITIAL_S 10
#define BACKOFF_MAX_S     300
#define BACKOFF_KEYS_MAX  4096

static struct image_backoff_entry *find(struct image_store *s, const char *key)
{
    for (size_t i = 0; i < s->n_backoff; i++)
        if (strcmp(s->backoff[i].key, key) == 0)
            return &s->backoff[i];
    return NULL;
}

int image_backoff_check(struct image_store *s, const char *key, const char *image, time_t now,
                        struct kos_error **err)
{
    pthread_mutex_lock(&s->lock);
    struct image_backoff_entry *e = find(s, key);
    bool waiting = e && now < e->last_failure + e->delay;
    pthread_mutex_unlock(&s->lock);
    if (!waiting)
        return 0;
    kos_error_set(err, 503, "ImagePullBackOff", "Back-off pulling image \"%s\"", image);
    return -EAGAIN;
}

void image_backoff_record(struct image_store *s, const char *key, bool success, time_t now)
{
    pthread_mutex_lock(&s->lock);
    struct image_backoff_entry *e = find(s, key);
    if (success) {
        if (e) {
            free(e->key);
            *e = s->backoff[--s->n_backoff];
        }
        goto out;
    }
    if (e) {
        /* Like the kubelet's flowcontrol.Backoff: a key idle for twice the maximum starts over. */
        if (now - e->last_failure > 2 * BACKOFF_MAX_S)
            e->delay = BACKOFF_INITIAL_S;
        else
            e->delay = e->delay * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : e->delay * 2;
        e->last_failure = now;
        goto out;
    }
    if (s->n_backoff >= BACKOFF_KEYS_MAX)
        goto out;
    struct image_backoff_entry *n = realloc(s->backoff, (s->n_backoff + 1) * sizeof(*n));
    if (!n)
        goto out;
    s->backoff = n;
    char *k = strdup(key);
    if (!k)
        goto out;
    s->backoff[s->n_backoff++] =
        (struct image_backoff_entry){.key = k, .last_failure = now, .delay = BACKOFF_INITIAL_S};
out:
    pthread_mutex_unlock(&s->lock);
}
