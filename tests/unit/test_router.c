/* Request paths to routes, as kube-apiserver's RequestInfoFactory splits them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "apiserver/router.h"

static void test_non_resource(void **state)
{
    struct route r;
    route_parse("/version", &r);
    assert_int_equal(r.type, ROUTE_VERSION);
    route_parse("/version/", &r);
    assert_int_equal(r.type, ROUTE_VERSION);
    route_parse("/readyz", &r);
    assert_int_equal(r.type, ROUTE_HEALTH);
    assert_string_equal(r.health_check, "readyz");
    route_parse("/api", &r);
    assert_int_equal(r.type, ROUTE_API);
    route_parse("/apis", &r);
    assert_int_equal(r.type, ROUTE_APIS);
    route_parse("/apis/apps", &r);
    assert_int_equal(r.type, ROUTE_API_GROUP);
    route_parse("/apis/apps/v1", &r);
    assert_int_equal(r.type, ROUTE_API_RESOURCES);
    route_parse("/openapi/v3/api/v1", &r);
    assert_int_equal(r.type, ROUTE_OPENAPI_V3_GV);
    route_parse("/openapi/v2", &r);
    assert_int_equal(r.type, ROUTE_OPENAPI_V2);
    route_parse("/nope", &r);
    assert_int_equal(r.type, ROUTE_NOT_FOUND);
    route_parse("//api", &r);
    assert_int_equal(r.type, ROUTE_NOT_FOUND);
}

static void test_resources(void **state)
{
    struct route r;
    route_parse("/api/v1/namespaces/default/pods/web/status", &r);
    assert_int_equal(r.type, ROUTE_RESOURCE);
    assert_string_equal(r.namespace_, "default");
    assert_string_equal(r.resource, "pods");
    assert_string_equal(r.name, "web");
    assert_string_equal(r.subresource, "status");
    assert_non_null(r.kind);
    assert_string_equal(r.kind->kind, "Pod");

    /* the Namespace objects themselves, and their status */
    route_parse("/api/v1/namespaces/default", &r);
    assert_string_equal(r.resource, "namespaces");
    assert_string_equal(r.name, "default");
    assert_false(r.has_namespace);
    route_parse("/api/v1/namespaces/default/status", &r);
    assert_string_equal(r.resource, "namespaces");
    assert_string_equal(r.subresource, "status");

    route_parse("/api/v1/pods", &r);
    assert_false(r.has_namespace);
    assert_false(r.has_name);
    route_parse("/apis/apps/v1/namespaces/x/deployments/d/scale", &r);
    assert_string_equal(r.kind->kind, "Deployment");
    assert_string_equal(r.subresource, "scale");

    route_parse("/api/v1/foos", &r);
    assert_int_equal(r.type, ROUTE_RESOURCE);
    assert_null(r.kind);
    route_parse("/api/v1/namespaces/a/pods/b/c/d", &r);
    assert_int_equal(r.type, ROUTE_NOT_FOUND);
}

static void test_overlong_segment(void **state)
{
    char path[2048] = "/api/v1/namespaces/";
    size_t n = strlen(path);
    memset(path + n, 'a', 1000);
    path[n + 1000] = '\0';
    struct route r;
    route_parse(path, &r);
    assert_int_equal(r.type, ROUTE_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_non_resource),
        cmocka_unit_test(test_resources),
        cmocka_unit_test(test_overlong_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
