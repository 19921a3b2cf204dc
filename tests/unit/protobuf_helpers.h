/* Helpers of test_protobuf.c and test_proto_decode.c: writing protobuf bytes by hand and
 * checking decoded JSON. Include after cmocka.h. */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/proto_decode.h"
#include "codec/json.h"

/* ---- building protobuf bytes ------------------------------------------------------------- */

struct pbw {
    uint8_t buf[8192];
    size_t len;
};

static inline void w_raw(struct pbw *w, const void *p, size_t n)
{
    assert_true(w->len + n <= sizeof(w->buf));
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static inline void w_varint(struct pbw *w, uint64_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        if (v)
            b |= 0x80;
        w_raw(w, &b, 1);
    } while (v);
}

static inline void w_key(struct pbw *w, unsigned num, unsigned wire)
{
    w_varint(w, ((uint64_t)num << 3) | wire);
}

static inline void w_uint(struct pbw *w, unsigned num, uint64_t v)
{
    w_key(w, num, 0);
    w_varint(w, v);
}

static inline void w_bytes(struct pbw *w, unsigned num, const void *p, size_t n)
{
    w_key(w, num, 2);
    w_varint(w, n);
    w_raw(w, p, n);
}

static inline void w_str(struct pbw *w, unsigned num, const char *s)
{
    w_bytes(w, num, s, strlen(s));
}

static inline void w_msg(struct pbw *w, unsigned num, const struct pbw *inner)
{
    w_bytes(w, num, inner->buf, inner->len);
}

static inline void w_fixed(struct pbw *w, unsigned num, uint64_t v, unsigned n)
{
    w_key(w, num, n == 8 ? 1 : 5);
    for (unsigned i = 0; i < n; i++) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        w_raw(w, &b, 1);
    }
}

/* A map entry {1: key, 2: value string}. */
static inline void w_entry(struct pbw *w, unsigned num, const char *key, const char *value)
{
    struct pbw e = {0};
    if (key)
        w_str(&e, 1, key);
    if (value)
        w_str(&e, 2, value);
    w_msg(w, num, &e);
}

/* The envelope around an object message. */
static inline void w_envelope(struct pbw *w, const char *api_version, const char *kind,
                              const struct pbw *raw)
{
    struct pbw tm = {0};
    w_raw(w, "k8s\0", 4);
    if (api_version)
        w_str(&tm, 1, api_version);
    if (kind)
        w_str(&tm, 2, kind);
    w_msg(w, 1, &tm);
    if (raw)
        w_msg(w, 2, raw);
    w_str(w, 3, "");
    w_str(w, 4, "");
}

/* ---- checking results -------------------------------------------------------------------- */

static inline void assert_json(const json_t *got, const char *want_text)
{
    json_t *want = NULL;
    struct kos_error *err = NULL;
    if (kos_json_decode(want_text, strlen(want_text), &want, &err) < 0)
        fail_msg("bad expected JSON %s: %s", want_text, err->message);
    if (!json_equal(got, want)) {
        char *g = kos_json_encode(got, NULL);
        fail_msg("decoded\n  %s\nexpected\n  %s", g, want_text);
    }
    json_decref(want);
}

static inline void message_ok(const char *schema, const struct pbw *w, const char *want)
{
    const struct schema_struct *s = schema_struct_by_name(schema);
    json_t *obj = NULL;
    struct kos_error *err = NULL;
    assert_non_null(s);
    int r = proto_decode_message(s, w->buf, w->len, &obj, &err);
    if (r < 0)
        fail_msg("decoding %s: %d %s", schema, r, err ? err->message : "");
    assert_null(err);
    assert_json(obj, want);
    json_decref(obj);
}

/* Decoding fails with code and a message that contains want. */
static inline void message_fails(const struct schema_struct *s, const struct pbw *w, int code,
                                 const char *want)
{
    json_t *sentinel = json_null(), *obj = sentinel;
    struct kos_error *err = NULL;
    int r = proto_decode_message(s, w->buf, w->len, &obj, &err);
    assert_true(r < 0);
    assert_ptr_equal(obj, sentinel);
    assert_non_null(err);
    assert_int_equal(err->code, code);
    if (!strstr(err->message, want))
        fail_msg("message \"%s\" lacks \"%s\"", err->message, want);
    kos_error_free(err);
}

static inline void body_fails(const void *data, size_t len, int code, const char *want)
{
    json_t *sentinel = json_null(), *obj = sentinel;
    struct kos_error *err = NULL;
    int r = proto_decode_body(data, len, &obj, &err);
    assert_true(r < 0);
    assert_ptr_equal(obj, sentinel);
    assert_non_null(err);
    assert_int_equal(err->code, code);
    if (!strstr(err->message, want))
        fail_msg("message \"%s\" lacks \"%s\"", err->message, want);
    kos_error_free(err);
}
