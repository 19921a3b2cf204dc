/* Defaulting (SetDefaults_* + the pod admission defaults) and QoS classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "api/defaults.h"
#include "codec/json.h"
#include "json_test_helpers.h"

static const struct kos_kind k_pod = {
    .group = "", .version = "v1", .kind = "Pod", .namespaced = true};
static const struct kos_kind k_deploy = {
    .group = "apps", .version = "v1", .kind = "Deployment", .namespaced = true};
static const struct kos_kind k_sts = {
    .group = "apps", .version = "v1", .kind = "StatefulSet", .namespaced = true};
static const struct kos_kind k_ds = {
    .group = "apps", .version = "v1", .kind = "DaemonSet", .namespaced = true};
static const struct kos_kind k_job = {
    .group = "batch", .version = "v1", .kind = "Job", .namespaced = true};
static const struct kos_kind k_svc = {
    .group = "", .version = "v1", .kind = "Service", .namespaced = true};
static const struct kos_kind k_ns = {.group = "", .version = "v1", .kind = "Namespace"};
static const struct kos_kind k_secret = {
    .group = "", .version = "v1", .kind = "Secret", .namespaced = true};
static const struct kos_kind k_pv = {.group = "", .version = "v1", .kind = "PersistentVolume"};
static const struct kos_kind k_sc = {
    .group = "storage.k8s.io", .version = "v1", .kind = "StorageClass"};

/* Defaults obj and checks that every field of `want` appears in the result with that value
 * (want is a subset). */
static void subset(const json_t *want, const json_t *got, const char *path)
{
    if (json_is_object(want)) {
        const char *k;
        json_t *v;
        if (!json_is_object(got))
            fail_msg("%s: not an object", path);
        json_object_foreach((json_t *)want, k, v)
        {
            char p[512];
            snprintf(p, sizeof(p), "%s.%s", path, k);
            const json_t *g = json_object_get(got, k);
            if (!g)
                fail_msg("%s: missing", p);
            subset(v, g, p);
        }
        return;
    }
    if (json_is_array(want)) {
        if (json_array_size(want) != json_array_size(got))
            fail_msg("%s: array size %zu != %zu", path, json_array_size(got),
                     json_array_size(want));
        for (size_t i = 0; i < json_array_size(want); i++) {
            char p[512];
            snprintf(p, sizeof(p), "%s[%zu]", path, i);
            subset(json_array_get(want, i), json_array_get(got, i), p);
        }
        return;
    }
    if (!json_equal((json_t *)want, (json_t *)got)) {
        char *a = json_dumps(want, JSON_ENCODE_ANY), *b = json_dumps(got, JSON_ENCODE_ANY);
        fail_msg("%s: got %s want %s", path, b, a);
    }
}

static void check_defaults(const struct kos_kind *kind, const char *in, const char *want)
{
    json_t *obj = parse(in);
    json_t *w = parse(want);
    assert_int_equal(kos_apply_defaults(kind, obj), 0);
    subset(w, obj, "");
    json_decref(obj);
    json_decref(w);
}

/* SetDefaults_Probe: zero or absent timing fields take the kubelet's values; set ones stay;
 * an httpGet gets path "/" and scheme HTTP; readiness and startup probes too. */
static void test_probe_defaults(void **state)
{
    check_defaults(
        &k_pod,
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
        "\"x\",\"readinessProbe\":{\"tcpSocket\":{\"port\":80},\"periodSeconds\":0,"
        "\"failureThreshold\":7},\"startupProbe\":{\"httpGet\":{\"port\":\"web\"},"
        "\"timeoutSeconds\":4,\"initialDelaySeconds\":3}}]}}",
        "{\"spec\":{\"containers\":[{\"readinessProbe\":{\"tcpSocket\":{\"port\":80},"
        "\"timeoutSeconds\":1,\"periodSeconds\":10,\"successThreshold\":1,\"failureThreshold\":"
        "7},\"startupProbe\":{\"httpGet\":{\"port\":\"web\",\"path\":\"/\",\"scheme\":"
        "\"HTTP\"},\"initialDelaySeconds\":3,\"timeoutSeconds\":4,\"periodSeconds\":10,"
        "\"successThreshold\":1,\"failureThreshold\":3}}]}}");
}

static void test_kubectl_run_pod(void **state)
{
    /* kubectl run nginx --image=nginx --limits cpu=1,memory=200Mi */
    check_defaults(
        &k_pod,
        "{\"metadata\":{\"name\":\"nginx\",\"labels\":{\"run\":\"nginx\"}},\"spec\":{"
        "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\",\"resources\":{\"limits\":"
        "{\"cpu\":\"1\",\"memory\":\"200Mi\"}},\"ports\":[{\"containerPort\":80}],"
        "\"livenessProbe\":{\"httpGet\":{\"port\":80}}}]}}",
        "{\"spec\":{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":"
        "\"200Mi\"},\"requests\":{\"cpu\":\"1\",\"memory\":\"200Mi\"}},"
        "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":"
        "\"File\",\"imagePullPolicy\":\"Always\",\"ports\":[{\"containerPort\":80,\"protocol\":"
        "\"TCP\"}],\"livenessProbe\":{\"httpGet\":{\"port\":80,\"path\":\"/\",\"scheme\":\"HTTP\"},"
        "\"timeoutSeconds\":1,\"periodSeconds\":10,\"successThreshold\":1,\"failureThreshold\":"
        "3}}],\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\",\"schedulerName\":"
        "\"default-scheduler\",\"terminationGracePeriodSeconds\":30,\"securityContext\":{},"
        "\"enableServiceLinks\":true,\"serviceAccountName\":\"default\",\"serviceAccount\":"
        "\"default\",\"priority\":0,\"preemptionPolicy\":\"PreemptLowerPriority\","
        "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
        "\"effect\":\"NoExecute\",\"tolerationSeconds\":300},{\"key\":"
        "\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
        "\"tolerationSeconds\":300}]},\"status\":{\"phase\":\"Pending\",\"qosClass\":"
        "\"Guaranteed\"}}");
}

static void test_pod_details(void **state)
{
    /* pull policy by tag */
    static const struct {
        const char *image, *policy;
    } pulls[] = {
        {"nginx", "Always"},
        {"nginx:latest", "Always"},
        {"nginx:1.25", "IfNotPresent"},
        {"localhost:5000/nginx", "Always"},
        {"localhost:5000/nginx:v1", "IfNotPresent"},
        {"nginx@sha256:abcd", "IfNotPresent"},
        {"nginx:latest@sha256:abcd", "Always"},
    };
    for (size_t i = 0; i < sizeof(pulls) / sizeof(pulls[0]); i++) {
        char in[512], want[256];
        snprintf(in, sizeof(in), "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"%s\"}]}}",
                 pulls[i].image);
        snprintf(want, sizeof(want), "{\"spec\":{\"containers\":[{\"imagePullPolicy\":\"%s\"}]}}",
                 pulls[i].policy);
        check_defaults(&k_pod, in, want);
    }
    /* existing tolerations that already cover a key are kept; volumes default */
    check_defaults(&k_pod,
                   "{\"spec\":{\"tolerations\":[{\"operator\":\"Exists\"}],\"volumes\":[{\"name\":"
                   "\"v\"},{\"name\":\"s\",\"secret\":{\"secretName\":\"x\"}}],\"containers\":[]}}",
                   "{\"spec\":{\"tolerations\":[{\"operator\":\"Exists\"}],\"volumes\":[{\"name\":"
                   "\"v\",\"emptyDir\":{}},{\"name\":\"s\",\"secret\":{\"secretName\":\"x\","
                   "\"defaultMode\":420}}]}}");
    /* system priority class, explicit phase kept */
    check_defaults(&k_pod,
                   "{\"spec\":{\"priorityClassName\":\"system-node-critical\",\"containers\":[]},"
                   "\"status\":{\"phase\":\"Running\"}}",
                   "{\"spec\":{\"priority\":2000001000},\"status\":{\"phase\":\"Running\"}}");
    /* init containers get requests from limits too */
    check_defaults(&k_pod,
                   "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"image\":\"x\",\"resources\":"
                   "{\"limits\":{\"cpu\":\"100m\"},\"requests\":{\"memory\":\"1Mi\"}}}],"
                   "\"containers\":[]}}",
                   "{\"spec\":{\"initContainers\":[{\"resources\":{\"requests\":{\"cpu\":\"100m\","
                   "\"memory\":\"1Mi\"}}}]}}");
}

static void test_qos(void **state)
{
#define C(res) "{\"name\":\"c\",\"image\":\"x\",\"resources\":" res "}"
    static const struct {
        const char *spec, *qos;
    } cases[] = {
        {"{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}", "BestEffort"},
        {"{\"containers\":[" C("{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}") "]}",
         "Guaranteed"},
        {"{\"containers\":[" C("{\"requests\":{\"cpu\":\"1\"}}") "]}", "Burstable"},
        {"{\"containers\":[" C("{\"limits\":{\"cpu\":\"1\"}}") "]}", "Burstable"},
        /* requests below limits */
        {"{\"containers\":[" C("{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":"
                               "{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}") "]}",
         "Burstable"},
        /* zero counts as unset: zero cpu limit breaks Guaranteed */
        {"{\"containers\":[" C("{\"limits\":{\"cpu\":\"0\",\"memory\":\"1Gi\"}}") "]}",
         "Burstable"},
        /* all zero: BestEffort */
        {"{\"containers\":[" C("{\"limits\":{\"cpu\":\"0\",\"memory\":\"0\"}}") "]}", "BestEffort"},
        /* only non-QoS resources: BestEffort */
        {"{\"containers\":[" C("{\"limits\":{\"ephemeral-storage\":\"1Gi\"}}") "]}", "BestEffort"},
        /* an init container without limits makes the pod Burstable */
        {"{\"initContainers\":[" C(
             "{\"requests\":{\"cpu\":\"1\"}}") "],"
                                               "\"containers\":[" C("{\"limits\":{\"cpu\":\"1\","
                                                                    "\"memory\":\"1Gi\"}}") "]}",
         "Burstable"},
        /* init and app containers both guaranteed */
        {"{\"initContainers\":[" C(
             "{\"limits\":{\"cpu\":\"2\",\"memory\":\"1Gi\"}}") "],"
                                                                "\"containers\":[" C(
                                                                    "{\"limits\":{\"cpu\":\"1\","
                                                                    "\"memory\":\"1Gi\"}}") "]}",
         "Guaranteed"},
        /* 1000m equals 1 */
        {"{\"containers\":[" C("{\"limits\":{\"cpu\":\"1000m\",\"memory\":\"1Gi\"},"
                               "\"requests\":{\"cpu\":\"1\",\"memory\":\"1024Mi\"}}") "]}",
         "Guaranteed"},
        /* second container has nothing: Burstable */
        {"{\"containers\":[" C(
             "{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}") ","
                                                                "{\"name\":\"d\",\"image\":\"x\"}]"
                                                                "}",
         "Burstable"},
        /* numbers are quantities too */
        {"{\"containers\":[" C("{\"limits\":{\"cpu\":1,\"memory\":1073741824}}") "]}",
         "Guaranteed"},
    };
#undef C
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char in[1024];
        snprintf(in, sizeof(in), "{\"spec\":%s}", cases[i].spec);
        json_t *pod = parse(in);
        assert_int_equal(kos_apply_defaults(&k_pod, pod), 0);
        const char *got =
            json_string_value(json_object_get(json_object_get(pod, "status"), "qosClass"));
        if (!got || strcmp(got, cases[i].qos) != 0)
            fail_msg("case %zu: got %s want %s", i, got ? got : "(null)", cases[i].qos);
        json_decref(pod);
    }
}

static void test_workload_defaults(void **state)
{
    check_defaults(
        &k_deploy,
        "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"x\"}},"
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":{\"containers\":[{"
        "\"name\":\"a\",\"image\":\"nginx:1\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}}}}",
        "{\"spec\":{\"replicas\":1,\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
        "\"maxUnavailable\":\"25%\",\"maxSurge\":\"25%\"}},\"revisionHistoryLimit\":10,"
        "\"progressDeadlineSeconds\":600,\"template\":{\"metadata\":{\"creationTimestamp\":null},"
        "\"spec\":{\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\","
        "\"schedulerName\":\"default-scheduler\",\"terminationGracePeriodSeconds\":30,"
        "\"securityContext\":{},\"containers\":[{\"imagePullPolicy\":\"IfNotPresent\","
        "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":"
        "\"File\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}}}}");
    /* templates: no requests-from-limits, no pod admission defaults */
    json_t *d = parse("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\","
                      "\"image\":\"x\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}}}}");
    assert_int_equal(kos_apply_defaults(&k_deploy, d), 0);
    json_t *tspec =
        json_object_get(json_object_get(json_object_get(d, "spec"), "template"), "spec");
    assert_null(json_object_get(tspec, "serviceAccountName"));
    assert_null(json_object_get(tspec, "enableServiceLinks"));
    assert_null(json_object_get(tspec, "tolerations"));
    assert_null(json_object_get(
        json_object_get(json_array_get(json_object_get(tspec, "containers"), 0), "resources"),
        "requests"));
    json_decref(d);

    check_defaults(&k_sts, "{\"spec\":{\"volumeClaimTemplates\":[{\"spec\":{}}]}}",
                   "{\"spec\":{\"replicas\":1,\"podManagementPolicy\":\"OrderedReady\","
                   "\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
                   "\"partition\":0}},\"revisionHistoryLimit\":10,"
                   "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"Retain\","
                   "\"whenScaled\":\"Retain\"},\"volumeClaimTemplates\":[{\"spec\":{"
                   "\"volumeMode\":\"Filesystem\"},\"status\":{\"phase\":\"Pending\"}}]}}");
    check_defaults(&k_ds, "{\"spec\":{}}",
                   "{\"spec\":{\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
                   "\"maxUnavailable\":1,\"maxSurge\":0}},\"revisionHistoryLimit\":10}}");
    check_defaults(&k_job,
                   "{\"metadata\":{\"name\":\"j\",\"uid\":\"u1\"},\"spec\":{\"template\":{\"spec\":"
                   "{\"restartPolicy\":\"Never\",\"containers\":[]}}}}",
                   "{\"metadata\":{\"labels\":{\"batch.kubernetes.io/controller-uid\":\"u1\","
                   "\"job-name\":\"j\"}},\"spec\":{\"parallelism\":1,\"completions\":1,"
                   "\"backoffLimit\":6,\"completionMode\":\"NonIndexed\",\"suspend\":false,"
                   "\"selector\":{\"matchLabels\":{\"batch.kubernetes.io/controller-uid\":"
                   "\"u1\"}},\"template\":{\"metadata\":{\"labels\":{\"controller-uid\":\"u1\","
                   "\"batch.kubernetes.io/job-name\":\"j\"}}}}}");
    /* parallelism alone: completions stays unset */
    json_t *j = parse("{\"spec\":{\"parallelism\":3}}");
    assert_int_equal(kos_apply_defaults(&k_job, j), 0);
    assert_null(json_object_get(json_object_get(j, "spec"), "completions"));
    json_decref(j);
}

static void test_other_defaults(void **state)
{
    check_defaults(&k_svc,
                   "{\"spec\":{\"ports\":[{\"port\":80},{\"port\":81,\"targetPort\":"
                   "\"http\"}]}}",
                   "{\"spec\":{\"type\":\"ClusterIP\",\"sessionAffinity\":\"None\","
                   "\"internalTrafficPolicy\":\"Cluster\",\"ipFamilyPolicy\":\"SingleStack\","
                   "\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"targetPort\":80},{\"port\":81,"
                   "\"protocol\":\"TCP\",\"targetPort\":\"http\"}]}}");
    check_defaults(&k_ns, "{\"metadata\":{\"name\":\"team-a\"}}",
                   "{\"metadata\":{\"labels\":{\"kubernetes.io/metadata.name\":\"team-a\"}},"
                   "\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}");
    check_defaults(&k_secret, "{\"stringData\":{\"a\":\"hello\"},\"data\":{\"b\":\"eA==\"}}",
                   "{\"type\":\"Opaque\",\"data\":{\"a\":\"aGVsbG8=\",\"b\":\"eA==\"}}");
    json_t *s = parse("{\"stringData\":{\"a\":\"x\"}}");
    assert_int_equal(kos_apply_defaults(&k_secret, s), 0);
    assert_null(json_object_get(s, "stringData"));
    json_decref(s);
    check_defaults(&k_pv, "{\"spec\":{}}",
                   "{\"spec\":{\"persistentVolumeReclaimPolicy\":\"Retain\",\"volumeMode\":"
                   "\"Filesystem\"},\"status\":{\"phase\":\"Pending\"}}");
    check_defaults(&k_sc, "{}",
                   "{\"reclaimPolicy\":\"Delete\",\"volumeBindingMode\":"
                   "\"Immediate\"}");
    /* wrong shapes are left for validation, no crash */
    static const char *const odd[] = {
        "{\"spec\":[]}",
        "{\"spec\":{\"containers\":{}}}",
        "{\"spec\":{\"containers\":[1,\"x\",{\"resources\":[]},{\"resources\":{\"limits\":[]}}]}}",
        "{\"spec\":{\"tolerations\":\"x\",\"volumes\":[1]}}",
        "{\"status\":5}",
    };
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        json_t *o = parse(odd[i]);
        assert_int_equal(kos_apply_defaults(&k_pod, o), 0);
        json_decref(o);
        o = parse(odd[i]);
        assert_int_equal(kos_apply_defaults(&k_deploy, o), 0);
        json_decref(o);
    }
}

/* Where a default lands among the members, as stored and sent: an absent field after the
 * others, a null one in its place, an empty string or a zero probe threshold after the
 * others (removed, then defaulted), a set one untouched. */
static void test_default_member_order(void **state)
{
    (void)state;
    json_t *pod =
        parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
              "\"x:1\",\"terminationMessagePolicy\":\"\",\"terminationMessagePath\":null,"
              "\"readinessProbe\":{\"periodSeconds\":0,\"exec\":{\"command\":[\"true\"]},"
              "\"timeoutSeconds\":null,\"failureThreshold\":7}}]}}");
    assert_int_equal(kos_apply_defaults(&k_pod, pod), 0);
    char *c = kos_json_encode(
        json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0), NULL);
    assert_string_equal(c, "{\"name\":\"c\",\"image\":\"x:1\",\"terminationMessagePath\":"
                           "\"/dev/termination-log\",\"readinessProbe\":{\"exec\":{\"command\":"
                           "[\"true\"]},\"timeoutSeconds\":1,\"failureThreshold\":7,"
                           "\"periodSeconds\":10,\"successThreshold\":1},"
                           "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":"
                           "\"IfNotPresent\",\"resources\":{}}");
    free(c);
    json_decref(pod);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_member_order),
        cmocka_unit_test(test_kubectl_run_pod),
        cmocka_unit_test(test_probe_defaults),
        cmocka_unit_test(test_pod_details),
        cmocka_unit_test(test_qos),
        cmocka_unit_test(test_workload_defaults),
        cmocka_unit_test(test_other_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
