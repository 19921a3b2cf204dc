/* Watches the shims of the containers this agent started. Each shim keeps a pipe to the agent
 * open until it has recorded its container's exit (kos_container_start's exit descriptor);
 * at that pipe's EOF the pod is synced again at once. This replaces looking at every running
 * container once a second; containers the agent did not start itself (found again after a
 * restart of the agent) have no pipe and are still looked at that way. */
#pragma once

#include <stdbool.h>

struct exit_watch;

/* on_exit(ctx, ns, name) runs on the watcher's thread for each container that exited. */
int exit_watch_new(void (*on_exit)(void *ctx, const char *ns, const char *name), void *ctx,
                   struct exit_watch **ret);
/* Stops the thread and closes every descriptor; accepts NULL. */
void exit_watch_free(struct exit_watch *w);

/* Watches fd (taken over: closed in every case, also on error) for the exit of container id
 * of pod ns/name. 0, -ENOSPC when too many are watched (the caller polls instead), -ENOMEM,
 * -EINVAL. */
int exit_watch_add(struct exit_watch *w, int fd, const char *id, const char *ns, const char *name);
/* Whether container id's exit is watched (it is running and its shim holds the pipe). */
bool exit_watch_has(struct exit_watch *w, const char *id);
