/* pods/binding on the stored bytes: the bound pod is the stored pod with spec.nodeName set and
 * a PodScheduled=True condition in place of any earlier PodScheduled, which is a few byte
 * ranges copied around two small insertions. Decoding the whole pod into a tree, editing it
 * and encoding it again cost the scheduler's every bind a parse, an encode and hundreds of
 * allocations (the largest part of a bind's CPU).
 *
 * The input is a value the store holds, so JSON the server wrote itself; any shape the splice
 * does not expect (no metadata.resourceVersion, spec not an object, a repeated key, a key or
 * a condition or a bound node name written with escapes) answers -ENOTSUP and the caller takes the
 * tree path, whose result the splice's matches member for member, in the same order
 * (tests/unit/test_binding_splice.c). */
#pragma once

#include <stddef.h>

#include <jansson.h>

#include "util/buf.h"

struct binding_splice_in {
    /* from the parsed Binding, so UTF-8 */
    const char *node; /* target.name, not empty */
    const char *uid;  /* the Binding's metadata.uid precondition; NULL or "" for none */
    const char *now;  /* RFC 3339 time for lastTransitionTime */
};

struct binding_splice {
    /* the bound pod, with its metadata.resourceVersion's value empty: the new revision's
     * digits go at rv_at (between the quotes) */
    struct kos_buf out;
    size_t rv_at;
    char bound_node[256]; /* with -EEXIST: the node the pod is bound to */
    char pod_uid[256];    /* with -ESTALE: the pod's uid ("" when it has none) */
};

/* 0 with the bound pod in ret->out (the caller frees it with kos_buf_free, also on errors);
 * -ESTALE the uid precondition fails, -EBUSY the pod is being deleted, -EEXIST it is bound
 * already (checked in that order, as kube's BindingREST does), -ENOTSUP take the tree path,
 * -ENOMEM / -E2BIG. */
int binding_splice(const char *pod, size_t len, const struct binding_splice_in *in,
                   struct binding_splice *ret);

/* The same binding on a decoded pod, edited in place: the tree path the caller takes after
 * -ENOTSUP, and the reference the splice is tested against. The same refusals in the same
 * order (found->bound_node / pod_uid filled as by binding_splice); -ENOTSUP when the pod or
 * its spec is not an object; -ENOMEM. */
int binding_tree_bind(json_t *pod, const struct binding_splice_in *in,
                      struct binding_splice *found);
