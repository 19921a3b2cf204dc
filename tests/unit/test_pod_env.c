/* Unit tests for src/agent/pods/env.c: env, envFrom, $(VAR) expansion order, fieldRef,
 * resourceFieldRef, ConfigMap and Secret keys, optional sources and the kubelet's errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent/pods/env.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

static int lookup(void *ud, const char *kind, const char *ns, const char *name, json_t **ret)
{
    json_t *objs = ud;
    char key[256];
    snprintf(key, sizeof(key), "%s/%s/%s", kind, ns, name);
    json_t *o = json_object_get(objs, key);
    if (!o)
        return -ENOENT;
    *ret = json_incref(o);
    return 0;
}

static json_t *objects(void)
{
    return json_pack("{s{s{ssss}}s{s{ssss}}}", "ConfigMap/ns1/cm", "data", "color", "blue",
                     "bad key", "x", "Secret/ns1/sec", "data", "password",
                     "czNjcjN0", /* "s3cr3t" */
                     "user", "YWRtaW4=" /* "admin" */);
}

static json_t *pod(void)
{
    return json_loads("{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns1\",\"uid\":\"u-1\","
                      "\"labels\":{\"b\":\"2\",\"a\":\"1\"}},"
                      "\"spec\":{\"nodeName\":\"n1\",\"serviceAccountName\":\"sa\"}}",
                      0, NULL);
}

static int run(const char *container_json, const char *image_env_json, json_t **env,
               struct kos_error **err)
{
    _cleanup_json_ json_t *p = pod();
    _cleanup_json_ json_t *objs = objects();
    _cleanup_json_ json_t *c = json_loads(container_json, 0, NULL);
    _cleanup_json_ json_t *ie = image_env_json ? json_loads(image_env_json, 0, NULL) : NULL;
    assert_non_null(c);
    struct kos_env_ctx ctx = {.pod = p,
                              .host_ip = "10.0.0.5",
                              .pod_ip = "10.0.0.5",
                              .node_milli_cpu = 4000,
                              .node_memory = 8LL << 30,
                              .lookup = lookup,
                              .ud = objs};
    return kos_pod_env(&ctx, c, ie, env, NULL, err);
}

static void expect_env(const char *container_json, const char *image_env, const char *want)
{
    json_t *env = NULL;
    struct kos_error *err = NULL;
    int r = run(container_json, image_env, &env, &err);
    if (r < 0)
        print_error("error: %s\n", err ? err->message : "?");
    assert_int_equal(r, 0);
    _cleanup_json_ json_t *w = json_loads(want, 0, NULL);
    if (!json_equal(env, w)) {
        _cleanup_free_ char *s = json_dumps(env, JSON_COMPACT);
        print_error("got %s\nwant %s\n", s, want);
    }
    assert_true(json_equal(env, w));
    json_decref(env);
}

static void expect_error(const char *container_json, const char *message)
{
    json_t *env = NULL;
    struct kos_error *err = NULL;
    assert_true(run(container_json, NULL, &env, &err) < 0);
    assert_non_null(err);
    assert_string_equal(err->reason, "CreateContainerConfigError");
    if (strcmp(err->message, message) != 0)
        print_error("got %s\n", err->message);
    assert_string_equal(err->message, message);
    kos_error_free(err);
}

static void test_values_and_expansion(void **state)
{
    expect_env("{\"env\":[{\"name\":\"A\",\"value\":\"x\"},"
               "{\"name\":\"B\",\"value\":\"$(A)-$(NOPE)-$$(A)\"},"
               "{\"name\":\"C\",\"value\":\"$(D)\"},{\"name\":\"D\",\"value\":\"d\"},"
               "{\"name\":\"PATH\",\"value\":\"/opt:$(PATH)\"}]}",
               "[\"PATH=/usr/bin:/bin\",\"HOME=/root\"]",
               /* image vars keep their place, overridden by the pod; $(PATH) refers to the
                * pod's variables only, as the kubelet expands before the image merges */
               "[\"PATH=/opt:$(PATH)\",\"HOME=/root\",\"A=x\",\"B=x-$(NOPE)-$(A)\","
               "\"C=$(D)\",\"D=d\"]");
}

static void test_field_and_resource_refs(void **state)
{
    expect_env(
        "{\"resources\":{\"limits\":{\"memory\":\"64Mi\"},\"requests\":{\"cpu\":\"250m\"}},"
        "\"env\":["
        "{\"name\":\"N\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
        "{\"name\":\"NS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.namespace\"}}},"
        "{\"name\":\"UID\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.uid\"}}},"
        "{\"name\":\"NODE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.nodeName\"}}},"
        "{\"name\":\"SA\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
        "\"spec.serviceAccountName\"}}},"
        "{\"name\":\"IP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIP\"}}},"
        "{\"name\":\"HIP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.hostIP\"}}},"
        "{\"name\":\"LA\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels['a']\"}}},"
        "{\"name\":\"LS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels\"}}},"
        "{\"name\":\"MEM\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.memory\","
        "\"divisor\":\"1Mi\"}}},"
        "{\"name\":\"CPUREQ\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
        "\"requests.cpu\",\"divisor\":\"1m\"}}},"
        "{\"name\":\"CPU\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.cpu\"}}}"
        "]}",
        NULL,
        "[\"N=web\",\"NS=ns1\",\"UID=u-1\",\"NODE=n1\",\"SA=sa\",\"IP=10.0.0.5\","
        "\"HIP=10.0.0.5\",\"LA=1\",\"LS=a=\\\"1\\\"\\nb=\\\"2\\\"\",\"MEM=64\",\"CPUREQ=250\","
        "\"CPU=4\"]");
}

static void test_configmaps_and_secrets(void **state)
{
    expect_env("{\"envFrom\":[{\"configMapRef\":{\"name\":\"cm\"},\"prefix\":\"CM_\"},"
               "{\"secretRef\":{\"name\":\"sec\"}},"
               "{\"configMapRef\":{\"name\":\"missing\",\"optional\":true}}],"
               "\"env\":[{\"name\":\"CM_color\",\"value\":\"red\"},"
               "{\"name\":\"P\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"sec\",\"key\":"
               "\"password\"}}},"
               "{\"name\":\"C\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cm\",\"key\":"
               "\"color\"}}},"
               "{\"name\":\"O\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cm\",\"key\":"
               "\"nokey\",\"optional\":true}}}]}",
               NULL,
               /* "bad key" is not a valid name and is skipped; O stays unset */
               "[\"CM_color=red\",\"password=s3cr3t\",\"user=admin\",\"P=s3cr3t\",\"C=blue\"]");
}

static void test_errors(void **state)
{
    expect_error("{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":"
                 "\"nocm\",\"key\":\"k\"}}}]}",
                 "configmap \"nocm\" not found");
    expect_error("{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"secretKeyRef\":{\"name\":"
                 "\"sec\",\"key\":\"k\"}}}]}",
                 "couldn't find key k in Secret ns1/sec");
    expect_error("{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":"
                 "\"cm\",\"key\":\"k\"}}}]}",
                 "couldn't find key k in ConfigMap ns1/cm");
    expect_error("{\"envFrom\":[{\"secretRef\":{\"name\":\"nosec\"}}]}",
                 "secret \"nosec\" not found");
    expect_error("{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
                 "\"spec.bogus\"}}}]}",
                 "unsupported fieldPath: spec.bogus");
    expect_error("{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
                 "\"limits.gpu\"}}}]}",
                 "unsupported container resource: limits.gpu");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_expansion),
        cmocka_unit_test(test_field_and_resource_refs),
        cmocka_unit_test(test_configmaps_and_secrets),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
