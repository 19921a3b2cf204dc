/* The Forbidden Status text: forbiddenMessage + reason, wrapped as apierrors.NewForbidden. */
#include "apiserver/authz/messages.h"

#include <errno.h>
#include <string.h>

/* responsewriters' sanitizer: the text may be rendered as HTML by a browser. Only the part kube
 * composes is escaped; the authorizers' reason is appended as is. */
static int append_sanitized(struct kos_buf *out, const char *s)
{
    int k = 0;
    for (; k == 0 && *s; s++) {
        switch (*s) {
        case '&':
            k = kos_buf_append_str(out, "&amp;");
            break;
        case '<':
            k = kos_buf_append_str(out, "&lt;");
            break;
        case '>':
            k = kos_buf_append_str(out, "&gt;");
            break;
        default:
            k = kos_buf_append(out, s, 1);
        }
    }
    return k;
}

/* forbiddenMessage */
static int forbidden_message(const struct authz_attributes *a, struct kos_buf *b)
{
    int k = kos_buf_append_str(b, "User ");
    if (k == 0)
        k = authz_buf_go_quote(b, a->user ? a->user->name : "");
    if (k == 0)
        k = kos_buf_printf(b, " cannot %s ", authz_str(a->verb));
    if (k < 0)
        return k;
    if (!a->resource_request) {
        k = kos_buf_append_str(b, "path ");
        return k < 0 ? k : authz_buf_go_quote(b, a->path);
    }

    struct kos_buf res;
    kos_buf_init(&res, AUTHZ_MESSAGE_MAX);
    k = kos_buf_append_str(&res, authz_str(a->resource));
    if (k == 0 && a->subresource && *a->subresource)
        k = kos_buf_printf(&res, "/%s", a->subresource);
    if (k == 0)
        k = kos_buf_append_str(b, "resource ");
    if (k == 0)
        k = authz_buf_go_quote(b, res.data ? res.data : "");
    kos_buf_free(&res);
    if (k == 0)
        k = kos_buf_append_str(b, " in API group ");
    if (k == 0)
        k = authz_buf_go_quote(b, a->api_group);
    if (k < 0)
        return k;
    if (a->namespace_ && *a->namespace_) {
        k = kos_buf_append_str(b, " in the namespace ");
        return k < 0 ? k : authz_buf_go_quote(b, a->namespace_);
    }
    return kos_buf_append_str(b, " at the cluster scope");
}

int authz_forbidden_error(const struct authz_attributes *a, const char *reason,
                          struct kos_error **err)
{
    const char *group = a->resource_request ? authz_str(a->api_group) : "";
    const char *resource = a->resource_request ? authz_str(a->resource) : "";
    const char *name = a->resource_request ? authz_str(a->name) : "";

    struct kos_buf msg, out;
    kos_buf_init(&msg, AUTHZ_MESSAGE_MAX);
    kos_buf_init(&out, 2 * AUTHZ_MESSAGE_MAX + 1024);
    int k = forbidden_message(a, &msg);

    /* apierrors.NewForbidden: "<resource[.group]> [\"name\"] is forbidden: ..." */
    if (k == 0 && !*group && !*resource) {
        k = kos_buf_append_str(&out, "forbidden: ");
    } else if (k == 0) {
        k = kos_buf_append_str(&out, resource);
        if (k == 0 && *group)
            k = kos_buf_printf(&out, ".%s", group);
        if (k == 0 && *name) {
            k = kos_buf_append(&out, " ", 1);
            if (k == 0)
                k = authz_buf_go_quote(&out, name);
        }
        if (k == 0)
            k = kos_buf_append_str(&out, " is forbidden: ");
    }
    if (k == 0)
        k = append_sanitized(&out, msg.data ? msg.data : "");
    if (k == 0 && reason && *reason)
        k = kos_buf_printf(&out, ": %s", reason);
    if (k == 0) {
        bool fresh = err && !*err; /* the first error wins: never decorate another's */
        k = kos_error_set(err, 403, "Forbidden", "%s", out.data);
        if (fresh && *err)
            kos_error_set_details(*err, *name ? name : NULL, *group ? group : NULL,
                                  *resource ? resource : NULL);
    }
    kos_buf_free(&msg);
    kos_buf_free(&out);
    return k == -E2BIG ? kos_error_set(err, 403, "Forbidden", "forbidden") : k;
}
