/* The Webhook authorizer against a test webhook (webhook_test_server.h): the
 * SubjectAccessReview it sends for resource and non-resource requests, allowed / denied /
 * no-opinion answers, the two cache TTLs (counted at the webhook), and errors that are
 * NO_OPINION with a reason, never cached, never an allow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/authz/webhook.h"
#include "webhook_test_server.h"

static char tmpdir[] = "/tmp/kos-authz-webhook-XXXXXX";
static int64_t fake_now;
static int64_t fake_clock(void)
{
    return fake_now;
}

/* alice may get pods; bob is denied everything; "bad" answers garbage; others: no opinion. */
static char *sar_handler(const char *body, int *status, void *ud)
{
    json_t *j = json_loads(body, 0, NULL);
    json_t *spec = json_object_get(j, "spec");
    const char *user = json_string_value(json_object_get(spec, "user"));
    const char *verb =
        json_string_value(json_object_get(json_object_get(spec, "resourceAttributes"), "verb"));
    char *out;
    if (user && !strcmp(user, "alice") && verb && !strcmp(verb, "get"))
        out = strdup("{\"kind\":\"SubjectAccessReview\",\"status\":{\"allowed\":true,"
                     "\"reason\":\"alice may\"}}");
    else if (user && !strcmp(user, "bob"))
        out = strdup("{\"kind\":\"SubjectAccessReview\",\"status\":{\"allowed\":false,"
                     "\"denied\":true,\"reason\":\"bob may not\"}}");
    else if (user && !strcmp(user, "bad"))
        out = strdup("{\"status\":{\"allowed\":\"yes\"}}");
    else if (user && !strcmp(user, "err"))
        *status = 503, out = strdup("{}");
    else
        out = strdup("{\"status\":{\"allowed\":false}}");
    json_decref(j);
    return out;
}

static int ask(struct authz_webhook *w, const char *user, const char *verb, bool resource,
               char **reason)
{
    const char *groups[] = {"dev", "system:authenticated"};
    struct kos_user u = {.name = user, .groups = groups, .ngroups = 2};
    struct authz_attributes a = {.user = &u,
                                 .verb = verb,
                                 .resource_request = resource,
                                 .namespace_ = "ns1",
                                 .api_group = "",
                                 .api_version = "v1",
                                 .resource = "pods",
                                 .name = "p1",
                                 .path = "/healthz"};
    return authz_webhook_authorize(w, &a, reason);
}

static void test_spec(void **state)
{
    const char *groups[] = {"g"};
    struct kos_user u = {.name = "alice", .uid = "7", .groups = groups, .ngroups = 1};
    struct authz_attributes a = {.user = &u,
                                 .verb = "list",
                                 .resource_request = true,
                                 .api_group = "apps",
                                 .api_version = "v1",
                                 .resource = "deployments",
                                 .subresource = "scale"};
    json_t *spec = authz_webhook_spec(&a, true);
    assert_non_null(json_object_get(spec, "group"));
    json_decref(spec);
    spec = authz_webhook_spec(&a, false);
    assert_non_null(spec);
    char *s = json_dumps(spec, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s, "{\"groups\":[\"g\"],\"resourceAttributes\":{\"group\":\"apps\","
                           "\"resource\":\"deployments\",\"subresource\":\"scale\",\"verb\":"
                           "\"list\",\"version\":\"v1\"},\"uid\":\"7\",\"user\":\"alice\"}");
    free(s);
    json_decref(spec);
    a.resource_request = false;
    a.path = "/metrics";
    spec = authz_webhook_spec(&a, false);
    s = json_dumps(json_object_get(spec, "nonResourceAttributes"), JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s, "{\"path\":\"/metrics\",\"verb\":\"list\"}");
    free(s);
    json_decref(spec);

    char *reason = NULL;
    struct kos_error *err = NULL;
    static const char *const bad[] = {"x",
                                      "[]",
                                      "{\"kind\":\"Pod\"}",
                                      "{\"status\":[]}",
                                      "{\"status\":{\"denied\":1}}",
                                      "{\"status\":{\"reason\":5}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        if (authz_webhook_parse_response(bad[i], strlen(bad[i]), &reason, &err) >= 0)
            fail_msg("accepted %s", bad[i]);
        kos_error_free(err);
    }
    const char *both = "{\"status\":{\"allowed\":true,\"denied\":true}}";
    assert_int_equal(authz_webhook_parse_response(both, strlen(both), &reason, &err), AUTHZ_ALLOW);
    assert_null(reason);
}

static void test_authorizer(void **state)
{
    struct test_server srv = {.handler = sar_handler};
    assert_int_equal(test_server_start(&srv), 0);
    char cfg[512];
    snprintf(cfg, sizeof(cfg), "%s/authz.yaml", tmpdir);
    test_write_webhook_config(cfg, srv.port);
    fake_now = 1;
    struct authz_webhook_options o = {.config_file = cfg,
                                      .authorized_ttl_ms = -1,
                                      .unauthorized_ttl_ms = -1,
                                      .now_ms = fake_clock};
    struct authz_webhook *w = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(authz_webhook_new(&o, &w, &err), 0);

    char *reason = NULL;
    assert_int_equal(ask(w, "alice", "get", true, &reason), AUTHZ_ALLOW);
    assert_string_equal(reason, "alice may");
    free(reason);
    assert_non_null(strstr(srv.last_request, "\"kind\":\"SubjectAccessReview\""));
    assert_non_null(strstr(srv.last_request, "\"apiVersion\":\"authorization.k8s.io/v1\""));
    assert_non_null(strstr(srv.last_request, "\"namespace\":\"ns1\""));
    assert_non_null(strstr(srv.last_request, "\"groups\":[\"dev\",\"system:authenticated\"]"));
    assert_int_equal(ask(w, "alice", "get", true, NULL), AUTHZ_ALLOW);
    assert_int_equal(atomic_load(&srv.hits), 1);
    assert_int_equal(ask(w, "alice", "delete", true, &reason), AUTHZ_NO_OPINION);
    assert_null(reason);
    assert_int_equal(ask(w, "bob", "get", true, &reason), AUTHZ_DENY);
    assert_string_equal(reason, "bob may not");
    free(reason);
    assert_int_equal(ask(w, "bob", "get", true, &reason), AUTHZ_DENY);
    free(reason);
    assert_int_equal(ask(w, "alice", "get", false, NULL), AUTHZ_NO_OPINION);
    assert_int_equal(atomic_load(&srv.hits), 4);
    assert_non_null(strstr(srv.last_request, "\"nonResourceAttributes\""));

    /* the unauthorized TTL (30s) passes before the authorized one (5m) */
    fake_now += 30 * 1000;
    assert_int_equal(ask(w, "alice", "get", true, NULL), AUTHZ_ALLOW);
    assert_int_equal(ask(w, "bob", "get", true, &reason), AUTHZ_DENY);
    free(reason);
    assert_int_equal(atomic_load(&srv.hits), 5);
    fake_now += 5 * 60 * 1000;
    assert_int_equal(ask(w, "alice", "get", true, NULL), AUTHZ_ALLOW);
    assert_int_equal(atomic_load(&srv.hits), 6);

    /* errors: no opinion, a reason, not cached */
    assert_int_equal(ask(w, "bad", "get", true, &reason), AUTHZ_NO_OPINION);
    assert_non_null(strstr(reason, "webhook:"));
    free(reason);
    assert_int_equal(ask(w, "err", "get", true, &reason), AUTHZ_NO_OPINION);
    assert_non_null(strstr(reason, "HTTP 503"));
    free(reason);
    assert_int_equal(ask(w, "err", "get", true, &reason), AUTHZ_NO_OPINION);
    free(reason);
    assert_int_equal(atomic_load(&srv.hits), 9);
    assert_int_equal(authz_webhook_requests(w), 9);

    test_server_stop(&srv);
    assert_int_equal(ask(w, "carol", "get", true, &reason), AUTHZ_NO_OPINION);
    assert_non_null(strstr(reason, "Post \"http://127.0.0.1:"));
    free(reason);
    struct authz_authorizer az = authz_webhook_as_authorizer(w);
    const char *groups[] = {"x"};
    struct kos_user u = {.name = "alice", .groups = groups, .ngroups = 1};
    struct authz_attributes a = {
        .user = &u, .verb = "get", .resource_request = true, .resource = "pods"};
    assert_int_equal(az.authorize(az.ctx, &a, &reason), AUTHZ_NO_OPINION);
    free(reason);
    authz_webhook_free(w);

    o.version = "v9";
    assert_true(authz_webhook_new(&o, &w, &err) < 0);
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
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_spec),
                                       cmocka_unit_test(test_authorizer)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
