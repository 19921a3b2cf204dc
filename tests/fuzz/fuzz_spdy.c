/* Fuzzes the SPDY/3.1 decoder (kubectl port-forward and SPDY exec streams): frames, and
 * header blocks inflated with the shared zlib stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/spdy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct spdy_decoder d;
    if (spdy_decoder_init(&d) < 0)
        return 0;
    struct spdy_frame *f = malloc(sizeof(*f));
    if (f && spdy_decoder_feed(&d, data, size) == 0) {
        int r;
        while ((r = spdy_decoder_next(&d, f)) == 1) {
            if (f->nheaders > SPDY_MAX_HEADERS)
                abort();
            for (size_t i = 0; i < f->nheaders; i++)
                if (strlen(f->headers[i].name) == 0 ||
                    strnlen(f->headers[i].value, f->headers[i].value_len + 1) >
                        f->headers[i].value_len)
                    abort();
            char v[64];
            spdy_header_get(f, "port", v, sizeof(v));
        }
    }
    free(f);
    spdy_decoder_free(&d);
    return 0;
}
