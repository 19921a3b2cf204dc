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
