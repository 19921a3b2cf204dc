#include "apiserver/request_info.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/strutil.h"

static const char *resource_verb(const char *method)
{
    if (strcmp(method, "POST") == 0)
        return "create";
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return "get";
    if (strcmp(method, "PUT") == 0)
        return "update";
    if (strcmp(method, "PATCH") == 0)
        return "patch";
    if (strcmp(method, "DELETE") == 0)
        return "delete";
    return NULL;
}

static void lower(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < size; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

/* ListOptions.Watch as the parameter codec reads it, or as kube's fallback does when the
 * query does not parse: anything but false/0 means watch. */
static bool watch_requested(const char *watch)
{
    if (!watch)
        return false;
    return strcasecmp(watch, "false") != 0 && strcmp(watch, "0") != 0 && watch[0] != '\0';
}

/* fields.Selector.RequiresExactMatch("metadata.name") for a comma-separated selector, then
 * path.IsValidPathSegmentName: the name authorizes a list only when it could be a name. */
static bool selector_name(const char *sel, char *out, size_t size)
{
    bool found = false;
    const char *p = sel;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        static const char key[] = "metadata.name";
        size_t klen = sizeof(key) - 1;
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t vlen = len - klen - 1;
            if (vlen > 0 && *v == '=')
                v++, vlen--;
            if (found || vlen >= size || memchr(v, '\\', vlen))
                return false; /* twice, too long or escaped: not a plain exact match */
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            found = true;
        }
        p = end ? end + 1 : NULL;
    }
    if (!found || strcmp(out, ".") == 0 || strcmp(out, "..") == 0 || strchr(out, '/') ||
        strchr(out, '%'))
        return false;
    return true;
}

void request_info_init(struct request_info *ri, const struct kos_user *user, const char *method,
                       const char *path, const struct route *rt, const char *watch,
                       const char *field_selector)
{
    memset(ri, 0, sizeof(*ri));
    struct authz_attributes *a = &ri->attrs;
    a->user = user;
    a->path = path;
    a->verb = ri->verb;
    lower(ri->verb, sizeof(ri->verb), method);
    if (rt->type != ROUTE_RESOURCE)
        return;

    a->resource_request = true;
    a->api_group = rt->group;
    a->api_version = rt->version;
    a->resource = rt->resource;
    a->subresource = rt->subresource;
    a->namespace_ = rt->has_namespace ? rt->namespace_ : "";
    a->name = rt->has_name ? rt->name : "";
    /* /api/v1/namespaces/<ns>[/status]: the namespace of a Namespace is its name. */
    if (!rt->has_namespace && rt->has_name && strcmp(rt->resource, "namespaces") == 0 &&
        !rt->group[0])
        a->namespace_ = rt->name;

    const char *v = resource_verb(method);
    if (v)
        a->verb = v;
    if (!rt->has_name && strcmp(a->verb, "get") == 0) {
        a->verb = watch_requested(watch) ? "watch" : "list";
        a->field_selector = field_selector;
        if (field_selector && selector_name(field_selector, ri->name, sizeof(ri->name)))
            a->name = ri->name;
    }
    if (!a->name[0] && strcmp(a->verb, "delete") == 0)
        a->verb = "deletecollection";
}
