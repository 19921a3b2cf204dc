/* Removing what the runtime made: a pod's containers (stop, bundle, rootfs), its network,
 * files and logs; earlier attempts of a container; and, when disk runs short, exited
 * containers and the images no container uses. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/pods/runc_internal.h"
#include "agent/network/podnet.h"
#include "agent/pods/volumes.h"
#include "util/fs.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

/* Removes attempts older than keep_from (their state, rootfs and log). */
void runc_prune_attempts(struct rt *rt, const json_t *pod, const char *uid, const char *name,
                         int keep_from)
{
    for (int a = keep_from - 1; a >= 0; a--) {
        char id[512], dir[4096], lp[4096];
        runc_container_id(uid, name, a, id, sizeof(id));
        if (kos_container_dir(&rt->crt, id, dir, sizeof(dir)) < 0 || access(dir, F_OK) < 0)
            break;
        image_rootfs_remove(dir);
        kos_container_remove(&rt->crt, id);
        if (pod) {
            runc_log_path(rt, pod, uid, name, a, lp, sizeof(lp));
            unlink(lp);
        }
    }
}

int runc_rt_kill(void *opaque, const char *uid, const json_t *pod, int64_t grace_seconds)
{
    struct rt *rt = opaque;
    if (!uid)
        return -EINVAL;
    char **ids = NULL;
    size_t n = 0;
    int r = kos_container_list(&rt->crt, &ids, &n);
    if (r < 0)
        return r;
    size_t ul = strlen(uid);
    /* TERM every running container of the pod first, so their grace periods overlap */
    for (size_t i = 0; i < n; i++) {
        if (strncmp(ids[i], uid, ul) != 0 || ids[i][ul] != '_')
            continue;
        struct kos_container_state st;
        if (kos_container_state(&rt->crt, ids[i], &st) == 0 && st.status == KOS_CONTAINER_RUNNING &&
            grace_seconds > 0 && st.pid > 1)
            kill(st.pid, SIGTERM);
    }
    /* one grace period for the whole pod, not one per container */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(ids[i], uid, ul) == 0 && ids[i][ul] == '_') {
            struct timespec t1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            int64_t left = grace_seconds - (int64_t)(t1.tv_sec - t0.tv_sec);
            kos_container_stop(&rt->crt, ids[i], left > 0 ? left : 0);
            char dir[4096];
            if (kos_container_dir(&rt->crt, ids[i], dir, sizeof(dir)) == 0)
                image_rootfs_remove(dir);
            int rr = kos_container_remove(&rt->crt, ids[i]);
            if (rr < 0 && r == 0)
                r = rr;
        }
        free(ids[i]);
    }
    free(ids);
    /* the network goes once no container of the pod runs in it */
    if (r == 0 && rt->env.network) {
        int nr = kos_podnet_teardown(rt->env.network, uid);
        if (nr < 0)
            r = nr;
    }
    char pod_dir[2048];
    snprintf(pod_dir, sizeof(pod_dir), "%s/%s", rt->pods_dir, uid);
    kos_pod_volumes_teardown(pod_dir);
    kos_rm_rf(pod_dir);
    /* A finished pod that still exists keeps its logs (kubectl logs on a Completed pod);
     * they go with the pod's deletion. */
    bool keep_logs = pod && !json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp");
    pthread_mutex_lock(&rt->lock);
    struct pod_entry **pp = &rt->pods;
    const json_t *known = keep_logs ? NULL : pod;
    while (*pp) {
        if (strcmp((*pp)->uid, uid) == 0) {
            struct pod_entry *dead = *pp;
            *pp = dead->next;
            if (!known && !keep_logs && dead->pod) {
                /* the pod's log directory, known from the last sync */
                const json_t *meta = json_object_get(dead->pod, "metadata");
                char ld[4096];
                snprintf(ld, sizeof(ld), "%s/%s_%s_%s", rt->env.pod_log_dir,
                         jstr(meta, "namespace"), jstr(meta, "name"), uid);
                kos_rm_rf(ld);
            }
            runc_entry_free(dead);
            break;
        }
        pp = &(*pp)->next;
    }
    pthread_mutex_unlock(&rt->lock);
    kos_prober_remove_pod(rt->prober, uid);
    if (known) {
        const json_t *meta = json_object_get(known, "metadata");
        char ld[4096];
        snprintf(ld, sizeof(ld), "%s/%s_%s_%s", rt->env.pod_log_dir, jstr(meta, "namespace"),
                 jstr(meta, "name"), uid);
        kos_rm_rf(ld);
    }
    return r < 0 ? r : 0;
}

/* ContainerGC.DeleteAllUnusedContainers, then ImageGC.DeleteUnusedImages: every exited
 * earlier attempt goes (the latest attempt of a container is its status and stays; the logs
 * stay with the pod), then every image no remaining container uses. */
int runc_rt_reclaim_disk(void *opaque, int64_t *freed)
{
    struct rt *rt = opaque;
    char **ids = NULL;
    size_t n = 0;
    int r = kos_container_list(&rt->crt, &ids, &n);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *in_use = json_array();
    for (size_t i = 0; i < n && in_use; i++) {
        const char *us = strrchr(ids[i], '_');
        int64_t attempt;
        if (!us || kos_parse_int64(us + 1, &attempt) < 0)
            continue;
        size_t pl = (size_t)(us - ids[i]) + 1; /* "<uid>_<name>_" */
        bool newer = false;
        for (size_t j = 0; j < n && !newer; j++) {
            int64_t a;
            newer = j != i && !strncmp(ids[j], ids[i], pl) && !strchr(ids[j] + pl, '_') &&
                    kos_parse_int64(ids[j] + pl, &a) == 0 && a > attempt;
        }
        struct kos_container_state st;
        if (newer && kos_container_state(&rt->crt, ids[i], &st) == 0 &&
            st.status == KOS_CONTAINER_EXITED) {
            char dir[4096];
            if (kos_container_dir(&rt->crt, ids[i], dir, sizeof(dir)) == 0)
                image_rootfs_remove(dir);
            kos_container_remove(&rt->crt, ids[i]);
            continue;
        }
        char image_id[IMAGE_REF_MAX + IMAGE_DIGEST_MAX];
        runc_read_image_id(rt, ids[i], image_id, sizeof(image_id));
        image_id[strcspn(image_id, "\n")] = '\0';
        const char *at = strrchr(image_id, '@');
        const char *digest = at ? at + 1 : image_id;
        if (*digest)
            json_array_append_new(in_use, json_string(digest));
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    if (!in_use)
        return -ENOMEM;
    int64_t f = 0;
    r = image_store_gc(rt->images, in_use, &f);
    if (r == 0 && freed)
        *freed += f;
    return r;
}
