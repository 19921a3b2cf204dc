/* A container's state as the runtime reads it from disk: its latest attempt (and the one
 * before), the image it runs, whether its exit is watched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pods/runc_internal.h"
#include "util/strutil.h"

/* The latest attempt number of a container (-1: none), from the state directories. */
static int latest_attempt(struct rt *rt, const char *uid, const char *name)
{
    char **ids = NULL;
    size_t n = 0;
    if (kos_container_list(&rt->crt, &ids, &n) < 0)
        return -1;
    char prefix[512];
    snprintf(prefix, sizeof(prefix), "%s_%s_", uid, name);
    size_t pl = strlen(prefix);
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        int64_t a;
        if (strncmp(ids[i], prefix, pl) == 0 && kos_parse_int64(ids[i] + pl, &a) == 0 && a >= 0 &&
            a < 1000000 && a > best)
            best = (int)a;
        free(ids[i]);
    }
    free(ids);
    return best;
}

void runc_read_image_id(struct rt *rt, const char *id, char *out, size_t size)
{
    char dir[4096], path[4200];
    out[0] = '\0';
    if (kos_container_dir(&rt->crt, id, dir, sizeof(dir)) < 0)
        return;
    snprintf(path, sizeof(path), "%s/image-id", dir);
    FILE *f = fopen(path, "re");
    if (f) {
        if (!fgets(out, (int)size, f))
            out[0] = '\0';
        fclose(f);
    }
}

/* Fills a view from the container's attempts on disk. */
void runc_view_of(struct rt *rt, struct pod_entry *e, const char *uid, const json_t *c,
                  struct kos_ctr_view *v, char *image_id_buf, size_t image_id_size)
{
    memset(v, 0, sizeof(*v));
    v->name = jstr(c, "name");
    v->image = jstr(c, "image");
    int a = latest_attempt(rt, uid, v->name);
    if (a >= 0) {
        char id[512];
        runc_container_id(uid, v->name, a, id, sizeof(id));
        if (kos_container_state(&rt->crt, id, &v->cur) == 0) {
            v->has_cur = true;
            v->restart_count = a;
            snprintf(v->container_id, sizeof(v->container_id), "%s://%s",
                     rt->env.container_runtime ? rt->env.container_runtime : "runc", id);
            runc_read_image_id(rt, id, image_id_buf, image_id_size);
        }
        if (a > 0) {
            runc_container_id(uid, v->name, a - 1, id, sizeof(id));
            if (kos_container_state(&rt->crt, id, &v->last) == 0 &&
                v->last.status == KOS_CONTAINER_EXITED) {
                v->has_last = true;
                snprintf(v->last_id, sizeof(v->last_id), "%s://%s",
                         rt->env.container_runtime ? rt->env.container_runtime : "runc", id);
            }
        }
    }
    if (!image_id_buf[0] && jstr(e->images, v->name))
        kos_strlcpy(image_id_buf, jstr(e->images, v->name), image_id_size);
    v->image_id = image_id_buf;
    const json_t *w = json_object_get(e->waiting, v->name);
    if (w) {
        v->waiting_reason = jstr(w, "reason");
        v->waiting_message = jstr(w, "message");
    }
}

/* Whether the current attempt of a container runs with its exit watched (no polling). */
bool runc_exit_watched(struct rt *rt, const char *uid, const struct kos_ctr_view *v)
{
    if (!v->has_cur || v->cur.status != KOS_CONTAINER_RUNNING)
        return false;
    char id[512];
    runc_container_id(uid, v->name, v->restart_count, id, sizeof(id));
    return exit_watch_has(rt->exits, id);
}
