/* libFuzzer target: the layer tar reader (ustar, GNU long names, PAX). Reads every entry and
 * its data; must never crash, loop forever or hand out more data than the entry declares. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "agent/image/tar.h"

struct mem {
    const uint8_t *p;
    size_t len, off;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
    struct mem *m = ctx;
    /* Short reads on purpose: the reader must cope with any chunking. */
    size_t k = m->len - m->off < n ? m->len - m->off : n;
    if (k > 700)
        k = 700;
    memcpy(buf, m->p + m->off, k);
    m->off += k;
    return (ssize_t)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mem m = {data, size, 0};
    struct tar_reader tr;
    tar_reader_init(&tr, mem_read, &m);
    struct kos_error *err = NULL;
    int r;
    while ((r = tar_next(&tr, &err)) > 0) {
        if (!tr.entry.path || !tr.entry.linkpath || strlen(tr.entry.path) >= TAR_PATH_MAX)
            abort();
        uint64_t got = 0;
        char buf[512];
        ssize_t n;
        while ((n = tar_read_data(&tr, buf, sizeof(buf))) > 0)
            got += (uint64_t)n;
        if (n == 0 && got != tr.entry.size)
            abort();
        if (n < 0)
            break;
    }
    if (r < 0 && !err && r != -12 /* ENOMEM */ && r != -32 /* EPIPE from data */)
        abort();
    kos_error_free(err);
    tar_reader_free(&tr);
    return 0;
}
