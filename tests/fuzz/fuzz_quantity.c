/* libFuzzer target: kos_quantity_parse and the value accessors. Must never crash (UBSan
 * catches overflow) and must keep the basic invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    struct kos_quantity q, one;
    if (kos_quantity_parse("1", &one) != 0)
        abort();
    if (kos_quantity_parse(s, &q) == 0) {
        int64_t v = kos_quantity_value(&q);
        int64_t m = kos_quantity_milli_value(&q);
        if (kos_quantity_cmp(&q, &q) != 0)
            abort();
        if (kos_quantity_cmp(&q, &one) != -kos_quantity_cmp(&one, &q))
            abort();
        if (q.nano_short >= 1000000)
            abort();
        /* signs agree and rounding is away from zero */
        if ((v > 0) != (m > 0) || (v < 0) != (m < 0))
            abort();
        if (!q.overflow && m > 0 && (v - 1) * 1000 >= m)
            abort();
    }
    free(s);
    return 0;
}
