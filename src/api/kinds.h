/* Kind descriptors: everything the generic resource machinery needs to know about a kind.
 * Handlers, discovery, OpenAPI and watch are written once against these; built-in kinds
 * are a static table (kinds.c), CRDs will add descriptors at run time. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum kos_verb {
    VERB_CREATE = 1 << 0,
    VERB_DELETE = 1 << 1,
    VERB_DELETECOLLECTION = 1 << 2,
    VERB_GET = 1 << 3,
    VERB_LIST = 1 << 4,
    VERB_PATCH = 1 << 5,
    VERB_UPDATE = 1 << 6,
    VERB_WATCH = 1 << 7,
};
#define VERBS_ALL                                                                                  \
    (VERB_CREATE | VERB_DELETE | VERB_DELETECOLLECTION | VERB_GET | VERB_LIST | VERB_PATCH |       \
     VERB_UPDATE | VERB_WATCH)

enum kos_subresource {
    SUB_STATUS = 1 << 0,
    SUB_SCALE = 1 << 1,
    SUB_BINDING = 1 << 2,
    SUB_TOKEN = 1 << 3,    /* serviceaccounts/token: TokenRequest */
    SUB_FINALIZE = 1 << 5, /* namespaces/finalize: the only way to change spec.finalizers */
    SUB_LOG = 1 << 4,      /* pods/log */
    /* pods/exec, pods/attach, pods/portforward: connect subresources (stream upgrades) */
    SUB_EXEC = 1 << 10,
    SUB_ATTACH = 1 << 11,
    SUB_PORTFORWARD = 1 << 12,
};

/* How metadata.name is validated (apimachinery's name validators). */
enum kos_name_rule {
    NAME_DNS1123_SUBDOMAIN, /* most kinds */
    NAME_DNS1123_LABEL,     /* namespaces */
    NAME_DNS1035_LABEL,     /* services */
    NAME_PATH_SEGMENT,      /* RBAC kinds: anything but "." ".." and no "/" or "%" */
};

struct kos_kind {
    const char *group;              /* "" for the core group */
    const char *version;            /* "v1" */
    const char *kind;               /* "Pod" */
    const char *plural;             /* "pods": the resource name */
    const char *singular;           /* "pod" */
    const char *const *short_names; /* NULL-terminated, may be NULL */
    const char *const *categories;  /* NULL-terminated, may be NULL */
    bool namespaced;
    unsigned verbs;        /* enum kos_verb */
    unsigned subresources; /* enum kos_subresource */
    enum kos_name_rule name_rule;
    /* OpenAPI definition prefix, e.g. "io.k8s.api.core.v1" */
    const char *openapi_package;
    /* spec changes bump metadata.generation (kinds with a spec) */
    bool has_generation;
    /* create-only kinds answered at once and never stored (the *Review kinds) */
    bool ephemeral;
    /* served, but left out of discovery and OpenAPI: an older version kept for old clients
     * (kubectl 1.27's `auth whoami` posts authentication.k8s.io/v1alpha1) */
    bool discovery_hidden;
};

/* All served kinds, in discovery order. */
const struct kos_kind *const *kos_kinds_all(size_t *ret_count);

/* Lookup by group + version + plural resource name. */
const struct kos_kind *kos_kind_by_resource(const char *group, const char *version,
                                            const char *plural);
/* Lookup by group + kind ("" + "Pod"). */
const struct kos_kind *kos_kind_by_kind(const char *group, const char *kind);

/* "apps/v1" or "v1" into out. */
void kos_kind_api_version(const struct kos_kind *k, char *out, size_t size);

/* Store key prefix for the kind, optionally within a namespace:
 *   "/registry/pods/" , "/registry/pods/default/", "/registry/apps/deployments/default/" */
int kos_kind_key_prefix(const struct kos_kind *k, const char *ns, char *out, size_t size);
/* Full store key of one object. */
int kos_kind_key(const struct kos_kind *k, const char *ns, const char *name, char *out,
                 size_t size);
