/* Unpacking one layer (gzip or plain tar) into an empty directory. OCI whiteouts become
 * overlayfs whiteouts (a 0/0 character device, trusted.overlay.opaque=y) where the host
 * allows, else stay as ".wh." marker files; rootfs.c understands both. */
#pragma once

#include "agent/image/tar.h"
#include "util/error.h"

enum image_whiteout_format {
    IMAGE_WHITEOUT_OVERLAY = 1,
    IMAGE_WHITEOUT_MARKER,
};

#define IMAGE_WH_PREFIX    ".wh."
#define IMAGE_WH_OPAQUE    ".wh..wh..opq"
#define IMAGE_OPAQUE_XATTR "trusted.overlay.opaque"
#define IMAGE_UNPACKED_MAX (64ull << 30) /* bound on what one layer may expand to */

/* Unpacks the tar stream into dir_fd. */
int image_unpack_tar(tar_read_fn read, void *ctx, int dir_fd, enum image_whiteout_format fmt,
                     struct kos_error **err);

/* Unpacks the layer blob in blob_fd (gzip detected by its magic, else plain tar). */
int image_unpack_layer(int blob_fd, int dir_fd, enum image_whiteout_format fmt,
                       struct kos_error **err);

/* Which whiteout format this directory's file system supports. */
enum image_whiteout_format image_whiteout_probe(int dir_fd);
