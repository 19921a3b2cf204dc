/* Small file-system helpers shared by the components that keep state on disk (the node
 * agent's image store, container and volume directories). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: creates path and every missing parent with mode (existing ones are left as they
 * are). 0, -ENAMETOOLONG past PATH_MAX, or the negative errno of the mkdir that failed. */
int kos_mkdir_p(const char *path, mode_t mode);

/* Reads a whole file of at most limit bytes into a NUL-terminated buffer (*ret, freed by the
 * caller; *ret_len without the NUL). 0; -EFBIG when it is larger; the negative errno of the
 * open or read that failed (-ENOENT when it does not exist). */
int kos_read_file(const char *path, size_t limit, char **ret, size_t *ret_len);

/* Whether path (not followed if a symlink) is a regular file with permission bits mode that
 * holds exactly the len bytes of data. Writers of files that are rewritten on every sync
 * check it first: an unchanged file is not replaced (no new inode, no dirty page). */
bool kos_file_has(const char *path, const void *data, size_t len, mode_t mode);

/* Replaces path with the len bytes of data, permission bits mode, through "<path>.tmp" and a
 * rename: a reader sees the old content or the new, never half (not fsynced: for files a crash
 * may lose, which their writer makes again). 0, -ENAMETOOLONG, or the negative errno of the
 * step that failed (the temporary file is removed then). */
int kos_write_file_replace(const char *path, const void *data, size_t len, mode_t mode);

/* rm -rf that never leaves the file system it starts on and follows no symlink: a mount left
 * inside (a rootfs, a volume) keeps its files, and its directory stays behind. Best effort:
 * what cannot be removed is left. */
void kos_rm_rf(const char *path);
