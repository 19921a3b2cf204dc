/* File-system helpers for unpacking and root filesystems: never follow a symlink out of the
 * tree being built, never cross a mount. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* openat2(RESOLVE_IN_ROOT): symlinks, absolute ones included, resolve inside root_fd.
 * Returns an fd or a negative errno. */
int image_open_in_root(int root_fd, const char *path, int flags);

/* Removes name under dir_fd and everything below it without following symlinks or crossing
 * mounts. 0 when name did not exist. */
int image_rm_rf_at(int dir_fd, const char *name);

/* Removes every entry of the directory dir_fd (the directory itself stays). */
int image_empty_dir(int dir_fd);

/* Splits a tar/archive path into a clean relative path: leading "/" and "./" dropped, "."
 * components removed, any ".." refused (-EINVAL). "" means the root itself. */
int image_clean_path(const char *in, char *out, size_t size);
