/* Unit tests for src/agent/pods/sa_token.c: when a pod mounts the service-account token, the
 * TokenRequest it sends (bound to the pod, 3607 s, default audiences), the kubelet's renewal
 * point (80% of the lifetime, or 24 hours), a container's own mount winning, and the files and
 * FailedMount message setup produces, with a fake TokenRequest endpoint. Works in a temp dir. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/pods/sa_token.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json_cleanup.h"
#include "tmpdir_helpers.h"

static char tmp[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/kos-sat-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove(tmp);
    return 0;
}

static json_t *pod(const char *spec_json)
{
    json_t *spec = json_loads(spec_json, 0, NULL);
    assert_non_null(spec);
    return json_pack("{s{ssssss}so}", "metadata", "name", "p1", "namespace", "ns1", "uid", "u-1",
                     "spec", spec);
}

static void test_automount_and_account(void **state)
{
    (void)state;
    _cleanup_json_ json_t *a = pod("{}");
    _cleanup_json_ json_t *b = pod("{\"automountServiceAccountToken\": false}");
    _cleanup_json_ json_t *c =
        pod("{\"automountServiceAccountToken\": true, \"serviceAccountName\": \"builder\"}");
    _cleanup_json_ json_t *d = pod("{\"serviceAccountName\": \"\"}");
    assert_true(kos_sa_token_automount(a));
    assert_false(kos_sa_token_automount(b));
    assert_true(kos_sa_token_automount(c));
    assert_string_equal(kos_sa_token_account(a), "default");
    assert_string_equal(kos_sa_token_account(c), "builder");
    assert_string_equal(kos_sa_token_account(d), "default");
}

static void test_request_is_bound_to_the_pod(void **state)
{
    (void)state;
    _cleanup_json_ json_t *p = pod("{}");
    _cleanup_json_ json_t *tr = kos_sa_token_request(p);
    assert_non_null(tr);
    assert_string_equal(json_string_value(json_object_get(tr, "kind")), "TokenRequest");
    const json_t *spec = json_object_get(tr, "spec");
    assert_int_equal(json_integer_value(json_object_get(spec, "expirationSeconds")), 3607);
    assert_null(json_object_get(spec, "audiences")); /* the API's default */
    const json_t *ref = json_object_get(spec, "boundObjectRef");
    assert_string_equal(json_string_value(json_object_get(ref, "kind")), "Pod");
    assert_string_equal(json_string_value(json_object_get(ref, "name")), "p1");
    assert_string_equal(json_string_value(json_object_get(ref, "uid")), "u-1");
}

static void test_refresh_point(void **state)
{
    (void)state;
    /* 3607 s lifetime: renewed from 2885.6 s on */
    assert_false(kos_sa_token_needs_refresh(1000, 4607, 1000));
    assert_false(kos_sa_token_needs_refresh(1000, 4607, 1000 + 2885));
    assert_true(kos_sa_token_needs_refresh(1000, 4607, 1000 + 2886));
    assert_true(kos_sa_token_needs_refresh(1000, 4607, 4607));
    assert_true(kos_sa_token_needs_refresh(1000, 4607, 9999));
    /* a long-lived token is renewed after 24 hours */
    assert_false(kos_sa_token_needs_refresh(0, 1000000, 86400));
    assert_true(kos_sa_token_needs_refresh(0, 1000000, 86401));
    assert_true(kos_sa_token_needs_refresh(5, 5, 5)); /* nonsense times: renew */
}

static void test_own_mount_wins(void **state)
{
    (void)state;
    _cleanup_json_ json_t *c1 = json_loads(
        "{\"volumeMounts\": [{\"mountPath\": \"/var/run/secrets/kubernetes.io/serviceaccount/\"}]}",
        0, NULL);
    _cleanup_json_ json_t *c2 = json_loads(
        "{\"volumeMounts\": [{\"mountPath\": \"/var/run/secrets/kubernetes.io\"}]}", 0, NULL);
    _cleanup_json_ json_t *c3 = json_loads("{}", 0, NULL);
    assert_true(kos_sa_token_mount_taken(c1));
    assert_false(kos_sa_token_mount_taken(c2));
    assert_false(kos_sa_token_mount_taken(c3));
}

struct fake {
    int calls;
    int fail;
    char ns[64], name[64];
};

static int fake_fetch(void *ud, const char *ns, const char *name, const json_t *body, json_t **ret,
                      struct kos_error **err)
{
    struct fake *f = ud;
    f->calls++;
    snprintf(f->ns, sizeof(f->ns), "%s", ns);
    snprintf(f->name, sizeof(f->name), "%s", name);
    assert_non_null(json_object_get(body, "spec"));
    if (f->fail)
        return kos_error_set(err, 404, "NotFound", "serviceaccounts \"%s\" not found", name);
    char tok[32];
    snprintf(tok, sizeof(tok), "tok-%d", f->calls);
    *ret = json_pack("{s{ssss}}", "status", "token", tok, "expirationTimestamp",
                     "2999-01-01T00:00:00Z");
    return 0;
}

static void read_into(const char *dir, const char *name, char *out, size_t size)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    _cleanup_free_ char *s = NULL;
    size_t len = 0;
    assert_int_equal(kos_read_file(path, 4096, &s, &len), 0);
    snprintf(out, size, "%s", s);
}

static void test_setup_writes_files_once(void **state)
{
    (void)state;
    _cleanup_json_ json_t *p = pod("{\"serviceAccountName\": \"builder\"}");
    struct fake f = {0};
    char dir[4096], buf[256];
    assert_int_equal(kos_sa_token_setup(p, tmp, "CA PEM\n", fake_fetch, &f, dir, sizeof(dir), NULL),
                     0);
    assert_int_equal(f.calls, 1);
    assert_string_equal(f.ns, "ns1");
    assert_string_equal(f.name, "builder");
    read_into(dir, "token", buf, sizeof(buf));
    assert_string_equal(buf, "tok-1");
    read_into(dir, "ca.crt", buf, sizeof(buf));
    assert_string_equal(buf, "CA PEM\n");
    read_into(dir, "namespace", buf, sizeof(buf));
    assert_string_equal(buf, "ns1");
    char ca_path[4200];
    snprintf(ca_path, sizeof(ca_path), "%s/ca.crt", dir);
    struct stat before, after;
    assert_int_equal(stat(ca_path, &before), 0);
    /* a current token is kept, and unchanged files are not replaced (same inode) */
    assert_int_equal(kos_sa_token_setup(p, tmp, "CA PEM\n", fake_fetch, &f, dir, sizeof(dir), NULL),
                     0);
    assert_int_equal(f.calls, 1);
    read_into(dir, "token", buf, sizeof(buf));
    assert_string_equal(buf, "tok-1");
    assert_int_equal(stat(ca_path, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino);
    /* a changed CA is written */
    assert_int_equal(kos_sa_token_setup(p, tmp, "CA 2\n", fake_fetch, &f, dir, sizeof(dir), NULL),
                     0);
    read_into(dir, "ca.crt", buf, sizeof(buf));
    assert_string_equal(buf, "CA 2\n");
}

static void test_setup_off_and_failure(void **state)
{
    (void)state;
    _cleanup_json_ json_t *off = pod("{\"automountServiceAccountToken\": false}");
    struct fake f = {0};
    char dir[4096] = "x";
    assert_int_equal(kos_sa_token_setup(off, tmp, NULL, fake_fetch, &f, dir, sizeof(dir), NULL), 0);
    assert_string_equal(dir, "");
    assert_int_equal(f.calls, 0);

    _cleanup_json_ json_t *p = pod("{\"serviceAccountName\": \"nope\"}");
    f.fail = 1;
    _cleanup_error_ struct kos_error *err = NULL;
    assert_true(kos_sa_token_setup(p, tmp, NULL, fake_fetch, &f, dir, sizeof(dir), &err) < 0);
    assert_non_null(err);
    assert_string_equal(err->reason, "FailedMount");
    assert_string_equal(err->message, "MountVolume.SetUp failed for volume \"kube-api-access\" : "
                                      "failed to fetch token: serviceaccounts \"nope\" not found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_automount_and_account),
        cmocka_unit_test(test_request_is_bound_to_the_pod),
        cmocka_unit_test(test_refresh_point),
        cmocka_unit_test(test_own_mount_wins),
        cmocka_unit_test_setup_teardown(test_setup_writes_files_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_off_and_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
