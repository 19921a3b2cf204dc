/* Port forwarding sessions (portforward.k8s.io): the kubelet's two forms.
 *  - SPDY/3.1 (kubectl; raw after an `Upgrade: SPDY/3.1` POST, or tunnelled in WebSocket
 *    messages with the protocol `SPDY/3.1+portforward.k8s.io`, kubectl 1.31+): the client
 *    opens a pair of streams per connection, headers streamType=error|data, port, requestID;
 *    the server connects to the port when the data stream arrives and copies both ways.
 *  - WebSocket v4.channel.k8s.io (the Python client): ?ports=P1,P2; per port i the data
 *    channel 2i and the error channel 2i+1, each starting with the port as 2 bytes
 *    little-endian. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiserver/http.h"
#include "util/error.h"

enum pf_protocol {
    PF_PROTO_NONE = 0,
    PF_PROTO_WS_V4,   /* v4.channel.k8s.io */
    PF_PROTO_WS_SPDY, /* SPDY/3.1+portforward.k8s.io */
    PF_PROTO_SPDY,    /* raw SPDY/3.1 upgrade */
};

/* Bounds on what one client may hold open. */
#define PF_MAX_STREAMS 256 /* SPDY streams alive at once (two per connection) */

enum pf_protocol pf_select_websocket_protocol(const char *header);
const char *pf_protocol_name(enum pf_protocol p);

/* Connects to a port of the pod: 0 and a connected fd, or a negative errno with *ret_error
 * (malloc'd) the message for the client. */
typedef int (*pf_dial_fn)(void *ctx, uint16_t port, int *ret_fd, char **ret_error);

/* Serves the session on an upgraded connection until the client leaves. ports: the WebSocket
 * v4 form's ?ports (SPDY clients name the port per stream). */
void pf_serve(int fd, const char *extra, size_t extra_len, enum pf_protocol proto,
              const uint16_t *ports, size_t nports, pf_dial_fn dial, void *dial_ctx);
