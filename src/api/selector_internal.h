/* Helpers shared by the label (selector.c) and field (field_selector.c) selector parsers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"

/* A 400 BadRequest with msg (or a generic text). */
int selector_bad_request(struct kos_error **err, const char *msg);
/* Appends n bytes of s as printable ASCII: like Go's %q when `quote`, else raw with other
 * bytes written as \xNN, so messages stay valid UTF-8 in a Status. */
void selector_buf_escaped(struct kos_buf *b, const char *s, size_t n, bool quote);
