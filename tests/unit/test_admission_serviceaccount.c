/* Unit tests for the ServiceAccount admission's rules (src/apiserver/admission_serviceaccount.c):
 * shouldAutomount (the pod's field wins, then the ServiceAccount's, default on) and
 * mountServiceAccountToken (the kube-api-access-* projected volume as kube's
 * TokenVolumeSource, a read-only mount in every container and init container that has nothing
 * at the path, an existing kube-api-access-* volume reused, no volume when no container needs
 * it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apiserver/admission_serviceaccount.h"
#include "codec/json.h"
#include "util/json_cleanup.h"

static json_t *load(const char *s)
{
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    if (!j)
        fail_msg("bad test json: %s", je.text);
    return j;
}

static void test_should_automount(void **state)
{
    (void)state;
    _cleanup_json_ json_t *sa_on = load("{}");
    _cleanup_json_ json_t *sa_off = load("{\"automountServiceAccountToken\": false}");
    _cleanup_json_ json_t *sa_true = load("{\"automountServiceAccountToken\": true}");
    _cleanup_json_ json_t *pod = load("{\"spec\": {}}");
    _cleanup_json_ json_t *pod_on = load("{\"spec\": {\"automountServiceAccountToken\": true}}");
    _cleanup_json_ json_t *pod_off = load("{\"spec\": {\"automountServiceAccountToken\": false}}");
    assert_true(admission_sa_should_automount(sa_on, pod));
    assert_false(admission_sa_should_automount(sa_off, pod));
    assert_true(admission_sa_should_automount(sa_true, pod));
    /* the pod's preference wins either way */
    assert_true(admission_sa_should_automount(sa_off, pod_on));
    assert_false(admission_sa_should_automount(sa_on, pod_off));
    assert_false(admission_sa_should_automount(sa_true, pod_off));
}

static const json_t *mount_of(const json_t *c)
{
    size_t i;
    const json_t *vm;
    json_array_foreach(json_object_get(c, "volumeMounts"), i, vm)
    {
        const char *p = json_string_value(json_object_get(vm, "mountPath"));
        if (p && !strcmp(p, ADMISSION_SA_MOUNT_PATH))
            return vm;
    }
    return NULL;
}

static void test_mount_token(void **state)
{
    (void)state;
    _cleanup_json_ json_t *pod =
        load("{\"spec\": {\"initContainers\": [{\"name\": \"i\"}], \"containers\": ["
             "{\"name\": \"a\", \"volumeMounts\": [{\"name\": \"d\", \"mountPath\": \"/d\"}]},"
             "{\"name\": \"own\", \"volumeMounts\": [{\"name\": \"mine\", \"mountPath\": "
             "\"/var/run/secrets/kubernetes.io/serviceaccount\"}]}],"
             "\"volumes\": [{\"name\": \"d\", \"emptyDir\": {}}, {\"name\": \"mine\", "
             "\"emptyDir\": {}}]}}");
    assert_int_equal(admission_sa_mount_token(pod, "x2b4z"), 0);
    const json_t *spec = json_object_get(pod, "spec");
    const json_t *vols = json_object_get(spec, "volumes");
    assert_int_equal(json_array_size(vols), 3);
    const json_t *v = json_array_get(vols, 2);
    assert_string_equal(json_string_value(json_object_get(v, "name")), "kube-api-access-x2b4z");
    _cleanup_json_ json_t *want = load(
        "{\"defaultMode\": 420, \"sources\": ["
        "{\"serviceAccountToken\": {\"expirationSeconds\": 3607, \"path\": \"token\"}},"
        "{\"configMap\": {\"name\": \"kube-root-ca.crt\", \"items\": [{\"key\": \"ca.crt\", "
        "\"path\": \"ca.crt\"}]}},"
        "{\"downwardAPI\": {\"items\": [{\"path\": \"namespace\", \"fieldRef\": {\"apiVersion\": "
        "\"v1\", \"fieldPath\": \"metadata.namespace\"}}]}}]}");
    assert_true(json_equal(json_object_get(v, "projected"), want));
    /* and member for member in kube's order, as stored and sent */
    char *bytes = kos_json_encode(v, NULL);
    assert_string_equal(
        bytes,
        "{\"name\":\"kube-api-access-x2b4z\",\"projected\":{\"defaultMode\":420,\"sources\":["
        "{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}},"
        "{\"configMap\":{\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}],"
        "\"name\":\"kube-root-ca.crt\"}},{\"downwardAPI\":{\"items\":[{\"fieldRef\":"
        "{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.namespace\"},\"path\":"
        "\"namespace\"}]}}]}}");
    free(bytes);
    const json_t *ic = json_array_get(json_object_get(spec, "initContainers"), 0);
    const json_t *a = json_array_get(json_object_get(spec, "containers"), 0);
    const json_t *own = json_array_get(json_object_get(spec, "containers"), 1);
    const json_t *m = mount_of(ic);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "name")), "kube-api-access-x2b4z");
    assert_true(json_is_true(json_object_get(m, "readOnly")));
    bytes = kos_json_encode(m, NULL);
    assert_string_equal(bytes, "{\"name\":\"kube-api-access-x2b4z\",\"readOnly\":true,"
                               "\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}");
    free(bytes);
    assert_non_null(mount_of(a));
    assert_int_equal(json_array_size(json_object_get(a, "volumeMounts")), 2);
    /* the container's own mount at the path stays the only one */
    assert_int_equal(json_array_size(json_object_get(own, "volumeMounts")), 1);
    assert_string_equal(json_string_value(json_object_get(mount_of(own), "name")), "mine");

    /* an existing kube-api-access-* volume is reused, nothing added twice */
    _cleanup_json_ json_t *again =
        load("{\"spec\": {\"containers\": [{\"name\": \"a\"}], \"volumes\": [{\"name\": "
             "\"kube-api-access-abcde\", \"projected\": {\"sources\": []}}]}}");
    assert_int_equal(admission_sa_mount_token(again, "zzzzz"), 0);
    spec = json_object_get(again, "spec");
    assert_int_equal(json_array_size(json_object_get(spec, "volumes")), 1);
    assert_string_equal(
        json_string_value(json_object_get(
            mount_of(json_array_get(json_object_get(spec, "containers"), 0)), "name")),
        "kube-api-access-abcde");

    /* every container mounts its own thing there: no volume */
    _cleanup_json_ json_t *none =
        load("{\"spec\": {\"containers\": [{\"name\": \"a\", \"volumeMounts\": [{\"name\": \"m\", "
             "\"mountPath\": \"/var/run/secrets/kubernetes.io/serviceaccount\"}]}]}}");
    assert_int_equal(admission_sa_mount_token(none, "zzzzz"), 0);
    assert_null(json_object_get(json_object_get(none, "spec"), "volumes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_should_automount),
        cmocka_unit_test(test_mount_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
