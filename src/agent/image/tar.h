/* A bounded, streaming tar reader (ustar, GNU long names, PAX extended headers) for image
 * layers. It only parses; what an entry means for the file system is unpack.c's business.
 * Fuzzed by tests/fuzz/fuzz_image_tar.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define TAR_PATH_MAX        4096
#define TAR_PAX_MAX         (1u << 20) /* one extended header */
#define TAR_MAX_XATTRS      16
#define TAR_XATTR_VALUE_MAX 65536

/* Returns bytes read (0 at end of input) or a negative errno. */
typedef ssize_t (*tar_read_fn)(void *ctx, void *buf, size_t n);

enum tar_type {
    TAR_REG = '0',
    TAR_LINK = '1',
    TAR_SYMLINK = '2',
    TAR_CHR = '3',
    TAR_BLK = '4',
    TAR_DIR = '5',
    TAR_FIFO = '6',
};

struct tar_xattr {
    char *name;
    char *value;
    size_t len;
};

struct tar_entry {
    enum tar_type type;
    char *path;     /* as written in the archive; owned by the reader */
    char *linkpath; /* symlink or hard link target, "" otherwise */
    uint64_t size;  /* data bytes that follow (regular files only) */
    uint32_t mode;  /* permission bits incl. setuid/setgid/sticky */
    uint32_t uid, gid;
    int64_t mtime;
    uint32_t devmajor, devminor;
    size_t n_xattrs;
    struct tar_xattr xattrs[TAR_MAX_XATTRS];
};

struct tar_reader {
    tar_read_fn read;
    void *ctx;
    uint64_t remaining; /* data bytes of the current entry not yet read */
    uint64_t padding;   /* to the next 512-byte block */
    struct tar_entry entry;
    bool done;
};

void tar_reader_init(struct tar_reader *r, tar_read_fn read, void *ctx);
/* 1 with r->entry filled, 0 at the end of the archive, <0 on error (with *err). */
int tar_next(struct tar_reader *r, struct kos_error **err);
/* Reads the current entry's data; 0 when it is all read. */
ssize_t tar_read_data(struct tar_reader *r, void *buf, size_t n);
void tar_reader_free(struct tar_reader *r);
