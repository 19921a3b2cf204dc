/* The content store behind image.h: blobs by digest, unpacked layers by digest, the
 * reference index. Shared by pull.c, rootfs.c and backoff.c. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "agent/image/image.h"
#include "agent/image/unpack.h"
#include "util/buf.h"

struct image_backoff_entry {
    char *key;
    time_t last_failure;
    time_t delay; /* seconds; doubles per failure up to the maximum */
};

struct image_store {
    char *dir; /* <root_dir>/images */
    int dir_fd;
    enum image_whiteout_format whiteouts;
    enum image_snapshotter snapshotter;
    pthread_mutex_t lock; /* the back-off table */
    struct image_backoff_entry *backoff;
    size_t n_backoff;
};

/* Reads a blob (at most max bytes) and checks its digest again: a file edited on disk is not
 * trusted. -ENOENT when absent. */
int image_store_read_blob(struct image_store *s, const char *digest, size_t max,
                          struct kos_buf *out, struct kos_error **err);
bool image_store_has_blob(struct image_store *s, const char *digest);
/* Writes a small blob atomically (temp file + rename). */
int image_store_put_blob(struct image_store *s, const char *digest, const void *data, size_t len);
/* An exclusive per-name lock (flock on images/locks/<name>); returns the fd to close. */
int image_store_lock(struct image_store *s, const char *name);
/* A new temp file under images/tmp; the path goes to path. */
int image_store_tmpfile(struct image_store *s, char *path, size_t size);
/* Renames a finished temp file to blobs/sha256/<hex>. */
int image_store_commit_blob(struct image_store *s, const char *tmp_path, const char *digest);

/* The reference index (refs.json). */
int image_store_ref_get(struct image_store *s, const char *ref, char digest[IMAGE_DIGEST_MAX]);
int image_store_ref_set(struct image_store *s, const char *ref, const char *digest);

/* Absolute path of the unpacked layer dir for a layer blob digest. */
int image_store_layer_path(struct image_store *s, const char *digest, char *out, size_t size);
bool image_store_has_layer(struct image_store *s, const char *digest);
/* Unpacks the (present, verified) blob into layers/sha256/<hex> once. */
int image_store_unpack_layer(struct image_store *s, const char *digest, struct kos_error **err);
