/* Small, bounded string helpers that replace the banned libc calls. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies at most size-1 bytes and always NUL-terminates; returns strlen(src). */
size_t kos_strlcpy(char *dst, const char *src, size_t size);

/* Strict decimal int64: whole string, optional sign, no spaces, no overflow. */
int kos_parse_int64(const char *s, int64_t *ret);

/* Go's strconv.ParseBool: 1,t,T,TRUE,true,True,0,f,F,FALSE,false,False. */
int kos_parse_bool(const char *s, bool *ret);

bool kos_str_has_prefix(const char *s, const char *prefix);
bool kos_str_has_suffix(const char *s, const char *suffix);
bool kos_streq_null(const char *a, const char *b);

/* Duplicates s or n bytes of s; NULL on allocation failure. */
char *kos_strndup(const char *s, size_t n);

/* Walks a comma-separated list of key<sep>value items, as the kubelet's map and threshold
 * flags are written ("cpu=100m,memory=1Gi", "memory.available<100Mi"): empty items are
 * skipped, each item is cut at its first sep. */
struct kos_kv_iter {
    char *copy;
    char *pos;
    char sep;
};

/* -E2BIG when list is longer than max_len bytes, -ENOMEM; a NULL or empty list has no items.
 * Release with kos_kv_iter_done (also after a failed init). */
int kos_kv_iter_init(struct kos_kv_iter *it, const char *list, char sep, size_t max_len);
/* The next item: true with *key and *value pointing into the iterator's copy, *value NULL
 * where the item has no sep (the caller words that error, *key then holds the whole item);
 * false after the last item. */
bool kos_kv_iter_next(struct kos_kv_iter *it, char **key, char **value);
void kos_kv_iter_done(struct kos_kv_iter *it);
