/* The API server's side of a node's kubelet endpoint (kube-apiserver's kubelet client and
 * apimachinery's UpgradeAwareHandler): pods/log, exec, attach and portforward of pods on a
 * node other than the embedded agent's are forwarded to https://<node address>:<kubelet
 * port>/..., authenticated with the API server's kubelet client certificate (CN
 * kube-apiserver-kubelet-client, O system:masters, issued from the cluster CA at start-up).
 * The kubelet's serving certificate is not verified, as kube-apiserver does without
 * --kubelet-certificate-authority (a kubelet serves a self-signed one by default).
 *
 * The pure parts (response head, chunked bodies) are exposed for the unit tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiserver/http.h"
#include "util/error.h"

#define KUBELET_DEFAULT_PORT 10250 /* kube-apiserver's --kubelet-port */
#define KUBELET_MAX_HEAD     (64u << 10)
#define KUBELET_MAX_HEADERS  64

struct apiserver;

/* Where a node's kubelet answers: the first address of the Node's status.addresses by type,
 * InternalIP, Hostname, InternalDNS, ExternalIP, ExternalDNS, and
 * status.daemonEndpoints.kubeletEndpoint.Port (10250 when unset, as kube-apiserver's
 * --kubelet-port). */
struct kubelet_location {
    char host[256];
    uint16_t port;
};

int kubelet_node_location(struct apiserver *srv, const char *node, struct kubelet_location *ret,
                          struct kos_error **err);

/* GET path (with its query) on the kubelet; a 200 streams the body to the client (follow ends
 * when either side leaves), anything else becomes an error Status. */
void kubelet_proxy_get(struct apiserver *srv, const struct http_request *req,
                       const struct kubelet_location *loc, const char *path,
                       struct http_reply *rep);

/* Forwards an upgrade request (exec/attach/portforward: the client's method, Upgrade,
 * Connection, Sec-WebSocket-* and X-Stream-Protocol-Version headers) to path; the kubelet's
 * 101 becomes this reply's 101, then the two connections are spliced byte for byte. Any
 * other answer is relayed as an error Status. */
void kubelet_proxy_upgrade(struct apiserver *srv, const struct http_request *req,
                           const struct kubelet_location *loc, const char *path,
                           struct http_reply *rep);

/* An HTTP/1.1 response head. */
struct kubelet_head {
    int status;
    char raw[KUBELET_MAX_HEAD + 1]; /* names and values point in here */
    const char *names[KUBELET_MAX_HEADERS];
    const char *values[KUBELET_MAX_HEADERS];
    size_t nheaders;
};

/* Parses the head at the start of buf: the bytes it took (through the blank line), 0 when
 * incomplete, -EPROTO when malformed, -E2BIG over the bounds. */
ssize_t kubelet_head_parse(const char *buf, size_t len, struct kubelet_head *ret);
/* A header's value (case-insensitive name), NULL if absent. */
const char *kubelet_head_get(const struct kubelet_head *h, const char *name);

/* A chunked transfer-coding decoder (RFC 9112 7.1) over a byte stream. */
struct kubelet_chunked {
    int state;
    uint64_t remaining; /* data bytes left in the current chunk */
    unsigned size_digits;
    bool done;
};

/* Decodes in[0..len): data goes to out (at most out_max), *consumed says how much of in was
 * used. 0 (call again with the rest), 1 once the last chunk and trailers are through,
 * -EPROTO for malformed input. */
int kubelet_chunked_decode(struct kubelet_chunked *c, const char *in, size_t len, size_t *consumed,
                           char *out, size_t out_max, size_t *produced);
