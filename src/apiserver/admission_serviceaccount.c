/* ServiceAccount admission (see admission_serviceaccount.h). Texts are kube's. */
#include "apiserver/admission_serviceaccount.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apiserver/objects.h"
#include "store/store.h"
#include "util/json_cleanup.h"
#include "util/random.h"

/* kube looks "default" up 10 times 100-200 ms apart; kos waits up to 10 s (100 × 100 ms): on
 * a loaded machine its controller can take longer than kube's 1-2 s to create it in a new
 * namespace (the server makes the built-in namespaces' own before it serves) */
#define DEFAULT_SA_ATTEMPTS 100
#define RETRY_MS            100
/* serviceaccount.WarnOnlyBoundTokenExpirationSeconds */
#define TOKEN_EXPIRATION_SECONDS 3607

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

bool admission_sa_should_automount(const json_t *sa, const json_t *pod)
{
    const json_t *p = json_object_get(json_object_get(pod, "spec"), "automountServiceAccountToken");
    if (json_is_boolean(p))
        return json_is_true(p);
    const json_t *s = json_object_get(sa, "automountServiceAccountToken");
    if (json_is_boolean(s))
        return json_is_true(s);
    return true;
}

/* TokenVolumeSource() */
static json_t *token_volume(const char *name)
{
    return json_pack("{s:s, s:{s:i, s:[{s:{s:i, s:s}}, {s:{s:[{s:s, s:s}], s:s}}, "
                     "{s:{s:[{s:{s:s, s:s}, s:s}]}}]}}",
                     "name", name, "projected", "defaultMode", 0644, "sources",
                     "serviceAccountToken", "expirationSeconds", TOKEN_EXPIRATION_SECONDS, "path",
                     "token", "configMap", "items", "key", "ca.crt", "path", "ca.crt", "name",
                     "kube-root-ca.crt", "downwardAPI", "items", "fieldRef", "apiVersion", "v1",
                     "fieldPath", "metadata.namespace", "path", "namespace");
}

/* Adds the mount to every container of the list that has nothing at the path; *needed is
 * set when one got it. */
static int mount_in(json_t *list, const char *vol, bool *needed)
{
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        if (!json_is_object(c))
            continue;
        json_t *vms = json_object_get(c, "volumeMounts");
        bool taken = false;
        size_t j;
        json_t *vm;
        json_array_foreach(vms, j, vm)
        {
            const char *p = jstr(vm, "mountPath");
            taken |= p && strcmp(p, ADMISSION_SA_MOUNT_PATH) == 0;
        }
        if (taken)
            continue;
        if (!json_is_array(vms)) {
            vms = json_array();
            if (!vms || json_object_set_new(c, "volumeMounts", vms) < 0)
                return -ENOMEM;
        }
        if (json_array_append_new(vms, json_pack("{s:s, s:b, s:s}", "name", vol, "readOnly", 1,
                                                 "mountPath", ADMISSION_SA_MOUNT_PATH)) < 0)
            return -ENOMEM;
        *needed = true;
    }
    return 0;
}

int admission_sa_mount_token(json_t *pod, const char *suffix)
{
    json_t *spec = json_object_get(pod, "spec");
    if (!json_is_object(spec))
        return 0;
    /* an existing kube-api-access-* volume is the token volume */
    const char *existing = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(spec, "volumes"), i, v)
    {
        const char *n = jstr(v, "name");
        if (n && strncmp(n, ADMISSION_SA_VOLUME_PREFIX, strlen(ADMISSION_SA_VOLUME_PREFIX)) == 0) {
            existing = n;
            break;
        }
    }
    char name[64];
    snprintf(name, sizeof(name), "%s%s", existing ? "" : ADMISSION_SA_VOLUME_PREFIX,
             existing ? existing : suffix);
    bool needed = false;
    int r = mount_in(json_object_get(spec, "initContainers"), name, &needed);
    if (r == 0)
        r = mount_in(json_object_get(spec, "containers"), name, &needed);
    if (r < 0 || existing || !needed)
        return r;
    json_t *vols = json_object_get(spec, "volumes");
    if (!json_is_array(vols)) {
        vols = json_array();
        if (!vols || json_object_set_new(spec, "volumes", vols) < 0)
            return -ENOMEM;
    }
    return json_array_append_new(vols, token_volume(name)) < 0 ? -ENOMEM : 0;
}

/* admission.NewForbidden names the object by its name, or its generateName before one was
 * generated (kos generates names before admission: a generated name is the generateName
 * plus five characters). */
static int forbidden(const json_t *obj, struct kos_error **err, const char *ns, const char *sa)
{
    const char *name = obj_str(obj, "metadata.name");
    const char *gen = obj_str(obj, "metadata.generateName");
    if (gen && *gen && name && strlen(name) == strlen(gen) + 5 &&
        strncmp(name, gen, strlen(gen)) == 0)
        name = gen;
    kos_error_set(err, 403, "Forbidden",
                  "pods \"%s\" is forbidden: error looking up service account %s/%s: "
                  "serviceaccount \"%s\" not found",
                  name ? name : "", ns, sa, sa);
    if (*err)
        kos_error_set_details(*err, name, NULL, "pods");
    return -EACCES;
}

static int get_sa(struct store *st, const char *ns, const char *name, json_t **ret)
{
    const struct kos_kind *k = kos_kind_by_resource("", "v1", "serviceaccounts");
    char key[1024];
    if (!k || kos_kind_key(k, ns, name, key, sizeof(key)) < 0)
        return -ENOENT;
    int attempts = strcmp(name, "default") == 0 ? DEFAULT_SA_ATTEMPTS : 1;
    for (int i = 0; i < attempts; i++) {
        if (i > 0) {
            struct timespec ts = {0, RETRY_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
        struct store_kv kv = {0};
        int r = store_get(st, key, &kv);
        if (r == -ENOENT)
            continue;
        if (r < 0)
            return r;
        json_t *sa = obj_decode_value(kv.value, NULL);
        store_kv_clear(&kv);
        if (!sa)
            return -EIO;
        *ret = sa;
        return 0;
    }
    return -ENOENT;
}

int admission_serviceaccount(struct resource_request *rr, json_t *obj, struct kos_error **err)
{
    if (strcmp(rr->kind->kind, "Pod") != 0 || rr->kind->group[0] || rr->sub[0])
        return 0;
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec))
        return 0; /* validation answers */
    const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
    if (json_object_get(ann, "kubernetes.io/config.mirror"))
        return 0;
    const char *sa_name = jstr(spec, "serviceAccountName");
    if (!sa_name || !*sa_name)
        sa_name = "default"; /* defaulting has set it; kept for a caller that did not */
    _cleanup_json_ json_t *sa = NULL;
    int r = get_sa(rr->srv->store, rr->ns, sa_name, &sa);
    if (r == -ENOENT)
        return forbidden(obj, err, rr->ns, sa_name);
    if (r < 0)
        return kos_error_set(err, 500, "InternalError", "reading ServiceAccount %s/%s failed: %s",
                             rr->ns, sa_name, strerror(-r));
    if (!admission_sa_should_automount(sa, obj))
        return 0;
    char suffix[8];
    if ((r = kos_random_suffix(suffix, 5)) < 0 || (r = admission_sa_mount_token(obj, suffix)) < 0)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    return 0;
}
