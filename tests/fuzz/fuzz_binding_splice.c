/* libFuzzer target for pods/binding on the stored bytes (apiserver/binding_splice.h). The
 * input is "<node>\0<uid>\0<pod>". Whatever the bytes, the splice must not crash or read past
 * them; for a pod that is valid JSON, every answer other than -ENOTSUP must be the tree edit's:
 * the same refusal, or a bound pod equal to the tree's. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apiserver/binding_splice.h"

#define NOW "2026-11-27T18:00:00Z"

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
    return json_string_value(json_object_get(json_object_get(obj, a), b));
}

/* The tree path: the refusal, or 0 with the pod edited in place. */
static int tree_bind(json_t *pod, const char *node, const char *uid)
{
    if (!json_is_object(pod))
        return -ENOTSUP;
    if (uid[0]) {
        const char *have = str_at(pod, "metadata", "uid");
        if (!have || strcmp(have, uid) != 0)
            return -ESTALE;
    }
    if (str_at(pod, "metadata", "deletionTimestamp"))
        return -EBUSY;
    const char *bound = str_at(pod, "spec", "nodeName");
    if (bound && bound[0])
        return -EEXIST;
    json_t *spec = json_object_get(pod, "spec");
    if (!json_is_object(spec))
        return -ENOTSUP;
    json_object_set_new(spec, "nodeName", json_string(node));
    json_t *status = json_object_get(pod, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(pod, "status", status);
    }
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    for (size_t i = json_array_size(conds); i > 0; i--) {
        const char *t = json_string_value(json_object_get(json_array_get(conds, i - 1), "type"));
        if (t && strcmp(t, "PodScheduled") == 0)
            json_array_remove(conds, i - 1);
    }
    json_array_append_new(conds, json_pack("{s:s,s:s,s:n,s:s}", "type", "PodScheduled", "status",
                                           "True", "lastProbeTime", "lastTransitionTime", NOW));
    json_object_set_new(json_object_get(pod, "metadata"), "resourceVersion", json_string("42"));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *n1 = memchr(data, 0, size);
    if (!n1)
        return 0;
    const uint8_t *n2 = memchr(n1 + 1, 0, size - (size_t)(n1 + 1 - data));
    if (!n2 || n1 == data || (size_t)(n1 - data) > 253 || (size_t)(n2 - n1 - 1) > 200)
        return 0;
    char node[254], uid[201];
    memcpy(node, data, (size_t)(n1 - data));
    node[n1 - data] = '\0';
    memcpy(uid, n1 + 1, (size_t)(n2 - n1 - 1));
    uid[n2 - n1 - 1] = '\0';
    /* both come from the parsed Binding, so they are UTF-8 */
    json_t *node_ok = json_string(node), *uid_ok = json_string(uid);
    json_decref(node_ok);
    json_decref(uid_ok);
    if (!node_ok || !uid_ok)
        return 0;
    const uint8_t *pod = n2 + 1;
    size_t len = size - (size_t)(pod - data);

    /* an exact-size copy, so that a read past the end is caught */
    char *bytes = malloc(len ? len : 1);
    if (!bytes)
        return 0;
    memcpy(bytes, pod, len);
    const struct binding_splice_in in = {.node = node, .uid = uid, .now = NOW};
    struct binding_splice sp = {0};
    int r = binding_splice(bytes, len, &in, &sp);
    free(bytes);

    json_t *want = json_loadb((const char *)pod, len, JSON_REJECT_DUPLICATES, NULL);
    if (want && r != -ENOTSUP) {
        int tr = tree_bind(want, node, uid);
        if (tr != r)
            abort();
        if (r == 0) {
            if (sp.rv_at > sp.out.len)
                abort();
            char *text = NULL;
            if (asprintf(&text, "%.*s42%s", (int)sp.rv_at, sp.out.data, sp.out.data + sp.rv_at) < 0)
                abort();
            json_t *got = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
            if (!got || !json_equal(got, want))
                abort();
            json_decref(got);
            free(text);
        }
    }
    json_decref(want);
    kos_buf_free(&sp.out);
    return 0;
}
