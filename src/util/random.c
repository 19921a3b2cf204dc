#include "util/random.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

static int fill_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Every create takes a uid and often a suffix (generateName, the token volume): a getrandom
 * call each was two system calls per create. Each thread draws from its own pool of bytes
 * from getrandom instead, refilled when short; a forked child starts with an empty one so
 * that it never repeats its parent's bytes. */
#define POOL_SIZE 512

static __thread struct {
    uint8_t bytes[POOL_SIZE];
    size_t left; /* the unused bytes are the last `left` of bytes */
} pool;

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void pool_forget(void)
{
    explicit_bzero(pool.bytes, sizeof(pool.bytes));
    pool.left = 0;
}

static void register_atfork(void)
{
    (void)pthread_atfork(NULL, NULL, pool_forget);
}

static int take_random(uint8_t *out, size_t len)
{
    if (len > POOL_SIZE / 4)
        return fill_random(out, len);
    pthread_once(&atfork_once, register_atfork);
    if (pool.left < len) {
        int r = fill_random(pool.bytes, sizeof(pool.bytes));
        if (r < 0)
            return r;
        pool.left = sizeof(pool.bytes);
    }
    uint8_t *p = pool.bytes + sizeof(pool.bytes) - pool.left;
    memcpy(out, p, len);
    explicit_bzero(p, len); /* handed out once */
    pool.left -= len;
    return 0;
}

int kos_uuid_v4(char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    if (size < 37)
        return -ENOBUFS;
    int r = take_random(b, sizeof(b));
    if (r < 0)
        return r;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    /* 8-4-4-4-12 lower-case hex digits */
    size_t o = 0;
    for (size_t i = 0; i < sizeof(b); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
    return 0;
}

int kos_random_suffix(char *out, size_t n)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    uint8_t b[64];
    if (n >= sizeof(b))
        return -EINVAL;
    int r = take_random(b, n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[b[i] % (sizeof(alphabet) - 1)];
    out[n] = '\0';
    return 0;
}
