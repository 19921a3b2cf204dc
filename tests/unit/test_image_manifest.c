/* Unit tests for src/agent/image/manifest.c (manifests, indexes, configs), the registry's
 * WWW-Authenticate parser and scheme rule, and the pull back-off. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/image/manifest.h"
#include "agent/image/registry.h"
#include "agent/image/digest.h"

#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DC "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static int parse(const char *json, const char *ct, struct image_manifest *m, struct kos_error **err)
{
    return image_manifest_parse(json, strlen(json), ct, "linux", "amd64", m, err);
}

static void test_oci_manifest(void **state)
{
    const char *j =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
        "\"digest\":\"" DA "\",\"size\":12},"
        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
        "\"digest\":\"" DB "\",\"size\":100},"
        "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
        "\"digest\":\"" DC "\",\"size\":0}]}";
    struct image_manifest m;
    struct kos_error *err = NULL;
    assert_int_equal(parse(j, NULL, &m, &err), 0);
    assert_int_equal(m.kind, IMAGE_MANIFEST_IMAGE);
    assert_string_equal(m.config.digest, DA);
    assert_int_equal(m.config.size, 12);
    assert_int_equal(m.n_layers, 2);
    assert_string_equal(m.layers[0].digest, DB);
    assert_int_equal(m.layers[0].size, 100);
    assert_string_equal(m.layers[1].digest, DC);
    image_manifest_clear(&m);

    /* no mediaType in the body: the Content-Type decides; with neither, the shape does */
    const char *bare = "{\"schemaVersion\":2,\"config\":{\"digest\":\"" DA "\",\"size\":1},"
                       "\"layers\":[]}";
    assert_int_equal(parse(bare, "application/vnd.docker.distribution.manifest.v2+json", &m, &err),
                     0);
    assert_int_equal(m.kind, IMAGE_MANIFEST_IMAGE);
    assert_int_equal(m.n_layers, 0);
    image_manifest_clear(&m);
    assert_int_equal(parse(bare, NULL, &m, &err), 0);
    image_manifest_clear(&m);
}

static void test_index_platform(void **state)
{
    const char *j =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":["
        "{\"digest\":\"" DA
        "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\","
        "\"variant\":\"v8\"}},"
        "{\"digest\":\"" DC
        "\",\"size\":1,\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}},"
        "{\"digest\":\"" DB
        "\",\"size\":7,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}"
        "]}";
    struct image_manifest m;
    struct kos_error *err = NULL;
    assert_int_equal(parse(j, NULL, &m, &err), 0);
    assert_int_equal(m.kind, IMAGE_MANIFEST_INDEX);
    assert_string_equal(m.platform.digest, DB);
    image_manifest_clear(&m);

    const char *none =
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
        "\"manifests\":[{\"digest\":\"" DA "\",\"size\":1,\"platform\":"
        "{\"os\":\"linux\",\"architecture\":\"s390x\"}}]}";
    assert_int_equal(parse(none, NULL, &m, &err), -ENOENT);
    assert_string_equal(err->reason, "ErrImagePull");
    assert_non_null(strstr(err->message, "no match for platform in manifest"));
    kos_error_free(err);
}

static void bad(const char *j, const char *why)
{
    struct image_manifest m;
    struct kos_error *err = NULL;
    assert_true(parse(j, NULL, &m, &err) < 0);
    assert_non_null(err);
    if (!strstr(err->message, why))
        print_error("%s -> %s (want %s)\n", j, err->message, why);
    assert_non_null(strstr(err->message, why));
    kos_error_free(err);
}

static void test_bad_manifests(void **state)
{
    bad("", "not a JSON object");
    bad("[]", "not a JSON object");
    bad("{\"schemaVersion\":1,\"fsLayers\":[]}", "schema 1");
    bad("{\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+prettyjws\"}",
        "schema 1");
    bad("{\"mediaType\":\"text/plain\"}", "unsupported manifest media type");
    bad("{\"config\":{\"digest\":\"sha256:xyz\",\"size\":1},\"layers\":[]}", "digest");
    bad("{\"config\":{\"digest\":\"" DA "\",\"size\":-1},\"layers\":[]}", "size");
    bad("{\"config\":{\"digest\":\"" DA "\"},\"layers\":[]}", "size");
    bad("{\"config\":{\"digest\":\"" DA "\",\"size\":1},\"layers\":[7]}", "not an object");
    bad("{\"config\":{\"digest\":\"" DA "\",\"size\":1},\"layers\":[{\"mediaType\":"
        "\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" DB "\",\"size\":1}]}",
        "unsupported layer media type");
    bad("{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":{}}",
        "not a list");
    bad("{\"a\":1,\"a\":2}", "not a JSON object");
    /* too many layers */
    char big[40000];
    size_t o = (size_t)snprintf(big, sizeof(big),
                                "{\"config\":{\"digest\":\"" DA "\",\"size\":1},\"layers\":[");
    for (int i = 0; i < 130; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "%s{\"digest\":\"" DB "\",\"size\":1}",
                              i ? "," : "");
    snprintf(big + o, sizeof(big) - o, "]}");
    bad(big, "too many layers");
}

static void test_config(void **state)
{
    const char *j = "{\"architecture\":\"amd64\",\"config\":{\"Entrypoint\":[\"/bin/sh\",\"-c\"],"
                    "\"Cmd\":null,\"Env\":[\"A=1\",\"PATH=/bin\"],\"WorkingDir\":\"/w\","
                    "\"User\":\"1000:1000\",\"StopSignal\":\"SIGQUIT\"}}";
    struct image_info info = {0};
    struct kos_error *err = NULL;
    assert_int_equal(image_config_parse(j, strlen(j), &info, &err), 0);
    assert_string_equal(info.entrypoint[0], "/bin/sh");
    assert_string_equal(info.entrypoint[1], "-c");
    assert_null(info.entrypoint[2]);
    assert_null(info.cmd);
    assert_string_equal(info.env[1], "PATH=/bin");
    assert_string_equal(info.working_dir, "/w");
    assert_string_equal(info.user, "1000:1000");
    assert_string_equal(info.stop_signal, "SIGQUIT");
    image_info_clear(&info);

    const char *empty = "{}";
    assert_int_equal(image_config_parse(empty, 2, &info, &err), 0);
    assert_null(info.entrypoint);
    assert_null(info.working_dir);
    assert_null(info.stop_signal);
    image_info_clear(&info);

    const char *badj = "{\"config\":{\"Cmd\":[1]}}";
    assert_true(image_config_parse(badj, strlen(badj), &info, &err) < 0);
    assert_non_null(strstr(err->message, "list of strings"));
    kos_error_free(err);
    image_info_clear(&info); /* a zeroed struct is fine */
}

static void test_challenge(void **state)
{
    struct registry_challenge c;
    assert_int_equal(registry_parse_challenge("Bearer realm=\"https://auth.docker.io/token\","
                                              "service=\"registry.docker.io\","
                                              "scope=\"repository:library/busybox:pull\"",
                                              &c),
                     0);
    assert_string_equal(c.scheme, "Bearer");
    assert_string_equal(c.realm, "https://auth.docker.io/token");
    assert_string_equal(c.service, "registry.docker.io");
    assert_string_equal(c.scope, "repository:library/busybox:pull");
    assert_int_equal(registry_parse_challenge("Basic realm=\"kos test\"", &c), 0);
    assert_string_equal(c.scheme, "Basic");
    assert_string_equal(c.realm, "kos test");
    assert_int_equal(registry_parse_challenge("Bearer realm=unquoted, error=\"invalid_token\"", &c),
                     0);
    assert_string_equal(c.realm, "unquoted");
    assert_int_equal(registry_parse_challenge("", &c), -EINVAL);
    assert_int_equal(registry_parse_challenge("Bearer realm=\"unterminated", &c), -EINVAL);
    assert_int_equal(registry_parse_challenge("Bearer realm", &c), -EINVAL);
}

static void test_scheme(void **state)
{
    assert_string_equal(registry_scheme("127.0.0.1:5000"), "http");
    assert_string_equal(registry_scheme("127.1.2.3"), "http");
    assert_string_equal(registry_scheme("localhost:5000"), "http");
    assert_string_equal(registry_scheme("localhost"), "http");
    assert_string_equal(registry_scheme("[::1]:5000"), "http");
    assert_string_equal(registry_scheme("128.0.0.1:5000"), "https");
    assert_string_equal(registry_scheme("docker.io"), "https");
    assert_string_equal(registry_scheme("localhost.example.com"), "https");
    assert_string_equal(registry_scheme("127.0.0.1.nip.io"), "https");
}

static void test_realm_credentials(void **state)
{
    assert_true(registry_realm_may_get_credentials("https://auth.docker.io/token"));
    assert_true(registry_realm_may_get_credentials("http://127.0.0.1:5001/token"));
    assert_true(registry_realm_may_get_credentials("http://localhost/token?x=1"));
    assert_false(registry_realm_may_get_credentials("http://auth.example.com/token"));
    assert_false(registry_realm_may_get_credentials("http://127.0.0.1@evil.example/token"));
    assert_false(registry_realm_may_get_credentials("ftp://127.0.0.1/token"));
    assert_false(registry_realm_may_get_credentials("http:///token"));
}

static void test_digest(void **state)
{
    char d[IMAGE_DIGEST_MAX];
    assert_int_equal(image_digest_of("", 0, d), 0);
    assert_string_equal(d,
                        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_true(image_digest_valid(d));
    assert_false(image_digest_valid(
        "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
    assert_false(image_digest_valid("sha256:abc"));
    assert_false(image_digest_valid("md5:e3b0c44298fc1c149afbf4c8996fb924"));
}

static void test_backoff(void **state)
{
    char dir[] = "/tmp/kos-test-backoff-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct image_store *s = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(image_store_open(dir, &s, &err), 0);
    time_t t = 1000;
    assert_int_equal(image_backoff_check(s, "pod/c", "busybox", t, &err), 0);
    image_backoff_record(s, "pod/c", false, t);
    assert_int_equal(image_backoff_check(s, "pod/c", "busybox", t + 5, &err), -EAGAIN);
    assert_string_equal(err->reason, "ImagePullBackOff");
    assert_string_equal(err->message, "Back-off pulling image \"busybox\"");
    kos_error_free(err);
    err = NULL;
    assert_int_equal(image_backoff_check(s, "other", "busybox", t + 5, NULL), 0);
    assert_int_equal(image_backoff_check(s, "pod/c", "busybox", t + 10, NULL), 0);
    image_backoff_record(s, "pod/c", false, t + 10); /* 20 s now */
    assert_int_equal(image_backoff_check(s, "pod/c", "busybox", t + 29, NULL), -EAGAIN);
    assert_int_equal(image_backoff_check(s, "pod/c", "busybox", t + 30, NULL), 0);
    for (int i = 0; i < 10; i++)
        image_backoff_record(s, "pod/c", false, t + 30);
    assert_int_equal(image_backoff_check(s, "pod/c", "busybox", t + 30 + 299, NULL), -EAGAIN);
    assert_int_equal(image_backoff_check(s, "pod/c", "busybox", t + 30 + 300, NULL), 0);
    image_backoff_record(s, "pod/c", true, t + 400);
    assert_int_equal(image_backoff_check(s, "pod/c", "busybox", t + 400, NULL), 0);
    image_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_docker_config(void **state)
{
    struct image_credentials c = {0};
    struct kos_error *err = NULL;
    /* base64("alice:pa:ss") */
    const char *j = "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"YWxpY2U6cGE6c3M=\"},"
                    "\"https://index.docker.io/v1/\":{\"username\":\"bob\",\"password\":\"pw\"},"
                    "\"empty.io\":{\"identitytoken\":\"x\"}}}";
    assert_int_equal(image_credentials_add_docker_config(&c, j, strlen(j), &err), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.entries[0].registry, "127.0.0.1:5000");
    assert_string_equal(c.entries[0].username, "alice");
    assert_string_equal(c.entries[0].password, "pa:ss");
    assert_string_equal(c.entries[1].username, "bob");
    const char *old = "{\"quay.io\":{\"username\":\"q\",\"password\":\"w\"}}";
    assert_int_equal(image_credentials_add_docker_config(&c, old, strlen(old), &err), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.entries[2].registry, "quay.io");
    const char *bad1 = "{\"auths\":{\"x\":{\"auth\":\"!!notbase64\"}}}";
    assert_int_equal(image_credentials_add_docker_config(&c, bad1, strlen(bad1), &err), -EINVAL);
    assert_non_null(strstr(err->message, "invalid image pull secret"));
    kos_error_free(err);
    err = NULL;
    assert_int_equal(image_credentials_add_docker_config(&c, "[]", 2, &err), -EINVAL);
    kos_error_free(err);
    assert_int_equal(c.n, 3); /* failures leave what was there */
    image_credentials_free(&c);
    assert_int_equal(c.n, 0);
    image_credentials_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oci_manifest),  cmocka_unit_test(test_index_platform),
        cmocka_unit_test(test_bad_manifests), cmocka_unit_test(test_config),
        cmocka_unit_test(test_challenge),     cmocka_unit_test(test_scheme),
        cmocka_unit_test(test_digest),        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_docker_config), cmocka_unit_test(test_realm_credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
