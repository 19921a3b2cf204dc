/* The API client every kos component uses to talk to the API server: JSON over HTTP/1.1
 * (libcurl), connections kept alive and reused, bearer token and TLS settings in a config so
 * that the node agent can use it across machines exactly as the controllers use it over
 * loopback inside `kos server`.
 *
 * Objects are addressed by kind descriptor (api/kinds.h), namespace, name and subresource.
 * Calls are thread-safe: each takes a pooled connection for its duration.
 *
 * Errors (negative errno; *err gets the server's Status: code, reason, message):
 *   -ENOENT     404 NotFound
 *   -EEXIST     409 AlreadyExists
 *   -ECANCELED  409 Conflict (resourceVersion or precondition mismatch: read again, retry)
 *   -ESTALE     410 Expired/Gone (a watch or list resourceVersion too old: re-list)
 *   -EACCES     401/403, -EINVAL 400/422, other codes as kos_error_errno_for_code
 *   -EIO        transport failure (connection refused, reset, bad response); err has 503
 *   -ETIMEDOUT  no answer within the configured timeout
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/kinds.h"
#include "util/error.h"

/* Most bytes one response may hold (lists are paged well below this). */
#define KOS_CLIENT_MAX_RESPONSE (256u * 1024 * 1024)
/* Most bytes one watch event may hold. */
#define KOS_CLIENT_MAX_EVENT (64u * 1024 * 1024)

struct store;
struct kos_buf;

/* An in-process transport: the API server answers the request on the caller's thread, as
 * the identity the transport was made for. 0 with the HTTP status and the body, or a
 * negative errno when no answer came. */
typedef int (*kos_client_local_fn)(void *ctx, const char *method, const char *path_query,
                                   const char *content_type, const char *user_agent,
                                   const char *body, size_t len, long *ret_status,
                                   struct kos_buf *ret_body);

struct kos_client_config {
    const char *server;       /* base URL: "https://127.0.0.1:6443" */
    const char *bearer_token; /* optional: sent as "Authorization: Bearer ..." */
    const char *ca_file;      /* optional: PEM bundle that verifies the server */
    const char *cert_file;    /* optional: client certificate (PEM) */
    const char *key_file;     /* optional: its private key (PEM) */
    /* The same three as PEM text in memory (libcurl blobs), for in-process clients whose
     * certificates were never written to disk; each takes precedence over its file. */
    const char *ca_pem;
    const char *cert_pem;
    const char *key_pem;
    bool insecure_skip_tls_verify;
    const char *user_agent; /* default "kos" */
    int timeout_ms;         /* per request, watches excluded (default 30000) */
    /* In-process fast path (components inside `kos server` only): informers of this client
     * list from this store's index and follow its watch window directly, sharing the stored
     * bytes, instead of LIST and WATCH over HTTP with each event re-encoded and parsed on
     * both sides. Every other call still goes through the API (admission, validation). */
    struct store *local_store;
    /* In-process requests (components inside `kos server` only): every request but a watch
     * (or a followed log) goes to local_request instead of TLS and HTTP over loopback; the
     * API server still authenticates the identity it carries, authorizes and admits it. */
    kos_client_local_fn local_request;
    void *local_request_ctx;
};

struct kos_client;

/* Copies the config; no connection is made until the first request. */
int kos_client_new(const struct kos_client_config *cfg, struct kos_client **ret);
/* The config's local_store, or NULL. */
struct store *kos_client_local_store(const struct kos_client *c);
/* Closes the pooled connections. No call may be in flight. Accepts NULL. */
void kos_client_free(struct kos_client *c);

/* What a request addresses. ns is ignored for cluster-scoped kinds and may be NULL for an
 * all-namespaces list or watch; name NULL addresses the collection; sub ("status") may be
 * NULL. */
struct kos_ref {
    const struct kos_kind *kind;
    const char *ns;
    const char *name;
    const char *sub;
};

struct kos_list_options {
    const char *label_selector;
    const char *field_selector;
    const char *resource_version;
    const char *continue_token;
    int64_t limit;           /* 0: none */
    int64_t timeout_seconds; /* watch: the server ends the stream after this (0: its default) */
    bool allow_bookmarks;    /* watch */
};

enum kos_propagation {
    KOS_PROPAGATION_DEFAULT, /* let the server decide (Background for every kos kind) */
    KOS_PROPAGATION_BACKGROUND,
    KOS_PROPAGATION_FOREGROUND,
    KOS_PROPAGATION_ORPHAN,
};

struct kos_delete_options {
    bool has_grace_period;
    int64_t grace_period_seconds;
    enum kos_propagation propagation;
    const char *precondition_uid;
    const char *precondition_resource_version;
};

enum kos_patch_type {
    KOS_PATCH_MERGE,     /* application/merge-patch+json */
    KOS_PATCH_JSON,      /* application/json-patch+json */
    KOS_PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
    KOS_PATCH_APPLY,     /* application/apply-patch+yaml (JSON is YAML); needs field_manager */
};

/* Each call returns 0 and sets *ret (a new reference; ret may be NULL) or a negative errno
 * with *err filled (err may be NULL). */
int kos_client_get(struct kos_client *c, const struct kos_ref *ref, json_t **ret,
                   struct kos_error **err);
int kos_client_list(struct kos_client *c, const struct kos_ref *ref,
                    const struct kos_list_options *opts, json_t **ret, struct kos_error **err);
/* POST to the collection (ref->name ignored), or with ref->sub to that subresource of the
 * named object (serviceaccounts/<name>/token). */
int kos_client_create(struct kos_client *c, const struct kos_ref *ref, const json_t *obj,
                      json_t **ret, struct kos_error **err);
/* kos_client_create with the object already encoded as JSON (body, len): for a writer that
 * builds its objects as bytes rather than trees. */
int kos_client_create_encoded(struct kos_client *c, const struct kos_ref *ref, const char *body,
                              size_t len, json_t **ret, struct kos_error **err);
/* PUT: ref->name must be set; obj carries metadata.resourceVersion for optimistic
 * concurrency (-ECANCELED when it is stale). */
int kos_client_update(struct kos_client *c, const struct kos_ref *ref, const json_t *obj,
                      json_t **ret, struct kos_error **err);
int kos_client_patch(struct kos_client *c, const struct kos_ref *ref, enum kos_patch_type type,
                     const json_t *patch, const char *field_manager, bool force, json_t **ret,
                     struct kos_error **err);
/* *ret is what the server answered: the object (still present when it was only marked for
 * deletion) or a Status. */
int kos_client_delete(struct kos_client *c, const struct kos_ref *ref,
                      const struct kos_delete_options *opts, json_t **ret, struct kos_error **err);

/* Any request: path_query is appended to the base URL ("/healthz", "/api/v1/pods?limit=1").
 * body may be NULL. Sets *ret_status (the HTTP code) and *ret_body (JSON, or NULL when the
 * body was empty or not JSON) whatever the status; ret_body may be NULL, and the answer is
 * then not parsed. Returns a negative errno only when no HTTP answer came. */
int kos_client_request(struct kos_client *c, const char *method, const char *path_query,
                       const char *content_type, const char *body, size_t len, long *ret_status,
                       json_t **ret_body, struct kos_error **err);

/* The URL path of a reference ("/apis/apps/v1/namespaces/ns/replicasets/rs/status"), its
 * segments percent-encoded. -ENAMETOOLONG when it does not fit. */
int kos_client_path(const struct kos_ref *ref, char *out, size_t size);

/* ---- watch ---------------------------------------------------------------------------- */

enum kos_watch_type { KOS_WATCH_ADDED, KOS_WATCH_MODIFIED, KOS_WATCH_DELETED, KOS_WATCH_BOOKMARK };

struct kos_watch_event {
    enum kos_watch_type type;
    json_t *object; /* owned by the caller */
};

struct kos_watch;

/* Starts a watch (ref->name, when set, becomes fieldSelector=metadata.name=<name>). The
 * connection is its own, not a pooled one. Nothing is read until kos_watch_next. */
int kos_client_watch(struct kos_client *c, const struct kos_ref *ref,
                     const struct kos_list_options *opts, struct kos_watch **ret,
                     struct kos_error **err);
/* Waits up to timeout_ms (negative: no limit) for the next event. Returns 1 and fills *ev,
 * 0 on timeout, -EPIPE when the server ended the stream (watch again from the last
 * resourceVersion), -ESTALE on 410 (re-list), -ECANCELED after kos_watch_cancel, another
 * negative errno (with *err) when the watch failed. */
int kos_watch_next(struct kos_watch *w, int timeout_ms, struct kos_watch_event *ev,
                   struct kos_error **err);
/* kos_watch_next without decoding: *line (not NUL-terminated) is the event's JSON as the server
 * sent it, valid until the next call on w. For a reader that needs a field or two of many
 * events; an ERROR event still ends the stream with its error. */
int kos_watch_next_line(struct kos_watch *w, int timeout_ms, const char **line, size_t *len,
                        struct kos_error **err);
/* Makes a kos_watch_next in another thread return -ECANCELED at once, and every later one. */
void kos_watch_cancel(struct kos_watch *w);
/* Accepts NULL. */
void kos_watch_close(struct kos_watch *w);
void kos_watch_event_clear(struct kos_watch_event *ev);

/* The ref for an object's apiVersion/kind ("apps/v1", "ReplicaSet"); kind NULL when kos does
 * not serve it. */
const struct kos_kind *kos_client_kind_of(const char *api_version, const char *kind);
