/* Impersonation: each requested identity is one authorization check for the requestor; only
 * when all pass does the request act as the new user. */
#include "auth/impersonate.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/authz/messages.h"
#include "auth/authn.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define H_USER        "Impersonate-User"
#define H_GROUP       "Impersonate-Group"
#define H_UID         "Impersonate-Uid"
#define H_EXTRA       "Impersonate-Extra-"
#define SA_PREFIX     "system:serviceaccount:"
#define AUTHN_GROUP   "authentication.k8s.io"
#define AUTHN_VERSION "v1"

enum kind { K_USER, K_SERVICEACCOUNT, K_GROUP, K_EXTRA, K_UID };

/* One thing to impersonate, as kube's ObjectReference list holds them. */
struct target {
    enum kind kind;
    char *ns;   /* service accounts */
    char *name; /* user, service account, group or extra value, uid */
    char *key;  /* extras: the lowercased, unescaped key */
};

static void targets_free(struct target *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].ns);
        free(t[i].name);
        free(t[i].key);
    }
    free(t);
}

bool kos_impersonate_header(const char *name)
{
    return strncasecmp(name, "Impersonate-", 12) == 0;
}

static bool is_label(const char *s, size_t n)
{
    if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
            return false;
    return true;
}

static bool is_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    for (const char *p = s;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!is_label(p, len))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}

/* serviceaccount.SplitUsername: system:serviceaccount:<namespace label>:<name subdomain>. */
static bool split_sa(const char *user, char **ns, char **name)
{
    if (!kos_str_has_prefix(user, SA_PREFIX))
        return false;
    const char *rest = user + strlen(SA_PREFIX);
    const char *colon = strchr(rest, ':');
    if (!colon || strchr(colon + 1, ':'))
        return false;
    if (!is_label(rest, (size_t)(colon - rest)) || !is_subdomain(colon + 1))
        return false;
    *ns = kos_strndup(rest, (size_t)(colon - rest));
    *name = strdup(colon + 1);
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* strings.ToLower then url.PathUnescape; a malformed escape keeps the lowercased text. */
static char *extra_key(const char *raw)
{
    size_t n = strlen(raw);
    char *lower = malloc(n + 1);
    if (!lower)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)raw[i]);
    char *out = malloc(n + 1);
    if (!out) {
        free(lower);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (lower[i] != '%') {
            out[k++] = lower[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(lower[i + 1]) : -1;
        int lo = hi >= 0 ? hexval(lower[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            free(out);
            return lower;
        }
        out[k++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[k] = '\0';
    free(lower);
    return out;
}

static int push(struct target **v, size_t *n, struct target t)
{
    if (*n >= KOS_IMPERSONATE_MAX_HEADERS)
        return -E2BIG;
    struct target *grown = realloc(*v, (*n + 1) * sizeof(**v));
    if (!grown)
        return -ENOMEM;
    grown[(*n)++] = t;
    *v = grown;
    return 0;
}

/* Go's %v of the []ObjectReference, for the 400 kube answers. */
static void describe(const struct target *t, size_t n, struct kos_buf *b)
{
    static const char *kinds[] = {"User", "ServiceAccount", "Group", "UserExtra", "UID"};
    kos_buf_append_str(b, "[");
    for (size_t i = 0; i < n; i++) {
        bool authn_v1 = t[i].kind == K_EXTRA || t[i].kind == K_UID;
        kos_buf_printf(b, "%s{%s %s %s  %s  %s}", i ? " " : "", kinds[t[i].kind],
                       t[i].ns ? t[i].ns : "", t[i].name ? t[i].name : "",
                       authn_v1 ? AUTHN_GROUP "/" AUTHN_VERSION : "", t[i].key ? t[i].key : "");
    }
    kos_buf_append_str(b, "]");
}

/* buildImpersonationRequests: user first, then groups, extras and the uid. */
static int build_targets(const struct kos_header *h, size_t nh, struct target **ret, size_t *nret,
                         bool *groups_given, struct kos_error **err)
{
    struct target *t = NULL;
    size_t n = 0;
    int r = 0;
    const char *user = NULL, *uid = NULL;
    for (size_t i = 0; i < nh; i++) {
        if (!user && strcasecmp(h[i].name, H_USER) == 0)
            user = h[i].value;
        else if (!uid && strcasecmp(h[i].name, H_UID) == 0)
            uid = h[i].value;
    }
    bool has_user = user && user[0];
    if (has_user) {
        struct target u = {.kind = K_USER};
        if (split_sa(user, &u.ns, &u.name))
            u.kind = K_SERVICEACCOUNT;
        else
            u.name = strdup(user);
        r = u.name && (u.kind == K_USER || u.ns) ? push(&t, &n, u) : -ENOMEM;
        if (r < 0) {
            free(u.ns);
            free(u.name);
        }
    }
    bool has_other = false;
    for (size_t i = 0; r == 0 && i < nh; i++) {
        if (strcasecmp(h[i].name, H_GROUP) == 0) {
            *groups_given = true;
            has_other = true;
            struct target g = {.kind = K_GROUP, .name = strdup(h[i].value)};
            r = g.name ? push(&t, &n, g) : -ENOMEM;
            if (r < 0)
                free(g.name);
        }
    }
    for (size_t i = 0; r == 0 && i < nh; i++) {
        if (strncasecmp(h[i].name, H_EXTRA, strlen(H_EXTRA)) == 0) {
            has_other = true;
            struct target e = {.kind = K_EXTRA,
                               .name = strdup(h[i].value),
                               .key = extra_key(h[i].name + strlen(H_EXTRA))};
            r = e.name && e.key ? push(&t, &n, e) : -ENOMEM;
            if (r < 0) {
                free(e.name);
                free(e.key);
            }
        }
    }
    if (r == 0 && uid && uid[0]) {
        has_other = true;
        struct target u = {.kind = K_UID, .name = strdup(uid)};
        r = u.name ? push(&t, &n, u) : -ENOMEM;
        if (r < 0)
            free(u.name);
    }
    if (r == -E2BIG) {
        targets_free(t, n);
        return kos_error_set(err, 400, "BadRequest", "more than %d impersonation headers",
                             KOS_IMPERSONATE_MAX_HEADERS);
    }
    if (r < 0) {
        targets_free(t, n);
        return kos_error_set(err, 500, "InternalError", "out of memory");
    }
    if (has_other && !has_user) {
        struct kos_buf b;
        kos_buf_init(&b, 64 * 1024);
        describe(t, n, &b);
        kos_error_set(err, 400, "BadRequest", "requested %s without impersonating a user",
                      b.data ? b.data : "[]");
        kos_buf_free(&b);
        targets_free(t, n);
        return -EINVAL;
    }
    *ret = t;
    *nret = n;
    return 0;
}

static int check(const struct authz_authorizer *az, const struct kos_user *who,
                 const struct target *t, struct kos_error **err)
{
    static const char *resources[] = {"users", "serviceaccounts", "groups", "userextras", "uids"};
    bool authn_v1 = t->kind == K_EXTRA || t->kind == K_UID;
    struct authz_attributes a = {
        .user = who,
        .verb = "impersonate",
        .resource_request = true,
        .namespace_ = t->ns ? t->ns : "",
        .api_group = authn_v1 ? AUTHN_GROUP : "",
        .api_version = authn_v1 ? AUTHN_VERSION : "",
        .resource = resources[t->kind],
        .subresource = t->key ? t->key : "",
        .name = t->name,
        .path = "",
    };
    char *reason = NULL;
    int d = az && az->authorize ? az->authorize(az->ctx, &a, &reason) : AUTHZ_NO_OPINION;
    if (d == AUTHZ_ALLOW) {
        free(reason);
        return 0;
    }
    int r = authz_forbidden_error(&a, reason, err);
    free(reason);
    return r < 0 ? r : -EACCES;
}

static int add_groups_for(struct kos_user_info *u, const struct target *t, size_t n,
                          bool groups_given)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (t[i].kind == K_SERVICEACCOUNT && !groups_given) {
            /* serviceaccount.MakeGroupNames: fixed for a service account */
            r = kos_user_info_add_group(u, "system:serviceaccounts");
            _cleanup_free_ char *g = NULL;
            if (r == 0 && asprintf(&g, "system:serviceaccounts:%s", t[i].ns) < 0)
                r = -ENOMEM;
            if (r == 0)
                r = kos_user_info_add_group(u, g);
        } else if (t[i].kind == K_GROUP) {
            r = kos_user_info_add_group(u, t[i].name);
        } else if (t[i].kind == K_EXTRA) {
            r = kos_user_info_add_extra(u, t[i].key, t[i].name);
        }
    }
    return r;
}

int kos_impersonate(const struct authz_authorizer *az, const struct kos_user_info *requestor,
                    const struct kos_header *headers, size_t n, struct kos_user_info *ret,
                    struct kos_error **err)
{
    struct target *t = NULL;
    size_t nt = 0;
    bool groups_given = false;
    int r = build_targets(headers, n, &t, &nt, &groups_given, err);
    if (r < 0)
        return r;
    if (nt == 0) {
        free(t);
        return 0;
    }
    const struct kos_user who = {.name = requestor->name,
                                 .uid = requestor->uid,
                                 .groups = (const char *const *)requestor->groups,
                                 .ngroups = requestor->ngroups};
    for (size_t i = 0; r == 0 && i < nt; i++)
        r = check(az, &who, &t[i], err);

    struct kos_user_info u = {0};
    for (size_t i = 0; r == 0 && i < nt; i++) {
        if (t[i].kind == K_USER)
            u.name = strdup(t[i].name);
        else if (t[i].kind == K_SERVICEACCOUNT &&
                 asprintf(&u.name, SA_PREFIX "%s:%s", t[i].ns, t[i].name) < 0)
            u.name = NULL;
        else if (t[i].kind == K_UID)
            u.uid = strdup(t[i].name);
        else
            continue;
        if ((t[i].kind == K_UID && !u.uid) || (t[i].kind != K_UID && !u.name))
            r = -ENOMEM;
    }
    if (r == 0)
        r = add_groups_for(&u, t, nt, groups_given);
    if (r == 0) {
        /* system:authenticated unless system:(un)authenticated was asked for; the anonymous
         * user gets system:unauthenticated */
        bool anonymous = strcmp(u.name, KOS_AUTHN_ANONYMOUS_USER) == 0;
        if (anonymous)
            r = kos_user_info_add_group(&u, KOS_AUTHN_GROUP_UNAUTHENTICATED);
        else if (!kos_user_info_in_group(&u, KOS_AUTHN_GROUP_UNAUTHENTICATED))
            r = kos_user_info_add_group(&u, KOS_AUTHN_GROUP_AUTHENTICATED);
    }
    targets_free(t, nt);
    if (r == -EACCES)
        return r;
    if (r == -E2BIG) {
        kos_user_info_clear(&u);
        return kos_error_set(err, 400, "BadRequest", "too many impersonated groups or extras");
    }
    if (r < 0) {
        kos_user_info_clear(&u);
        return kos_error_set(err, 500, "InternalError", "out of memory");
    }
    *ret = u;
    return 1;
}
