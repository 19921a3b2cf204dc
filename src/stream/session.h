/* One exec, attach or port-forward session as the kubelet's streaming server serves it:
 * the request's options (command, stdin/stdout/stderr/tty; ports), the protocol handshake
 * (WebSocket v4/v5 channels, SPDY/3.1, SPDY tunnelled in WebSocket) and the upgraded
 * connection's loop. Both ends use it: the API server for pods of its embedded agent
 * (apiserver/pod_connect.c) and a standalone agent's kubelet endpoint
 * (agent/streaming/kubelet_server.c); what each checks before (authorization, the pod, the
 * container) stays with it. */
#pragma once

#include <jansson.h>

#include "apiserver/http.h"
#include "stream/backend.h"
#include "util/buf.h"
#include "util/error.h"

enum stream_kind { STREAM_EXEC, STREAM_ATTACH, STREAM_PORTFORWARD };

struct stream_session;

/* "exec", "attach", "portforward"/"portForward"; -EINVAL for anything else. */
int stream_kind_parse(const char *name, enum stream_kind *ret);

/* Reads the request's options (query: command, stdin, stdout, stderr, tty; ports) with
 * kube's 400s for bad ones. kubelet: also the names kube-apiserver sends a kubelet (input,
 * output, error, tty = "1"; port=P per port). */
int stream_session_new(enum stream_kind kind, const struct http_request *req, bool kubelet,
                       struct stream_session **ret, struct kos_error **err);
void stream_session_free(struct stream_session *s);

/* Negotiates the protocol with the client (handshake headers go into rep) and starts the
 * process (exec, attach) through backend for container of pod; port-forward connects per
 * stream later. */
int stream_session_start(struct stream_session *s, const struct http_request *req,
                         const struct kos_stream_backend *backend, const json_t *pod,
                         const char *container, struct http_reply *rep, struct kos_error **err);

/* Answers 101 and hands the connection to the session (which rep now owns). */
void stream_session_reply(struct stream_session *s, struct http_reply *rep);

/* The query kube-apiserver sends the kubelet for these options (streamParams: input=1,
 * output=1, error=1, tty=1, command=...; port=P per port), appended to out. */
int stream_session_kubelet_query(const struct stream_session *s, struct kos_buf *out);

/* Answers err instead, dropping the handshake headers start may have added. */
void stream_reply_error(struct http_reply *rep, const struct kos_error *err);
