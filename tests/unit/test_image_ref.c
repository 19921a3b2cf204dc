/* Unit tests for src/agent/image/reference.c and policy.c: Docker's normalisation and the
 * distribution reference grammar, the kubelet's InvalidImageName text, pull policy defaults. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent/image/image.h"

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void check(const char *in, const char *domain, const char *path, const char *tag,
                  const char *digest, const char *formatted)
{
    struct image_ref r;
    struct kos_error *err = NULL;
    int rc = image_ref_parse(in, &r, &err);
    if (rc != 0)
        print_error("%s: %s\n", in, err ? err->message : "?");
    assert_int_equal(rc, 0);
    assert_null(err);
    assert_string_equal(r.domain, domain);
    assert_string_equal(r.path, path);
    assert_string_equal(r.tag, tag);
    assert_string_equal(r.digest, digest);
    char buf[IMAGE_REF_MAX];
    assert_true(image_ref_format(&r, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, formatted);
}

static void test_normalise(void **state)
{
    check("busybox", "docker.io", "library/busybox", "latest", "",
          "docker.io/library/busybox:latest");
    check("busybox:1.36", "docker.io", "library/busybox", "1.36", "",
          "docker.io/library/busybox:1.36");
    check("docker.io/library/busybox:1.36", "docker.io", "library/busybox", "1.36", "",
          "docker.io/library/busybox:1.36");
    check("index.docker.io/library/busybox", "docker.io", "library/busybox", "latest", "",
          "docker.io/library/busybox:latest");
    check("bitnami/redis", "docker.io", "bitnami/redis", "latest", "",
          "docker.io/bitnami/redis:latest");
    check("docker.io/busybox", "docker.io", "library/busybox", "latest", "",
          "docker.io/library/busybox:latest");
    check("127.0.0.1:5000/test/app@" D64, "127.0.0.1:5000", "test/app", "", D64,
          "127.0.0.1:5000/test/app@" D64);
    check("localhost/app:v1", "localhost", "app", "v1", "", "localhost/app:v1");
    check("localhost:5000/a/b/c:1.0-rc_1", "localhost:5000", "a/b/c", "1.0-rc_1", "",
          "localhost:5000/a/b/c:1.0-rc_1");
    check("quay.io/coreos/etcd:v3.5@" D64, "quay.io", "coreos/etcd", "v3.5", D64,
          "quay.io/coreos/etcd:v3.5@" D64);
    check("registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", "",
          "registry.k8s.io/pause:3.9");
    check("a__b/c-d---e.f:T", "docker.io", "a__b/c-d---e.f", "T", "", "docker.io/a__b/c-d---e.f:T");
    check("Registry/app", "Registry", "app", "latest", "", "Registry/app:latest");
}

static void bad(const char *in, const char *why)
{
    struct image_ref r;
    struct kos_error *err = NULL;
    assert_int_equal(image_ref_parse(in, &r, &err), -EINVAL);
    assert_non_null(err);
    assert_string_equal(err->reason, "InvalidImageName");
    if (!strstr(err->message, why))
        print_error("%s: %s (want %s)\n", in, err->message, why);
    assert_non_null(strstr(err->message, why));
    assert_non_null(strstr(err->message, "Failed to apply default image tag"));
    kos_error_free(err);
}

static void test_invalid(void **state)
{
    bad("", "invalid reference format");
    bad("Busybox", "repository name must be lowercase");
    bad("docker.io/Library/busybox", "repository name must be lowercase");
    bad("busybox:", "invalid reference format");
    bad("busybox:-x", "invalid reference format");
    bad("busybox::1", "invalid reference format");
    bad("//busybox", "invalid reference format");
    bad("a//b", "invalid reference format");
    bad("a/", "invalid reference format");
    bad("-a", "invalid reference format");
    bad("a-", "invalid reference format");
    bad("a..b", "invalid reference format");
    bad("a___b", "invalid reference format");
    bad("busybox@sha256:abc", "invalid checksum digest format");
    bad("busybox@sha512:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "unsupported digest algorithm");
    bad("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "cannot specify 64-byte hexadecimal strings");
    bad("host:99999999/a", "invalid reference format");
    bad("-host.io/a", "invalid reference format");
    bad("busybox:"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "invalid reference format");
    char longname[400];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    bad(longname, "255 characters");
    /* whitespace and control characters */
    bad("busy box", "invalid reference format");
    bad("busybox\n", "invalid reference format");
}

static void test_policy(void **state)
{
    assert_int_equal(image_pull_policy_default("busybox"), IMAGE_PULL_ALWAYS);
    assert_int_equal(image_pull_policy_default("busybox:latest"), IMAGE_PULL_ALWAYS);
    assert_int_equal(image_pull_policy_default("busybox:1.36"), IMAGE_PULL_IF_NOT_PRESENT);
    assert_int_equal(image_pull_policy_default("busybox@" D64), IMAGE_PULL_IF_NOT_PRESENT);
    assert_int_equal(image_pull_policy_default("busybox:latest@" D64), IMAGE_PULL_ALWAYS);
    enum image_pull_policy p;
    assert_int_equal(image_pull_policy_parse("Always", &p), 0);
    assert_int_equal(p, IMAGE_PULL_ALWAYS);
    assert_int_equal(image_pull_policy_parse("IfNotPresent", &p), 0);
    assert_int_equal(p, IMAGE_PULL_IF_NOT_PRESENT);
    assert_int_equal(image_pull_policy_parse("Never", &p), 0);
    assert_int_equal(p, IMAGE_PULL_NEVER);
    assert_int_equal(image_pull_policy_parse("", &p), 0);
    assert_int_equal(p, IMAGE_PULL_DEFAULT);
    assert_int_equal(image_pull_policy_parse("always", &p), -EINVAL);
    assert_string_equal(image_pull_policy_name(IMAGE_PULL_NEVER), "Never");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
