/* GET .../log and the kubelet's /containerLogs: PodLogOptions from a query, and serving a
 * container's CRI log file (follow included). The API server uses it for pods of its
 * embedded agent (apiserver/pod_logs.c) and to forward the options to another node's
 * kubelet; a standalone agent's kubelet endpoint (kubelet_server.c) serves the request from
 * its own files with it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "agent/runtime/crilog.h"
#include "apiserver/http.h"
#include "util/buf.h"
#include "util/error.h"

/* The options as given (kube's PodLogOptions minus container). */
struct kos_log_query {
    bool follow, previous, timestamps;
    int64_t tail_lines;    /* -1: not given */
    int64_t limit_bytes;   /* 0: not given */
    int64_t since_seconds; /* 0: not given */
    bool since_time_set;
    time_t since_time;
};

typedef const char *(*kos_query_get_fn)(void *ctx, const char *key);

/* Parses and validates (kube-apiserver's 400/422 texts). get returns a query value or NULL. */
int kos_log_query_parse(kos_query_get_fn get, void *ctx, struct kos_log_query *ret,
                        struct kos_error **err);
/* kos_log_query_parse over a request's query. */
int kos_log_query_from_request(const struct http_request *req, struct kos_log_query *ret,
                               struct kos_error **err);
/* What the file reader needs, at time now. */
void kos_log_query_options(const struct kos_log_query *q, time_t now, struct kos_log_options *ret);
/* Appends the query kube-apiserver sends the kubelet for q ("follow=true&tailLines=3", empty
 * when nothing is set). */
int kos_log_query_format(const struct kos_log_query *q, struct kos_buf *out);

/* Whether the container's attempt still runs (a follow ends after it exited). Called from
 * the stream's thread about once a second. */
typedef bool (*kos_log_live_fn)(void *ctx, const char *container, int64_t attempt);

struct kos_log_source {
    const char *pod_log_dir;
    const json_t *pod;
    const char *container; /* NULL/"": the pod's only container */
    kos_log_live_fn live;
    void *live_ctx; /* taken: freed with live_free once the reply is done */
    void (*live_free)(void *ctx);
    int peer_fd; /* the client's socket, to notice that a follower left */
};

/* Fills rep with the log (a stream when following). */
void kos_log_serve(const struct kos_log_source *src, const struct kos_log_query *q,
                   struct http_reply *rep);
