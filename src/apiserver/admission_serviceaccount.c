/* ServiceAccount admission (see admission_serviceaccount.h). Texts are kube's. */
#include "apiserver/admission_serviceaccount.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apiserver/objects.h"
#include "store/store.h"
#include "store/value.h"
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

/* automountServiceAccountToken of a ServiceAccount: 1, 0, or -1 when it is not set. */
static int sa_automount_setting(const json_t *sa)
{
    const json_t *s = json_object_get(sa, "automountServiceAccountToken");
    return json_is_boolean(s) ? json_is_true(s) : -1;
}

static bool should_automount(int sa_setting, const json_t *pod)
{
    const json_t *p = json_object_get(json_object_get(pod, "spec"), "automountServiceAccountToken");
    if (json_is_boolean(p))
        return json_is_true(p);
    return sa_setting != 0;
}

bool admission_sa_should_automount(const json_t *sa, const json_t *pod)
{
    return should_automount(sa_automount_setting(sa), pod);
}

/* Sets key to v (a new reference, NULL from a failed allocation) in o; false when it could
 * not. Building directly: json_pack's format parse cost more than the objects (and
 * json_deep_copy of a template more still: it tracks the parents it copies). */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new_nocheck(o, key, v) == 0;
}

/* {key: v} */
static json_t *object1(const char *key, json_t *v)
{
    json_t *o = json_object();
    if (o && !put(o, key, v)) {
        json_decref(o);
        return NULL;
    }
    if (!o)
        json_decref(v);
    return o;
}

/* [v] */
static json_t *array1(json_t *v)
{
    json_t *a = json_array();
    if (a && v && json_array_append_new(a, v) == 0)
        return a;
    json_decref(a);
    json_decref(v);
    return NULL;
}

/* TokenVolumeSource(), members in kube's order */
static json_t *token_volume(const char *name)
{
    _cleanup_json_ json_t *vol = json_object(), *projected = json_object(), *sources = json_array(),
                          *token = json_object(), *cm = json_object(), *item = json_object(),
                          *fref = json_object(), *dapi_item = json_object();
    if (!vol || !projected || !sources || !token || !cm || !item || !fref || !dapi_item)
        return NULL;
    if (!put(token, "expirationSeconds", json_integer(TOKEN_EXPIRATION_SECONDS)) ||
        !put(token, "path", json_string("token")) || !put(item, "key", json_string("ca.crt")) ||
        !put(item, "path", json_string("ca.crt")) || !put(cm, "items", array1(TAKE_PTR(item))) ||
        !put(cm, "name", json_string("kube-root-ca.crt")) ||
        !put(fref, "apiVersion", json_string("v1")) ||
        !put(fref, "fieldPath", json_string("metadata.namespace")) ||
        !put(dapi_item, "fieldRef", TAKE_PTR(fref)) ||
        !put(dapi_item, "path", json_string("namespace")) ||
        json_array_append_new(sources, object1("serviceAccountToken", TAKE_PTR(token))) < 0 ||
        json_array_append_new(sources, object1("configMap", TAKE_PTR(cm))) < 0 ||
        json_array_append_new(
            sources, object1("downwardAPI", object1("items", array1(TAKE_PTR(dapi_item))))) < 0 ||
        !put(projected, "defaultMode", json_integer(0644)) ||
        !put(projected, "sources", TAKE_PTR(sources)) || !put(vol, "name", json_string(name)) ||
        !put(vol, "projected", TAKE_PTR(projected)))
        return NULL;
    return TAKE_PTR(vol);
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
        /* built directly: json_pack's format parse cost more than the object */
        _cleanup_json_ json_t *m = json_object();
        if (!m || json_object_set_new_nocheck(m, "name", json_string(vol)) < 0 ||
            json_object_set_new_nocheck(m, "readOnly", json_true()) < 0 ||
            json_object_set_new_nocheck(m, "mountPath", json_string(ADMISSION_SA_MOUNT_PATH)) < 0 ||
            json_array_append_new(vms, TAKE_PTR(m)) < 0)
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

/* The setting admission reads of the ServiceAccounts pods name, by the stored value it was
 * read from (held, so that the address is not reused while it is here): every pod of a
 * namespace names the same one or few, and parsing it for each create cost ~10K instructions.
 * A changed ServiceAccount is a new stored value, so it is read again. */
#define SA_MEMO_SLOTS 16

static struct {
    struct kos_value *value;
    int automount;
} sa_memo[SA_MEMO_SLOTS];
static size_t sa_memo_next;
static pthread_mutex_t sa_memo_lock = PTHREAD_MUTEX_INITIALIZER;

static bool sa_memo_get(const struct kos_value *v, int *ret)
{
    bool found = false;
    pthread_mutex_lock(&sa_memo_lock);
    for (size_t i = 0; i < SA_MEMO_SLOTS && !found; i++)
        if (sa_memo[i].value == v) {
            *ret = sa_memo[i].automount;
            found = true;
        }
    pthread_mutex_unlock(&sa_memo_lock);
    return found;
}

static void sa_memo_put(struct kos_value *v, int automount)
{
    struct kos_value *old = NULL, *held = kos_value_ref(v);
    pthread_mutex_lock(&sa_memo_lock);
    bool known = false;
    for (size_t i = 0; i < SA_MEMO_SLOTS && !known; i++)
        known = sa_memo[i].value == v;
    if (!known) {
        old = sa_memo[sa_memo_next].value;
        sa_memo[sa_memo_next].value = held;
        sa_memo[sa_memo_next].automount = automount;
        sa_memo_next = (sa_memo_next + 1) % SA_MEMO_SLOTS;
        held = NULL;
    }
    pthread_mutex_unlock(&sa_memo_lock);
    kos_value_unref(old);
    kos_value_unref(held);
}

/* The ServiceAccount's automountServiceAccountToken (1, 0, -1 when unset) into *ret. */
static int get_sa(struct store *st, const char *ns, const char *name, int *ret)
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
        if (kv.value && sa_memo_get(kv.value, ret)) {
            store_kv_clear(&kv);
            return 0;
        }
        _cleanup_json_ json_t *sa = obj_decode_value(kv.value, NULL);
        if (sa) {
            *ret = sa_automount_setting(sa);
            if (kv.value)
                sa_memo_put(kv.value, *ret);
        }
        store_kv_clear(&kv);
        return sa ? 0 : -EIO;
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
    int sa_automount = -1;
    int r = get_sa(rr->srv->store, rr->ns, sa_name, &sa_automount);
    if (r == -ENOENT)
        return forbidden(obj, err, rr->ns, sa_name);
    if (r < 0)
        return kos_error_set(err, 500, "InternalError", "reading ServiceAccount %s/%s failed: %s",
                             rr->ns, sa_name, strerror(-r));
    if (!should_automount(sa_automount, obj))
        return 0;
    char suffix[8];
    if ((r = kos_random_suffix(suffix, 5)) < 0 || (r = admission_sa_mount_token(obj, suffix)) < 0)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    return 0;
}
