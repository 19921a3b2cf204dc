/* --authorization-mode parsing and the union of the configured authorizers. */
#include "apiserver/authz/chain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"

static const char *const mode_names[] = {
    [AUTHZ_MODE_ALWAYS_ALLOW] = "AlwaysAllow",
    [AUTHZ_MODE_ALWAYS_DENY] = "AlwaysDeny",
    [AUTHZ_MODE_NODE] = "Node",
    [AUTHZ_MODE_RBAC] = "RBAC",
    [AUTHZ_MODE_WEBHOOK] = "Webhook",
};

const char *authz_mode_name(enum authz_mode mode)
{
    return (size_t)mode < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[mode] : "";
}

bool authz_modes_has(const struct authz_modes *m, enum authz_mode mode)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i] == mode)
            return true;
    return false;
}

int authz_modes_parse(const char *spec, struct authz_modes *out, char *errbuf, size_t errsize)
{
    struct authz_modes m = {0};
    bool repeated = false;
    const char *p = spec ? spec : "";

    if (!*p) {
        snprintf(errbuf, errsize, "at least one authorization-mode must be passed");
        return -EINVAL;
    }
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int found = -1;
        for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
            if (strlen(mode_names[i]) == len && strncmp(p, mode_names[i], len) == 0)
                found = (int)i;
        if (found < 0) {
            snprintf(errbuf, errsize, "authorization-mode \"%.*s\" is not a valid mode",
                     (int)(len > 200 ? 200 : len), p);
            return -EINVAL;
        }
        if (authz_modes_has(&m, (enum authz_mode)found))
            repeated = true;
        else
            m.v[m.n++] = (enum authz_mode)found;
        if (!end)
            break;
        p = end + 1;
    }
    if (repeated) {
        /* Go's %q of the []string: ["RBAC" "RBAC"] */
        _cleanup_buf_ struct kos_buf b;
        kos_buf_init(&b, 4096);
        int r = kos_buf_append_str(&b, "[");
        for (const char *q = spec; r == 0 && q;) {
            const char *end = strchr(q, ',');
            char one[64];
            snprintf(one, sizeof(one), "%.*s", (int)(end ? (size_t)(end - q) : strlen(q)), q);
            if (q != spec)
                r = kos_buf_append_str(&b, " ");
            if (r == 0)
                r = authz_buf_go_quote(&b, one);
            q = end ? end + 1 : NULL;
        }
        if (r == 0)
            r = kos_buf_append_str(&b, "]");
        snprintf(errbuf, errsize, "authorization-mode %s has mode specified more than once",
                 r == 0 ? b.data : "[...]");
        return -EINVAL;
    }
    *out = m;
    return 0;
}

int authz_chain_add(struct authz_chain *c, enum authz_mode mode, struct authz_authorizer a)
{
    if (c->n >= AUTHZ_MAX_MODES)
        return -E2BIG;
    c->v[c->n].mode = mode;
    c->v[c->n].authorizer = a;
    c->n++;
    return 0;
}

static int always_allow(void *ctx, const struct authz_attributes *attrs, char **reason)
{
    return AUTHZ_ALLOW;
}

/* kube's alwaysDenyAuthorizer has no opinion (so a later mode could still allow) and says why. */
static int always_deny(void *ctx, const struct authz_attributes *attrs, char **reason)
{
    if (reason) {
        *reason = strdup("Everything is forbidden.");
        if (!*reason)
            return -ENOMEM;
    }
    return AUTHZ_NO_OPINION;
}

struct authz_authorizer authz_always(enum authz_mode mode)
{
    return (struct authz_authorizer){.authorize = mode == AUTHZ_MODE_ALWAYS_ALLOW ? always_allow
                                                                                  : always_deny};
}

int authz_chain_authorize(const struct authz_chain *c, const struct authz_attributes *attrs,
                          char **reason)
{
    /* kube's privileged-group authorizer comes before every configured mode. */
    if (authz_user_in_group(attrs->user, AUTHZ_GROUP_MASTERS)) {
        if (reason)
            *reason = NULL;
        return AUTHZ_ALLOW;
    }
    _cleanup_buf_ struct kos_buf reasons;
    kos_buf_init(&reasons, AUTHZ_MESSAGE_MAX);
    for (size_t i = 0; i < c->n; i++) {
        const struct authz_authorizer *a = &c->v[i].authorizer;
        _cleanup_free_ char *why = NULL;
        /* Reasons cost (RBAC describes the binding that allowed): build them only when the
         * caller reads them. */
        int d = a->authorize(a->ctx, attrs, reason ? &why : NULL);
        if (d == AUTHZ_ALLOW || d == AUTHZ_DENY) {
            if (reason)
                *reason = TAKE_PTR(why);
            return d;
        }
        /* No opinion or a failure: remember the reason, ask the next one. A text that does
         * not fit the bound is cut rather than turned into an allow. */
        if (d < 0 && !why) {
            char tmp[128];
            snprintf(tmp, sizeof(tmp), "%s authorizer failed: %s", authz_mode_name(c->v[i].mode),
                     strerror(-d));
            why = strdup(tmp);
        }
        if (why && *why) {
            if (reasons.len > 0)
                (void)kos_buf_append(&reasons, "\n", 1);
            (void)kos_buf_append_str(&reasons, why);
        }
    }
    if (reason)
        *reason = reasons.len > 0 ? kos_buf_steal(&reasons, NULL) : NULL;
    return AUTHZ_NO_OPINION;
}

static int chain_cb(void *ctx, const struct authz_attributes *attrs, char **reason)
{
    return authz_chain_authorize(ctx, attrs, reason);
}

struct authz_authorizer authz_chain_as_authorizer(const struct authz_chain *c)
{
    return (struct authz_authorizer){.authorize = chain_cb, .ctx = (void *)c};
}
