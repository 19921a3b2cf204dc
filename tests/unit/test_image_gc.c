/* Unit tests for image_store_gc (src/agent/image/store.c), the kubelet's image GC under disk
 * pressure: unused images lose their reference, blobs and layers; images in use, images
 * younger than the minimum age and everything a kept image names stay. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/image/digest.h"
#include "agent/image/image.h"
#include "agent/image/store.h"

struct img {
    char manifest[IMAGE_DIGEST_MAX], config[IMAGE_DIGEST_MAX], layer[IMAGE_DIGEST_MAX];
};

static void put(struct image_store *s, const char *data, char digest[IMAGE_DIGEST_MAX])
{
    assert_int_equal(image_digest_of(data, strlen(data), digest), 0);
    assert_int_equal(image_store_put_blob(s, digest, data, strlen(data)), 0);
}

static void age(const char *dir, const char *sub, const char *digest, time_t t)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/images/%s/sha256/%s", dir, sub, image_digest_hex(digest));
    struct timespec ts[2] = {{.tv_sec = t}, {.tv_sec = t}};
    assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static bool exists(const char *dir, const char *sub, const char *digest)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/images/%s/sha256/%s", dir, sub, image_digest_hex(digest));
    return access(p, F_OK) == 0;
}

/* An image: config, one layer (blob and unpacked dir), a manifest without mediaType (the
 * store keeps no Content-Type) and its reference. */
static void image(struct image_store *s, const char *dir, const char *name, const char *shared,
                  bool old, struct img *ret)
{
    char cfg[128], layer[128], man[1024];
    snprintf(cfg, sizeof(cfg), "{\"architecture\":\"amd64\",\"os\":\"linux\",\"n\":\"%s\"}", name);
    put(s, cfg, ret->config);
    snprintf(layer, sizeof(layer), "layer of %s", shared ? shared : name);
    put(s, layer, ret->layer);
    char lp[4096];
    assert_int_equal(image_store_layer_path(s, ret->layer, lp, sizeof(lp)), 0);
    mkdir(lp, 0755);
    snprintf(man, sizeof(man),
             "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
             "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
             "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
             "\"digest\":\"%s\",\"size\":%zu}]}",
             ret->config, strlen(cfg), ret->layer, strlen(layer));
    put(s, man, ret->manifest);
    char ref[128];
    snprintf(ref, sizeof(ref), "example.com/%s:1", name);
    assert_int_equal(image_store_ref_set(s, ref, ret->manifest), 0);
    time_t t = old ? time(NULL) - 3600 : time(NULL);
    age(dir, "blobs", ret->config, t);
    age(dir, "blobs", ret->layer, t);
    age(dir, "blobs", ret->manifest, t);
    age(dir, "layers", ret->layer, t);
}

static void test_gc(void **state)
{
    char dir[] = "/tmp/kos-test-imagegc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct image_store *s = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(image_store_open(dir, &s, &err), 0);
    struct img used, unused, young, sharing;
    image(s, dir, "used", NULL, true, &used);
    image(s, dir, "unused", NULL, true, &unused);
    image(s, dir, "young", NULL, false, &young);
    /* an unused image whose layer is the used image's */
    image(s, dir, "sharing", "used", true, &sharing);
    /* a stray old blob nothing names */
    char stray[IMAGE_DIGEST_MAX];
    put(s, "stray", stray);
    age(dir, "blobs", stray, time(NULL) - 3600);

    json_t *in_use = json_pack("[s]", used.manifest);
    int64_t freed = 0;
    assert_int_equal(image_store_gc(s, in_use, &freed), 0);
    assert_true(freed > 0);
    char d[IMAGE_DIGEST_MAX];
    assert_int_equal(image_store_ref_get(s, "example.com/used:1", d), 0);
    assert_int_equal(image_store_ref_get(s, "example.com/young:1", d), 0);
    assert_int_equal(image_store_ref_get(s, "example.com/unused:1", d), -ENOENT);
    assert_int_equal(image_store_ref_get(s, "example.com/sharing:1", d), -ENOENT);
    assert_true(exists(dir, "blobs", used.manifest) && exists(dir, "blobs", used.config));
    assert_true(exists(dir, "blobs", used.layer) && exists(dir, "layers", used.layer));
    assert_true(exists(dir, "blobs", young.manifest) && exists(dir, "layers", young.layer));
    assert_false(exists(dir, "blobs", unused.manifest) || exists(dir, "blobs", unused.config));
    assert_false(exists(dir, "blobs", unused.layer) || exists(dir, "layers", unused.layer));
    assert_false(exists(dir, "blobs", sharing.manifest) || exists(dir, "blobs", sharing.config));
    assert_false(exists(dir, "blobs", stray));

    /* nothing in use any more: everything old goes, the young image stays */
    json_array_clear(in_use);
    assert_int_equal(image_store_gc(s, in_use, &freed), 0);
    assert_int_equal(image_store_ref_get(s, "example.com/used:1", d), -ENOENT);
    assert_false(exists(dir, "layers", used.layer));
    assert_true(exists(dir, "layers", young.layer));
    json_decref(in_use);
    image_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
