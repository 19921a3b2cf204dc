/* kubectl attach: the shim serves the container's stdio on a unix socket in the container's
 * state directory (<dir>/attach.sock). A client connects once per stream and names it with
 * its first byte: 'o' (receives stdout from then on), 'e' (stderr), 'i' (what it writes goes
 * to the container's stdin, when the container has one). Output is copied to attached
 * clients without ever blocking the container: a client that does not keep up loses output
 * (as containerd's attach broadcaster drops for a slow reader's buffer). */
#pragma once

#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#define KOS_ATTACH_SOCKET      "attach.sock"
#define KOS_ATTACH_MAX_CLIENTS 16

/* Marks config.json for a container with stdin: true (and stdinOnce), which the shim reads:
 * it keeps a stdin pipe for attach instead of /dev/null; tty: true gives the process a
 * terminal (process.terminal), whose master the shim receives from runc. */
void kos_attach_mark_spec(json_t *spec, bool stdin_open, bool stdin_once, bool tty);

/* Client side: a connected socket for one stream of the container whose state directory is
 * dir ('o', 'e' or 'i'; 'r' for a terminal's size: 4-byte records, width and height as
 * native 16-bit integers). */
int kos_attach_connect(const char *dir, char role, int *ret_fd);

/* Shim side. */
struct shim_attach;
/* Reads the marks from <dir>/config.json: *ret_stdin true when the container wants a stdin
 * pipe. */
void shim_attach_spec(const char *dir, bool *ret_stdin, bool *ret_stdin_once, bool *ret_tty);
/* Listens on <dir>/attach.sock; stdin_fd: the write end of the container's stdin (-1: none;
 * owned from here on); tty_fd: the terminal master to resize (-1: none; borrowed). */
int shim_attach_open(const char *dir, int stdin_fd, bool stdin_once, int tty_fd,
                     struct shim_attach **ret);
/* The console socket runc create --console-socket sends the terminal master to: listens on
 * <dir>/console.sock and returns a path to it short enough for sun_path. */
int shim_console_listen(const char *dir, int *ret_fd, char *path, size_t size);
/* Receives the master runc sent (after runc create returned). */
int shim_console_receive(int listen_fd, int *ret_master);
/* Adds the fds to wait for; returns how many were added (at most max). */
size_t shim_attach_pollfds(struct shim_attach *a, struct pollfd *pf, size_t max);
/* Handles the poll results of the fds shim_attach_pollfds added. */
void shim_attach_handle(struct shim_attach *a, const struct pollfd *pf, size_t n);
/* Copies container output (stream 0 stdout, 1 stderr) to the attached clients. */
void shim_attach_output(struct shim_attach *a, int stream, const void *data, size_t len);
/* Disconnects everyone (the container exited) and removes the socket. Accepts NULL. */
void shim_attach_close(struct shim_attach *a);
