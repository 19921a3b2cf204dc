/* Requests made in process (see http_local.h). The query is split and decoded as MHD does
 * for a request from the network ('+' is a space, then %HH through http_unescape). */
#include "apiserver/http_local.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

#define STREAM_CHUNK (16 * 1024)

const char *http_local_query(const struct http_local *l, const char *key)
{
    for (size_t i = 0; i < l->nquery; i++)
        if (strcmp(l->query[i].key, key) == 0)
            return l->query[i].value;
    return NULL;
}

size_t http_local_query_all(const struct http_local *l, const char *key, const char **out,
                            size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < l->nquery && n < max; i++)
        if (l->query[i].value && strcmp(l->query[i].key, key) == 0)
            out[n++] = l->query[i].value;
    return n;
}

const char *http_local_header(const struct http_local *l, const char *name)
{
    for (size_t i = 0; i < l->nheaders; i++)
        if (strcasecmp(l->headers[i].key, name) == 0)
            return l->headers[i].value;
    return NULL;
}

void http_local_headers_with_prefix(const struct http_local *l, const char *prefix,
                                    http_header_fn fn, void *ctx)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < l->nheaders; i++)
        if (strncasecmp(l->headers[i].key, prefix, n) == 0 &&
            !fn(ctx, l->headers[i].key, l->headers[i].value ? l->headers[i].value : ""))
            return;
}

static void plus_to_space(char *s)
{
    for (; *s; s++)
        if (*s == '+')
            *s = ' ';
}

/* Splits q (modified in place) into decoded parameters; empty segments are skipped. */
static int parse_query(char *q, struct http_param **ret, size_t *ret_n)
{
    size_t cap = 1;
    for (const char *p = q; *p; p++)
        cap += *p == '&';
    struct http_param *v = calloc(cap, sizeof(*v));
    if (!v)
        return -ENOMEM;
    size_t n = 0;
    for (char *seg = q; seg;) {
        char *next = strchr(seg, '&');
        if (next)
            *next++ = '\0';
        if (*seg && n < cap) {
            char *eq = strchr(seg, '=');
            if (eq)
                *eq++ = '\0';
            plus_to_space(seg);
            http_unescape(seg);
            if (eq) {
                plus_to_space(eq);
                http_unescape(eq);
            }
            v[n++] = (struct http_param){seg, eq};
        }
        seg = next;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* The reply's body, whatever form the handler chose. */
static int collect_body(struct http_reply *rep, struct kos_buf *out)
{
    int r = 0;
    if (rep->streaming) {
        _cleanup_free_ char *chunk = malloc(STREAM_CHUNK);
        if (!chunk)
            return -ENOMEM;
        for (;;) {
            ssize_t n = rep->stream.read(rep->stream.ctx, chunk, STREAM_CHUNK);
            if (n <= 0)
                break;
            if ((r = kos_buf_append(out, chunk, (size_t)n)) < 0)
                return r;
        }
        return 0;
    }
    if (rep->iov) {
        for (size_t i = 0; r == 0 && i < rep->iovcnt; i++)
            r = kos_buf_append(out, rep->iov[i].iov_base, rep->iov[i].iov_len);
        return r;
    }
    return rep->body ? kos_buf_append(out, rep->body, rep->len) : 0;
}

int http_local_request(const struct http_local_call *call, int *ret_status,
                       struct kos_buf *ret_body)
{
    if (!call->path_query || call->path_query[0] != '/')
        return -EINVAL;
    _cleanup_free_ char *copy = strdup(call->path_query);
    if (!copy)
        return -ENOMEM;
    char *q = strchr(copy, '?');
    if (q)
        *q++ = '\0';
    http_unescape(copy);
    struct http_local local = {.headers = call->headers, .nheaders = call->nheaders};
    int r = q ? parse_query(q, &local.query, &local.nquery) : 0;
    if (r < 0)
        return r;
    struct http_request req = {
        .local = &local,
        .method = call->method,
        .path = copy,
        .socket_fd = -1,
        .tls = true,
        .peer = call->peer,
    };
    kos_buf_init(&req.body, HTTP_MAX_BODY);
    if (call->body && call->len > HTTP_MAX_BODY)
        req.body_too_large = true;
    else if (call->body && (r = kos_buf_append(&req.body, call->body, call->len)) < 0) {
        free(local.query);
        return r;
    }
    struct http_reply rep = {0};
    call->handler(call->handler_ctx, &req, &rep);
    kos_buf_free(&req.body);
    free(local.query);
    r = collect_body(&rep, ret_body);
    int status = rep.status ? rep.status : 500;
    http_reply_clear(&rep);
    if (r < 0)
        return r;
    *ret_status = status;
    return 0;
}
