/* The remote command protocol of exec and attach over WebSocket (kube's
 * apimachinery/pkg/util/remotecommand constants, the kubelet's wsstream): every binary
 * message starts with a channel byte, 0 stdin, 1 stdout, 2 stderr, 3 error (a Status JSON
 * at the end), 4 resize ({"Width":W,"Height":H}); v5 adds 255, "close channel N" (stdin
 * EOF). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/backend.h"

enum rc_protocol {
    RC_PROTO_NONE = 0,
    RC_PROTO_V4, /* v4.channel.k8s.io */
    RC_PROTO_V5, /* v5.channel.k8s.io */
};

enum {
    RC_CH_STDIN = 0,
    RC_CH_STDOUT = 1,
    RC_CH_STDERR = 2,
    RC_CH_ERROR = 3,
    RC_CH_RESIZE = 4,
    RC_CH_CLOSE = 255,
};

/* The best protocol both sides speak, from Sec-WebSocket-Protocol (NULL: none). */
enum rc_protocol rc_select_protocol(const char *header);
const char *rc_protocol_name(enum rc_protocol p);

/* The Status the kubelet ends a session with: Success, or Failure/NonZeroExitCode with the
 * code as details.causes[{reason: ExitCode, message: "N"}]. command names the command in
 * the message as CRI runtimes word it (NULL for attach). */
json_t *rc_exit_status(int exit_code, const char *const *command, size_t ncommand);
/* A Failure Status for an error during the session (message only). */
json_t *rc_error_status(const char *message);

/* Parses a resize message ({"Width":W,"Height":H}); -EINVAL when it is not one. */
int rc_parse_resize(const void *data, size_t len, unsigned *width, unsigned *height);

/* Serves one exec/attach session on an upgraded WebSocket connection until the process
 * ends (its status goes on channel 3, then a close frame) or the client leaves (the process
 * is ended). Takes p, and command (a copy for the final message; may be NULL). */
/* The same over raw SPDY/3.1 with v4.channel.k8s.io (remotecommand_spdy.c); o says which
 * streams the client will open. */
void rc_serve_spdy(int fd, const char *extra, size_t extra_len, const struct kos_exec_options *o,
                   struct kos_exec_process *p, char **command, size_t ncommand);

void rc_serve_websocket(int fd, const char *extra, size_t extra_len, enum rc_protocol proto,
                        struct kos_exec_process *p, char **command, size_t ncommand);
