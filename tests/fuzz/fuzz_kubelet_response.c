/* Fuzzes what the API server reads from a node's kubelet endpoint: the response head, then
 * the body as a chunked stream fed in small pieces. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/kubelet_proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kubelet_head *h = malloc(sizeof(*h));
    if (!h)
        return 0;
    const char *in = (const char *)data;
    ssize_t n = kubelet_head_parse(in, size, h);
    if (n > (ssize_t)size)
        abort();
    if (n > 0) {
        if (h->nheaders > KUBELET_MAX_HEADERS || h->status < 100 || h->status > 999)
            abort();
        kubelet_head_get(h, "Transfer-Encoding");
    }
    size_t pos = n > 0 ? (size_t)n : 0;
    struct kubelet_chunked c = {0};
    char out[7];
    while (pos < size) {
        size_t piece = size - pos < 5 ? size - pos : 5;
        size_t used = 0, made = 0;
        int r = kubelet_chunked_decode(&c, in + pos, piece, &used, out, sizeof(out), &made);
        if (used > piece || made > sizeof(out))
            abort();
        pos += used;
        if (r != 0 || (used == 0 && made == 0))
            break;
    }
    free(h);
    return 0;
}
