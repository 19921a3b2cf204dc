/* libFuzzer target for pods/binding on the stored bytes (apiserver/binding_splice.h). The
 * input is "<node>\0<uid>\0<pod>". Whatever the bytes, the splice must not crash or read past
 * them; for a pod that is valid JSON, every answer other than -ENOTSUP must be the tree
 * path's (binding_tree_bind): the same refusal, or a bound pod equal to the tree's. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apiserver/binding_splice.h"

#define NOW "2026-11-27T18:00:00Z"

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
        struct binding_splice found = {0};
        int tr = binding_tree_bind(want, &in, &found);
        if (tr != r)
            abort();
        if (r == 0) {
            if (sp.rv_at > sp.out.len)
                abort();
            /* the revision the store would give, as in the splice's text below */
            json_object_set_new(json_object_get(want, "metadata"), "resourceVersion",
                                json_string("42"));
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
