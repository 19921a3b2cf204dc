/* Random identifiers: RFC 4122 v4 UUIDs for metadata.uid and suffixes for generateName. */
#pragma once

#include <stddef.h>

/* Writes a lower-case v4 UUID into out (at least 37 bytes). */
int kos_uuid_v4(char *out, size_t size);
/* n characters from Kubernetes' generateName alphabet "bcdfghjklmnpqrstvwxz2456789". */
int kos_random_suffix(char *out, size_t n);
