#include "agent/image/tar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strutil.h"

#define BLOCK 512

static int tar_err(struct kos_error **err, const char *what)
{
    return kos_error_set(err, 400, "ErrImagePull", "invalid layer archive: %s", what);
}

void tar_reader_init(struct tar_reader *r, tar_read_fn read, void *ctx)
{
    memset(r, 0, sizeof(*r));
    r->read = read;
    r->ctx = ctx;
}

static void entry_clear(struct tar_entry *e)
{
    free(e->path);
    free(e->linkpath);
    for (size_t i = 0; i < e->n_xattrs; i++) {
        free(e->xattrs[i].name);
        free(e->xattrs[i].value);
    }
    memset(e, 0, sizeof(*e));
}

void tar_reader_free(struct tar_reader *r)
{
    if (r)
        entry_clear(&r->entry);
}

/* Reads exactly n bytes; -EPIPE on a short archive. */
static int read_full(struct tar_reader *r, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = r->read(r->ctx, (char *)buf + got, n - got);
        if (k < 0)
            return (int)k;
        if (k == 0)
            return got == 0 ? 0 : -EPIPE;
        got += (size_t)k;
    }
    return 1;
}

static int skip(struct tar_reader *r, uint64_t n)
{
    char buf[4096];
    while (n > 0) {
        size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
        int rr = read_full(r, buf, k);
        if (rr <= 0)
            return rr == 0 ? -EPIPE : rr;
        n -= k;
    }
    return 0;
}

/* Octal (NUL/space padded) or GNU base-256 numbers. */
static int parse_num(const unsigned char *f, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (f[0] & 0x80) {
        if (f[0] == 0xff)
            return -EINVAL; /* negative */
        v = f[0] & 0x7f;
        for (size_t i = 1; i < n; i++) {
            if (v >> 55)
                return -ERANGE;
            v = (v << 8) | f[i];
        }
        *out = v;
        return 0;
    }
    size_t i = 0;
    while (i < n && (f[i] == ' ' || f[i] == '\0'))
        i++;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return -ERANGE;
        v = (v << 3) | (uint64_t)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return -EINVAL;
    *out = v;
    return 0;
}

static bool all_zero(const unsigned char *b)
{
    for (size_t i = 0; i < BLOCK; i++)
        if (b[i])
            return false;
    return true;
}

static bool checksum_ok(const unsigned char *b)
{
    uint64_t want;
    if (parse_num(b + 148, 8, &want) < 0)
        return false;
    uint64_t u = 0;
    int64_t s = 0;
    for (size_t i = 0; i < BLOCK; i++) {
        unsigned char c = (i >= 148 && i < 156) ? ' ' : b[i];
        u += c;
        s += (signed char)c;
    }
    return u == want || (int64_t)want == s;
}

/* Reads a whole extension body (PAX or GNU long name) of size n into a NUL-terminated buf. */
static int read_ext(struct tar_reader *r, uint64_t n, uint64_t max, char **out,
                    struct kos_error **err)
{
    if (n > max)
        return tar_err(err, "extended header too large");
    _cleanup_free_ char *buf = malloc((size_t)n + 1);
    if (!buf)
        return -ENOMEM;
    int rr = read_full(r, buf, (size_t)n);
    if (n > 0 && rr <= 0)
        return tar_err(err, "truncated extended header");
    buf[n] = '\0';
    uint64_t pad = (BLOCK - n % BLOCK) % BLOCK;
    if (skip(r, pad) < 0)
        return tar_err(err, "truncated extended header");
    *out = TAKE_PTR(buf);
    return 0;
}

struct pax {
    char *path, *linkpath;
    bool has_size, has_uid, has_gid, has_mtime;
    uint64_t size, uid, gid;
    int64_t mtime;
    size_t n_xattrs;
    struct tar_xattr xattrs[TAR_MAX_XATTRS];
};

static void pax_clear(struct pax *p)
{
    free(p->path);
    free(p->linkpath);
    for (size_t i = 0; i < p->n_xattrs; i++) {
        free(p->xattrs[i].name);
        free(p->xattrs[i].value);
    }
    memset(p, 0, sizeof(*p));
}

static int pax_uint(const char *v, size_t n, uint64_t *out)
{
    uint64_t x = 0;
    if (n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (UINT64_MAX - 9) / 10)
            return -EINVAL;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return 0;
}

/* Records "<len> <key>=<value>\n". Unknown keys are ignored, as GNU tar does. */
static int parse_pax(char *buf, size_t n, struct pax *p, struct kos_error **err)
{
    size_t off = 0;
    while (off < n) {
        size_t len = 0, i = off;
        while (i < n && buf[i] >= '0' && buf[i] <= '9') {
            if (len > n)
                return tar_err(err, "bad PAX record length");
            len = len * 10 + (size_t)(buf[i] - '0');
            i++;
        }
        if (i >= n || buf[i] != ' ' || len == 0 || len > n - off || buf[off + len - 1] != '\n')
            return tar_err(err, "bad PAX record");
        char *key = buf + i + 1;
        char *end = buf + off + len - 1; /* the '\n' */
        char *eq = memchr(key, '=', (size_t)(end - key));
        if (!eq)
            return tar_err(err, "bad PAX record");
        size_t klen = (size_t)(eq - key);
        char *val = eq + 1;
        size_t vlen = (size_t)(end - val);
#define KEY(s) (klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)
        if (KEY("path") || KEY("linkpath")) {
            if (vlen >= TAR_PATH_MAX || memchr(val, '\0', vlen))
                return tar_err(err, "PAX path too long or contains NUL");
            char *s = kos_strndup(val, vlen);
            if (!s)
                return -ENOMEM;
            char **dst = KEY("path") ? &p->path : &p->linkpath;
            free(*dst);
            *dst = s;
        } else if (KEY("size") || KEY("uid") || KEY("gid")) {
            uint64_t x;
            if (pax_uint(val, vlen, &x) < 0)
                return tar_err(err, "bad PAX number");
            if (KEY("size"))
                p->size = x, p->has_size = true;
            else if (KEY("uid"))
                p->uid = x, p->has_uid = true;
            else
                p->gid = x, p->has_gid = true;
        } else if (KEY("mtime")) {
            size_t il = 0;
            while (il < vlen && val[il] != '.')
                il++;
            uint64_t x;
            bool neg = il > 0 && val[0] == '-';
            if (pax_uint(val + neg, il - neg, &x) < 0 || x > INT64_MAX)
                return tar_err(err, "bad PAX mtime");
            p->mtime = neg ? -(int64_t)x : (int64_t)x;
            p->has_mtime = true;
        } else if (klen > 12 && memcmp(key, "SCHILY.xattr.", 13) == 0 && klen > 13) {
            if (p->n_xattrs >= TAR_MAX_XATTRS || vlen > TAR_XATTR_VALUE_MAX)
                return tar_err(err, "too many or too large extended attributes");
            struct tar_xattr *x = &p->xattrs[p->n_xattrs];
            x->name = kos_strndup(key + 13, klen - 13);
            x->value = malloc(vlen ? vlen : 1);
            if (!x->name || !x->value) {
                free(x->name);
                free(x->value);
                x->name = x->value = NULL;
                return -ENOMEM;
            }
            memcpy(x->value, val, vlen);
            x->len = vlen;
            p->n_xattrs++;
        } else if (klen > 11 && memcmp(key, "GNU.sparse.", 11) == 0) {
            return tar_err(err, "sparse files are not supported");
        }
#undef KEY
        off += len;
    }
    return 0;
}

static char *field_str(const unsigned char *f, size_t n)
{
    size_t len = strnlen((const char *)f, n);
    return kos_strndup((const char *)f, len);
}

int tar_next(struct tar_reader *r, struct kos_error **err)
{
    if (r->done)
        return 0;
    int rr = skip(r, r->remaining + r->padding);
    if (rr < 0)
        return tar_err(err, "truncated entry data");
    r->remaining = r->padding = 0;
    entry_clear(&r->entry);

    struct pax pax = {0};
    _cleanup_free_ char *longname = NULL, *longlink = NULL;
    int ret;
    for (int ext = 0;; ext++) {
        unsigned char b[BLOCK];
        rr = read_full(r, b, BLOCK);
        if (rr == 0 && ext == 0) {
            r->done = true; /* a missing end-of-archive marker is tolerated, as tar does */
            ret = 0;
            goto out;
        }
        if (rr <= 0) {
            ret = rr == -EPIPE || rr == 0 ? tar_err(err, "truncated header") : rr;
            goto out;
        }
        if (all_zero(b)) {
            if (ext > 0) {
                ret = tar_err(err, "extended header without an entry");
                goto out;
            }
            r->done = true;
            ret = 0;
            goto out;
        }
        if (ext > 8) {
            ret = tar_err(err, "too many extended headers");
            goto out;
        }
        if (!checksum_ok(b)) {
            ret = tar_err(err, "header checksum mismatch");
            goto out;
        }
        uint64_t size, mode, uid, gid, mtime, dmaj = 0, dmin = 0;
        if (parse_num(b + 124, 12, &size) < 0 || parse_num(b + 100, 8, &mode) < 0 ||
            parse_num(b + 108, 8, &uid) < 0 || parse_num(b + 116, 8, &gid) < 0 ||
            parse_num(b + 136, 12, &mtime) < 0) {
            ret = tar_err(err, "bad numeric field");
            goto out;
        }
        char type = (char)b[156];
        bool ustar = memcmp(b + 257, "ustar", 5) == 0;
        bool posix = memcmp(b + 257, "ustar\0", 6) == 0;
        if (ustar && (parse_num(b + 329, 8, &dmaj) < 0 || parse_num(b + 337, 8, &dmin) < 0)) {
            ret = tar_err(err, "bad device number");
            goto out;
        }
        if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
            _cleanup_free_ char *body = NULL;
            ret = read_ext(r, size, type == 'L' || type == 'K' ? TAR_PATH_MAX : TAR_PAX_MAX, &body,
                           err);
            if (ret < 0)
                goto out;
            if (type == 'x') {
                ret = parse_pax(body, (size_t)size, &pax, err);
                if (ret < 0)
                    goto out;
            } else if (type == 'L') {
                free(longname);
                longname = TAKE_PTR(body);
            } else if (type == 'K') {
                free(longlink);
                longlink = TAKE_PTR(body);
            } /* 'g': global headers carry nothing a layer needs */
            continue;
        }

        struct tar_entry *e = &r->entry;
        switch (type) {
        case '\0':
        case '0':
        case '7':
            e->type = TAR_REG;
            break;
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
            e->type = (enum tar_type)type;
            break;
        default:
            ret = kos_error_set(err, 400, "ErrImagePull",
                                "invalid layer archive: unsupported entry type '%c'",
                                type >= 32 && type < 127 ? type : '?');
            goto out;
        }
        if (pax.path)
            e->path = TAKE_PTR(pax.path);
        else if (longname)
            e->path = TAKE_PTR(longname);
        else if (posix && b[345]) {
            _cleanup_free_ char *prefix = field_str(b + 345, 155);
            _cleanup_free_ char *name = field_str(b, 100);
            if (!prefix || !name) {
                ret = -ENOMEM;
                goto out;
            }
            size_t n = strlen(prefix) + 1 + strlen(name) + 1;
            e->path = malloc(n);
            if (e->path)
                snprintf(e->path, n, "%s/%s", prefix, name);
        } else
            e->path = field_str(b, 100);
        if (pax.linkpath)
            e->linkpath = TAKE_PTR(pax.linkpath);
        else if (longlink)
            e->linkpath = TAKE_PTR(longlink);
        else
            e->linkpath = field_str(b + 157, 100);
        if (!e->path || !e->linkpath) {
            ret = -ENOMEM;
            goto out;
        }
        if (strlen(e->path) >= TAR_PATH_MAX || strlen(e->linkpath) >= TAR_PATH_MAX) {
            ret = tar_err(err, "path too long");
            goto out;
        }
        if (pax.has_size)
            size = pax.size;
        if (pax.has_uid)
            uid = pax.uid;
        if (pax.has_gid)
            gid = pax.gid;
        if (uid > UINT32_MAX || gid > UINT32_MAX || dmaj > UINT32_MAX || dmin > UINT32_MAX) {
            ret = tar_err(err, "owner or device number out of range");
            goto out;
        }
        e->mode = (uint32_t)(mode & 07777);
        e->uid = (uint32_t)uid;
        e->gid = (uint32_t)gid;
        e->mtime = pax.has_mtime ? pax.mtime : (int64_t)(mtime & INT64_MAX);
        e->devmajor = (uint32_t)dmaj;
        e->devminor = (uint32_t)dmin;
        e->n_xattrs = pax.n_xattrs;
        memcpy(e->xattrs, pax.xattrs, sizeof(pax.xattrs));
        pax.n_xattrs = 0;
        /* Only regular files carry data; a size on anything else (GNU tar puts hard links'
         * sizes there at times) is skipped as data. */
        e->size = e->type == TAR_REG ? size : 0;
        if (size > (UINT64_MAX - BLOCK)) {
            ret = tar_err(err, "entry too large");
            goto out;
        }
        r->remaining = size;
        r->padding = (BLOCK - size % BLOCK) % BLOCK;
        if (e->type != TAR_REG) {
            /* Make tar_read_data return 0 for non-files; the bytes are skipped by tar_next. */
            r->padding += r->remaining;
            r->remaining = 0;
        }
        ret = 1;
        goto out;
    }
out:
    pax_clear(&pax);
    return ret;
}

ssize_t tar_read_data(struct tar_reader *r, void *buf, size_t n)
{
    if (r->remaining == 0)
        return 0;
    if (n > r->remaining)
        n = (size_t)r->remaining;
    ssize_t k = r->read(r->ctx, buf, n);
    if (k < 0)
        return k;
    if (k == 0)
        return -EPIPE;
    r->remaining -= (uint64_t)k;
    return k;
}
