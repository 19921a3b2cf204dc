/* RFC 7386 JSON merge patch: objects merge recursively, null removes a member, anything else
 * replaces. The target is deep-copied once and then merged in place, so the inputs are never
 * modified and no subtree is copied twice. */
#include <errno.h>

#include "api/patch.h"
#include "api/patch_internal.h"
#include "util/json_cleanup.h"

/* *io is an owned value (or NULL: absent); on return it holds the merged value. */
static int merge_into(json_t **io, const json_t *patch, unsigned depth, struct kos_error **err)
{
    if (!json_is_object(patch)) {
        json_t *c = patch_copy(patch);
        if (!c)
            return -ENOMEM;
        json_decref(*io);
        *io = c;
        return 0;
    }
    if (depth >= KOS_PATCH_MAX_DEPTH)
        return kos_error_set(err, 400, "BadRequest", "merge patch nests deeper than %d levels",
                             KOS_PATCH_MAX_DEPTH);
    if (!json_is_object(*io)) {
        json_decref(*io);
        *io = json_object();
        if (!*io)
            return -ENOMEM;
    }
    /* The iterator API gives the key length: member names may contain "\u0000". */
    for (void *it = json_object_iter((json_t *)patch); it;
         it = json_object_iter_next((json_t *)patch, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        const json_t *pv = json_object_iter_value(it);
        if (json_is_null(pv)) {
            json_object_deln(*io, key, klen);
            continue;
        }
        /* The child is merged in place under an extra reference, then stored back (a no-op
         * when it is the same object, a replacement otherwise). */
        json_t *child = json_incref(json_object_getn(*io, key, klen));
        int rc = merge_into(&child, pv, depth + 1, err);
        if (rc < 0) {
            json_decref(child);
            return rc;
        }
        if (json_object_setn_new(*io, key, klen, child) < 0)
            return -ENOMEM;
    }
    return 0;
}

int kos_json_merge_patch(const json_t *target, const json_t *patch, json_t **ret,
                         struct kos_error **err)
{
    if (!patch || !ret)
        return -EINVAL;
    _cleanup_json_ json_t *doc = NULL;
    if (json_is_object(patch) && json_is_object(target)) {
        doc = patch_copy(target);
        if (!doc)
            return -ENOMEM;
    }
    int rc = merge_into(&doc, patch, 0, err);
    if (rc < 0)
        return rc;
    *ret = TAKE_PTR(doc);
    return 0;
}
