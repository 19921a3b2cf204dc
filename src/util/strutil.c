#include "util/strutil.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

size_t kos_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

int kos_parse_int64(const char *s, int64_t *ret)
{
    if (!s || !*s)
        return -EINVAL;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE)
        return -ERANGE;
    if (!end || *end != '\0')
        return -EINVAL;
    *ret = (int64_t)v;
    return 0;
}

int kos_parse_bool(const char *s, bool *ret)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

bool kos_str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool kos_str_has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

bool kos_streq_null(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

char *kos_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

int kos_kv_iter_init(struct kos_kv_iter *it, const char *list, char sep, size_t max_len)
{
    *it = (struct kos_kv_iter){.sep = sep};
    if (!list || !*list)
        return 0;
    if (strlen(list) > max_len)
        return -E2BIG;
    it->copy = strdup(list);
    if (!it->copy)
        return -ENOMEM;
    it->pos = it->copy;
    return 0;
}

bool kos_kv_iter_next(struct kos_kv_iter *it, char **key, char **value)
{
    while (it->pos && *it->pos) {
        char *item = it->pos;
        char *comma = strchr(item, ',');
        if (comma) {
            *comma = '\0';
            it->pos = comma + 1;
        } else {
            it->pos = item + strlen(item);
        }
        if (!*item)
            continue;
        char *s = strchr(item, it->sep);
        if (s)
            *s++ = '\0';
        *key = item;
        *value = s;
        return true;
    }
    return false;
}

void kos_kv_iter_done(struct kos_kv_iter *it)
{
    if (!it)
        return;
    free(it->copy);
    *it = (struct kos_kv_iter){0};
}
