#include "util/fs.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strutil.h"

int kos_mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (kos_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int kos_read_file(const char *path, size_t limit, char **ret, size_t *ret_len)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct kos_buf b;
    kos_buf_init(&b, limit);
    char chunk[16384];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            kos_buf_free(&b);
            return -e;
        }
        if (n == 0)
            break;
        int r = kos_buf_append(&b, chunk, (size_t)n);
        if (r < 0) {
            kos_buf_free(&b);
            return r == -ENOMEM ? r : -EFBIG;
        }
    }
    size_t len = b.len;
    if (!b.data && kos_buf_append_str(&b, "") < 0)
        return -ENOMEM;
    *ret = kos_buf_steal(&b, NULL);
    if (ret_len)
        *ret_len = len;
    return 0;
}

bool kos_file_has(const char *path, const void *data, size_t len, mode_t mode)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != mode ||
        st.st_size < 0 || (size_t)st.st_size != len)
        return false;
    const char *want = data;
    char chunk[16384];
    size_t off = 0;
    while (off < len) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (size_t)n > len - off || memcmp(chunk, want + off, (size_t)n) != 0)
            return false;
        off += (size_t)n;
    }
    /* it may have grown since the fstat */
    ssize_t n;
    while ((n = read(fd, chunk, 1)) < 0 && errno == EINTR)
        ;
    return n == 0;
}

int kos_write_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -ENAMETOOLONG;
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return -errno;
    int r = fchmod(fd, mode) < 0 ? -errno : 0;
    const char *p = data;
    while (r == 0 && len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0)
            r = -errno;
        else {
            p += w;
            len -= (size_t)w;
        }
    }
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        unlink(tmp);
    return r;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)f;
    if (flag == FTW_DP)
        rmdir(p);
    else
        unlink(p);
    return 0;
}

void kos_rm_rf(const char *path)
{
    (void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
