/* Requests made in process: the components inside `kos server` (controllers, scheduler) hand
 * a request to the API server's handler on their own thread instead of sending it over TLS
 * and HTTP on loopback. The handler sees an ordinary struct http_request (method, decoded
 * path, query, headers, body, the caller's verified identity as its TLS peer), so
 * authentication, authorization and admission run exactly as for a remote client. */
#pragma once

#include <stddef.h>

#include "apiserver/http.h"
#include "pki/identity.h"
#include "util/buf.h"

struct http_param {
    const char *key;
    const char *value; /* NULL for a query parameter given without "=" */
};

struct http_local {
    struct http_param *query; /* decoded, in order */
    size_t nquery;
    const struct http_param *headers;
    size_t nheaders;
};

struct http_local_call {
    http_handler_fn handler;
    void *handler_ctx;
    const struct pki_peer *peer; /* who is asking, as a verified client certificate would say */
    const char *method;
    const char *path_query; /* as on the wire: "/api/v1/namespaces/a%2Fb/pods?limit=1" */
    const struct http_param *headers;
    size_t nheaders;
    const char *body; /* may be NULL */
    size_t len;
};

/* Runs the handler and returns its status and whole body in ret_body (whose limit bounds
 * it; a streamed reply is read to its end). 0, or -ENOMEM, -E2BIG (reply over the limit),
 * -EINVAL (path_query does not start with '/'). */
int http_local_request(const struct http_local_call *call, int *ret_status,
                       struct kos_buf *ret_body);

/* The lookups of http.h for a local request. */
const char *http_local_query(const struct http_local *l, const char *key);
size_t http_local_query_all(const struct http_local *l, const char *key, const char **out,
                            size_t max);
const char *http_local_header(const struct http_local *l, const char *name);
void http_local_headers_with_prefix(const struct http_local *l, const char *prefix,
                                    http_header_fn fn, void *ctx);
