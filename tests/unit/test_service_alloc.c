/* Service cluster IP and node port allocation: the range bitmap (bands, exhaustion, release)
 * and the Service-level rules (explicit IPs and ports, kube's 422 texts, update keeps what
 * was allocated, release on delete). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/services/range_alloc.h"
#include "apiserver/services/service_alloc.h"
#include "util/json_cleanup.h"

static void test_range_bands_and_exhaustion(void **state)
{
    struct kos_range_alloc a;
    assert_int_equal(kos_range_alloc_init(&a, 100, 40, 16), 0);
    uint32_t v;
    /* automatic picks take the upper band first */
    for (int i = 0; i < 24; i++) {
        assert_int_equal(kos_range_alloc_next(&a, &v), 0);
        assert_true(v >= 116 && v < 140);
    }
    /* then the lower band */
    for (int i = 0; i < 16; i++) {
        assert_int_equal(kos_range_alloc_next(&a, &v), 0);
        assert_true(v >= 100 && v < 116);
    }
    assert_int_equal(kos_range_alloc_next(&a, &v), -ENOSPC);
    assert_int_equal(kos_range_alloc_take(&a, 120), -EEXIST);
    assert_int_equal(kos_range_alloc_take(&a, 99), -ERANGE);
    assert_int_equal(kos_range_alloc_take(&a, 140), -ERANGE);
    kos_range_alloc_release(&a, 120);
    assert_false(kos_range_alloc_has(&a, 120));
    assert_int_equal(kos_range_alloc_next(&a, &v), 0);
    assert_int_equal(v, 120);
    kos_range_alloc_release(&a, 5000); /* outside: nothing */
    assert_int_equal(a.used, 40);
    kos_range_alloc_free(&a);
    kos_range_alloc_free(&a);
    assert_int_equal(kos_range_alloc_init(&a, 0, 0, 0), -EINVAL);
    assert_int_equal(kos_range_alloc_init(&a, 0, 1u << 21, 16), -E2BIG);
    assert_int_equal(kos_range_alloc_ip_band(65534), 256);
    assert_int_equal(kos_range_alloc_port_band(2768), 86);
    assert_int_equal(kos_range_alloc_ip_band(14), 0);
}

static json_t *svc(const char *json)
{
    json_error_t e;
    json_t *o = json_loads(json, 0, &e);
    assert_non_null(o);
    return o;
}

static struct kos_svc_alloc *new_alloc(const char *cidr, const char *ports)
{
    struct kos_svc_alloc *a = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(kos_svc_alloc_new(cidr, ports, &a, &err), 0);
    return a;
}

static void test_bad_ranges(void **state)
{
    struct kos_svc_alloc *a = NULL;
    struct kos_error *err = NULL;
    assert_true(kos_svc_alloc_new("10.43.0.0", "30000-32767", &a, &err) < 0);
    assert_non_null(strstr(err->message, "--service-cluster-ip-range"));
    kos_error_free(err);
    err = NULL;
    assert_true(kos_svc_alloc_new("10.0.0.0/8", "30000-32767", &a, &err) < 0);
    kos_error_free(err);
    err = NULL;
    assert_true(kos_svc_alloc_new("10.43.0.0/16", "32767-30000", &a, &err) < 0);
    assert_non_null(strstr(err->message, "--service-node-port-range"));
    kos_error_free(err);
    assert_null(a);
}

static void test_create_explicit_and_errors(void **state)
{
    struct kos_svc_alloc *a = new_alloc("10.43.0.0/24", "30000-30002");
    char first[32];
    kos_svc_alloc_first_ip(a, first, sizeof(first));
    assert_string_equal(first, "10.43.0.1");
    struct kos_error *err = NULL;
    _cleanup_json_ json_t *s1 =
        svc("{\"metadata\":{\"name\":\"one\"},\"spec\":{\"type\":\"NodePort\","
            "\"clusterIP\":\"10.43.0.10\",\"ports\":[{\"port\":80,"
            "\"nodePort\":30001},{\"port\":81}]}}");
    assert_int_equal(kos_svc_alloc_create(a, s1, &err), 0);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(s1, "spec"), "clusterIPs"), 0)),
                        "10.43.0.10");
    json_t *ports = json_object_get(json_object_get(s1, "spec"), "ports");
    json_int_t np2 = json_integer_value(json_object_get(json_array_get(ports, 1), "nodePort"));
    assert_true(np2 == 30000 || np2 == 30002);

    /* the same IP again */
    _cleanup_json_ json_t *s2 =
        svc("{\"metadata\":{\"name\":\"two\"},\"spec\":{\"type\":\"ClusterIP\","
            "\"clusterIP\":\"10.43.0.10\",\"ports\":[{\"port\":80}]}}");
    assert_int_equal(kos_svc_alloc_create(a, s2, &err), -EINVAL);
    assert_int_equal(err->code, 422);
    assert_string_equal(err->message,
                        "Service \"two\" is invalid: spec.clusterIPs: Invalid value: "
                        "[]string{\"10.43.0.10\"}: failed to allocate IP 10.43.0.10: provided IP "
                        "is already allocated");
    kos_error_free(err);
    err = NULL;
    /* out of range */
    _cleanup_json_ json_t *s3 =
        svc("{\"metadata\":{\"name\":\"three\"},\"spec\":{\"type\":\"ClusterIP\","
            "\"clusterIP\":\"10.44.0.1\",\"ports\":[{\"port\":80}]}}");
    assert_true(kos_svc_alloc_create(a, s3, &err) < 0);
    assert_non_null(strstr(err->message, "failed to allocate IP 10.44.0.1: the provided IP "
                                         "(10.44.0.1) is not in the valid range. The range of "
                                         "valid IPs is 10.43.0.0/24"));
    kos_error_free(err);
    err = NULL;
    /* a port clash leaves nothing held: its automatic IP goes back */
    _cleanup_json_ json_t *s4 =
        svc("{\"metadata\":{\"name\":\"four\"},\"spec\":{\"type\":\"NodePort\","
            "\"ports\":[{\"port\":80,\"nodePort\":30001}]}}");
    assert_true(kos_svc_alloc_create(a, s4, &err) < 0);
    assert_string_equal(err->message, "Service \"four\" is invalid: spec.ports[0].nodePort: "
                                      "Invalid value: 30001: provided port is already allocated");
    assert_null(json_object_get(json_object_get(s4, "spec"), "clusterIP"));
    kos_error_free(err);
    err = NULL;
    _cleanup_json_ json_t *s5 =
        svc("{\"metadata\":{\"name\":\"five\"},\"spec\":{\"type\":\"NodePort\","
            "\"ports\":[{\"port\":80,\"nodePort\":40000}]}}");
    assert_true(kos_svc_alloc_create(a, s5, &err) < 0);
    assert_non_null(strstr(err->message, "Invalid value: 40000: provided port is not in the valid "
                                         "range. The range of valid ports is 30000-30002"));
    kos_error_free(err);
    err = NULL;
    /* one port left: a Service with two automatic node ports does not fit, and keeps none */
    _cleanup_json_ json_t *s6 =
        svc("{\"metadata\":{\"name\":\"six\"},\"spec\":{\"type\":\"NodePort\","
            "\"ports\":[{\"port\":80},{\"port\":81}]}}");
    assert_true(kos_svc_alloc_create(a, s6, &err) < 0);
    assert_int_equal(err->code, 500);
    kos_error_free(err);
    err = NULL;
    /* deleting the first frees its IP and ports */
    kos_svc_alloc_release_diff(a, s1, NULL);
    assert_int_equal(kos_svc_alloc_create(a, s4, &err), 0);
    _cleanup_json_ json_t *s7 =
        svc("{\"metadata\":{\"name\":\"seven\"},\"spec\":{\"type\":\"ClusterIP\","
            "\"clusterIP\":\"10.43.0.10\",\"ports\":[{\"port\":80}]}}");
    assert_int_equal(kos_svc_alloc_create(a, s7, &err), 0);
    /* headless and ExternalName take nothing */
    _cleanup_json_ json_t *h =
        svc("{\"metadata\":{\"name\":\"h\"},\"spec\":{\"type\":\"ClusterIP\","
            "\"clusterIP\":\"None\"}}");
    assert_int_equal(kos_svc_alloc_create(a, h, &err), 0);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(h, "spec"), "clusterIPs"), 0)),
                        "None");
    _cleanup_json_ json_t *v6 =
        svc("{\"metadata\":{\"name\":\"v6\"},\"spec\":{\"type\":\"ClusterIP\","
            "\"ipFamilies\":[\"IPv6\"],\"ports\":[{\"port\":80}]}}");
    assert_true(kos_svc_alloc_create(a, v6, &err) < 0);
    assert_non_null(strstr(err->message, "spec.ipFamilies[0]: Invalid value: \"IPv6\": not "
                                         "configured on this cluster"));
    kos_error_free(err);
    kos_svc_alloc_free(a);
}

static void test_update_keeps_and_releases(void **state)
{
    struct kos_svc_alloc *a = new_alloc("10.43.0.0/16", "30000-32767");
    struct kos_error *err = NULL;
    _cleanup_json_ json_t *cur =
        svc("{\"metadata\":{\"name\":\"u\"},\"spec\":{\"type\":\"NodePort\","
            "\"externalTrafficPolicy\":\"Cluster\","
            "\"ports\":[{\"name\":\"http\",\"port\":80}]}}");
    assert_int_equal(kos_svc_alloc_create(a, cur, &err), 0);
    json_t *cspec = json_object_get(cur, "spec");
    const char *ip = json_string_value(json_object_get(cspec, "clusterIP"));
    json_int_t np = json_integer_value(
        json_object_get(json_array_get(json_object_get(cspec, "ports"), 0), "nodePort"));
    /* a PUT without the allocated values gets them back */
    _cleanup_json_ json_t *next =
        svc("{\"metadata\":{\"name\":\"u\"},\"spec\":{\"type\":\"NodePort\","
            "\"ports\":[{\"name\":\"http\",\"port\":8080}]}}");
    assert_int_equal(kos_svc_alloc_patch_update(next, cur), 0);
    json_t *nspec = json_object_get(next, "spec");
    assert_string_equal(json_string_value(json_object_get(nspec, "clusterIP")), ip);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(nspec, "ports"), 0), "nodePort")),
                     np);
    assert_int_equal(kos_svc_alloc_update(a, next, cur, &err), 0);
    kos_svc_alloc_release_diff(a, cur, next); /* committed: nothing held is dropped */
    _cleanup_json_ json_t *clash =
        svc("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"type\":\"NodePort\","
            "\"ports\":[{\"port\":80}]}}");
    json_object_set_new(json_array_get(json_object_get(json_object_get(clash, "spec"), "ports"), 0),
                        "nodePort", json_integer(np));
    assert_true(kos_svc_alloc_create(a, clash, &err) < 0);
    kos_error_free(err);
    err = NULL;
    /* to ClusterIP: the node port goes, and is free again once committed */
    _cleanup_json_ json_t *cip = json_deep_copy(next);
    json_object_set_new(json_object_get(cip, "spec"), "type", json_string("ClusterIP"));
    assert_int_equal(kos_svc_alloc_patch_update(cip, next), 0);
    assert_null(json_object_get(
        json_array_get(json_object_get(json_object_get(cip, "spec"), "ports"), 0), "nodePort"));
    assert_null(json_object_get(json_object_get(cip, "spec"), "externalTrafficPolicy"));
    assert_int_equal(kos_svc_alloc_update(a, cip, next, &err), 0);
    kos_svc_alloc_release_diff(a, next, cip);
    assert_int_equal(kos_svc_alloc_create(a, clash, &err), 0);
    /* a failed update gives back what it took */
    _cleanup_json_ json_t *np2 = json_deep_copy(cip);
    json_object_set_new(json_object_get(np2, "spec"), "type", json_string("NodePort"));
    assert_int_equal(kos_svc_alloc_update(a, np2, cip, &err), 0);
    json_int_t taken = json_integer_value(json_object_get(
        json_array_get(json_object_get(json_object_get(np2, "spec"), "ports"), 0), "nodePort"));
    assert_true(taken >= 30000);
    kos_svc_alloc_release_diff(a, np2, cip);
    _cleanup_json_ json_t *again =
        svc("{\"metadata\":{\"name\":\"y\"},\"spec\":{\"type\":\"NodePort\","
            "\"ports\":[{\"port\":80}]}}");
    json_object_set_new(json_array_get(json_object_get(json_object_get(again, "spec"), "ports"), 0),
                        "nodePort", json_integer(taken));
    assert_int_equal(kos_svc_alloc_create(a, again, &err), 0);
    /* the rebuild at start marks what stored Services hold */
    struct kos_svc_alloc *b = new_alloc("10.43.0.0/16", "30000-32767");
    kos_svc_alloc_mark(b, cip);
    _cleanup_json_ json_t *same =
        svc("{\"metadata\":{\"name\":\"z\"},\"spec\":{\"type\":\"ClusterIP\","
            "\"ports\":[{\"port\":80}]}}");
    json_object_set_new(json_object_get(same, "spec"), "clusterIP", json_string(ip));
    assert_true(kos_svc_alloc_create(b, same, &err) < 0);
    kos_error_free(err);
    kos_svc_alloc_free(b);
    kos_svc_alloc_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_bands_and_exhaustion),
        cmocka_unit_test(test_bad_ranges),
        cmocka_unit_test(test_create_explicit_and_errors),
        cmocka_unit_test(test_update_keeps_and_releases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
