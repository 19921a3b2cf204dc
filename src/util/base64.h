/* Standard base64 (RFC 4648, with padding), for continue tokens and Secret data. */
#pragma once

#include <stddef.h>

/* Returns a malloc'd NUL-terminated string or NULL. */
char *kos_base64_encode(const void *data, size_t len);
/* Decodes into a malloc'd buffer (NUL-terminated for convenience); -EINVAL on bad input. */
int kos_base64_decode(const char *s, size_t len, char **ret, size_t *ret_len);
