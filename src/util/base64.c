#include "util/base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *kos_base64_encode(const void *data, size_t len)
{
    const uint8_t *in = data;
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    size_t out_len = (len + 2) / 3 * 4;
    char *out = malloc(out_len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int kos_base64_decode(const char *s, size_t len, char **ret, size_t *ret_len)
{
    if (len % 4 != 0)
        return -EINVAL;
    char *out = malloc(len / 4 * 3 + 1);
    if (!out)
        return -ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int a = sextet(s[i]), b = sextet(s[i + 1]);
        int c = s[i + 2] == '=' ? 0 : sextet(s[i + 2]);
        int d = s[i + 3] == '=' ? 0 : sextet(s[i + 3]);
        bool last = i + 4 == len;
        if (a < 0 || b < 0 || c < 0 || d < 0 || (!last && (s[i + 2] == '=' || s[i + 3] == '=')) ||
            (s[i + 2] == '=' && s[i + 3] != '=')) {
            free(out);
            return -EINVAL;
        }
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (char)(v >> 16);
        if (s[i + 2] != '=')
            out[o++] = (char)(v >> 8 & 0xff);
        if (s[i + 3] != '=')
            out[o++] = (char)(v & 0xff);
    }
    out[o] = '\0';
    *ret = out;
    *ret_len = o;
    return 0;
}
