/* libFuzzer target for the authorizers (src/apiserver/authz). The input is a JSON array of
 * operations run in order against one RBAC and one Node authorizer:
 *   {"kind": "Role"|"ClusterRole"|"RoleBinding"|"ClusterRoleBinding", ...}  apply
 *   {"kind": "Pod"|"PersistentVolume"|"VolumeAttachment", ...}              node graph
 *   {"delete": {"kind", "namespace", "name"}}                                delete
 *   {"bootstrap": true}                                                      load the defaults
 *   {"attrs": {"user", "groups", "verb", "namespace", "apiGroup", "resource", "subresource",
 *              "name", "path", "fieldSelector"},                            authorize, 403 text
 *    "write": {"resource", "namespace", "object", "old"}}                    escalation checks
 * Input that is not JSON is quoted as Go would. Nothing may crash or leak, decisions must be
 * ALLOW or NO_OPINION, and every text we produce must be valid UTF-8 (it becomes JSON). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/authz/bootstrap_roles.h"
#include "apiserver/authz/messages.h"
#include "apiserver/authz/node.h"
#include "apiserver/authz/rbac.h"
#include "util/json_cleanup.h"

#define MAX_GROUPS 16

static void check_text(const char *s)
{
    if (!s)
        return;
    json_t *j = json_string(s);
    if (!j)
        abort(); /* not valid UTF-8 */
    json_decref(j);
}

static void check_error(struct kos_error *err)
{
    if (!err)
        return;
    if (!err->message || err->code < 400)
        abort();
    check_text(err->message);
    kos_error_free(err);
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void authorize(struct rbac_authorizer *rbac, struct authz_node_authorizer *node,
                      const json_t *a, const json_t *write)
{
    const char *groups[MAX_GROUPS];
    size_t ngroups = 0;
    const json_t *jg = json_object_get(a, "groups");
    for (size_t i = 0; i < json_array_size(jg) && ngroups < MAX_GROUPS; i++)
        if (json_string_value(json_array_get(jg, i)))
            groups[ngroups++] = json_string_value(json_array_get(jg, i));
    struct kos_user user = {.name = str(a, "user"), .groups = groups, .ngroups = ngroups};
    struct authz_attributes attrs = {
        .user = json_is_true(json_object_get(a, "anonymous")) ? NULL : &user,
        .verb = str(a, "verb"),
        .resource_request = !str(a, "path"),
        .namespace_ = str(a, "namespace"),
        .api_group = str(a, "apiGroup"),
        .api_version = str(a, "apiVersion"),
        .resource = str(a, "resource"),
        .subresource = str(a, "subresource"),
        .name = str(a, "name"),
        .path = str(a, "path"),
        .field_selector = str(a, "fieldSelector"),
    };

    char *reason = NULL;
    int d = rbac_authorize(rbac, &attrs, &reason);
    if (d != AUTHZ_ALLOW && d != AUTHZ_NO_OPINION && d != -ENOMEM)
        abort();
    check_text(reason);
    char *node_reason = NULL;
    int nd = authz_node_authorize(node, &attrs, &node_reason);
    if (nd != AUTHZ_ALLOW && nd != AUTHZ_NO_OPINION && nd != -ENOMEM)
        abort();
    check_text(node_reason);

    struct kos_error *err = NULL;
    if (authz_forbidden_error(&attrs, reason, &err) != -EACCES || !err || err->code != 403)
        abort();
    check_error(err);
    free(reason);
    free(node_reason);

    if (!json_is_object(write))
        return;
    const char *resource = str(write, "resource");
    const json_t *obj = json_object_get(write, "object");
    const json_t *old = json_object_get(write, "old");
    err = NULL;
    (void)rbac_check_role_write(rbac, NULL, attrs.user, resource, str(write, "namespace"), obj, old,
                                &err);
    check_error(err);
    err = NULL;
    (void)rbac_check_binding_write(rbac, NULL, attrs.user, resource, str(write, "namespace"), obj,
                                   old, &err);
    check_error(err);
}

static void run(struct rbac_authorizer *rbac, struct authz_node_authorizer *node, const json_t *op)
{
    const char *kind = str(op, "kind");
    const json_t *del = json_object_get(op, "delete");
    if (kind && strcmp(kind, "Pod") == 0) {
        (void)authz_node_pod_set(node, op);
    } else if (kind && strcmp(kind, "PersistentVolume") == 0) {
        (void)authz_node_pv_set(node, op);
    } else if (kind && strcmp(kind, "VolumeAttachment") == 0) {
        (void)authz_node_va_set(node, op);
    } else if (kind) {
        (void)rbac_apply(rbac, -1, op);
    } else if (json_is_object(del)) {
        const char *dk = str(del, "kind"), *ns = str(del, "namespace"), *name = str(del, "name");
        int k = rbac_kind_from_string(dk);
        if (k >= 0)
            (void)rbac_delete(rbac, (enum rbac_kind)k, ns, name);
        else if (dk && strcmp(dk, "Pod") == 0)
            (void)authz_node_pod_delete(node, ns, name);
        else if (dk && strcmp(dk, "PersistentVolume") == 0)
            (void)authz_node_pv_delete(node, name);
        else if (dk && strcmp(dk, "VolumeAttachment") == 0)
            (void)authz_node_va_delete(node, name);
    } else if (json_is_true(json_object_get(op, "bootstrap"))) {
        json_t *objs = authz_bootstrap_objects();
        if (!objs)
            abort();
        (void)rbac_apply_all(rbac, objs);
        json_decref(objs);
    } else if (json_is_object(json_object_get(op, "attrs"))) {
        authorize(rbac, node, json_object_get(op, "attrs"), json_object_get(op, "write"));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_json_ json_t *ops = json_loadb((const char *)data, size, 0, NULL);
    if (!json_is_array(ops)) {
        /* not a program: exercise the Go quoting on raw bytes */
        char *s = malloc(size + 1);
        if (!s)
            return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        struct kos_buf b;
        kos_buf_init(&b, 1 << 20);
        if (authz_buf_go_quote(&b, s) == 0)
            check_text(b.data);
        kos_buf_free(&b);
        free(s);
        return 0;
    }
    struct rbac_authorizer *rbac = NULL;
    struct authz_node_authorizer *node = NULL;
    if (rbac_new(&rbac) < 0 || authz_node_new(size & 1, &node) < 0)
        abort();
    for (size_t i = 0; i < json_array_size(ops) && i < 512; i++)
        run(rbac, node, json_array_get(ops, i));
    rbac_free(rbac);
    authz_node_free(node);
    return 0;
}
