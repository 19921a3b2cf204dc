/* OCI / Docker schema2 manifests, indexes (manifest lists) and image configs: pure parsers
 * over bytes from the network, bounded, fuzzed (tests/fuzz/fuzz_image_manifest.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "agent/image/image.h"

#define IMAGE_MANIFEST_MAX_BYTES (4u << 20) /* containerd's limit for manifests and indexes */
#define IMAGE_CONFIG_MAX_BYTES   (8u << 20)
#define IMAGE_MAX_LAYERS         127 /* Docker's limit; overlay stacks more poorly */
#define IMAGE_MAX_INDEX_ENTRIES  1024
#define IMAGE_LAYER_MAX_BYTES    (16ull << 30)

/* Accept header for GET /v2/<name>/manifests/<ref>: every kind we can read. */
#define IMAGE_MANIFEST_ACCEPT                                                                      \
    "application/vnd.oci.image.index.v1+json, "                                                    \
    "application/vnd.docker.distribution.manifest.list.v2+json, "                                  \
    "application/vnd.oci.image.manifest.v1+json, "                                                 \
    "application/vnd.docker.distribution.manifest.v2+json"

struct image_descriptor {
    char media_type[128];
    char digest[IMAGE_DIGEST_MAX];
    uint64_t size;
};

enum image_manifest_kind {
    IMAGE_MANIFEST_IMAGE = 1,
    IMAGE_MANIFEST_INDEX,
};

struct image_manifest {
    enum image_manifest_kind kind;
    /* kind == INDEX: the entry for the requested platform */
    struct image_descriptor platform;
    /* kind == IMAGE */
    struct image_descriptor config;
    size_t n_layers;
    struct image_descriptor *layers;
};

/* content_type is the response's Content-Type (may be NULL); the document's own mediaType
 * wins when present. For an index, picks the entry for os/arch (variant ignored). */
int image_manifest_parse(const void *data, size_t len, const char *content_type, const char *os,
                         const char *arch, struct image_manifest *out, struct kos_error **err);
void image_manifest_clear(struct image_manifest *m);

/* Fills entrypoint/cmd/env/working_dir/user of *info from an image config. */
int image_config_parse(const void *data, size_t len, struct image_info *info,
                       struct kos_error **err);
