#include "store/walbuf.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define WALBUF_NAME "kos-walbuf"
/* A group commit of a few hundred creates fits; a larger transaction (a compaction, a spill
 * of SQLite's page cache) is written out in pieces of this size. */
#define WALBUF_CAP (1024 * 1024)
/* The unix VFS writes at most 128 KB - 1 bytes a call (it masks the length with 0x1ffff). */
#define WALBUF_CHUNK (64 * 1024)

struct wfile {
    sqlite3_file base;  /* our methods */
    sqlite3_file *real; /* the wrapped VFS's file, stored right after this struct */
    bool buffered;      /* a WAL file: gather writes */
    char *buf;          /* WALBUF_CAP bytes, allocated on the first write */
    size_t len;
    sqlite3_int64 off; /* file offset of buf[0] */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs walbuf_vfs;
static bool registered;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int flush(struct wfile *f)
{
    int rc = SQLITE_OK;
    for (size_t done = 0; done < f->len && rc == SQLITE_OK;) {
        size_t n = f->len - done < WALBUF_CHUNK ? f->len - done : WALBUF_CHUNK;
        rc =
            f->real->pMethods->xWrite(f->real, f->buf + done, (int)n, f->off + (sqlite3_int64)done);
        done += n;
    }
    /* Dropped either way: after a failed write SQLite rolls the transaction back, and these
     * frames belong to it. */
    f->len = 0;
    return rc;
}

static int w_close(sqlite3_file *file)
{
    struct wfile *f = (struct wfile *)file;
    int rc = flush(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int w_read(sqlite3_file *file, void *out, int n, sqlite3_int64 off)
{
    struct wfile *f = (struct wfile *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, n, off);
}

static int w_write(sqlite3_file *file, const void *data, int n, sqlite3_int64 off)
{
    struct wfile *f = (struct wfile *)file;
    if (!f->buffered || n <= 0)
        return f->real->pMethods->xWrite(f->real, data, n, off);
    if (!f->buf) {
        f->buf = malloc(WALBUF_CAP);
        if (!f->buf) /* write through rather than fail */
            return f->real->pMethods->xWrite(f->real, data, n, off);
    }
    size_t len = (size_t)n;
    /* Rewriting bytes still held (SQLite rewrites a frame of the open transaction when it
     * writes the same page twice). */
    if (f->len > 0 && off >= f->off && off + n <= f->off + (sqlite3_int64)f->len) {
        memcpy(f->buf + (off - f->off), data, len);
        return SQLITE_OK;
    }
    bool follows = f->len > 0 && off == f->off + (sqlite3_int64)f->len;
    if (!follows || f->len + len > WALBUF_CAP) {
        int rc = flush(f);
        if (rc != SQLITE_OK)
            return rc;
        if (len > WALBUF_CHUNK)
            return f->real->pMethods->xWrite(f->real, data, n, off);
        f->off = off;
    }
    memcpy(f->buf + f->len, data, len);
    f->len += len;
    return SQLITE_OK;
}

static int w_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    struct wfile *f = (struct wfile *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int w_sync(sqlite3_file *file, int flags)
{
    struct wfile *f = (struct wfile *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int w_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    struct wfile *f = (struct wfile *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

/* The rest pass through; nothing else of a WAL file depends on the bytes we hold, but the
 * file controls are flushed first in case one does (size hints, persistence flags). */
static int w_lock(sqlite3_file *file, int lock)
{
    struct wfile *f = (struct wfile *)file;
    return f->real->pMethods->xLock(f->real, lock);
}

static int w_unlock(sqlite3_file *file, int lock)
{
    struct wfile *f = (struct wfile *)file;
    return f->real->pMethods->xUnlock(f->real, lock);
}

static int w_check_reserved(sqlite3_file *file, int *out)
{
    struct wfile *f = (struct wfile *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int w_file_control(sqlite3_file *file, int op, void *arg)
{
    struct wfile *f = (struct wfile *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int w_sector_size(sqlite3_file *file)
{
    struct wfile *f = (struct wfile *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int w_device_characteristics(sqlite3_file *file)
{
    struct wfile *f = (struct wfile *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int w_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **pp)
{
    struct wfile *f = (struct wfile *)file;
    return f->real->pMethods->xShmMap(f->real, region, size, extend, pp);
}

static int w_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    struct wfile *f = (struct wfile *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void w_shm_barrier(sqlite3_file *file)
{
    struct wfile *f = (struct wfile *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int w_shm_unmap(sqlite3_file *file, int delete_flag)
{
    struct wfile *f = (struct wfile *)file;
    return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int w_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **pp)
{
    struct wfile *f = (struct wfile *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, n, pp);
}

static int w_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    struct wfile *f = (struct wfile *)file;
    return f->real->pMethods->xUnfetch(f->real, off, p);
}

/* Version 3 methods, for files whose real methods are version 3 (the unix VFS's are). */
static const sqlite3_io_methods methods_v3 = {
    .iVersion = 3,
    .xClose = w_close,
    .xRead = w_read,
    .xWrite = w_write,
    .xTruncate = w_truncate,
    .xSync = w_sync,
    .xFileSize = w_file_size,
    .xLock = w_lock,
    .xUnlock = w_unlock,
    .xCheckReservedLock = w_check_reserved,
    .xFileControl = w_file_control,
    .xSectorSize = w_sector_size,
    .xDeviceCharacteristics = w_device_characteristics,
    .xShmMap = w_shm_map,
    .xShmLock = w_shm_lock,
    .xShmBarrier = w_shm_barrier,
    .xShmUnmap = w_shm_unmap,
    .xFetch = w_fetch,
    .xUnfetch = w_unfetch,
};

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                  int *out_flags)
{
    struct wfile *f = (struct wfile *)file;
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)(f + 1);
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        /* SQLite does not close a file whose open failed, unless pMethods is set: leave it
         * unset, after closing the real one if it did open. */
        if (f->real->pMethods)
            f->real->pMethods->xClose(f->real);
        f->base.pMethods = NULL;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    if (f->real->pMethods->iVersion < 3) {
        /* Not the VFS we were written against: step aside. */
        f->real->pMethods->xClose(f->real);
        f->base.pMethods = NULL;
        return SQLITE_CANTOPEN;
    }
    f->buffered = (flags & SQLITE_OPEN_WAL) != 0;
    f->base.pMethods = &methods_v3;
    return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
    return real_vfs->xDlOpen(real_vfs, name);
}

static void v_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
    real_vfs->xDlError(real_vfs, n, msg);
}

static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    return real_vfs->xDlSym(real_vfs, h, sym);
}

static void v_dlclose(sqlite3_vfs *vfs, void *h)
{
    real_vfs->xDlClose(real_vfs, h);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
    return real_vfs->xSleep(real_vfs, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    return real_vfs->xGetLastError(real_vfs, n, out);
}

static int v_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static void do_register(void)
{
    sqlite3_vfs *r = sqlite3_vfs_find(NULL);
    /* Version 2 at least for xCurrentTimeInt64; we do not offer the system call hooks. */
    if (!r || r->iVersion < 2 || !r->xCurrentTimeInt64)
        return;
    real_vfs = r;
    walbuf_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct wfile) + r->szOsFile,
        .mxPathname = r->mxPathname,
        .zName = WALBUF_NAME,
        .xOpen = v_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_full_pathname,
        .xDlOpen = v_dlopen,
        .xDlError = v_dlerror,
        .xDlSym = v_dlsym,
        .xDlClose = v_dlclose,
        .xRandomness = v_randomness,
        .xSleep = v_sleep,
        .xCurrentTime = v_current_time,
        .xGetLastError = v_last_error,
        .xCurrentTimeInt64 = v_current_time64,
    };
    registered = sqlite3_vfs_register(&walbuf_vfs, 0) == SQLITE_OK;
}

const char *walbuf_vfs_name(void)
{
    pthread_once(&once, do_register);
    return registered ? WALBUF_NAME : NULL;
}
