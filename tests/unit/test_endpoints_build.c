/* What the endpoints and endpointslice controllers compute: which pods count, readiness,
 * named target ports, grouping by resolved ports, slices of at most N endpoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/endpoints/build.h"
#include "util/json_cleanup.h"

static json_t *pod(const char *name, const char *ip, bool ready, int port, const char *extra)
{
    char buf[2048];
    snprintf(buf, sizeof(buf),
             "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"uid-%s\","
             "\"labels\":{\"app\":\"web\"}%s},"
             "\"spec\":{\"nodeName\":\"n1\",\"hostname\":\"h-%s\",\"subdomain\":\"web\","
             "\"containers\":[{\"name\":\"c\",\"ports\":[{\"name\":\"http\","
             "\"containerPort\":%d}]}]},"
             "\"status\":{\"podIP\":\"%s\",\"phase\":\"Running\",\"conditions\":[{\"type\":"
             "\"Ready\",\"status\":\"%s\"}]}}",
             name, name, extra ? extra : "", name, port, ip, ready ? "True" : "False");
    json_error_t e;
    json_t *full = json_loads(buf, 0, &e);
    assert_non_null(full);
    json_t *t = kos_ep_trim_pod(full);
    json_decref(full);
    assert_non_null(t);
    return t;
}

static json_t *service(const char *target_port_json)
{
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\"},\"spec\":{\"selector\":"
             "{\"app\":\"web\"},\"ports\":[{\"name\":\"h\",\"port\":80,\"protocol\":\"TCP\","
             "\"targetPort\":%s}]}}",
             target_port_json);
    json_t *s = json_loads(buf, 0, NULL);
    assert_non_null(s);
    return s;
}

static void test_selector(void **state)
{
    _cleanup_json_ json_t *sel = json_pack("{s:s}", "app", "web");
    _cleanup_json_ json_t *yes = json_pack("{s:s, s:s}", "app", "web", "x", "y");
    _cleanup_json_ json_t *no = json_pack("{s:s}", "app", "db");
    _cleanup_json_ json_t *empty = json_object();
    assert_true(kos_ep_selector_matches(sel, yes));
    assert_false(kos_ep_selector_matches(sel, no));
    assert_false(kos_ep_selector_matches(sel, NULL));
    assert_false(kos_ep_selector_matches(empty, yes)); /* no selector: managed by hand */
}

static void test_subsets_ready_and_named_ports(void **state)
{
    _cleanup_json_ json_t *svc = service("\"http\"");
    _cleanup_json_ json_t *pods = json_array();
    json_array_append_new(pods, pod("b", "10.42.0.3", true, 8080, NULL));
    json_array_append_new(pods, pod("a", "10.42.0.2", true, 8080, NULL));
    json_array_append_new(pods, pod("c", "10.42.0.4", false, 8080, NULL));
    json_array_append_new(pods, pod("d", "10.42.0.5", true, 9090, NULL)); /* other port */
    json_array_append_new(pods, pod("e", "", true, 8080, NULL));          /* no IP yet */
    json_array_append_new(
        pods, pod("f", "10.42.0.6", true, 8080, ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\""));
    _cleanup_json_ json_t *subsets = kos_ep_build_subsets(svc, pods);
    assert_int_equal(json_array_size(subsets), 2);
    json_t *s8080 = NULL, *s9090 = NULL;
    for (size_t i = 0; i < 2; i++) {
        json_t *s = json_array_get(subsets, i);
        json_int_t p = json_integer_value(
            json_object_get(json_array_get(json_object_get(s, "ports"), 0), "port"));
        if (p == 8080)
            s8080 = s;
        if (p == 9090)
            s9090 = s;
    }
    assert_non_null(s8080);
    assert_non_null(s9090);
    json_t *ready = json_object_get(s8080, "addresses");
    assert_int_equal(json_array_size(ready), 2);
    /* sorted by IP, with nodeName, hostname (subdomain = service) and targetRef */
    json_t *first = json_array_get(ready, 0);
    assert_string_equal(json_string_value(json_object_get(first, "ip")), "10.42.0.2");
    assert_string_equal(json_string_value(json_object_get(first, "nodeName")), "n1");
    assert_string_equal(json_string_value(json_object_get(first, "hostname")), "h-a");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(first, "targetRef"), "uid")), "uid-a");
    json_t *unready = json_object_get(s8080, "notReadyAddresses");
    assert_int_equal(json_array_size(unready), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(unready, 0), "ip")),
                        "10.42.0.4");
    /* the terminating pod f is left out of Endpoints */
    char *dump = json_dumps(subsets, 0);
    assert_null(strstr(dump, "10.42.0.6"));
    free(dump);

    /* a numeric target port needs no container port */
    _cleanup_json_ json_t *num = service("7000");
    _cleanup_json_ json_t *s2 = kos_ep_build_subsets(num, pods);
    assert_int_equal(json_array_size(s2), 1);
    assert_int_equal(json_array_size(json_object_get(json_array_get(s2, 0), "addresses")), 3);
}

static void test_slices_conditions_and_chunks(void **state)
{
    _cleanup_json_ json_t *svc = service("8080");
    _cleanup_json_ json_t *pods = json_array();
    for (int i = 0; i < 5; i++) {
        char name[16], ip[32];
        snprintf(name, sizeof(name), "p%d", i);
        snprintf(ip, sizeof(ip), "10.42.0.%d", 10 + i);
        json_array_append_new(
            pods, pod(name, ip, i != 1, 8080,
                      i == 4 ? ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"" : NULL));
    }
    _cleanup_json_ json_t *slices = kos_ep_build_slices(svc, pods, 2);
    assert_int_equal(json_array_size(slices), 3);
    json_t *s0 = json_array_get(slices, 0);
    assert_int_equal(json_integer_value(
                         json_object_get(json_array_get(json_object_get(s0, "ports"), 0), "port")),
                     8080);
    json_t *eps = json_object_get(s0, "endpoints");
    assert_int_equal(json_array_size(eps), 2);
    json_t *p1 = json_array_get(eps, 1); /* 10.42.0.11: not ready */
    assert_false(json_is_true(json_object_get(json_object_get(p1, "conditions"), "ready")));
    assert_false(json_is_true(json_object_get(json_object_get(p1, "conditions"), "serving")));
    json_t *last = json_array_get(json_object_get(json_array_get(slices, 2), "endpoints"), 0);
    json_t *cond = json_object_get(last, "conditions");
    /* the terminating pod stays in slices: serving, not ready, terminating */
    assert_true(json_is_true(json_object_get(cond, "terminating")));
    assert_true(json_is_true(json_object_get(cond, "serving")));
    assert_false(json_is_true(json_object_get(cond, "ready")));

    /* nothing selected: one empty placeholder slice */
    _cleanup_json_ json_t *none = json_array();
    _cleanup_json_ json_t *empty = kos_ep_build_slices(svc, none, 100);
    assert_int_equal(json_array_size(empty), 1);
    assert_int_equal(json_array_size(json_object_get(json_array_get(empty, 0), "endpoints")), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector),
        cmocka_unit_test(test_subsets_ready_and_named_ports),
        cmocka_unit_test(test_slices_conditions_and_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
