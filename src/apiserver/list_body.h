/* The body of a JSON list answer: a head (`{"kind":"PodList",...,"items":[`), the stored values
 * separated by commas, and a tail (`]}`), sent without building it whole and without
 * re-encoding a value (their shared pieces, store/value.h, are joined on the way out).
 *
 * A large body on an HTTP/1.1 connection is written straight to the socket by the
 * connection's own thread (http_io_borrow): chunk-framed, in whole TLS records, under one
 * TCP cork. Through MHD's send path each 16 KiB record costs a poll() and a segment of its
 * own, and the client wakes once per record. Small bodies, HTTP/1.0 and in-process requests
 * go out as parts with a Content-Length. */
#pragma once

#include <stddef.h>

#include "apiserver/http.h"
#include "store/value.h"

struct list_body {
    char *head; /* malloc'd */
    size_t head_len;
    struct kos_value **values; /* malloc'd array of references */
    size_t count;
    const char *tail; /* static */
    size_t tail_len;
    /* read position: segment (head, value, comma, value, ..., tail) and offset in it */
    size_t seg;
    size_t off;
};

/* Bodies from this size on are candidates for the direct write. */
#define LIST_BODY_DIRECT_MIN (64u * 1024)

/* Takes head (malloc'd) and values (a malloc'd array of count references); tail is static.
 * On failure (-ENOMEM) the caller keeps ownership. */
int list_body_new(char *head, size_t head_len, struct kos_value **values, size_t count,
                  const char *tail, struct list_body **ret);
/* Accepts NULL. */
void list_body_free(struct list_body *b);
/* Total body bytes. */
size_t list_body_len(const struct list_body *b);
/* The next up to max bytes from the read position; 0 at the end. */
size_t list_body_read(struct list_body *b, char *dst, size_t max);
/* Makes the body rep's (200, JSON): ownership of b moves to rep, also on failure (then rep
 * holds a 500). */
void list_body_reply(struct http_reply *rep, const struct http_request *req, struct list_body *b);
