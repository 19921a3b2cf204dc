/* JSON helpers of the unit tests that compare documents: parse() a test's literal (any JSON
 * value, duplicate keys refused: a typo in a test fails it) and expect_json() of a result
 * against a literal, printing both, keys sorted, when they differ. Include after cmocka.h. */
#pragma once

#include <jansson.h>
#include <stdlib.h>

#include "util/json_cleanup.h"

static inline json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    if (!j)
        fail_msg("bad test JSON (%s): %s", e.text, s);
    return j;
}

static inline void expect_json(const json_t *got, const char *want_s)
{
    _cleanup_json_ json_t *want = parse(want_s);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        print_error("got:  %s\nwant: %s\n", g, w);
        free(g);
        free(w);
        fail();
    }
}
