/* OCI images for the node agent: pull from a registry (distribution API), keep blobs once by
 * digest under the agent's root dir, unpack layers once per digest, and give each container
 * its own root filesystem (overlayfs over the layer dirs where the host allows, a copy
 * otherwise).
 *
 * Errors a pod status can show come out as a struct kos_error whose `reason` is the kubelet's
 * container waiting reason and whose `message` is the kubelet's text:
 *   InvalidImageName   Failed to apply default image tag "X": couldn't parse image name "X": ...
 *   ErrImageNeverPull  Container image "X" is not present with pull policy of Never
 *   ErrImagePull       Failed to pull image "X": <what went wrong>
 *   ImagePullBackOff   Back-off pulling image "X"        (image_backoff_check)
 * The `code` is an HTTP-like code (400 invalid, 404 not found, 401 auth, 502 registry, 500 io).
 *
 * All functions are safe to call from several threads and several processes at once on the
 * same root dir: downloads and unpacks go to temp names and are renamed into place, so a
 * partial blob or layer is never visible. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/error.h"

#define IMAGE_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL, rounded up */
#define IMAGE_DOMAIN_MAX 256
#define IMAGE_PATH_MAX   256 /* the repository path, as the distribution reference grammar */
#define IMAGE_TAG_MAX    129 /* tags are at most 128 characters */
#define IMAGE_REF_MAX    (IMAGE_DOMAIN_MAX + IMAGE_PATH_MAX + IMAGE_TAG_MAX + IMAGE_DIGEST_MAX + 4)

/* ---- references ---------------------------------------------------------------------------
 * "busybox" -> docker.io/library/busybox:latest, "127.0.0.1:5000/test/app@sha256:..." etc.,
 * normalised as Docker/containerd do (docker.io, library/, :latest when neither tag nor digest;
 * index.docker.io -> docker.io). */
struct image_ref {
    char domain[IMAGE_DOMAIN_MAX]; /* "docker.io", "127.0.0.1:5000" */
    char path[IMAGE_PATH_MAX];     /* "library/busybox" */
    char tag[IMAGE_TAG_MAX];       /* "" when the reference has only a digest */
    char digest[IMAGE_DIGEST_MAX]; /* "sha256:<hex>" or "" */
};

/* 0 or -EINVAL with *err (reason InvalidImageName, kubelet's message). */
int image_ref_parse(const char *image, struct image_ref *out, struct kos_error **err);
/* The normalised reference: domain/path[:tag][@digest]. Returns the length or -ENAMETOOLONG. */
int image_ref_format(const struct image_ref *ref, char *buf, size_t size);

/* ---- pull policy ------------------------------------------------------------------------ */
enum image_pull_policy {
    IMAGE_PULL_DEFAULT = 0, /* derive from the tag: :latest or none -> Always, else IfNotPresent */
    IMAGE_PULL_ALWAYS,
    IMAGE_PULL_IF_NOT_PRESENT,
    IMAGE_PULL_NEVER,
};
/* "Always" | "IfNotPresent" | "Never" | NULL or "" (-> DEFAULT). -EINVAL otherwise. */
int image_pull_policy_parse(const char *s, enum image_pull_policy *out);
/* The API server's default for a pod whose imagePullPolicy is empty. */
enum image_pull_policy image_pull_policy_default(const char *image);
const char *image_pull_policy_name(enum image_pull_policy p);

/* ---- credentials (from imagePullSecrets or the command line) -----------------------------
 * The entry whose registry equals the reference's domain is used ("docker.io" also matches
 * "index.docker.io", "https://index.docker.io/v1/"); an entry with registry NULL or "" matches
 * any.
 * Used for basic auth and for the token endpoint of bearer auth. */
struct image_auth {
    const char *registry;
    const char *username;
    const char *password;
};
struct image_credentials {
    const struct image_auth *entries;
    size_t n;
};

/* Appends the entries of an imagePullSecret's data: ".dockerconfigjson" ({"auths": {REGISTRY:
 * {"username","password"} | {"auth": base64("user:pass")}}}) or the older ".dockercfg" (the
 * same map without "auths"). Credentials built this way own their strings: release them with
 * image_credentials_free. -EINVAL with *err on malformed data. */
int image_credentials_add_docker_config(struct image_credentials *c, const char *data, size_t len,
                                        struct kos_error **err);
void image_credentials_free(struct image_credentials *c);

/* ---- the store ---------------------------------------------------------------------------
 * Layout under root_dir/images: blobs/sha256/<hex>, layers/sha256/<hex>/ (unpacked, keyed by
 * the layer blob digest), refs.json (normalised reference -> manifest digest), tmp/. */
struct image_store;

int image_store_open(const char *root_dir, struct image_store **out, struct kos_error **err);
void image_store_close(struct image_store *s);

/* The kubelet's image GC under disk pressure: forgets every reference whose manifest digest
 * is not in `in_use` (an array of "sha256:..." strings: the images of all containers, running
 * or exited) and removes the blobs and unpacked layers no remaining image names. Anything
 * younger than two minutes stays (a pull in flight). Adds what it freed to *freed_bytes. */
int image_store_gc(struct image_store *s, const json_t *in_use, int64_t *freed_bytes);

/* How image_rootfs_create builds a root filesystem: AUTO tries overlayfs and falls back to a
 * copy; OVERLAY fails where overlayfs cannot be used; COPY always copies. */
enum image_snapshotter {
    IMAGE_SNAPSHOTTER_AUTO = 0,
    IMAGE_SNAPSHOTTER_OVERLAY,
    IMAGE_SNAPSHOTTER_COPY,
};
/* "auto" | "overlay" | "copy"; -EINVAL otherwise. */
int image_store_set_snapshotter(struct image_store *s, const char *name);

struct image_info {
    char ref[IMAGE_REF_MAX];              /* normalised reference that was pulled */
    char digest[IMAGE_DIGEST_MAX];        /* manifest digest (the repo digest) */
    char config_digest[IMAGE_DIGEST_MAX]; /* image ID */
    char repo_digest[IMAGE_REF_MAX];      /* domain/path@digest: a container status' imageID */
    char **entrypoint; /* NULL-terminated, NULL when the config has none; same for the rest */
    char **cmd;
    char **env;        /* "KEY=value" */
    char *working_dir; /* NULL when unset */
    char *user;        /* NULL when unset */
    char *stop_signal; /* config.StopSignal ("SIGQUIT", "15"), NULL when unset */
    size_t n_layers;
    char (*layers)[IMAGE_DIGEST_MAX]; /* layer blob digests, bottom first */
    uint64_t size;                    /* sum of the compressed layer sizes */
};
/* Frees what the info points to (not the struct). Accepts a zeroed struct. */
void image_info_clear(struct image_info *info);

/* Resolves, pulls (per policy) and unpacks the image; *out is set only on success (release it
 * with image_info_clear). credentials may be NULL. */
int image_pull(struct image_store *s, const char *image, enum image_pull_policy policy,
               const struct image_credentials *credentials, struct image_info *out,
               struct kos_error **err);

/* The image as present locally (no network): 0, or -ENOENT when not present. */
int image_lookup(struct image_store *s, const char *image, struct image_info *out,
                 struct kos_error **err);

/* ---- pull back-off (the kubelet's: 10 s doubling to 300 s, per key) ----------------------
 * key is what the kubelet keys on: the image and the pod UID. check returns 0 when a pull may
 * go ahead, or -EAGAIN with reason ImagePullBackOff while backing off. */
int image_backoff_check(struct image_store *s, const char *key, const char *image, time_t now,
                        struct kos_error **err);
void image_backoff_record(struct image_store *s, const char *key, bool success, time_t now);

/* ---- container root filesystems ----------------------------------------------------------
 * Creates container_dir/rootfs (and upper/, work/ for overlayfs). Overlayfs with lowerdir =
 * the layer dirs where the host allows; otherwise the layers are copied in order (whiteouts
 * applied). Idempotent: an existing rootfs is kept (a restarted agent). */
struct image_rootfs {
    char path[4096]; /* container_dir/rootfs */
    bool overlay;    /* true: an overlay mount, false: a plain copy */
};
int image_rootfs_create(struct image_store *s, const struct image_info *info,
                        const char *container_dir, struct image_rootfs *out,
                        struct kos_error **err);
/* The same with top_layer (a directory; NULL: none) as the top-most read-only layer of an
 * overlay root filesystem; a copied one leaves it out. */
int image_rootfs_create_over(struct image_store *s, const struct image_info *info,
                             const char *container_dir, const char *top_layer,
                             struct image_rootfs *out, struct kos_error **err);
/* A shared read-only layer (made once per image, under the store) holding the mount points
 * of every container (/proc, /dev, /sys, /etc/hosts, /etc/hostname, /etc/resolv.conf; with sa,
 * /var/run/secrets/kubernetes.io/serviceaccount too) where the image lacks them and has
 * nothing else in their place, so that the runtime does not make them in each container's
 * upper directory. Its path goes to out. */
int image_mountpoints_layer(struct image_store *s, const struct image_info *info, bool sa,
                            char *out, size_t size);
/* Unmounts (if mounted) and removes rootfs/, upper/ and work/ under container_dir. Never
 * crosses into other mounts. 0 when nothing was there. */
int image_rootfs_remove(const char *container_dir);
