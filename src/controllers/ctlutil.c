/* Controller helpers: metadata access and conflict-retried metadata updates. */
#include "controllers/ctlutil.h"

#include <errno.h>
#include <string.h>

#include "util/json_cleanup.h"
#include "util/strutil.h"

#define CONFLICT_RETRIES 8

const char *ctl_meta_str(const json_t *obj, const char *field)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

bool ctl_has_finalizer(const json_t *obj, const char *name, bool spec)
{
    const json_t *fin =
        json_object_get(json_object_get(obj, spec ? "spec" : "metadata"), "finalizers");
    size_t i;
    json_t *f;
    json_array_foreach(fin, i, f)
    {
        if (kos_streq_null(json_string_value(f), name))
            return true;
    }
    return false;
}

int ctl_ref_of(const json_t *obj, struct kos_ref *ref)
{
    const struct kos_kind *k =
        kos_client_kind_of(json_string_value(json_object_get(obj, "apiVersion")),
                           json_string_value(json_object_get(obj, "kind")));
    const char *name = ctl_meta_str(obj, "name");
    if (!k || !name)
        return -ENOENT;
    *ref = (struct kos_ref){.kind = k, .ns = ctl_meta_str(obj, "namespace"), .name = name};
    return 0;
}

int ctl_get_same(struct kos_client *c, const json_t *obj, json_t **ret)
{
    struct kos_ref ref;
    int r = ctl_ref_of(obj, &ref);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *live = NULL;
    r = kos_client_get(c, &ref, &live, NULL);
    if (r < 0)
        return r;
    if (!kos_streq_null(ctl_meta_str(live, "uid"), ctl_meta_str(obj, "uid")))
        return -ENOENT;
    *ret = TAKE_PTR(live);
    return 0;
}

int ctl_remove_finalizer(struct kos_client *c, const json_t *obj, const char *name, bool spec)
{
    struct kos_ref ref;
    int r = ctl_ref_of(obj, &ref);
    if (r < 0)
        return r;
    for (int attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
        _cleanup_json_ json_t *live = NULL;
        r = ctl_get_same(c, obj, &live);
        if (r == -ENOENT)
            return 0;
        if (r < 0)
            return r;
        if (!ctl_has_finalizer(live, name, spec))
            return 0;
        json_t *part = json_object_get(live, spec ? "spec" : "metadata");
        json_t *fin = json_object_get(part, "finalizers");
        _cleanup_json_ json_t *rest = json_array();
        if (!rest)
            return -ENOMEM;
        size_t i;
        json_t *f;
        json_array_foreach(fin, i, f)
        {
            if (!kos_streq_null(json_string_value(f), name) && json_array_append(rest, f) < 0)
                return -ENOMEM;
        }
        if (spec) {
            /* spec.finalizers changes through the finalize subresource (namespaces/finalize,
             * which kube's namespace-controller role may update); an empty list stays, so
             * that defaulting does not add it back */
            if (json_object_set(part, "finalizers", rest) < 0)
                return -ENOMEM;
            ref.sub = "finalize";
            r = kos_client_update(c, &ref, live, NULL, NULL);
        } else {
            /* a merge patch carrying the resourceVersion it was computed from: a conflict
             * means someone else changed the list meanwhile */
            _cleanup_json_ json_t *patch = json_pack(
                "{s:{s:o, s:s}}", "metadata", "finalizers",
                json_array_size(rest) ? json_incref(rest) : json_null(), "resourceVersion",
                ctl_meta_str(live, "resourceVersion") ? ctl_meta_str(live, "resourceVersion") : "");
            if (!patch)
                return -ENOMEM;
            r = kos_client_patch(c, &ref, KOS_PATCH_MERGE, patch, NULL, false, NULL, NULL);
        }
        if (r == -ECANCELED)
            continue;
        return r == -ENOENT ? 0 : r;
    }
    return -ECANCELED;
}
