/* The --token-auth-file parser and lookup. The CSV reader follows Go's encoding/csv (what
 * kube-apiserver uses) closely enough that a file kube accepts is accepted here with the same
 * meaning; it is stricter in one place: a quoted field left open at the end of the file is an
 * error rather than silently closed. */
#include "auth/token_file.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define MAX_FIELDS  4 /* token, user, uid, groups; later columns are parsed and dropped */
#define DIGEST_SIZE 32

/* Tokens are held and compared as SHA-256 digests: the search's timing then says nothing
 * about how much of a guessed token matched, and the secrets themselves are not kept. */
struct entry {
    unsigned char digest[DIGEST_SIZE];
    struct kos_user_info user;
    size_t seq; /* record order: the later duplicate wins, as in kube's map */
};

struct kos_token_file {
    struct entry *entries; /* sorted by token, unique */
    size_t n;
};

struct csv {
    const char *p, *end;
    const char *line_start;
    size_t line; /* 1-based */
    const char *path;
};

static void entry_clear(struct entry *e)
{
    kos_user_info_clear(&e->user);
}

static int digest(const char *token, unsigned char out[DIGEST_SIZE])
{
    return gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), out) < 0 ? -ENOMEM : 0;
}

void kos_token_file_free(struct kos_token_file *tf)
{
    if (!tf)
        return;
    for (size_t i = 0; i < tf->n; i++)
        entry_clear(&tf->entries[i]);
    free(tf->entries);
    free(tf);
}

static void token_file_freep(struct kos_token_file **tf)
{
    kos_token_file_free(*tf);
}

size_t kos_token_file_count(const struct kos_token_file *tf)
{
    return tf ? tf->n : 0;
}

static int csv_error(const struct csv *c, size_t start_line, const char *at, const char *what,
                     struct kos_error **err)
{
    size_t col = (size_t)(at - c->line_start) + 1;
    if (start_line != c->line)
        return kos_error_set(err, 400, "BadRequest",
                             "token file '%s': record on line %zu; parse error on line %zu, "
                             "column %zu: %s",
                             c->path, start_line, c->line, col, what);
    return kos_error_set(err, 400, "BadRequest",
                         "token file '%s': parse error on line %zu, column %zu: %s", c->path,
                         c->line, col, what);
}

/* At a line end ("\n" or "\r\n")? Returns its length, 0 otherwise. */
static size_t eol_len(const struct csv *c, const char *p)
{
    if (p < c->end && *p == '\n')
        return 1;
    if (p + 1 < c->end && p[0] == '\r' && p[1] == '\n')
        return 2;
    return 0;
}

static void next_line(struct csv *c, const char *after)
{
    c->p = after;
    c->line_start = after;
    c->line++;
}

/* One field into b; sets *last when the record ended after it. */
static int read_field(struct csv *c, size_t start_line, struct kos_buf *b, bool *last,
                      struct kos_error **err)
{
    *last = false;
    if (c->p < c->end && *c->p == '"') {
        const char *open = c->p++;
        for (;;) {
            if (c->p >= c->end)
                return csv_error(c, start_line, open, "extraneous or missing \" in quoted-field",
                                 err);
            size_t nl = eol_len(c, c->p);
            if (nl) { /* a field may span lines; CRLF reads as LF */
                if (kos_buf_append(b, "\n", 1) < 0)
                    return -ENOMEM;
                next_line(c, c->p + nl);
                continue;
            }
            char ch = *c->p;
            if (ch != '"') {
                if (kos_buf_append(b, &ch, 1) < 0)
                    return -ENOMEM;
                c->p++;
                continue;
            }
            const char *q = c->p + 1;
            if (q < c->end && *q == '"') { /* "" is one quote */
                if (kos_buf_append(b, "\"", 1) < 0)
                    return -ENOMEM;
                c->p = q + 1;
                continue;
            }
            if (q >= c->end || (q + 1 == c->end && *q == '\r')) { /* end of file */
                c->p = c->end;
                *last = true;
                return 0;
            }
            if (*q == ',') {
                c->p = q + 1;
                return 0;
            }
            nl = eol_len(c, q);
            if (nl) {
                next_line(c, q + nl);
                *last = true;
                return 0;
            }
            return csv_error(c, start_line, q, "extraneous or missing \" in quoted-field", err);
        }
    }
    const char *s = c->p;
    while (c->p < c->end && *c->p != ',' && *c->p != '\n') {
        if (*c->p == '"')
            return csv_error(c, start_line, c->p, "bare \" in non-quoted-field", err);
        c->p++;
    }
    const char *e = c->p;
    if (c->p >= c->end || *c->p == '\n') {
        *last = true;
        if (e > s && e[-1] == '\r') /* CRLF, or a trailing CR before the end of file */
            e--;
    }
    if (kos_buf_append(b, s, (size_t)(e - s)) < 0)
        return -ENOMEM;
    if (c->p < c->end) {
        if (*c->p == '\n')
            next_line(c, c->p + 1);
        else
            c->p++; /* the comma */
    }
    return 0;
}

static void fields_free(struct kos_buf *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kos_buf_free(&f[i]);
}

/* Reads one record: 1 with *nfields (at most MAX_FIELDS kept in fields), 0 at the end. */
static int read_record(struct csv *c, struct kos_buf *fields, size_t *nfields, size_t *start,
                       struct kos_error **err)
{
    for (;;) { /* blank lines are skipped */
        if (c->p >= c->end)
            return 0;
        size_t nl = eol_len(c, c->p);
        if (!nl && c->p + 1 == c->end && *c->p == '\r')
            nl = 1; /* a lone trailing CR */
        if (!nl)
            break;
        next_line(c, c->p + nl);
    }
    *start = c->line;
    size_t n = 0;
    bool last = false;
    struct kos_buf scratch;
    kos_buf_init(&scratch, KOS_TOKEN_FILE_MAX_SIZE);
    while (!last) {
        struct kos_buf *b = &scratch;
        if (n < MAX_FIELDS) {
            b = &fields[n];
            kos_buf_init(b, KOS_TOKEN_FILE_MAX_SIZE);
        }
        kos_buf_reset(&scratch);
        int r = read_field(c, *start, b, &last, err);
        n++;
        if (r < 0) {
            kos_buf_free(&scratch);
            fields_free(fields, n < MAX_FIELDS ? n : MAX_FIELDS);
            return r == -ENOMEM ? kos_error_set(err, 500, "InternalError", "out of memory") : r;
        }
    }
    kos_buf_free(&scratch);
    *nfields = n;
    return 1;
}

static const char *field_str(const struct kos_buf *b)
{
    return b->data ? b->data : "";
}

static int entry_from_record(const struct csv *c, struct kos_buf *f, size_t nf, size_t start,
                             struct entry *ret, struct kos_error **err)
{
    const char *token = field_str(&f[0]), *name = field_str(&f[1]), *uid = field_str(&f[2]);
    if (strlen(token) > KOS_TOKEN_FILE_MAX_TOKEN)
        return kos_error_set(err, 400, "BadRequest",
                             "token file '%s': the token on line %zu is longer than %u bytes",
                             c->path, start, KOS_TOKEN_FILE_MAX_TOKEN);
    if (strlen(name) > KOS_USER_MAX_STRING || strlen(uid) > KOS_USER_MAX_STRING)
        return kos_error_set(err, 400, "BadRequest",
                             "token file '%s': the user name or uid on line %zu is longer than "
                             "%d bytes",
                             c->path, start, KOS_USER_MAX_STRING);
    struct entry e = {0};
    e.user.name = strdup(name);
    e.user.uid = strdup(uid);
    if (digest(token, e.digest) < 0 || !e.user.name || !e.user.uid) {
        entry_clear(&e);
        return kos_error_set(err, 500, "InternalError", "out of memory");
    }
    if (nf >= 4) { /* strings.Split(groups, ","); kos drops the empty names it yields */
        const char *g = field_str(&f[3]);
        for (;;) {
            const char *comma = strchr(g, ',');
            size_t len = comma ? (size_t)(comma - g) : strlen(g);
            if (len > 0) {
                _cleanup_free_ char *group = kos_strndup(g, len);
                int r = group ? kos_user_info_add_group(&e.user, group) : -ENOMEM;
                if (r < 0) {
                    entry_clear(&e);
                    if (r == -ENOMEM)
                        return kos_error_set(err, 500, "InternalError", "out of memory");
                    return kos_error_set(err, 400, "BadRequest",
                                         "token file '%s': the groups on line %zu exceed %d "
                                         "groups of %d bytes",
                                         c->path, start, KOS_USER_MAX_GROUPS, KOS_USER_MAX_STRING);
                }
            }
            if (!comma)
                break;
            g = comma + 1;
        }
    }
    *ret = e;
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = memcmp(x->digest, y->digest, DIGEST_SIZE);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts and keeps the last record of every token. */
static void sort_unique(struct kos_token_file *tf)
{
    if (tf->n == 0)
        return;
    qsort(tf->entries, tf->n, sizeof(*tf->entries), entry_cmp);
    size_t k = 0;
    for (size_t i = 0; i < tf->n; i++) {
        if (i + 1 < tf->n &&
            memcmp(tf->entries[i].digest, tf->entries[i + 1].digest, DIGEST_SIZE) == 0) {
            entry_clear(&tf->entries[i]);
            continue;
        }
        tf->entries[k++] = tf->entries[i];
    }
    tf->n = k;
}

int kos_token_file_parse(const char *data, size_t len, const char *path,
                         struct kos_token_file **ret, struct kos_error **err)
{
    if (!path)
        path = "";
    if (len > KOS_TOKEN_FILE_MAX_SIZE)
        return kos_error_set(err, 400, "BadRequest", "token file '%s' is larger than %u bytes",
                             path, KOS_TOKEN_FILE_MAX_SIZE);
    const char *nul = memchr(data, '\0', len);
    if (nul) {
        size_t line = 1;
        for (const char *p = data; p < nul; p++)
            line += *p == '\n';
        return kos_error_set(err, 400, "BadRequest", "token file '%s': NUL byte on line %zu", path,
                             line);
    }
    _cleanup_(token_file_freep) struct kos_token_file *tf = calloc(1, sizeof(*tf));
    if (!tf)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    struct csv c = {.p = data, .end = data + len, .line_start = data, .line = 1, .path = path};
    size_t cap = 0;
    for (size_t seq = 0;; seq++) {
        struct kos_buf f[MAX_FIELDS];
        size_t nf = 0, start = 0;
        int r = read_record(&c, f, &nf, &start, err);
        if (r < 0)
            return r;
        if (r == 0)
            break;
        size_t kept = nf < MAX_FIELDS ? nf : MAX_FIELDS;
        if (nf < 3) {
            fields_free(f, kept);
            return kos_error_set(err, 400, "BadRequest",
                                 "token file '%s' must have at least 3 columns (token, user "
                                 "name, user uid), found %zu",
                                 path, nf);
        }
        if (f[0].len == 0) { /* kube warns and skips a record without a token */
            fields_free(f, kept);
            continue;
        }
        if (tf->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct entry *grown = realloc(tf->entries, ncap * sizeof(*grown));
            if (!grown) {
                fields_free(f, kept);
                return kos_error_set(err, 500, "InternalError", "out of memory");
            }
            tf->entries = grown;
            cap = ncap;
        }
        struct entry e;
        r = entry_from_record(&c, f, nf, start, &e, err);
        fields_free(f, kept);
        if (r < 0)
            return r;
        e.seq = seq;
        tf->entries[tf->n++] = e;
    }
    sort_unique(tf);
    *ret = TAKE_PTR(tf);
    return 0;
}

int kos_token_file_load(const char *path, struct kos_token_file **ret, struct kos_error **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kos_error_set(err, 400, "BadRequest", "open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0)
        return kos_error_set(err, 400, "BadRequest", "stat %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return kos_error_set(err, 400, "BadRequest", "token file '%s' is not a regular file", path);
    if (st.st_size > (off_t)KOS_TOKEN_FILE_MAX_SIZE)
        return kos_error_set(err, 400, "BadRequest", "token file '%s' is larger than %u bytes",
                             path, KOS_TOKEN_FILE_MAX_SIZE);
    size_t size = (size_t)st.st_size;
    _cleanup_free_ char *data = malloc(size + 1);
    if (!data)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return kos_error_set(err, 400, "BadRequest", "read %s: %s", path, strerror(errno));
        if (n == 0)
            break; /* shrank meanwhile: parse what is there */
        got += (size_t)n;
    }
    return kos_token_file_parse(data, got, path, ret, err);
}

int kos_token_file_lookup(const struct kos_token_file *tf, const char *token,
                          struct kos_user_info *ret)
{
    if (!tf || !token)
        return 0;
    unsigned char d[DIGEST_SIZE];
    if (digest(token, d) < 0)
        return -ENOMEM;
    size_t lo = 0, hi = tf->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(d, tf->entries[mid].digest, DIGEST_SIZE);
        if (c == 0) {
            int r = kos_user_info_copy(&tf->entries[mid].user, ret);
            return r < 0 ? r : 1;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

static int authenticate(void *ctx, const char *token, struct kos_user_info *user,
                        struct kos_error **err)
{
    int r = kos_token_file_lookup(ctx, token, user);
    if (r < 0)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    return r;
}

static void free_ctx(void *ctx)
{
    kos_token_file_free(ctx);
}

void kos_token_file_authenticator(struct kos_token_file *tf, struct kos_token_authenticator *ret)
{
    *ret = (struct kos_token_authenticator){
        .name = "token-file", .authenticate = authenticate, .free = free_ctx, .ctx = tf};
}
