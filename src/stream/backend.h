/* What a node agent's streaming side provides to serve exec, attach and port-forward (the
 * kubelet's streaming endpoints); stream/session.h serves a session over it.
 *
 * The agent's implementation (src/agent/streaming/streaming.c) is called in process by the
 * API server for pods of its embedded agent, and by a standalone `kos agent`'s kubelet
 * endpoint (agent/streaming/kubelet_server.h: /exec/<ns>/<pod>/<container>, /attach/...,
 * /portForward/...), to which the API server forwards the upgrade for pods on that node and
 * splices the connections (apiserver/kubelet_proxy.h). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* PodExecOptions / PodAttachOptions. */
struct kos_exec_options {
    const char *container;
    const char *const *command; /* exec only */
    size_t ncommand;
    bool stdin, stdout, stderr, tty;
};

/* A running exec (or attach) as the session sees it: its streams, the terminal to resize,
 * and a way to learn its end. fds are -1 when the stream was not asked for. With a tty,
 * stdout_fd carries the terminal's output and stdin_fd its input. */
struct kos_exec_process {
    pid_t pid;        /* a child of this process (waitpid); 0 for attach */
    int stdin_fd;     /* write end */
    int stdout_fd;    /* read end */
    int stderr_fd;    /* read end */
    int tty_fd;       /* TIOCSWINSZ target, -1 without tty */
    int exit_code;    /* attach: filled by wait() */
    void *attach_ctx; /* attach: what wait() and close() need */
    int (*wait)(struct kos_exec_process *p, bool block, int *exit_code);
    void (*terminate)(struct kos_exec_process *p);
    /* a terminal elsewhere (attach: the shim's); NULL: TIOCSWINSZ on tty_fd */
    int (*resize)(struct kos_exec_process *p, unsigned width, unsigned height);
};

/* 1 and *exit_code once it ended, 0 while it runs (block false), negative errno on errors. */
int kos_exec_process_wait(struct kos_exec_process *p, bool block, int *exit_code);
/* Ends it (if still running), reaps it and closes the fds. Accepts NULL and repeats. */
void kos_exec_process_close(struct kos_exec_process *p);
int kos_exec_process_resize(struct kos_exec_process *p, unsigned width, unsigned height);
void kos_exec_process_init(struct kos_exec_process *p);

struct kos_stream_backend {
    /* Starts the command in the pod's container. Errors a person reads come in err (the
     * kubelet's words: container not found, not running). */
    int (*exec)(void *ctx, const json_t *pod, const struct kos_exec_options *o,
                struct kos_exec_process *ret, struct kos_error **err);
    /* Connects to the main process's stdio (only for stdin/tty containers). */
    int (*attach)(void *ctx, const json_t *pod, const struct kos_exec_options *o,
                  struct kos_exec_process *ret, struct kos_error **err);
    /* A TCP connection to port inside the pod's network; the fd is a connected socket. */
    int (*port_connect)(void *ctx, const json_t *pod, uint16_t port, int *ret_fd,
                        struct kos_error **err);
    void *ctx;
};
