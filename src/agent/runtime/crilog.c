/* CRI log writer, rotation and reader (see crilog.h). */
#include "agent/runtime/crilog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

/* A log file is read whole for tail; beyond this a read fails rather than eat memory
 * (rotation keeps live files far smaller). */
#define MAX_READ_FILE (256LL << 20)

struct kos_crilog {
    char *path;
    int fd;
    int64_t size;
    int64_t max_size;
    int max_files;
    struct kos_buf pending[2];
    int64_t (*now_ns)(void);
};

static const char *const stream_names[] = {"stdout", "stderr"};

static int64_t real_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void kos_crilog_format_time(int64_t ns, char *out, size_t size)
{
    time_t sec = (time_t)(ns / 1000000000LL);
    long frac = (long)(ns % 1000000000LL);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%09ldZ", base, frac);
}

int kos_crilog_open(const char *path, int64_t max_size, int max_files, struct kos_crilog **ret)
{
    if (max_files < 1 || max_size < 0)
        return -EINVAL;
    _cleanup_free_ struct kos_crilog *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->path = strdup(path);
    if (!l->path)
        return -ENOMEM;
    l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (l->fd < 0) {
        int e = -errno;
        free(l->path);
        return e;
    }
    struct stat st;
    l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
    l->max_size = max_size;
    l->max_files = max_files;
    kos_buf_init(&l->pending[0], KOS_CRILOG_MAX_LINE + 1);
    kos_buf_init(&l->pending[1], KOS_CRILOG_MAX_LINE + 1);
    *ret = TAKE_PTR(l);
    return 0;
}

void kos_crilog_set_clock(struct kos_crilog *l, int64_t (*now_ns)(void))
{
    l->now_ns = now_ns;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Deletes the oldest rotated files so that max_files - 1 remain besides the live one. */
static void prune_rotated(const struct kos_crilog *l)
{
    _cleanup_free_ char *dir = strdup(l->path);
    if (!dir)
        return;
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : dir;
    const char *dname = ".";
    if (slash) {
        *slash = '\0';
        dname = dir[0] ? dir : "/";
    }
    size_t blen = strlen(base);
    DIR *d = opendir(dname);
    if (!d)
        return;
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < ARRAY_SIZE(names)) {
        if (strncmp(de->d_name, base, blen) == 0 && de->d_name[blen] == '.' &&
            de->d_name[blen + 1] >= '0' && de->d_name[blen + 1] <= '9') {
            names[n] = strdup(de->d_name);
            if (names[n])
                n++;
        }
    }
    closedir(d);
    /* Names end in a sortable timestamp, so the oldest sort first. */
    qsort(names, n, sizeof(names[0]), cmp_str);
    size_t keep = (size_t)(l->max_files - 1);
    for (size_t i = 0; i < n; i++) {
        if (i + keep < n) {
            char p[4096];
            snprintf(p, sizeof(p), "%s/%s", dname, names[i]);
            unlink(p);
        }
        free(names[i]);
    }
}

static int rotate(struct kos_crilog *l, int64_t now)
{
    time_t sec = (time_t)(now / 1000000000LL);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    /* The kubelet's name (<file>.YYYYMMDD-hhmmss) plus nanoseconds: several rotations in one
     * second must neither collide nor reuse the name of a file pruned meanwhile. */
    char dst[4096];
    snprintf(dst, sizeof(dst), "%s.%s.%09lld", l->path, stamp, (long long)(now % 1000000000LL));
    if (l->max_files > 1) {
        if (rename(l->path, dst) < 0)
            return -errno;
    } else if (unlink(l->path) < 0) {
        return -errno;
    }
    int fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    close(l->fd);
    l->fd = fd;
    l->size = 0;
    prune_rotated(l);
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int emit(struct kos_crilog *l, enum kos_crilog_stream s, bool partial, const char *data,
                size_t len)
{
    int64_t now = l->now_ns ? l->now_ns() : real_now_ns();
    char ts[48];
    kos_crilog_format_time(now, ts, sizeof(ts));
    char head[80];
    int hl = snprintf(head, sizeof(head), "%s %s %c ", ts, stream_names[s], partial ? 'P' : 'F');
    int64_t rec = hl + (int64_t)len + 1;
    if (l->max_size > 0 && l->size > 0 && l->size + rec > l->max_size) {
        int r = rotate(l, now);
        if (r < 0)
            return r;
    }
    /* One write per record keeps records whole for a reader following the file. */
    _cleanup_free_ char *line = malloc((size_t)rec);
    if (!line)
        return -ENOMEM;
    memcpy(line, head, (size_t)hl);
    memcpy(line + hl, data, len);
    line[rec - 1] = '\n';
    int r = write_all(l->fd, line, (size_t)rec);
    if (r < 0)
        return r;
    l->size += rec;
    return 0;
}

int kos_crilog_write(struct kos_crilog *l, enum kos_crilog_stream s, const void *data, size_t len)
{
    struct kos_buf *pb = &l->pending[s];
    const char *p = data;
    while (len > 0) {
        const char *nl = memchr(p, '\n', len);
        size_t take = nl ? (size_t)(nl - p) : len;
        size_t room = KOS_CRILOG_MAX_LINE - pb->len;
        if (take >= room && !(nl && take == room)) {
            /* The line is longer than the limit: a partial record of exactly the limit. */
            if (kos_buf_append(pb, p, room) < 0)
                return -ENOMEM;
            int r = emit(l, s, true, pb->data, pb->len);
            kos_buf_reset(pb);
            if (r < 0)
                return r;
            p += room;
            len -= room;
            continue;
        }
        if (!nl) {
            if (kos_buf_append(pb, p, len) < 0)
                return -ENOMEM;
            return 0;
        }
        int r;
        if (pb->len > 0) {
            if (kos_buf_append(pb, p, take) < 0)
                return -ENOMEM;
            r = emit(l, s, false, pb->data, pb->len);
            kos_buf_reset(pb);
        } else {
            r = emit(l, s, false, p, take);
        }
        if (r < 0)
            return r;
        p += take + 1;
        len -= take + 1;
    }
    return 0;
}

int kos_crilog_flush(struct kos_crilog *l, enum kos_crilog_stream s)
{
    struct kos_buf *pb = &l->pending[s];
    if (pb->len == 0)
        return 0;
    int r = emit(l, s, false, pb->data, pb->len);
    kos_buf_reset(pb);
    return r;
}

void kos_crilog_close(struct kos_crilog *l)
{
    if (!l)
        return;
    if (l->fd >= 0)
        close(l->fd);
    kos_buf_free(&l->pending[0]);
    kos_buf_free(&l->pending[1]);
    free(l->path);
    free(l);
}

int kos_crilog_parse(const char *line, size_t len, struct kos_crilog_entry *e)
{
    const char *sp1 = memchr(line, ' ', len);
    if (!sp1 || sp1 == line || (size_t)(sp1 - line) >= sizeof(e->timestamp))
        return -EINVAL;
    size_t tl = (size_t)(sp1 - line);
    const char *rest = sp1 + 1;
    size_t rl = len - tl - 1;
    enum kos_crilog_stream s;
    if (rl >= 7 && memcmp(rest, "stdout ", 7) == 0)
        s = KOS_CRILOG_STDOUT;
    else if (rl >= 7 && memcmp(rest, "stderr ", 7) == 0)
        s = KOS_CRILOG_STDERR;
    else
        return -EINVAL;
    rest += 7;
    rl -= 7;
    /* The tag may be empty in old files ("<ts> stdout <content>" is not CRI); demand F|P. */
    if (rl < 1 || (rest[0] != 'F' && rest[0] != 'P') || (rl > 1 && rest[1] != ' '))
        return -EINVAL;
    memcpy(e->timestamp, line, tl);
    e->timestamp[tl] = '\0';
    e->stream = s;
    e->partial = rest[0] == 'P';
    e->content = rl > 1 ? rest + 2 : rest + 1;
    e->content_len = rl > 1 ? rl - 2 : 0;
    return 0;
}

/* Nanoseconds since the epoch of an RFC 3339 timestamp with up to nine fraction digits. */
static int parse_ts_ns(const char *ts, int64_t *ret)
{
    time_t sec;
    if (kos_time_parse_rfc3339(ts, &sec) < 0)
        return -EINVAL;
    int64_t ns = 0;
    const char *dot = strchr(ts, '.');
    if (dot) {
        int digits = 0;
        for (const char *p = dot + 1; *p >= '0' && *p <= '9'; p++) {
            if (digits < 9) {
                ns = ns * 10 + (*p - '0');
                digits++;
            }
        }
        for (; digits < 9; digits++)
            ns *= 10;
    }
    *ret = (int64_t)sec * 1000000000LL + ns;
    return 0;
}

/* Go's RFC3339Nano: the fraction without trailing zeros (and no dot when it is zero). */
static int append_ts(struct kos_buf *out, const char *ts)
{
    const char *dot = strchr(ts, '.');
    if (!dot)
        return kos_buf_printf(out, "%s ", ts);
    const char *end = dot + 1;
    while (*end >= '0' && *end <= '9')
        end++;
    const char *last = end;
    while (last > dot + 1 && last[-1] == '0')
        last--;
    size_t keep = (size_t)(last - ts);
    if (last == dot + 1)
        keep = (size_t)(dot - ts);
    if (kos_buf_append(out, ts, keep) < 0)
        return -ENOMEM;
    return kos_buf_printf(out, "%s ", end);
}

/* Formats records [p, end) into out; returns the offset (from p) after the last complete
 * record consumed. lines collects each logical line's start offset in out (for tail). */
struct line_starts {
    size_t *v;
    size_t n, cap;
};

static int push_start(struct line_starts *ls, size_t at)
{
    if (!ls)
        return 0;
    if (ls->n == ls->cap) {
        size_t nc = ls->cap ? ls->cap * 2 : 256;
        size_t *nv = realloc(ls->v, nc * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        ls->v = nv;
        ls->cap = nc;
    }
    ls->v[ls->n++] = at;
    return 0;
}

static int format_records(const char *p, size_t len, const struct kos_log_options *o,
                          bool *line_start, struct kos_buf *out, struct line_starts *ls,
                          size_t *consumed)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(p + pos, '\n', len - pos);
        if (!nl)
            break;
        size_t ll = (size_t)(nl - (p + pos));
        struct kos_crilog_entry e;
        if (kos_crilog_parse(p + pos, ll, &e) == 0) {
            int64_t tns = 0;
            bool keep = true;
            if (o->since_ns > 0 && parse_ts_ns(e.timestamp, &tns) == 0 && tns < o->since_ns)
                keep = false;
            if (keep) {
                if (*line_start) {
                    if (push_start(ls, out->len) < 0)
                        return -ENOMEM;
                    if (o->timestamps && append_ts(out, e.timestamp) < 0)
                        return -ENOMEM;
                }
                if (kos_buf_append(out, e.content, e.content_len) < 0 ||
                    (!e.partial && kos_buf_append(out, "\n", 1) < 0))
                    return -ENOMEM;
                *line_start = !e.partial;
            }
        }
        pos += ll + 1;
    }
    *consumed = pos;
    return 0;
}

static int read_file_from(const char *path, int64_t offset, char **ret, size_t *ret_len)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (offset > st.st_size)
        offset = st.st_size; /* truncated or replaced: the caller reopens */
    int64_t n = st.st_size - offset;
    if (n > MAX_READ_FILE)
        return -EFBIG;
    _cleanup_free_ char *data = malloc((size_t)n + 1);
    if (!data)
        return -ENOMEM;
    size_t got = 0;
    while ((int64_t)got < n) {
        ssize_t r = pread(fd, data + got, (size_t)n - got, offset + (off_t)got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    *ret = TAKE_PTR(data);
    *ret_len = got;
    return 0;
}

int kos_crilog_read(const char *path, const struct kos_log_options *o, struct kos_buf *out,
                    int64_t *offset)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    int r = read_file_from(path, 0, &data, &len);
    if (r < 0)
        return r;
    struct kos_buf tmp;
    /* Output never exceeds the file it comes from. */
    kos_buf_init(&tmp, (size_t)MAX_READ_FILE + 1);
    struct line_starts ls = {0};
    bool line_start = true;
    size_t consumed = 0;
    r = format_records(data, len, o, &line_start, &tmp, &ls, &consumed);
    if (r == 0) {
        size_t from = 0;
        if (o->tail_lines >= 0) {
            from = tmp.len;
            if ((size_t)o->tail_lines < ls.n)
                from = ls.v[ls.n - (size_t)o->tail_lines];
            else if (ls.n > 0)
                from = 0;
            if (o->tail_lines == 0)
                from = tmp.len;
        }
        size_t n = tmp.len - from;
        if (o->limit_bytes > 0 && (int64_t)n > o->limit_bytes)
            n = (size_t)o->limit_bytes;
        if (n > 0 && kos_buf_append(out, tmp.data + from, n) < 0)
            r = -E2BIG;
    }
    free(ls.v);
    kos_buf_free(&tmp);
    if (r < 0)
        return r;
    if (offset)
        *offset = (int64_t)consumed;
    return 0;
}

int kos_crilog_read_from(const char *path, const struct kos_log_options *o, int64_t *offset,
                         bool *line_start, struct kos_buf *out)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    int r = read_file_from(path, *offset, &data, &len);
    if (r < 0)
        return r;
    size_t before = out->len, consumed = 0;
    r = format_records(data, len, o, line_start, out, NULL, &consumed);
    if (r < 0)
        return r;
    *offset += (int64_t)consumed;
    return (int)(out->len - before);
}
