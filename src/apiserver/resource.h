/* Internal to the API server: one request against a resource, and the generic handlers
 * (written once for every kind). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "api/kinds.h"
#include "api/selector.h"
#include "apiserver/apiserver.h"
#include "apiserver/authz/authz.h"
#include "apiserver/http.h"
#include "apiserver/router.h"
#include "auth/user.h"

struct resource_request {
    struct apiserver *srv;
    struct http_request *http;
    const struct route *route;
    const struct kos_kind *kind;
    const char *ns;   /* NULL for cluster-scoped kinds and all-namespace lists */
    const char *name; /* NULL for collections */
    const char *sub;  /* "" when no subresource */
    bool dry_run;
    const struct kos_user_info *user; /* authenticated (and maybe impersonated) */
    /* The same identity as the authorizers see it (escalation checks, access reviews). */
    const struct kos_user *authz_user;
};

/* Label and field selectors of a list, watch or deletecollection. */
struct list_filter {
    struct label_selector *labels;
    struct field_selector *fields;
};

int list_filter_parse(const struct resource_request *rr, struct list_filter *f,
                      struct kos_error **err);
bool list_filter_active(const struct list_filter *f);
bool list_filter_matches(const struct list_filter *f, const json_t *obj);
void list_filter_done(struct list_filter *f);

/* Decodes the request body by Content-Type (JSON, YAML); 415 for anything else. */
int body_decode(const struct http_request *req, json_t **ret, struct kos_error **err);
/* An object body for create/update: like body_decode, plus fieldValidation handling of
 * duplicate JSON fields (Strict: 400; Warn or unset: last wins and a Warning header). */
int body_decode_object(const struct http_request *req, struct http_reply *rep, json_t **ret,
                       struct kos_error **err);
/* The same for PATCH bodies; fills the patch type from the Content-Type. */
int body_decode_patch(const struct http_request *req, int *ret_type, json_t **ret,
                      struct kos_error **err);

/* Query flags. */
bool query_bool(const struct http_request *req, const char *key, bool *ret_valid);
bool query_dry_run(const struct http_request *req);

/* Store key of the addressed object. */
int rr_key(const struct resource_request *rr, const char *name, char *out, size_t size);
/* Reads and decodes the addressed object with its mod revision. -ENOENT (err untouched) when
 * it does not exist, so callers can answer with reply_store_error. */
int rr_read_object(struct resource_request *rr, json_t **ret_obj, int64_t *ret_rev,
                   struct kos_error **err);

void handle_get(struct resource_request *rr, struct http_reply *rep);
void handle_list(struct resource_request *rr, struct http_reply *rep);
void handle_watch(struct resource_request *rr, struct http_reply *rep);
void handle_create(struct resource_request *rr, struct http_reply *rep);
void handle_update(struct resource_request *rr, struct http_reply *rep);
void handle_patch(struct resource_request *rr, struct http_reply *rep);
void handle_delete(struct resource_request *rr, struct http_reply *rep);
void handle_deletecollection(struct resource_request *rr, struct http_reply *rep);
void handle_binding(struct resource_request *rr, struct http_reply *rep);
void handle_scale(struct resource_request *rr, struct http_reply *rep);
/* serviceaccounts/token (serviceaccount_token.c). */
void handle_token_request(struct resource_request *rr, struct http_reply *rep);
/* pods/log (apiserver/pod_logs.c). */
void handle_pod_log(struct resource_request *rr, struct http_reply *rep);
/* pods/exec, pods/attach, pods/portforward (apiserver/pod_connect.c). */
void handle_pod_connect(struct resource_request *rr, struct http_reply *rep);
/* The create-only self-subject reviews (kinds marked ephemeral). */
void handle_review(struct resource_request *rr, struct http_reply *rep);

/* Shared by update, patch, status and scale: makes `next` the new state of the object whose
 * current stored state is `cur` (mod revision cur_rev), applying server-owned fields,
 * defaults and validation, and writes it guarded by cur_rev. Returns 0 and sets *ret_value
 * (the stored bytes) or a negative errno; -ECANCELED means the object changed meanwhile. */
int commit_update(struct resource_request *rr, json_t *cur, int64_t cur_rev, json_t *next,
                  struct kos_value **ret_value, struct kos_error **err);

/* Stores a brand-new object (create and apply-create). 201 on success. */
void create_object(struct resource_request *rr, json_t *obj, struct http_reply *rep);

/* Ensures the namespace of a namespaced request exists (404 otherwise). */
int require_namespace(struct resource_request *rr, struct kos_error **err);
