/* Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource).
 *
 * Grammar: <sign><digits>[.<digits>][<suffix>] where suffix is a binary SI suffix
 * (Ki Mi Gi Ti Pi Ei), a decimal SI suffix (n u m "" k M G T P E) or a decimal exponent
 * (e<int> / E<int>). Values are kept exactly as a scaled integer where possible. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct kos_quantity {
    /* value = milli / 1000, exact for anything a cgroup or the scheduler can use; values
     * beyond int64 milli-units saturate and set `overflow`. */
    int64_t milli;
    bool overflow;
    bool negative;
    /* Nano-units by which the exact magnitude falls short of |milli| (0..999999): milli is
     * rounded away from zero like MilliValue(), this keeps the remainder so that
     * kos_quantity_cmp stays exact to the nano (kube keeps nanos after parsing). A value
     * built by hand with only `milli` set (nano_short = 0) is exact. */
    uint32_t nano_short;
    /* Only when `overflow`: the value in whole units rounded away from zero, saturating at
     * INT64_MAX/INT64_MIN (kube itself caps binary quantities at INT64_MAX units), so that
     * Value() and kos_quantity_cmp stay right for e.g. 1Ei vs 2Ei. */
    int64_t big_value;
};

/* Longest string kos_quantity_parse accepts (a client-controlled bound, well beyond any
 * real quantity). */
#define KOS_QUANTITY_MAX_LEN 128

/* kube-apiserver's text for a malformed quantity. */
#define KOS_QUANTITY_ERR_MSG                                                                       \
    "quantities must match the regular expression "                                                \
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

/* Parses s (the whole string). Returns -EINVAL if it is not a valid quantity; the message
 * for users is kube-apiserver's:
 *   quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' */
int kos_quantity_parse(const char *s, struct kos_quantity *ret);
/* kos_quantity_parse without its shortcut for plain quantities ("250m", "512Mi"): the same
 * result for every input (the unit tests hold the two side by side). */
int kos_quantity_parse_general(const char *s, struct kos_quantity *ret);

/* Rounded up to whole units (as Quantity.Value()). */
int64_t kos_quantity_value(const struct kos_quantity *q);
/* Millis, rounded up (as Quantity.MilliValue()). */
int64_t kos_quantity_milli_value(const struct kos_quantity *q);
/* -1, 0, 1 */
int kos_quantity_cmp(const struct kos_quantity *a, const struct kos_quantity *b);
