/* A client for one repository on a registry over the distribution API (libcurl): manifests
 * and blobs, bearer-token and basic auth, plain HTTP only for loopback registries. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "agent/image/image.h"
#include "util/buf.h"

struct registry;

int registry_open(const struct image_ref *ref, const struct image_credentials *creds,
                  struct registry **out, struct kos_error **err);
void registry_close(struct registry *r);

/* GET /v2/<name>/manifests/<reference>: body (bounded), its Content-Type and its sha256
 * digest (computed here, checked against the reference when it is a digest). */
int registry_get_manifest(struct registry *r, const char *reference, struct kos_buf *body,
                          char *content_type, size_t ct_size, char digest[IMAGE_DIGEST_MAX],
                          struct kos_error **err);

/* GET /v2/<name>/blobs/<digest> into fd; fails unless exactly `size` bytes with that digest
 * arrive. */
int registry_get_blob(struct registry *r, const char *digest, uint64_t size, int fd,
                      struct kos_error **err);

/* The scheme Docker uses for a registry host: "http" for localhost and 127.0.0.0/8 (and
 * ::1), "https" for everything else. */
const char *registry_scheme(const char *domain);

/* Whether basic credentials may go to a token realm: over HTTPS, or plain HTTP to a loopback
 * host (the same rule as for registries), never in clear text across a network. */
bool registry_realm_may_get_credentials(const char *realm);

/* Parses a WWW-Authenticate challenge: scheme ("Bearer"/"Basic") and its realm/service/scope
 * parameters (quoted strings). 0 or -EINVAL. */
struct registry_challenge {
    char scheme[16];
    char realm[1024];
    char service[256];
    char scope[512];
};
int registry_parse_challenge(const char *header, struct registry_challenge *out);
