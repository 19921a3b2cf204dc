/* Validation messages compared byte for byte with kube-apiserver's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>

#include "api/defaults.h"
#include "api/validate.h"
#include "api/validate_internal.h"
#include "json_test_helpers.h"
#include "util/error.h"

static const struct kos_kind k_pod = {.group = "",
                                      .version = "v1",
                                      .kind = "Pod",
                                      .namespaced = true,
                                      .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_deploy = {.group = "apps",
                                         .version = "v1",
                                         .kind = "Deployment",
                                         .namespaced = true,
                                         .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_sts = {.group = "apps",
                                      .version = "v1",
                                      .kind = "StatefulSet",
                                      .namespaced = true,
                                      .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_job = {.group = "batch",
                                      .version = "v1",
                                      .kind = "Job",
                                      .namespaced = true,
                                      .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_svc = {.group = "",
                                      .version = "v1",
                                      .kind = "Service",
                                      .namespaced = true,
                                      .name_rule = NAME_DNS1035_LABEL};
static const struct kos_kind k_cm = {.group = "",
                                     .version = "v1",
                                     .kind = "ConfigMap",
                                     .namespaced = true,
                                     .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_secret = {.group = "",
                                         .version = "v1",
                                         .kind = "Secret",
                                         .namespaced = true,
                                         .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_node = {.group = "",
                                       .version = "v1",
                                       .kind = "Node",
                                       .namespaced = false,
                                       .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_pvc = {.group = "",
                                      .version = "v1",
                                      .kind = "PersistentVolumeClaim",
                                      .namespaced = true,
                                      .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_pv = {.group = "",
                                     .version = "v1",
                                     .kind = "PersistentVolume",
                                     .namespaced = false,
                                     .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_ns = {.group = "",
                                     .version = "v1",
                                     .kind = "Namespace",
                                     .namespaced = false,
                                     .name_rule = NAME_DNS1123_LABEL};
static const struct kos_kind k_pc = {.group = "scheduling.k8s.io",
                                     .version = "v1",
                                     .kind = "PriorityClass",
                                     .namespaced = false,
                                     .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_sc = {.group = "storage.k8s.io",
                                     .version = "v1",
                                     .kind = "StorageClass",
                                     .namespaced = false,
                                     .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_role = {.group = "rbac.authorization.k8s.io",
                                       .version = "v1",
                                       .kind = "Role",
                                       .namespaced = true,
                                       .name_rule = NAME_PATH_SEGMENT};
static const struct kos_kind k_rb = {.group = "rbac.authorization.k8s.io",
                                     .version = "v1",
                                     .kind = "RoleBinding",
                                     .namespaced = true,
                                     .name_rule = NAME_PATH_SEGMENT};
static const struct kos_kind k_pdb = {.group = "policy",
                                      .version = "v1",
                                      .kind = "PodDisruptionBudget",
                                      .namespaced = true,
                                      .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_lease = {.group = "coordination.k8s.io",
                                        .version = "v1",
                                        .kind = "Lease",
                                        .namespaced = true,
                                        .name_rule = NAME_DNS1123_SUBDOMAIN};
static const struct kos_kind k_event = {.group = "",
                                        .version = "v1",
                                        .kind = "Event",
                                        .namespaced = true,
                                        .name_rule = NAME_DNS1123_SUBDOMAIN};

#define LABEL_MSG                                                                                  \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define SUBDOMAIN_MSG                                                                              \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define POD_UPDATE_MSG                                                                             \
    "pod updates may not change fields other than `spec.containers[*].image`,"                     \
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "        \
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set " \
    "to 1 if it was previously negative)"

/* Validates (after defaulting when asked); expected NULL means valid. */
static void check(const struct kos_kind *kind, const char *obj_json, bool defaults, int code,
                  const char *expected)
{
    json_t *obj = parse(obj_json);
    if (defaults)
        assert_int_equal(kos_apply_defaults(kind, obj), 0);
    struct kos_error *err = NULL;
    int r = kos_validate_create(kind, obj, &err);
    if (!expected) {
        if (r != 0)
            fail_msg("unexpected error for %s: %s", obj_json, err ? err->message : "?");
    } else {
        assert_int_equal(r, -EINVAL);
        assert_non_null(err);
        if (strcmp(err->message, expected) != 0)
            fail_msg("message mismatch\n got: %s\nwant: %s", err->message, expected);
        assert_int_equal(err->code, code);
    }
    kos_error_free(err);
    json_decref(obj);
}

static void check_update(const struct kos_kind *kind, const char *new_json, const char *old_json,
                         const char *expected)
{
    json_t *obj = parse(new_json);
    json_t *old = parse(old_json);
    assert_int_equal(kos_apply_defaults(kind, obj), 0);
    assert_int_equal(kos_apply_defaults(kind, old), 0);
    struct kos_error *err = NULL;
    int r = kos_validate_update(kind, obj, old, &err);
    if (!expected) {
        if (r != 0)
            fail_msg("unexpected error: %s", err ? err->message : "?");
    } else {
        assert_int_equal(r, -EINVAL);
        if (strcmp(err->message, expected) != 0)
            fail_msg("message mismatch\n got: %s\nwant: %s", err->message, expected);
    }
    kos_error_free(err);
    json_decref(obj);
    json_decref(old);
}

#define META(name) "\"metadata\":{\"name\":\"" name "\",\"namespace\":\"default\"}"
#define POD(spec)  "{" META("bad") ",\"spec\":" spec "}"

struct vcase {
    const struct kos_kind *kind;
    const char *json;
    const char *msg;
};

static void test_pod_messages(void **state)
{
    static const struct vcase cases[] = {
        {&k_pod, POD("{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}"), NULL},
        {&k_pod, POD("{}"), "Pod \"bad\" is invalid: spec.containers: Required value"},
        {&k_pod, POD("{\"containers\":[{}]}"),
         "Pod \"bad\" is invalid: [spec.containers[0].name: Required value, "
         "spec.containers[0].image: Required value]"},
        {&k_pod, POD("{\"containers\":[{\"name\":\"C_1\",\"image\":\"x\"}]}"),
         "Pod \"bad\" is invalid: spec.containers[0].name: Invalid value: \"C_1\": " LABEL_MSG},
        {&k_pod,
         POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"a\",\"image\":\"x\"}]"
             "}"),
         "Pod \"bad\" is invalid: spec.containers[1].name: Duplicate value: \"a\""},
        {&k_pod,
         POD("{\"initContainers\":[{\"name\":\"a\",\"image\":\"x\"}],"
             "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}"),
         "Pod \"bad\" is invalid: spec.initContainers[0].name: Duplicate value: \"a\""},
        {&k_pod,
         POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":{\"limits\":"
             "{\"cpu\":\"1\"},\"requests\":{\"cpu\":\"2\"}}}]}"),
         "Pod \"bad\" is invalid: spec.containers[0].resources.requests: Invalid value: \"2\": "
         "must be less than or equal to cpu limit of 1"},
        {&k_pod,
         POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":{\"limits\":"
             "{\"cpu\":\"-1\"}}}]}"),
         "Pod \"bad\" is invalid: [spec.containers[0].resources.limits[cpu]: Invalid value: "
         "\"-1\": must be greater than or equal to 0, spec.containers[0].resources.requests[cpu]: "
         "Invalid value: \"-1\": must be greater than or equal to 0]"},
        {&k_pod,
         POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":{\"limits\":"
             "{\"foo\":\"1\"}}}]}"),
         "Pod \"bad\" is invalid: [spec.containers[0].resources.limits[foo]: Invalid value: "
         "\"foo\": must be a standard resource for containers, "
         "spec.containers[0].resources.requests[foo]: Invalid value: \"foo\": must be a standard "
         "resource for containers]"},
        {&k_pod,
         POD("{\"restartPolicy\":\"Sometimes\",\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}"),
         "Pod \"bad\" is invalid: spec.restartPolicy: Unsupported value: \"Sometimes\": supported "
         "values: \"Always\", \"OnFailure\", \"Never\""},
        {&k_pod, POD("{\"dnsPolicy\":\"X\",\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}"),
         "Pod \"bad\" is invalid: spec.dnsPolicy: Unsupported value: \"X\": supported values: "
         "\"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\""},
        {&k_pod,
         POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":"
             "70000}]}]}"),
         "Pod \"bad\" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: "
         "70000: must be between 1 and 65535, inclusive"},
        {&k_pod,
         POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"volumeMounts\":[{\"name\":"
             "\"x\",\"mountPath\":\"/x\"}]}]}"),
         "Pod \"bad\" is invalid: spec.containers[0].volumeMounts[0].name: Not found: \"x\""},
        {&k_pod,
         POD("{\"volumes\":[{\"name\":\"v\"}],\"containers\":[{\"name\":\"a\",\"image\":\"x\","
             "\"volumeMounts\":[{\"name\":\"v\"}]}]}"),
         "Pod \"bad\" is invalid: spec.containers[0].volumeMounts[0].mountPath: Required value"},
        {&k_pod,
         POD("{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}},{\"name\":\"v\",\"emptyDir\":{}}],"
             "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}"),
         "Pod \"bad\" is invalid: spec.volumes[1].name: Duplicate value: \"v\""},
        {&k_pod,
         POD("{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{},\"hostPath\":{\"path\":\"/\"}}],"
             "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}"),
         "Pod \"bad\" is invalid: spec.volumes[0].emptyDir: Forbidden: may not specify more than "
         "1 volume type"},
        {&k_pod,
         "{\"metadata\":{\"name\":\"Bad\",\"namespace\":\"default\"},\"spec\":{\"containers\":"
         "[{\"name\":\"a\",\"image\":\"x\"}]}}",
         "Pod \"Bad\" is invalid: metadata.name: Invalid value: \"Bad\": " SUBDOMAIN_MSG},
        {&k_pod,
         "{\"metadata\":{\"namespace\":\"default\"},\"spec\":{\"containers\":"
         "[{\"name\":\"a\",\"image\":\"x\"}]}}",
         "Pod \"\" is invalid: metadata.name: Required value: name or generateName is required"},
        {&k_pod,
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
         "[{\"name\":\"a\",\"image\":\"x\"}]}}",
         "Pod \"p\" is invalid: metadata.namespace: Required value"},
        {&k_pod,
         "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"labels\":{\"a\":\"-x\"}},"
         "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
         "Pod \"p\" is invalid: metadata.labels: Invalid value: \"-x\": a valid label must be an "
         "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and "
         "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
         "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
        {&k_pod,
         "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"labels\":{\"a/b/c\":\"x\"}},"
         "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
         "Pod \"p\" is invalid: metadata.labels: Invalid value: \"a/b/c\": a qualified name must "
         "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
         "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
         "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
         "subdomain prefix and '/' (e.g. 'example.com/MyName')"},
        {&k_pod,
         "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"labels\":{\"/b\":\"x\"}},"
         "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
         "Pod \"p\" is invalid: metadata.labels: Invalid value: \"/b\": prefix part must be "
         "non-empty"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(cases[i].kind, cases[i].json, true, 422, cases[i].msg);
}

static void test_causes(void **state)
{
    json_t *obj = parse(POD("{\"containers\":[{}]}"));
    struct kos_error *err = NULL;
    assert_int_equal(kos_validate_create(&k_pod, obj, &err), -EINVAL);
    assert_string_equal(err->reason, "Invalid");
    json_t *d = err->details;
    assert_string_equal(json_string_value(json_object_get(d, "name")), "bad");
    assert_string_equal(json_string_value(json_object_get(d, "kind")), "Pod");
    assert_null(json_object_get(d, "group"));
    json_t *causes = json_object_get(d, "causes");
    /* not defaulted: terminationMessagePolicy, imagePullPolicy, restartPolicy, dnsPolicy too */
    assert_int_equal(json_array_size(causes), 6);
    json_t *c0 = json_array_get(causes, 0);
    assert_string_equal(json_string_value(json_object_get(c0, "reason")), "FieldValueRequired");
    assert_string_equal(json_string_value(json_object_get(c0, "message")), "Required value");
    assert_string_equal(json_string_value(json_object_get(c0, "field")), "spec.containers[0].name");
    json_t *status = kos_error_to_status(err);
    assert_int_equal(json_integer_value(json_object_get(status, "code")), 422);
    json_decref(status);
    kos_error_free(err);
    json_decref(obj);

    /* group appears for non-core kinds and the kind is group-qualified in the message */
    obj = parse(
        "{" META("d") ",\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"app\":"
                      "\"x\"}},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}}}");
    assert_int_equal(kos_apply_defaults(&k_deploy, obj), 0);
    err = NULL;
    assert_int_equal(kos_validate_create(&k_deploy, obj, &err), -EINVAL);
    assert_string_equal(err->message,
                        "Deployment.apps \"d\" is invalid: [spec.selector: Required value, "
                        "spec.template.metadata.labels: Invalid value: "
                        "map[string]string{\"app\":\"x\"}: `selector` does not match template "
                        "`labels`]");
    assert_string_equal(json_string_value(json_object_get(err->details, "group")), "apps");
    json_t *c1 = json_array_get(json_object_get(err->details, "causes"), 1);
    assert_string_equal(json_string_value(json_object_get(c1, "reason")), "FieldValueInvalid");
    assert_string_equal(json_string_value(json_object_get(c1, "message")),
                        "Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not "
                        "match template `labels`");
    kos_error_free(err);
    json_decref(obj);
}

static void test_decode_errors(void **state)
{
    check(&k_pod,
          POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":{\"limits\":"
              "{\"cpu\":\"abc\"}}}]}"),
          true, 400,
          "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular "
          "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    /* wrong JSON types anywhere give a clean 400, never a crash */
    static const char *const bad[] = {
        POD("{\"containers\":{}}"),
        POD("{\"containers\":[1,2]}"),
        POD("{\"containers\":[{\"name\":5,\"image\":\"x\"}]}"),
        POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":\"x\"}]}"),
        POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":[]}]}"),
        POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":{\"limits\":"
            "{\"cpu\":{}}}}]}"),
        POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}],\"volumes\":[\"x\"]}"),
        POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}],\"tolerations\":{}}"),
        "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"labels\":{\"a\":1}},\"spec\":{}}",
        "{\"metadata\":[],\"spec\":{}}",
        POD("[]"),
        POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"livenessProbe\":{\"httpGet\":"
            "{\"port\":[]}}}]}"),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *obj = parse(bad[i]);
        assert_int_equal(kos_apply_defaults(&k_pod, obj), 0);
        struct kos_error *err = NULL;
        assert_int_equal(kos_validate_create(&k_pod, obj, &err), -EINVAL);
        if (err->code != 400)
            fail_msg("case %zu: code %d: %s", i, err->code, err->message);
        kos_error_free(err);
        json_decref(obj);
    }
    json_t *arr = parse("[1]");
    struct kos_error *err = NULL;
    assert_int_equal(kos_validate_create(&k_pod, arr, &err), -EINVAL);
    assert_int_equal(err->code, 400);
    kos_error_free(err);
    json_decref(arr);
}

#define DEPLOY(spec) "{" META("d") ",\"spec\":" spec "}"
#define TMPL                                                                                       \
    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":{\"containers\":[{\"name\":" \
    "\"a\",\"image\":\"x\"}]}}"

static void test_workloads(void **state)
{
    static const struct vcase cases[] = {
        {&k_deploy, DEPLOY("{\"selector\":{\"matchLabels\":{\"app\":\"x\"}}," TMPL "}"), NULL},
        {&k_deploy, DEPLOY("{\"selector\":{\"matchLabels\":{\"app\":\"y\"}}," TMPL "}"),
         "Deployment.apps \"d\" is invalid: spec.template.metadata.labels: Invalid value: "
         "map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"},
        {&k_deploy,
         DEPLOY("{\"replicas\":-1,\"selector\":{\"matchLabels\":{\"app\":\"x\"}}," TMPL "}"),
         "Deployment.apps \"d\" is invalid: spec.replicas: Invalid value: -1: must be greater "
         "than or equal to 0"},
        {&k_deploy, DEPLOY("{\"selector\":{}," TMPL "}"),
         "Deployment.apps \"d\" is invalid: spec.selector: Invalid value: "
         "v1.LabelSelector{MatchLabels:map[string]string(nil), "
         "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
         "deployment"},
        {&k_deploy,
         DEPLOY("{\"selector\":{\"matchLabels\":{\"app\":\"x\"}},\"template\":{\"metadata\":"
                "{\"labels\":{\"app\":\"x\"}},\"spec\":{\"restartPolicy\":\"Never\","
                "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}}"),
         "Deployment.apps \"d\" is invalid: spec.template.spec.restartPolicy: Unsupported value: "
         "\"Never\": supported values: \"Always\""},
        {&k_deploy,
         DEPLOY("{\"selector\":{\"matchLabels\":{\"app\":\"x\"}},\"template\":{\"metadata\":"
                "{\"labels\":{\"app\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}}"),
         "Deployment.apps \"d\" is invalid: spec.template.spec.containers[0].image: Required "
         "value"},
        {&k_sts,
         "{" META("s") ",\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"x\"}}," TMPL "}}",
         NULL},
        {&k_job,
         "{" META("j") ",\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"x\"}}," TMPL "}}",
         "Job.batch \"j\" is invalid: spec.template.spec.restartPolicy: Unsupported value: "
         "\"Always\": supported values: \"OnFailure\", \"Never\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(cases[i].kind, cases[i].json, true, 422, cases[i].msg);

    /* a Job with a server-assigned uid gets its selector generated */
    check(&k_job,
          "{\"metadata\":{\"name\":\"j\",\"namespace\":\"d\",\"uid\":\"u-1\"},\"spec\":{"
          "\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"a\","
          "\"image\":\"x\"}]}}}}",
          true, 0, NULL);
}

static void test_other_kinds(void **state)
{
    static const struct vcase cases[] = {
        {&k_svc, "{" META("s") ",\"spec\":{}}",
         "Service \"s\" is invalid: spec.ports: Required value"},
        {&k_svc, "{" META("s") ",\"spec\":{\"clusterIP\":\"None\"}}", NULL},
        {&k_svc, "{" META("s") ",\"spec\":{\"ports\":[{\"port\":0}]}}",
         "Service \"s\" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and "
         "65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and "
         "65535, inclusive]"},
        {&k_svc, "{" META("s") ",\"spec\":{\"type\":\"Foo\",\"ports\":[{\"port\":80}]}}",
         "Service \"s\" is invalid: spec.type: Unsupported value: \"Foo\": supported values: "
         "\"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""},
        {&k_svc, "{" META("1s") ",\"spec\":{\"ports\":[{\"port\":80}]}}",
         "Service \"1s\" is invalid: metadata.name: Invalid value: \"1s\": a DNS-1035 label must "
         "consist of lower case alphanumeric characters or '-', start with an alphabetic "
         "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
         "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"},
        {&k_cm, "{" META("c") ",\"data\":{\"a b\":\"x\"}}",
         "ConfigMap \"c\" is invalid: data[a b]: Invalid value: \"a b\": a valid config key must "
         "consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  "
         "or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"},
        {&k_secret, "{" META("s") ",\"data\":{\"k\":\"!!!!\"}}",
         "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input "
         "byte 0"},
        {&k_secret, "{" META("s") ",\"stringData\":{\"k\":\"v\"}}", NULL},
        {&k_pvc, "{" META("c") ",\"spec\":{}}",
         "PersistentVolumeClaim \"c\" is invalid: [spec.accessModes: Required value: at least 1 "
         "access mode is required, spec.resources[storage]: Required value]"},
        {&k_pvc,
         "{" META("c") ",\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":"
                       "{\"requests\":{\"storage\":\"1Gi\"}}}}",
         NULL},
        {&k_pv, "{\"metadata\":{\"name\":\"pv\"},\"spec\":{}}",
         "PersistentVolume \"pv\" is invalid: [spec.accessModes: Required value, spec.capacity: "
         "Required value, spec: Required value: must specify a volume type]"},
        {&k_ns, "{\"metadata\":{\"name\":\"a.b\"}}",
         "Namespace \"a.b\" is invalid: metadata.name: Invalid value: \"a.b\": must not contain "
         "dots"},
        {&k_pc, "{\"metadata\":{\"name\":\"hi\"},\"value\":1000000001}",
         "PriorityClass.scheduling.k8s.io \"hi\" is invalid: value: Forbidden: maximum allowed "
         "value of a user defined priority is 1000000000"},
        {&k_pc, "{\"metadata\":{\"name\":\"system-x\"},\"value\":1}",
         "PriorityClass.scheduling.k8s.io \"system-x\" is invalid: metadata.name: Forbidden: "
         "priority class names with 'system-' prefix are reserved for system use only. error: "
         "system-x is not a known system priority class"},
        {&k_sc, "{\"metadata\":{\"name\":\"sc\"}}",
         "StorageClass.storage.k8s.io \"sc\" is invalid: provisioner: Required value"},
        {&k_role, "{" META("r") ",\"rules\":[{}]}",
         "Role.rbac.authorization.k8s.io \"r\" is invalid: [rules[0].verbs: Required value: verbs "
         "must contain at least one value, rules[0].apiGroups: Required value: resource rules "
         "must supply at least one api group, rules[0].resources: Required value: resource rules "
         "must supply at least one resource]"},
        {&k_rb,
         "{" META("r") ",\"roleRef\":{\"kind\":\"Role\",\"name\":\"x\"},\"subjects\":[{\"kind\":"
                       "\"User\",\"name\":\"u\"}]}",
         NULL},
        {&k_pdb, "{" META("p") ",\"spec\":{\"minAvailable\":1,\"maxUnavailable\":1}}",
         "PodDisruptionBudget.policy \"p\" is invalid: spec: Invalid value: "
         "policy.PodDisruptionBudgetSpec{...}: minAvailable and maxUnavailable cannot be both "
         "set"},
        {&k_lease, "{" META("l") ",\"spec\":{\"leaseDurationSeconds\":0}}",
         "Lease.coordination.k8s.io \"l\" is invalid: spec.leaseDurationSeconds: Invalid value: "
         "0: must be greater than 0"},
        {&k_event,
         "{\"metadata\":{\"name\":\"e\",\"namespace\":\"a\"},\"involvedObject\":{\"namespace\":"
         "\"b\"}}",
         "Event \"e\" is invalid: involvedObject.namespace: Invalid value: \"b\": does not match "
         "event.namespace"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(cases[i].kind, cases[i].json, true,
              cases[i].msg && strstr(cases[i].msg, "base64") ? 400 : 422, cases[i].msg);
}

static void test_updates(void **state)
{
    const char *pod = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"uid\":\"1\"},\"spec\":"
                      "{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}";
    check_update(&k_pod,
                 "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"uid\":\"1\"},\"spec\":"
                 "{\"containers\":[{\"name\":\"a\",\"image\":\"y\"}]}}",
                 pod, NULL);
    check_update(&k_pod,
                 "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"uid\":\"1\"},\"spec\":"
                 "{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":"
                 "80}]}]}}",
                 pod, "Pod \"p\" is invalid: spec: Forbidden: " POD_UPDATE_MSG);
    check_update(&k_pod,
                 "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"uid\":\"1\"},\"spec\":"
                 "{\"nodeName\":\"n2\",\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
                 "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"uid\":\"1\"},\"spec\":"
                 "{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
                 "Pod \"p\" is invalid: spec: Forbidden: " POD_UPDATE_MSG);
    check_update(&k_pod,
                 "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"uid\":\"2\"},\"spec\":"
                 "{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
                 pod,
                 "Pod \"p\" is invalid: metadata.uid: Invalid value: \"2\": field is immutable");

    const char *dep =
        "{" META("d") ",\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"x\"}}," TMPL "}}";
    check_update(
        &k_deploy,
        "{" META("d") ",\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"x\",\"b\":"
                      "\"c\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"x\",\"b\":\"c\"}},"
                      "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}}}",
        dep,
        "Deployment.apps \"d\" is invalid: spec.selector: Invalid value: "
        "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"x\", \"b\":\"c\"}, "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
    /* a Node gets its podCIDRs once (node IPAM); they never change after */
    check_update(&k_node,
                 "{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"10.42.0.0/24\","
                 "\"podCIDRs\":[\"10.42.0.0/24\"]}}",
                 "{\"metadata\":{\"name\":\"n\"},\"spec\":{}}", NULL);
    check_update(&k_node,
                 "{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"10.42.1.0/24\","
                 "\"podCIDRs\":[\"10.42.1.0/24\"]}}",
                 "{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"10.42.0.0/24\","
                 "\"podCIDRs\":[\"10.42.0.0/24\"]}}",
                 "Node \"n\" is invalid: spec.podCIDRs: Forbidden: node updates may not change "
                 "podCIDR except from \"\" to valid");
    check_update(&k_cm, "{" META("c") ",\"immutable\":true,\"data\":{\"a\":\"2\"}}",
                 "{" META("c") ",\"immutable\":true,\"data\":{\"a\":\"1\"}}",
                 "ConfigMap \"c\" is invalid: data: Forbidden: field is immutable when "
                 "`immutable` is set");
    check_update(&k_pvc,
                 "{" META("c") ",\"spec\":{\"accessModes\":[\"ReadWriteMany\"],\"resources\":"
                               "{\"requests\":{\"storage\":\"1Gi\"}}}}",
                 "{" META("c") ",\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":"
                               "{\"requests\":{\"storage\":\"1Gi\"}}}}",
                 "PersistentVolumeClaim \"c\" is invalid: spec: Forbidden: spec is immutable after "
                 "creation except resources.requests and volumeAttributesClassName for bound "
                 "claims");
    check_update(&k_pc, "{\"metadata\":{\"name\":\"p\"},\"value\":2}",
                 "{\"metadata\":{\"name\":\"p\"},\"value\":1}",
                 "PriorityClass.scheduling.k8s.io \"p\" is invalid: value: Forbidden: may not be "
                 "changed in an update.");
    check_update(&k_rb, "{" META("r") ",\"roleRef\":{\"kind\":\"Role\",\"name\":\"y\"}}",
                 "{" META("r") ",\"roleRef\":{\"kind\":\"Role\",\"name\":\"x\"}}",
                 "RoleBinding.rbac.authorization.k8s.io \"r\" is invalid: roleRef: Invalid value: "
                 "rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", "
                 "Name:\"y\"}: cannot change roleRef");
    check_update(&k_svc,
                 "{" META("s") ",\"spec\":{\"clusterIP\":\"10.0.0.2\",\"ports\":[{\"port\":80}]}}",
                 "{" META("s") ",\"spec\":{\"clusterIP\":\"10.0.0.1\",\"ports\":[{\"port\":80}]}}",
                 "Service \"s\" is invalid: spec.clusterIPs[0]: Invalid value: "
                 "[]string{\"10.0.0.2\"}: may not change once set");
    check_update(&k_sc, "{\"metadata\":{\"name\":\"s\"},\"provisioner\":\"b\"}",
                 "{\"metadata\":{\"name\":\"s\"},\"provisioner\":\"a\"}",
                 "StorageClass.storage.k8s.io \"s\" is invalid: provisioner: Forbidden: updates "
                 "to provisioner are forbidden.");
}

static void test_names(void **state)
{
    assert_null(kos_validate_name(NAME_DNS1123_SUBDOMAIN, "a.b-c"));
    assert_string_equal(kos_validate_name(NAME_DNS1123_SUBDOMAIN, "A"), SUBDOMAIN_MSG);
    assert_string_equal(kos_validate_name(NAME_DNS1123_LABEL, "a.b"), "must not contain dots");
    assert_string_equal(kos_validate_name(NAME_DNS1123_LABEL, "-a"), LABEL_MSG);
    char long_name[70];
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    assert_string_equal(kos_validate_name(NAME_DNS1123_LABEL, long_name),
                        "must be no more than 63 characters");
    assert_null(kos_validate_name(NAME_PATH_SEGMENT, "system:admin"));
    assert_string_equal(kos_validate_name(NAME_PATH_SEGMENT, ".."), "may not be '..'");
    assert_string_equal(kos_validate_name(NAME_PATH_SEGMENT, "a/b"), "may not contain '/'");
}

/* Probes: the thresholds that must be 1, readiness without a grace period, positive grace
 * periods, a handler required (validateProbe / validateContainers). */
static void test_probes(void **state)
{
#define CTR(probe) POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\"," probe "}]}")
    check(&k_pod, CTR("\"livenessProbe\":{\"exec\":{\"command\":[\"true\"]}}"), true, 0, NULL);
    check(&k_pod,
          CTR("\"livenessProbe\":{\"exec\":{\"command\":[\"true\"]},\"successThreshold\":2}"), true,
          422,
          "Pod \"bad\" is invalid: spec.containers[0].livenessProbe.successThreshold: Invalid "
          "value: 2: must be 1");
    check(&k_pod, CTR("\"startupProbe\":{\"tcpSocket\":{\"port\":80},\"successThreshold\":3}"),
          true, 422,
          "Pod \"bad\" is invalid: spec.containers[0].startupProbe.successThreshold: Invalid "
          "value: 3: must be 1");
    /* readiness may need several successes */
    check(&k_pod, CTR("\"readinessProbe\":{\"tcpSocket\":{\"port\":80},\"successThreshold\":3}"),
          true, 0, NULL);
    check(&k_pod,
          CTR("\"readinessProbe\":{\"tcpSocket\":{\"port\":80},"
              "\"terminationGracePeriodSeconds\":5}"),
          true, 422,
          "Pod \"bad\" is invalid: spec.containers[0].readinessProbe."
          "terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes");
    check(&k_pod,
          CTR("\"livenessProbe\":{\"tcpSocket\":{\"port\":80},"
              "\"terminationGracePeriodSeconds\":0}"),
          true, 422,
          "Pod \"bad\" is invalid: spec.containers[0].livenessProbe."
          "terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0");
    check(&k_pod, CTR("\"livenessProbe\":{\"tcpSocket\":{\"port\":80},\"periodSeconds\":-1}"), true,
          422,
          "Pod \"bad\" is invalid: spec.containers[0].livenessProbe.periodSeconds: Invalid "
          "value: -1: must be greater than or equal to 0");
    check(&k_pod, CTR("\"readinessProbe\":{\"periodSeconds\":5}"), true, 422,
          "Pod \"bad\" is invalid: spec.containers[0].readinessProbe: Required value: must "
          "specify a handler type");
    check(&k_pod,
          CTR("\"readinessProbe\":{\"exec\":{\"command\":[\"true\"]},\"tcpSocket\":{"
              "\"port\":80}}"),
          true, 422,
          "Pod \"bad\" is invalid: spec.containers[0].readinessProbe.tcpSocket: Forbidden: may "
          "not specify more than 1 handler type");
#undef CTR
}

/* The field paths validation builds are what vsnprintf would write, also when cut short. */
static void test_field_path_format(void **state)
{
    (void)state;
    char out[FP_MAX], want[FP_MAX * 3];
    assert_string_equal(fp(out, "%s.containers[%zu]", "spec", (size_t)12), "spec.containers[12]");
    assert_string_equal(fp(out, "%s%s%s", "", "", "name"), "name");
    assert_string_equal(fp(out, "spec.%s[%zu].image", "initContainers", (size_t)0),
                        "spec.initContainers[0].image");
    assert_string_equal(fp(out, "%s[%zu]%%", "a", SIZE_MAX), "a[18446744073709551615]%");
    assert_string_equal(fp(out, "%s.x", (const char *)NULL), "(null).x");
    /* another conversion goes to vsnprintf */
    assert_string_equal(fp(out, "%s[%d]", "p", -3), "p[-3]");
    /* too long: the first FP_MAX - 1 bytes, as vsnprintf cuts */
    char long_s[FP_MAX * 2];
    memset(long_s, 'a', sizeof(long_s) - 1);
    long_s[sizeof(long_s) - 1] = '\0';
    snprintf(want, sizeof(want), "%s.%s[%zu]", "spec", long_s, (size_t)7);
    want[FP_MAX - 1] = '\0';
    assert_string_equal(fp(out, "%s.%s[%zu]", "spec", long_s, (size_t)7), want);
    assert_int_equal(strlen(out), FP_MAX - 1);
    memset(long_s, 'b', FP_MAX - 3);
    long_s[FP_MAX - 3] = '\0';
    snprintf(want, sizeof(want), "%s[%zu]", long_s, (size_t)123);
    want[FP_MAX - 1] = '\0';
    assert_string_equal(fp(out, "%s[%zu]", long_s, (size_t)123), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pod_messages),
        cmocka_unit_test(test_causes),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_workloads),
        cmocka_unit_test(test_other_kinds),
        cmocka_unit_test(test_updates),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_probes),
        cmocka_unit_test(test_field_path_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
