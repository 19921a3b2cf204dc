/* Unit tests for src/agent/pods/sa_token.c: the TokenRequest a projected serviceAccountToken
 * source sends (bound to the pod, its expirationSeconds, its audience or the API's default),
 * the kubelet's renewal point (80% of the lifetime, or 24 hours), and the file and FailedMount
 * message a projection produces, with a fake TokenRequest endpoint. Works in a temp dir. */
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

static void test_account(void **state)
{
    (void)state;
    _cleanup_json_ json_t *a = pod("{}");
    _cleanup_json_ json_t *c = pod("{\"serviceAccountName\": \"builder\"}");
    _cleanup_json_ json_t *d = pod("{\"serviceAccountName\": \"\"}");
    assert_string_equal(kos_sa_token_account(a), "default");
    assert_string_equal(kos_sa_token_account(c), "builder");
    assert_string_equal(kos_sa_token_account(d), "default");
}

static void test_request_is_bound_to_the_pod(void **state)
{
    (void)state;
    _cleanup_json_ json_t *p = pod("{}");
    _cleanup_json_ json_t *tr = kos_sa_token_request(p, NULL, 3607);
    assert_non_null(tr);
    assert_string_equal(json_string_value(json_object_get(tr, "kind")), "TokenRequest");
    const json_t *spec = json_object_get(tr, "spec");
    assert_int_equal(json_integer_value(json_object_get(spec, "expirationSeconds")), 3607);
    assert_null(json_object_get(spec, "audiences")); /* the API's default */
    const json_t *ref = json_object_get(spec, "boundObjectRef");
    assert_string_equal(json_string_value(json_object_get(ref, "kind")), "Pod");
    assert_string_equal(json_string_value(json_object_get(ref, "name")), "p1");
    assert_string_equal(json_string_value(json_object_get(ref, "uid")), "u-1");
    _cleanup_json_ json_t *tv = kos_sa_token_request(p, "vault", 600);
    const json_t *aud = json_object_get(json_object_get(tv, "spec"), "audiences");
    assert_int_equal(json_array_size(aud), 1);
    assert_string_equal(json_string_value(json_array_get(aud, 0)), "vault");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(tv, "spec"), "expirationSeconds")), 600);
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

struct fake {
    int calls;
    int fail;
    char ns[64], name[64], aud[64];
    json_int_t seconds;
};

static int fake_fetch(void *ud, const char *ns, const char *name, const json_t *body, json_t **ret,
                      struct kos_error **err)
{
    struct fake *f = ud;
    f->calls++;
    snprintf(f->ns, sizeof(f->ns), "%s", ns);
    snprintf(f->name, sizeof(f->name), "%s", name);
    const json_t *spec = json_object_get(body, "spec");
    assert_non_null(spec);
    f->seconds = json_integer_value(json_object_get(spec, "expirationSeconds"));
    const char *a = json_string_value(json_array_get(json_object_get(spec, "audiences"), 0));
    snprintf(f->aud, sizeof(f->aud), "%s", a ? a : "");
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

static void test_projection_writes_token_once(void **state)
{
    (void)state;
    _cleanup_json_ json_t *p = pod("{\"serviceAccountName\": \"builder\"}");
    _cleanup_json_ json_t *src =
        json_loads("{\"path\": \"token\", \"expirationSeconds\": 3607}", 0, NULL);
    struct fake f = {0};
    char dir[4096], buf[256];
    snprintf(dir, sizeof(dir), "%s/vol", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(
        kos_sa_token_project(p, tmp, "kube-api-access-x", src, dir, 0644, fake_fetch, &f, NULL), 0);
    assert_int_equal(f.calls, 1);
    assert_string_equal(f.ns, "ns1");
    assert_string_equal(f.name, "builder");
    assert_string_equal(f.aud, "");
    assert_int_equal(f.seconds, 3607);
    read_into(dir, "token", buf, sizeof(buf));
    assert_string_equal(buf, "tok-1");
    /* a current token is kept */
    assert_int_equal(
        kos_sa_token_project(p, tmp, "kube-api-access-x", src, dir, 0644, fake_fetch, &f, NULL), 0);
    assert_int_equal(f.calls, 1);
    read_into(dir, "token", buf, sizeof(buf));
    assert_string_equal(buf, "tok-1");
    /* another source (audience, default lifetime, a nested path, its mode) is its own token */
    _cleanup_json_ json_t *vault =
        json_loads("{\"path\": \"v/tok\", \"audience\": \"vault\"}", 0, NULL);
    assert_int_equal(kos_sa_token_project(p, tmp, "vault", vault, dir, 0600, fake_fetch, &f, NULL),
                     0);
    assert_int_equal(f.calls, 2);
    assert_string_equal(f.aud, "vault");
    assert_int_equal(f.seconds, 3600);
    read_into(dir, "v/tok", buf, sizeof(buf));
    assert_string_equal(buf, "tok-2");
    char path[4200];
    struct stat st;
    snprintf(path, sizeof(path), "%s/v/tok", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* a path that leaves the volume is refused */
    _cleanup_json_ json_t *bad = json_loads("{\"path\": \"../escape\"}", 0, NULL);
    _cleanup_error_ struct kos_error *err = NULL;
    assert_true(kos_sa_token_project(p, tmp, "v", bad, dir, 0644, fake_fetch, &f, &err) < 0);
    assert_int_equal(f.calls, 2);
}

static void test_projection_failure(void **state)
{
    (void)state;
    struct fake f = {.fail = 1};
    _cleanup_json_ json_t *p = pod("{\"serviceAccountName\": \"nope\"}");
    _cleanup_json_ json_t *src = json_loads("{\"path\": \"token\"}", 0, NULL);
    _cleanup_error_ struct kos_error *err = NULL;
    assert_true(kos_sa_token_project(p, tmp, "kube-api-access-x", src, tmp, 0644, fake_fetch, &f,
                                     &err) < 0);
    assert_non_null(err);
    assert_string_equal(err->reason, "FailedMount");
    assert_string_equal(err->message, "MountVolume.SetUp failed for volume \"kube-api-access-x\" : "
                                      "failed to fetch token: serviceaccounts \"nope\" not found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account),
        cmocka_unit_test(test_request_is_bound_to_the_pod),
        cmocka_unit_test(test_refresh_point),
        cmocka_unit_test_setup_teardown(test_projection_writes_token_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_projection_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
