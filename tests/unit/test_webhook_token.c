/* The webhook pieces: the kubeconfig-format config parser, the bounded TTL cache, the
 * TokenReview request/response codec and the token authenticator against a test webhook
 * (tests/unit/webhook_test_server.h): mapping, rejection, caching of both answers for the
 * TTL (counted at the webhook), errors never cached and failing closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/ttl_cache.h"
#include "auth/webhook_config.h"
#include "auth/webhook_token.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "webhook_test_server.h"

static char tmpdir[] = "/tmp/kos-webhook-test-XXXXXX";

static int64_t fake_now;
static int64_t fake_clock(void)
{
    return fake_now;
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int parse(const char *text, struct kos_webhook_config *c, struct kos_error **err)
{
    return kos_webhook_config_parse(text, strlen(text), tmpdir, c, err);
}

static void test_config_ok(void **state)
{
    write_file("ca.pem", "CA-PEM");
    write_file("tok", "file-token\n");
    _cleanup_free_ char *b64 = kos_base64_encode("CERT", 4);
    _cleanup_free_ char *kb64 = kos_base64_encode("KEY", 3);
    char text[2048];
    snprintf(text, sizeof(text),
             "apiVersion: v1\nkind: Config\n"
             "clusters:\n- name: other\n  cluster: {server: 'https://other'}\n"
             "- name: hook\n  cluster:\n    server: https://127.0.0.1:9443/authn\n"
             "    certificate-authority: ca.pem\n"
             "users:\n- name: api\n  user:\n    client-certificate-data: %s\n"
             "    client-key-data: %s\n    tokenFile: tok\n"
             "contexts:\n- name: ctx\n  context: {cluster: hook, user: api}\n"
             "current-context: ctx\n",
             b64, kb64);
    struct kos_webhook_config c = {0};
    struct kos_error *err = NULL;
    assert_int_equal(parse(text, &c, &err), 0);
    assert_string_equal(c.server, "https://127.0.0.1:9443/authn");
    assert_int_equal(c.ca_len, 6);
    assert_memory_equal(c.ca_pem, "CA-PEM", 6);
    assert_memory_equal(c.client_cert_pem, "CERT", 4);
    assert_memory_equal(c.client_key_pem, "KEY", 3);
    assert_string_equal(c.token, "file-token");
    assert_false(c.insecure_skip_tls_verify);
    kos_webhook_config_clear(&c);

    /* JSON, no current-context, a single cluster, inline token, insecure */
    const char *json = "{\"clusters\":[{\"name\":\"x\",\"cluster\":{\"server\":\"http://h:1/\","
                       "\"insecure-skip-tls-verify\":true}}],\"users\":[{\"name\":\"u\","
                       "\"user\":{\"token\":\"abc\"}}]}";
    assert_int_equal(parse(json, &c, &err), 0);
    assert_string_equal(c.server, "http://h:1/");
    assert_true(c.insecure_skip_tls_verify);
    assert_string_equal(c.token, "abc");
    assert_null(c.ca_pem);
    kos_webhook_config_clear(&c);
    kos_webhook_config_clear(NULL);
}

static void expect_bad(const char *text, const char *needle)
{
    struct kos_webhook_config c = {0};
    struct kos_error *err = NULL;
    assert_true(parse(text, &c, &err) < 0);
    assert_non_null(err);
    assert_int_equal(err->code, 400);
    if (!strstr(err->message, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err->message, needle);
    assert_null(c.server);
    kos_error_free(err);
}

static void test_config_bad(void **state)
{
    expect_bad("- a\n- b\n", "want a mapping");
    expect_bad("clusters: [\n", "invalid webhook config");
    expect_bad("current-context: nope\ncontexts: []\n", "context \"nope\" not found");
    expect_bad("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: []\n",
               "cluster \"k\" not found");
    expect_bad("clusters: [{name: a, cluster: {}}]\n", "has no server");
    expect_bad("clusters: [{name: a, cluster: {server: 'ftp://x'}}]\n", "not an http(s) URL");
    expect_bad("clusters: [{name: a, cluster: {server: 'https://x', "
               "certificate-authority-data: '!!!'}}]\n",
               "not valid base64");
    expect_bad("clusters: [{name: a, cluster: {server: 'https://x', "
               "certificate-authority: /nonexistent/ca}}]\n",
               "unable to read /nonexistent/ca");
    expect_bad("clusters: [{name: a, cluster: {server: 'https://x', "
               "insecure-skip-tls-verify: true, certificate-authority-data: 'QQ=='}}]\n",
               "insecure flag is not allowed");
    expect_bad("clusters: [{name: a, cluster: {server: 'https://x'}}]\n"
               "users: [{name: u, user: {client-certificate-data: 'QQ=='}}]\n",
               "must both be given");
    expect_bad("current-context: c\ncontexts: [{name: c, context: {cluster: a}}]\n"
               "clusters: {name: a}\n",
               "clusters must be a list");
    expect_bad("clusters: [{name: a, cluster: {server: 7}}]\n", "server must be a string");
    expect_bad("clusters: [{name: a, cluster: {server: 'https://x'}}, "
               "{name: b, cluster: {server: 'https://y'}}]\n",
               "no current-context");
    struct kos_webhook_config c = {0};
    struct kos_error *err = NULL;
    assert_true(kos_webhook_config_load("/nonexistent/config", &c, &err) < 0);
    kos_error_free(err);
}

static int copy_int(const void *v, void *out)
{
    *(int *)out = *(const int *)v;
    return 0;
}

static int *boxed(int v)
{
    int *p = malloc(sizeof(*p));
    *p = v;
    return p;
}

static void test_cache(void **state)
{
    struct kos_ttl_cache *c = NULL;
    fake_now = 1000;
    assert_int_equal(kos_ttl_cache_new(3, free, fake_clock, &c), 0);
    uint8_t k[4][KOS_TTL_CACHE_KEY];
    for (int i = 0; i < 4; i++) {
        char s[16];
        snprintf(s, sizeof(s), "k%d", i);
        assert_int_equal(kos_ttl_cache_key(c, s, strlen(s), k[i]), 0);
    }
    assert_memory_not_equal(k[0], k[1], KOS_TTL_CACHE_KEY);
    int out = 0;
    assert_int_equal(kos_ttl_cache_get(c, k[0], copy_int, &out), 0);
    assert_int_equal(kos_ttl_cache_put(c, k[0], boxed(10), 100), 0);
    assert_int_equal(kos_ttl_cache_put(c, k[1], boxed(11), 50), 0);
    assert_int_equal(kos_ttl_cache_put(c, k[2], boxed(12), 200), 0);
    assert_int_equal(kos_ttl_cache_get(c, k[0], copy_int, &out), 1);
    assert_int_equal(out, 10);
    /* full: the soonest to expire (k1) makes room */
    assert_int_equal(kos_ttl_cache_put(c, k[3], boxed(13), 300), 0);
    assert_int_equal(kos_ttl_cache_size(c), 3);
    assert_int_equal(kos_ttl_cache_get(c, k[1], copy_int, &out), 0);
    /* replace keeps one entry */
    assert_int_equal(kos_ttl_cache_put(c, k[0], boxed(20), 100), 0);
    assert_int_equal(kos_ttl_cache_get(c, k[0], copy_int, &out), 1);
    assert_int_equal(out, 20);
    assert_int_equal(kos_ttl_cache_size(c), 3);
    /* expiry */
    fake_now += 100;
    assert_int_equal(kos_ttl_cache_get(c, k[0], copy_int, &out), 0);
    assert_int_equal(kos_ttl_cache_get(c, k[2], copy_int, &out), 1);
    fake_now += 1000;
    assert_int_equal(kos_ttl_cache_get(c, k[3], copy_int, &out), 0);
    /* ttl 0: not stored */
    assert_int_equal(kos_ttl_cache_put(c, k[1], boxed(1), 0), 0);
    assert_int_equal(kos_ttl_cache_get(c, k[1], copy_int, &out), 0);
    kos_ttl_cache_free(c);
    kos_ttl_cache_free(NULL);
}

static int parse_resp(const char *text, struct kos_user_info *u, struct kos_error **err)
{
    static const char *const auds[] = {"api"};
    return kos_tokenreview_parse_response(text, strlen(text), auds, 1, u, err);
}

static void test_tokenreview_codec(void **state)
{
    static const char *const auds[] = {"a1", "a2"};
    _cleanup_free_ char *req = NULL;
    size_t n = 0;
    assert_int_equal(kos_tokenreview_request("authentication.k8s.io/v1", "tok", auds, 2, &req, &n),
                     0);
    json_t *j = json_loads(req, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "TokenReview");
    assert_string_equal(json_string_value(json_object_get(j, "apiVersion")),
                        "authentication.k8s.io/v1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "spec"), "token")),
                        "tok");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "spec"), "audiences")), 2);
    json_decref(j);

    struct kos_user_info u = {0};
    struct kos_error *err = NULL;
    assert_int_equal(parse_resp("{\"kind\":\"TokenReview\",\"status\":{\"authenticated\":true,"
                                "\"user\":{\"username\":\"alice\",\"uid\":\"42\",\"groups\":"
                                "[\"dev\",\"ops\"],\"extra\":{\"scopes\":[\"a\",\"b\"]}}}}",
                                &u, &err),
                     1);
    assert_string_equal(u.name, "alice");
    assert_string_equal(u.uid, "42");
    assert_int_equal(u.ngroups, 2);
    assert_string_equal(u.groups[1], "ops");
    assert_int_equal(u.nextra, 1);
    assert_string_equal(u.extra[0].key, "scopes");
    assert_int_equal(u.extra[0].nvalues, 2);
    kos_user_info_clear(&u);

    assert_int_equal(parse_resp("{\"status\":{\"authenticated\":false}}", &u, &err), 0);
    assert_int_equal(parse_resp("{}", &u, &err), 0);
    /* audiences named but none of ours */
    assert_int_equal(parse_resp("{\"status\":{\"authenticated\":true,\"audiences\":[\"x\"],"
                                "\"user\":{\"username\":\"a\"}}}",
                                &u, &err),
                     0);

    static const char *const bad[] = {
        "not json",
        "[]",
        "{\"kind\":\"Status\"}",
        "{\"status\":{\"authenticated\":\"yes\"}}",
        "{\"status\":{\"authenticated\":false,\"error\":\"backend down\"}}",
        "{\"status\":{\"authenticated\":true}}",
        "{\"status\":{\"authenticated\":true,\"user\":{\"username\":\"\"}}}",
        "{\"status\":{\"authenticated\":true,\"user\":{\"username\":5}}}",
        "{\"status\":{\"authenticated\":true,\"user\":{\"username\":\"a\",\"groups\":\"g\"}}}",
        "{\"status\":{\"authenticated\":true,\"user\":{\"username\":\"a\",\"extra\":{\"k\":1}}}}",
        "{\"status\":7}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        if (parse_resp(bad[i], &u, &err) >= 0)
            fail_msg("accepted: %s", bad[i]);
        assert_non_null(err);
        assert_null(u.name);
        kos_error_free(err);
    }
    /* too many groups */
    struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    kos_buf_append_str(&b, "{\"status\":{\"authenticated\":true,\"user\":{\"username\":\"a\","
                           "\"groups\":[");
    for (int i = 0; i <= KOS_USER_MAX_GROUPS; i++)
        kos_buf_printf(&b, "%s\"g%d\"", i ? "," : "", i);
    kos_buf_append_str(&b, "]}}}");
    err = NULL;
    assert_true(parse_resp(b.data, &u, &err) < 0);
    kos_error_free(err);
    kos_buf_free(&b);
}

/* The test webhook: "good-*" tokens are alice, "bad" is rejected, "boom" a 500. */
static char *authn_handler(const char *body, int *status, void *ud)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *tok = json_string_value(json_object_get(json_object_get(j, "spec"), "token"));
    char *out;
    if (tok && strncmp(tok, "good", 4) == 0) {
        out = strdup("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
                     "\"status\":{\"authenticated\":true,\"user\":{\"username\":\"alice\","
                     "\"groups\":[\"dev\"]}}}");
    } else if (tok && strcmp(tok, "boom") == 0) {
        *status = 500;
        out = strdup("{}");
    } else {
        out = strdup("{\"kind\":\"TokenReview\",\"status\":{\"authenticated\":false}}");
    }
    json_decref(j);
    return out;
}

static void test_authenticator(void **state)
{
    struct test_server srv = {.handler = authn_handler};
    assert_int_equal(test_server_start(&srv), 0);
    char cfg[512];
    snprintf(cfg, sizeof(cfg), "%s/authn.yaml", tmpdir);
    test_write_webhook_config(cfg, srv.port);

    fake_now = 5000;
    struct kos_webhook_token_options o = {
        .config_file = cfg, .cache_ttl_ms = 120000, .now_ms = fake_clock};
    struct kos_token_authenticator a = {0};
    struct kos_error *err = NULL;
    assert_int_equal(kos_webhook_token_new(&o, &a, &err), 0);
    assert_string_equal(a.name, "webhook");

    struct kos_user_info u = {0};
    assert_int_equal(a.authenticate(a.ctx, "good-1", &u, &err), 1);
    assert_string_equal(u.name, "alice");
    assert_true(kos_user_info_in_group(&u, "dev"));
    kos_user_info_clear(&u);
    assert_int_equal(atomic_load(&srv.hits), 1);
    assert_non_null(strstr(srv.last_request, "\"token\":\"good-1\""));
    /* cached: the webhook is not asked again within the TTL */
    assert_int_equal(a.authenticate(a.ctx, "good-1", &u, &err), 1);
    kos_user_info_clear(&u);
    assert_int_equal(atomic_load(&srv.hits), 1);
    /* rejection is cached too */
    assert_int_equal(a.authenticate(a.ctx, "bad", &u, &err), 0);
    assert_int_equal(a.authenticate(a.ctx, "bad", &u, &err), 0);
    assert_int_equal(atomic_load(&srv.hits), 2);
    assert_null(u.name);
    /* an error is never cached, and fails closed */
    assert_true(a.authenticate(a.ctx, "boom", &u, &err) < 0);
    assert_int_equal(err->code, 401);
    kos_error_free(err);
    err = NULL;
    assert_true(a.authenticate(a.ctx, "boom", &u, &err) < 0);
    kos_error_free(err);
    err = NULL;
    assert_int_equal(atomic_load(&srv.hits), 4);
    assert_int_equal(kos_webhook_token_requests(&a), 4);
    /* past the TTL the webhook is asked again */
    fake_now += 120001;
    assert_int_equal(a.authenticate(a.ctx, "good-1", &u, &err), 1);
    kos_user_info_clear(&u);
    assert_int_equal(atomic_load(&srv.hits), 5);

    /* webhook down: fails closed with the reason */
    test_server_stop(&srv);
    assert_true(a.authenticate(a.ctx, "good-2", &u, &err) < 0);
    assert_non_null(err);
    assert_int_equal(err->code, 401);
    assert_non_null(strstr(err->message, "Post \"http://127.0.0.1:"));
    kos_error_free(err);
    err = NULL;
    /* the cached answer still serves */
    assert_int_equal(a.authenticate(a.ctx, "good-1", &u, &err), 1);
    kos_user_info_clear(&u);
    a.free(a.ctx);

    o.version = "v2";
    assert_true(kos_webhook_token_new(&o, &a, &err) < 0);
    assert_non_null(strstr(err->message, "unsupported version"));
    kos_error_free(err);
}

static int setup(void **state)
{
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_ok),     cmocka_unit_test(test_config_bad),
        cmocka_unit_test(test_cache),         cmocka_unit_test(test_tokenreview_codec),
        cmocka_unit_test(test_authenticator),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
