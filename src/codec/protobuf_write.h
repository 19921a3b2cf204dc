/* A small protobuf wire-format writer for documents kos builds itself (the OpenAPI v2
 * protobuf document): varints, length-delimited bytes and nested messages.
 *
 * Errors are sticky: after the first failure (out of memory, the size limit, nesting past
 * PBW_MAX_DEPTH, an unbalanced pbw_end) every call does nothing and pbw_finish() returns the
 * error, so builders need not check each call. A nested message's length is only known when
 * it ends, so pbw_end() writes the length varint in front of the payload and moves the
 * payload up by the varint's size; the cost is O(size x depth), fine for documents built once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PBW_MAX_DEPTH 64

struct pb_writer {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t limit; /* the output never grows past this many bytes */
    int err;      /* 0 or the first negative errno */
    unsigned depth;
    size_t open[PBW_MAX_DEPTH]; /* payload start of each open nested message */
};

void pbw_init(struct pb_writer *w, size_t limit);
void pbw_free(struct pb_writer *w);

void pbw_varint(struct pb_writer *w, uint32_t field, uint64_t value);
void pbw_bool(struct pb_writer *w, uint32_t field, bool value);
void pbw_bytes(struct pb_writer *w, uint32_t field, const void *data, size_t len);
/* A string field; NULL writes nothing (proto3 leaves absent strings out). */
void pbw_string(struct pb_writer *w, uint32_t field, const char *s);

/* Opens field as a nested message; everything written until the matching pbw_end() is its
 * payload. An empty nested message is still written (key and length 0), which matters to
 * readers that test for presence. */
void pbw_begin(struct pb_writer *w, uint32_t field);
void pbw_end(struct pb_writer *w);

/* Records a failure of the caller's own (an allocation while preparing a field), so that
 * pbw_finish() reports it like any other. */
void pbw_set_error(struct pb_writer *w, int err);

/* Hands over the encoded bytes (the caller frees them; a zero-length message gives a valid
 * 1-byte allocation) and resets the writer. Returns 0, or the sticky error (then nothing is
 * handed over and the writer is freed). Open messages at this point are an error (-EINVAL). */
int pbw_finish(struct pb_writer *w, uint8_t **ret, size_t *ret_len);

static inline void pbw_freep(struct pb_writer *w)
{
    pbw_free(w);
}
#define _cleanup_pbw_ __attribute__((cleanup(pbw_freep)))
