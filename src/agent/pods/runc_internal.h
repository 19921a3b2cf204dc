/* Internal to the runc/crun pod runtime (runc_*.c in this folder, which implements
 * pod_runtime.h): its state and the functions its files share.
 *
 * Containers are named "<pod uid>_<container name>_<attempt>": what the shims left on disk is
 * enough to find every pod's containers again after the agent restarts. The latest two
 * attempts of each container are kept (state and logs: `kubectl logs --previous`). */
#pragma once

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/image/image.h"
#include "agent/pods/backoff.h"
#include "agent/pods/exit_watch.h"
#include "agent/pods/pod_runtime.h"
#include "agent/pods/pod_status.h"
#include "agent/runtime/container.h"
#include "controllers/events.h"
#include "agent/prober/prober.h"
#include "util/error.h"

#define MAX_CTRS 64
#define POLL_MS  1000

/* a container's imageID as the status shows it */
struct image_id {
    char s[IMAGE_REF_MAX + IMAGE_DIGEST_MAX];
};

struct pod_entry {
    char uid[64];
    char start_time[40];
    json_t *pod;       /* last seen */
    json_t *waiting;   /* container name -> {reason, message}: errors before a start */
    json_t *images;    /* container name -> imageID */
    bool dns_warned;   /* MissingClusterDNS recorded */
    char pod_ip[64];   /* its own address ("": the node's, hostNetwork or no pod network) */
    char netns[1400];  /* its network namespace ("": the node's) */
    char net_err[512]; /* the last network set-up failure reported (events once each) */
    struct {
        char name[256];
        struct kos_crash_backoff b;
    } backoff[MAX_CTRS];
    size_t n_backoff;
    struct pod_entry *next;
};

struct rt {
    struct pod_runtime_env env;
    /* the agent's own env: it fills `agent` in only after pod_runtime_new returned */
    const struct pod_runtime_env *live_env;
    char root[1024];
    char state_root[1100];
    char runtime_root[1100];
    char pods_dir[1100];
    struct kos_runtime crt;
    struct image_store *images;
    struct kos_event_recorder *events; /* the kubelet's FailedMount warnings */
    struct kos_prober *prober;         /* liveness, readiness and startup probes */
    struct exit_watch *exits;          /* the exits of the containers started here */
    pthread_mutex_t lock;
    struct pod_entry *pods;
};

static inline const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* runc_runtime.c: the runtime's pod entries and names */
struct pod_entry *runc_entry_get(struct rt *rt, const char *uid, bool create);
void runc_entry_free(struct pod_entry *e);
void runc_container_id(const char *uid, const char *name, int attempt, char *out, size_t size);
void runc_log_path(struct rt *rt, const json_t *pod, const char *uid, const char *name, int attempt,
                   char *out, size_t size);
void runc_set_waiting(struct pod_entry *e, const char *name, const char *reason,
                      const char *message);

/* runc_pod_setup.c: what the pod's containers share (network, /etc files, API lookups) */
int runc_api_lookup(void *ud, const char *kind, const char *ns, const char *name, json_t **ret);
/* kos_env_ctx.sa_token: a projected serviceAccountToken source, through TokenRequest. */
int runc_project_token(void *ud, const json_t *pod, const char *pod_dir, const char *vol,
                       const json_t *src, const char *dir, int mode, struct kos_error **err);
int runc_pod_files(const json_t *pod, const char *pod_dir, const char *pod_ip, bool *missing_dns);
int runc_pod_network(struct rt *rt, struct pod_entry *e, const json_t *pod);
void runc_set_pod_ip(json_t *st, const struct pod_entry *e);

/* runc_container_start.c: a container's bundle (image, env, mounts, OCI spec) and its start */
int runc_start_container(struct rt *rt, struct pod_entry *e, const struct pod_runtime_pod *p,
                         const json_t *c, int attempt, const char *pod_dir, const json_t *vols);

/* runc_container_view.c: a container's state as its attempts on disk show it */
void runc_read_image_id(struct rt *rt, const char *id, char *out, size_t size);
void runc_view_of(struct rt *rt, struct pod_entry *e, const char *uid, const json_t *c,
                  struct kos_ctr_view *v, char *image_id_buf, size_t image_id_size);
bool runc_exit_watched(struct rt *rt, const char *uid, const struct kos_ctr_view *v);

/* runc_sync.c: bringing a pod toward its spec, and its status */
int runc_rt_sync(void *opaque, const struct pod_runtime_pod *p, json_t **ret_status);
int runc_rt_status(void *opaque, const char *uid, json_t **ret_status);

/* runc_cleanup.c: stopping pods, pruning attempts, reclaiming disk */
void runc_prune_attempts(struct rt *rt, const json_t *pod, const char *uid, const char *name,
                         int keep_from);
int runc_rt_kill(void *opaque, const char *uid, const json_t *pod, int64_t grace_seconds);
int runc_rt_reclaim_disk(void *opaque, int64_t *freed);
