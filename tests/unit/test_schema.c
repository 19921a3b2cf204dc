/* Field schemas of the built-in kinds: unknown-field paths as kube-apiserver reports them
 * under fieldValidation=Strict, kind coverage, merge keys. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/schema.h"
#include "json_test_helpers.h"
#include "util/cleanup.h"

static const struct kos_kind pod_kind = {.group = "", .version = "v1", .kind = "Pod"};
static const struct kos_kind service_kind = {.group = "", .version = "v1", .kind = "Service"};
static const struct kos_kind deployment_kind = {
    .group = "apps", .version = "v1", .kind = "Deployment"};

/* A pod that uses nearly every field of PodSpec, Container and the common volume sources. */
static const char full_pod[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
    "\"metadata\":{\"name\":\"p\",\"generateName\":\"p-\",\"namespace\":\"default\","
    " \"selfLink\":\"/x\",\"uid\":\"u\",\"resourceVersion\":\"1\",\"generation\":1,"
    " \"creationTimestamp\":\"2024-01-01T00:00:00Z\",\"deletionTimestamp\":null,"
    " \"deletionGracePeriodSeconds\":30,"
    " \"labels\":{\"app\":\"x\",\"weird key/with.dots\":\"y\"},"
    " \"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\"},"
    " \"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\","
    "   \"uid\":\"u2\",\"controller\":true,\"blockOwnerDeletion\":true}],"
    " \"finalizers\":[\"f\"],"
    " \"managedFields\":[{\"manager\":\"kubectl\",\"operation\":\"Apply\",\"apiVersion\":\"v1\","
    "   \"time\":\"2024-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\","
    "   \"fieldsV1\":{\"f:metadata\":{\"f:labels\":{\".\":{}}}},\"subresource\":\"\"}]},"
    "\"spec\":{"
    " \"volumes\":["
    "  {\"name\":\"cm\",\"configMap\":{\"name\":\"c\",\"items\":[{\"key\":\"k\",\"path\":\"p\","
    "    \"mode\":420}],\"defaultMode\":420,\"optional\":true}},"
    "  {\"name\":\"ed\",\"emptyDir\":{\"medium\":\"Memory\",\"sizeLimit\":\"1Gi\"}},"
    "  {\"name\":\"hp\",\"hostPath\":{\"path\":\"/x\",\"type\":\"Directory\"}},"
    "  {\"name\":\"s\",\"secret\":{\"secretName\":\"s\",\"items\":[{\"key\":\"a\",\"path\":\"b\"}],"
    "    \"defaultMode\":256,\"optional\":false}},"
    "  {\"name\":\"pvc\",\"persistentVolumeClaim\":{\"claimName\":\"c\",\"readOnly\":true}},"
    "  {\"name\":\"pr\",\"projected\":{\"defaultMode\":420,\"sources\":["
    "    {\"serviceAccountToken\":{\"audience\":\"a\",\"expirationSeconds\":3600,\"path\":\"t\"}},"
    "    {\"configMap\":{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\","
    "      \"path\":\"ca.crt\"}],\"optional\":true}},"
    "    {\"secret\":{\"name\":\"s\",\"items\":[{\"key\":\"a\",\"path\":\"a\"}]}},"
    "    {\"downwardAPI\":{\"items\":[{\"path\":\"namespace\",\"fieldRef\":{\"apiVersion\":\"v1\","
    "      \"fieldPath\":\"metadata.namespace\"}}]}},"
    "    {\"clusterTrustBundle\":{\"name\":\"b\",\"signerName\":\"s\",\"labelSelector\":"
    "      {\"matchLabels\":{\"a\":\"b\"}},\"optional\":true,\"path\":\"b.pem\"}}]}},"
    "  {\"name\":\"da\",\"downwardAPI\":{\"items\":[{\"path\":\"cpu\",\"resourceFieldRef\":"
    "    {\"containerName\":\"c\",\"resource\":\"limits.cpu\",\"divisor\":\"1m\"},\"mode\":420}],"
    "    \"defaultMode\":420}},"
    "  {\"name\":\"nfs\",\"nfs\":{\"server\":\"s\",\"path\":\"/e\",\"readOnly\":true}},"
    "  {\"name\":\"csi\",\"csi\":{\"driver\":\"d\",\"readOnly\":true,\"fsType\":\"ext4\","
    "    \"volumeAttributes\":{\"a\":\"b\"},\"nodePublishSecretRef\":{\"name\":\"s\"}}},"
    "  {\"name\":\"eph\",\"ephemeral\":{\"volumeClaimTemplate\":{\"metadata\":{\"labels\":"
    "    {\"a\":\"b\"}},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"storageClassName\":\"sc\","
    "    \"resources\":{\"requests\":{\"storage\":\"1Gi\"}},\"volumeMode\":\"Filesystem\"}}}},"
    "  {\"name\":\"iscsi\",\"iscsi\":{\"targetPortal\":\"t\",\"iqn\":\"i\",\"lun\":0,"
    "    \"chapAuthDiscovery\":true,\"secretRef\":{\"name\":\"s\"}}},"
    "  {\"name\":\"cinder\",\"cinder\":{\"volumeID\":\"v\",\"fsType\":\"ext4\"}},"
    "  {\"name\":\"img\",\"image\":{\"reference\":\"r\",\"pullPolicy\":\"Always\"}}],"
    " \"initContainers\":[{\"name\":\"init\",\"image\":\"busybox\",\"command\":[\"sh\"],"
    "   \"restartPolicy\":\"Always\"}],"
    " \"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"command\":[\"a\"],\"args\":[\"b\"],"
    "   \"workingDir\":\"/\",\"ports\":[{\"name\":\"http\",\"containerPort\":80,\"hostPort\":8080,"
    "     \"protocol\":\"TCP\",\"hostIP\":\"0.0.0.0\"}],"
    "   \"envFrom\":[{\"prefix\":\"P_\",\"configMapRef\":{\"name\":\"c\",\"optional\":true}},"
    "     {\"secretRef\":{\"name\":\"s\"}}],"
    "   \"env\":[{\"name\":\"A\",\"value\":\"1\"},"
    "     {\"name\":\"B\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
    "     {\"name\":\"C\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.memory\","
    "       \"divisor\":1}}},"
    "     {\"name\":\"D\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"c\",\"key\":\"k\","
    "       \"optional\":true}}},"
    "     {\"name\":\"E\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"k\"}}}],"
    "   \"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\",\"nvidia.com/gpu\":1},"
    "     \"requests\":{\"cpu\":\"100m\"},\"claims\":[{\"name\":\"gpu\",\"request\":\"r\"}]},"
    "   \"resizePolicy\":[{\"resourceName\":\"cpu\",\"restartPolicy\":\"NotRequired\"}],"
    "   \"volumeMounts\":[{\"name\":\"cm\",\"mountPath\":\"/cm\",\"readOnly\":true,"
    "     \"subPath\":\"x\",\"mountPropagation\":\"None\",\"subPathExpr\":\"$(A)\","
    "     \"recursiveReadOnly\":\"Disabled\"}],"
    "   \"volumeDevices\":[{\"name\":\"blk\",\"devicePath\":\"/dev/x\"}],"
    "   \"livenessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":\"http\",\"host\":\"h\","
    "     \"scheme\":\"HTTP\",\"httpHeaders\":[{\"name\":\"X\",\"value\":\"y\"}]},"
    "     \"initialDelaySeconds\":1,\"timeoutSeconds\":1,\"periodSeconds\":10,"
    "     \"successThreshold\":1,\"failureThreshold\":3,\"terminationGracePeriodSeconds\":5},"
    "   \"readinessProbe\":{\"exec\":{\"command\":[\"true\"]}},"
    "   \"startupProbe\":{\"tcpSocket\":{\"port\":80,\"host\":\"h\"}},"
    "   \"lifecycle\":{\"postStart\":{\"exec\":{\"command\":[\"x\"]}},"
    "     \"preStop\":{\"sleep\":{\"seconds\":5}},\"stopSignal\":\"SIGTERM\"},"
    "   \"terminationMessagePath\":\"/dev/termination-log\","
    "   \"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\","
    "   \"securityContext\":{\"capabilities\":{\"add\":[\"NET_ADMIN\"],\"drop\":[\"ALL\"]},"
    "     \"privileged\":false,\"seLinuxOptions\":{\"user\":\"u\",\"role\":\"r\",\"type\":\"t\","
    "     \"level\":\"l\"},\"windowsOptions\":{\"gmsaCredentialSpecName\":\"g\","
    "     \"gmsaCredentialSpec\":\"s\",\"runAsUserName\":\"u\",\"hostProcess\":false},"
    "     \"runAsUser\":1000,\"runAsGroup\":1000,\"runAsNonRoot\":true,"
    "     \"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false,"
    "     \"procMount\":\"Default\",\"seccompProfile\":{\"type\":\"Localhost\","
    "     \"localhostProfile\":\"p\"},\"appArmorProfile\":{\"type\":\"RuntimeDefault\"}},"
    "   \"stdin\":false,\"stdinOnce\":false,\"tty\":false},"
    "  {\"name\":\"d\",\"image\":\"x\",\"readinessProbe\":{\"grpc\":{\"port\":9000,"
    "    \"service\":\"s\"}}}],"
    " \"ephemeralContainers\":[{\"name\":\"dbg\",\"image\":\"busybox\","
    "   \"targetContainerName\":\"c\",\"stdin\":true,\"tty\":true}],"
    " \"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,"
    " \"activeDeadlineSeconds\":100,\"dnsPolicy\":\"ClusterFirst\","
    " \"nodeSelector\":{\"kubernetes.io/os\":\"linux\"},\"serviceAccountName\":\"sa\","
    " \"serviceAccount\":\"sa\",\"automountServiceAccountToken\":false,\"nodeName\":\"n\","
    " \"hostNetwork\":false,\"hostPID\":false,\"hostIPC\":false,\"shareProcessNamespace\":false,"
    " \"securityContext\":{\"seLinuxOptions\":{\"level\":\"s0\"},\"runAsUser\":1,"
    "   \"runAsGroup\":1,\"runAsNonRoot\":true,\"supplementalGroups\":[1,2],"
    "   \"supplementalGroupsPolicy\":\"Merge\",\"fsGroup\":2,"
    "   \"sysctls\":[{\"name\":\"net.ipv4.ip_forward\",\"value\":\"1\"}],"
    "   "
    "\"fsGroupChangePolicy\":\"OnRootMismatch\",\"seccompProfile\":{\"type\":\"RuntimeDefault\"},"
    "   \"appArmorProfile\":{\"type\":\"Unconfined\"},\"seLinuxChangePolicy\":\"Recursive\"},"
    " \"imagePullSecrets\":[{\"name\":\"reg\"}],\"hostname\":\"h\",\"subdomain\":\"s\","
    " \"affinity\":{"
    "  \"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{"
    "    \"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"k\",\"operator\":\"In\","
    "    \"values\":[\"v\"]}],\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\","
    "    \"values\":[\"n\"]}]}]},"
    "   \"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":1,\"preference\":"
    "    {\"matchExpressions\":[{\"key\":\"k\",\"operator\":\"Exists\"}]}}]},"
    "  \"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{"
    "    \"labelSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\","
    "    \"values\":[\"b\"]}]},\"namespaces\":[\"x\"],\"topologyKey\":\"zone\","
    "    \"namespaceSelector\":{},\"matchLabelKeys\":[\"a\"],\"mismatchLabelKeys\":[\"b\"]}]},"
    "  \"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":100,"
    "    \"podAffinityTerm\":{\"labelSelector\":{\"matchLabels\":{\"a\":\"b\"}},"
    "    \"topologyKey\":\"kubernetes.io/hostname\"}}]}},"
    " \"schedulerName\":\"default-scheduler\","
    " \"tolerations\":[{\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"v\","
    "   \"effect\":\"NoExecute\",\"tolerationSeconds\":300}],"
    " \"hostAliases\":[{\"ip\":\"1.2.3.4\",\"hostnames\":[\"a\"]}],"
    " \"priorityClassName\":\"high\",\"priority\":1000,"
    " \"dnsConfig\":{\"nameservers\":[\"1.1.1.1\"],\"searches\":[\"x\"],"
    "   \"options\":[{\"name\":\"ndots\",\"value\":\"2\"}]},"
    " \"readinessGates\":[{\"conditionType\":\"x\"}],\"runtimeClassName\":\"rc\","
    " \"enableServiceLinks\":true,\"preemptionPolicy\":\"Never\",\"overhead\":{\"cpu\":\"1m\"},"
    " \"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"zone\","
    "   \"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":{\"a\":\"b\"}},"
    "   \"minDomains\":1,\"nodeAffinityPolicy\":\"Honor\",\"nodeTaintsPolicy\":\"Ignore\","
    "   \"matchLabelKeys\":[\"pod-template-hash\"]}],"
    " \"setHostnameAsFQDN\":false,\"os\":{\"name\":\"linux\"},\"hostUsers\":true,"
    " \"schedulingGates\":[{\"name\":\"g\"}],"
    " \"resourceClaims\":[{\"name\":\"gpu\",\"resourceClaimName\":\"c\"},"
    "   {\"name\":\"t\",\"resourceClaimTemplateName\":\"t\"}],"
    " \"resources\":{\"limits\":{\"cpu\":\"2\"}}},"
    "\"status\":{\"phase\":\"Running\",\"observedGeneration\":1,"
    " \"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
    "   \"lastProbeTime\":null,\"lastTransitionTime\":\"2024-01-01T00:00:00Z\",\"reason\":\"r\","
    "   \"message\":\"m\"}],\"message\":\"m\",\"reason\":\"r\",\"nominatedNodeName\":\"n\","
    " \"hostIP\":\"10.0.0.1\",\"hostIPs\":[{\"ip\":\"10.0.0.1\"}],\"podIP\":\"10.1.0.1\","
    " \"podIPs\":[{\"ip\":\"10.1.0.1\"}],\"startTime\":\"2024-01-01T00:00:00Z\","
    " \"initContainerStatuses\":[{\"name\":\"init\",\"state\":{\"terminated\":{\"exitCode\":0,"
    "   \"signal\":0,\"reason\":\"Completed\",\"message\":\"\",\"startedAt\":null,"
    "   \"finishedAt\":null,\"containerID\":\"x\"}},\"ready\":true,\"restartCount\":0,"
    "   \"image\":\"busybox\",\"imageID\":\"x\"}],"
    " \"containerStatuses\":[{\"name\":\"c\",\"state\":{\"running\":{\"startedAt\":"
    "   \"2024-01-01T00:00:00Z\"}},\"lastState\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\","
    "   \"message\":\"m\"}},\"ready\":true,\"restartCount\":1,\"image\":\"nginx\","
    "   \"imageID\":\"sha\",\"containerID\":\"containerd://x\",\"started\":true,"
    "   \"allocatedResources\":{\"cpu\":\"1\"},\"resources\":{\"limits\":{\"cpu\":\"1\"}},"
    "   \"volumeMounts\":[{\"name\":\"cm\",\"mountPath\":\"/cm\",\"readOnly\":true,"
    "   \"recursiveReadOnly\":\"Disabled\"}],\"user\":{\"linux\":{\"uid\":0,\"gid\":0,"
    "   \"supplementalGroups\":[1]}},\"allocatedResourcesStatus\":[{\"name\":\"claim:x\","
    "   \"resources\":[{\"resourceID\":\"r\",\"health\":\"Healthy\"}]}],"
    "   \"stopSignal\":\"SIGTERM\"}],"
    " \"qosClass\":\"Burstable\",\"ephemeralContainerStatuses\":[],\"resize\":\"\","
    " \"resourceClaimStatuses\":[{\"name\":\"gpu\",\"resourceClaimName\":\"c\"}]}}";

/* Unknown-field paths of text as kind, compared with the NULL-terminated expected list. */
static void check_unknown(const struct kos_kind *kind, const char *text, const char *const *want)
{
    json_auto_t *obj = parse(text);
    char **paths = NULL;
    size_t nwant = 0;
    int n = schema_unknown_fields(kind, obj, &paths);

    while (want[nwant])
        nwant++;
    assert_true(n >= 0);
    for (int i = 0; i < n; i++)
        if ((size_t)i >= nwant || strcmp(paths[i], want[i]) != 0)
            fail_msg("path %d: got \"%s\", want \"%s\"", i, paths[i],
                     (size_t)i < nwant ? want[i] : "(none)");
    assert_int_equal(n, nwant);
    schema_paths_free(paths, (size_t)n);
}

#define NONE       ((const char *const[]){NULL})
#define PATHS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_full_pod_is_known(void **state)
{
    check_unknown(&pod_kind, full_pod, NONE);
}

static void test_misspelled_fields(void **state)
{
    check_unknown(
        &pod_kind,
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labelz\":{}},"
        "\"spec\":{\"foo\":1,"
        " \"volumes\":[{\"name\":\"v\",\"configMap\":{\"name\":\"c\",\"items\":[{\"keyy\":\"k\","
        "   \"path\":\"p\"}]}}],"
        " \"containers\":[{\"name\":\"a\",\"Image\":\"x\"},"
        "  {\"name\":\"b\",\"imagee\":\"x\",\"resources\":{\"limitz\":{\"cpu\":\"1\"},"
        "   \"limits\":{\"bogus\":\"1\"}},\"ports\":[{\"containerport\":80}],"
        "   \"env\":[{\"name\":\"A\",\"valueFrom\":{\"fieldRef\":{\"fieldpath\":\"x\"}}}]}],"
        " \"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
        "   "
        "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"k\",\"operater\":\"In\"}]}]}},"
        "  \"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{"
        "   \"weight\":1,\"podAffinityTerm\":{\"topologyKeyy\":\"z\",\"labelSelector\":"
        "   {\"matchLabelz\":{}}}}]}}},"
        "\"extra\":true,\"status\":{\"phasee\":\"x\",\"containerStatuses\":[{\"state\":"
        " {\"running\":{\"startedAt\":null,\"x\":1}}}]}}",
        PATHS("metadata.labelz", "spec.foo", "spec.volumes[0].configMap.items[0].keyy",
              "spec.containers[0].Image", "spec.containers[1].imagee",
              "spec.containers[1].resources.limitz", "spec.containers[1].ports[0].containerport",
              "spec.containers[1].env[0].valueFrom.fieldRef.fieldpath",
              "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
              "nodeSelectorTerms[0].matchExpressions[0].operater",
              "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]."
              "podAffinityTerm.topologyKeyy",
              "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]."
              "podAffinityTerm.labelSelector.matchLabelz",
              "extra", "status.phasee", "status.containerStatuses[0].state.running.x"));
}

static void test_prune_removes_unknown_fields(void **state)
{
    json_error_t jerr;
    json_t *obj = json_loads(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labelz\":1,"
        "\"labels\":{\"keep\":\"me\"}},\"spec\":{\"foo\":1,\"containers\":[{\"name\":\"a\","
        "\"image\":\"x\",\"imagee\":\"y\"}]},\"extra\":true}",
        0, &jerr);
    json_t *want =
        json_loads("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                   "\"labels\":{\"keep\":\"me\"}},\"spec\":{\"containers\":[{\"name\":\"a\","
                   "\"image\":\"x\"}]}}",
                   0, &jerr);
    assert_non_null(obj);
    assert_non_null(want);
    char **paths = NULL;
    int n = schema_prune_unknown_fields(&pod_kind, obj, &paths);
    assert_int_equal(n, 4);
    assert_string_equal(paths[0], "metadata.labelz");
    assert_string_equal(paths[3], "extra");
    assert_true(json_equal(obj, want));
    schema_paths_free(paths, (size_t)n);
    json_decref(obj);
    json_decref(want);
}

static void test_nothing_below_unknown_or_free_form(void **state)
{
    /* Under an unknown key nothing more is reported; map keys, quantities, fieldsV1 and the
     * data of a ConfigMap are free. */
    static const struct kos_kind cm = {.group = "", .version = "v1", .kind = "ConfigMap"};

    check_unknown(&pod_kind,
                  "{\"metadata\":{\"labels\":{\"Name\":\"x\",\"a/b\":\"c\"},\"annotations\":"
                  "{\"imagee\":\"x\"},\"managedFields\":[{\"fieldsV1\":{\"f:spec\":{\"x\":{}}}}]},"
                  "\"spec\":{\"nodeSelector\":{\"foo\":\"bar\"},\"overhead\":{\"x\":\"1\"},"
                  "\"bogus\":{\"deeper\":{\"still\":1}},\"containers\":[{\"resources\":{"
                  "\"limits\":{\"anything\":\"1\"},\"requests\":{\"x\":{\"y\":1}}}}]}}",
                  PATHS("spec.bogus"));
    check_unknown(&cm,
                  "{\"data\":{\"spec\":\"x\",\"a.b\":\"c\"},\"binaryData\":{\"x\":\"AA==\"},"
                  "\"immutable\":true,\"stringData\":{}}",
                  PATHS("stringData"));
}

static void test_type_mismatch_does_not_crash(void **state)
{
    check_unknown(&pod_kind, "{\"spec\":\"x\",\"metadata\":[1,2]}", NONE);
    check_unknown(&pod_kind, "{\"spec\":{\"containers\":{\"a\":{\"b\":1}}}}", NONE);
    check_unknown(&pod_kind, "{\"spec\":{\"containers\":[1,null,\"x\",[{\"q\":1}],{\"q\":2}]}}",
                  PATHS("spec.containers[4].q"));
    check_unknown(&pod_kind, "{\"spec\":null,\"status\":{\"conditions\":null}}", NONE);
    check_unknown(&pod_kind, "[{\"a\":1}]", NONE);
}

static void test_deployment_template_and_service(void **state)
{
    check_unknown(
        &deployment_kind,
        "{\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
        "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":\"25%\","
        "\"maxUnavailable\":0,\"maxUnavail\":1}},\"template\":{\"metadata\":{\"labels\":"
        "{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"imagee\":\"x\"}]}}},"
        "\"status\":{\"replicas\":1,\"conditions\":[{\"type\":\"Available\","
        "\"lastUpdateTime\":null,\"x\":1}]}}",
        PATHS("spec.strategy.rollingUpdate.maxUnavail", "spec.template.spec.containers[0].imagee",
              "status.conditions[0].x"));
    check_unknown(
        &service_kind,
        "{\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[{\"port\":80,\"targetPort\":"
        "\"http\",\"nodePort\":30000,\"appProtocol\":\"h2c\",\"containerPort\":1}],"
        "\"selector\":{\"x\":\"y\"},\"clusterIPs\":[\"10.0.0.1\"],\"ipFamilies\":"
        "[\"IPv4\"],\"ipFamilyPolicy\":\"SingleStack\",\"sessionAffinityConfig\":"
        "{\"clientIP\":{\"timeoutSeconds\":10}},\"trafficDistribution\":\"PreferClose\"},"
        "\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"1.2.3.4\",\"ipMode\":\"VIP\","
        "\"ports\":[{\"port\":80,\"protocol\":\"TCP\",\"error\":null,\"x\":1}]}]}}}",
        PATHS("spec.ports[0].containerPort", "status.loadBalancer.ingress[0].ports[0].x"));
}

static void test_limit_and_dedupe(void **state)
{
    json_auto_t *obj = json_object();
    json_t *spec = json_object();
    char **paths = NULL;
    char key[32];
    int n;

    assert_non_null(obj);
    assert_non_null(spec);
    assert_int_equal(json_object_set_new(obj, "spec", spec), 0);
    for (int i = 0; i < 150; i++) {
        snprintf(key, sizeof(key), "x%d", i);
        assert_int_equal(json_object_set_new(spec, key, json_true()), 0);
    }
    n = schema_unknown_fields(&pod_kind, obj, &paths);
    assert_int_equal(n, SCHEMA_MAX_UNKNOWN_FIELDS);
    assert_string_equal(paths[0], "spec.x0");
    assert_string_equal(paths[99], "spec.x99");
    schema_paths_free(paths, (size_t)n);

    /* Distinct keys that spell the same path are reported once. */
    check_unknown(&pod_kind, "{\"spec\":{\"a.b\":1,\"a\":{}},\"spec.a.b\":1}",
                  PATHS("spec.a.b", "spec.a"));
}

static void test_unknown_kind_and_no_schema(void **state)
{
    static const struct kos_kind crd = {.group = "example.com", .version = "v1", .kind = "Foo"};
    static const struct kos_kind v2 = {.group = "apps", .version = "v2", .kind = "Deployment"};
    json_auto_t *obj = parse("{\"anything\":{\"goes\":1}}");
    char **paths = (char **)(uintptr_t)1;

    assert_null(schema_for_kind(&crd));
    assert_null(schema_for_kind(&v2));
    assert_null(schema_for_kind(NULL));
    assert_int_equal(schema_unknown_fields(&crd, obj, &paths), 0);
    schema_paths_free(paths, 0);
    assert_int_equal(schema_unknown_fields_in(NULL, obj, &paths), 0);
    schema_paths_free(paths, 0);
    assert_int_equal(schema_unknown_fields(&pod_kind, obj, NULL), -EINVAL);
}

static void test_every_kind_has_a_schema(void **state)
{
    static const char *const kinds[][2] = {
        {"", "Namespace"},
        {"", "Pod"},
        {"", "Node"},
        {"", "ConfigMap"},
        {"", "Secret"},
        {"", "ServiceAccount"},
        {"", "Service"},
        {"", "Endpoints"},
        {"", "Event"},
        {"", "PersistentVolume"},
        {"", "PersistentVolumeClaim"},
        {"", "Binding"},
        {"apps", "Deployment"},
        {"apps", "ReplicaSet"},
        {"apps", "StatefulSet"},
        {"apps", "DaemonSet"},
        {"batch", "Job"},
        {"policy", "PodDisruptionBudget"},
        {"storage.k8s.io", "StorageClass"},
        {"scheduling.k8s.io", "PriorityClass"},
        {"coordination.k8s.io", "Lease"},
        {"rbac.authorization.k8s.io", "Role"},
        {"rbac.authorization.k8s.io", "RoleBinding"},
        {"rbac.authorization.k8s.io", "ClusterRole"},
        {"rbac.authorization.k8s.io", "ClusterRoleBinding"},
        {"autoscaling", "Scale"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        struct kos_kind k = {.group = kinds[i][0], .version = "v1", .kind = kinds[i][1]};
        const struct schema_struct *s = schema_for_kind(&k);

        if (!s)
            fail_msg("no schema for %s/%s", kinds[i][0], kinds[i][1]);
        assert_non_null(s->description);
        assert_non_null(schema_struct_field(s, "apiVersion"));
        assert_non_null(schema_struct_field(s, "kind"));
        assert_ptr_equal(schema_node_struct(&schema_struct_field(s, "metadata")->node),
                         schema_struct_by_name("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
        assert_ptr_equal(schema_for_group_kind(kinds[i][0], NULL, kinds[i][1]), s);
    }
}

static void test_lookups_by_name(void **state)
{
    const struct schema_struct *binding = schema_struct_by_name("io.k8s.api.core.v1.Binding");
    const struct schema_struct *scale = schema_struct_by_name("io.k8s.api.autoscaling.v1.Scale");
    const struct schema_struct *del =
        schema_struct_by_name("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions");
    json_auto_t *body =
        parse("{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\",\"gracePeriodSeconds\":0,"
              "\"preconditions\":{\"uid\":\"u\",\"resourceVersion\":\"1\",\"x\":1},"
              "\"orphanDependents\":false,\"propagationPolicy\":\"Foreground\","
              "\"dryRun\":[\"All\"],\"grace\":1}");
    char **paths = NULL;
    int n;

    assert_non_null(binding);
    assert_non_null(schema_field_at_path(binding, "target.fieldPath"));
    assert_non_null(schema_field_at_path(binding, "metadata.name"));
    assert_null(schema_struct_field(binding, "spec"));
    assert_non_null(scale);
    assert_int_equal(schema_field_at_path(scale, "spec.replicas")->node.type, SCHEMA_INTEGER);
    assert_int_equal(schema_field_at_path(scale, "status.selector")->node.type, SCHEMA_STRING);
    assert_non_null(del);
    n = schema_unknown_fields_in(del, body, &paths);
    assert_int_equal(n, 2);
    assert_string_equal(paths[0], "preconditions.x");
    assert_string_equal(paths[1], "grace");
    schema_paths_free(paths, (size_t)n);
    assert_null(schema_struct_by_name("io.k8s.api.core.v1.Nope"));
    assert_null(schema_struct_by_name(NULL));
}

static void check_patch(const struct kos_kind *kind, const char *path, const char *key,
                        const char *strategy)
{
    const struct schema_field *f = schema_field_at_path(schema_for_kind(kind), path);

    if (!f)
        fail_msg("no field %s", path);
    if (key)
        assert_string_equal(f->patch_merge_key, key);
    else
        assert_null(f->patch_merge_key);
    if (strategy)
        assert_string_equal(f->patch_strategy, strategy);
    else
        assert_null(f->patch_strategy);
}

static void test_merge_keys(void **state)
{
    static const struct kos_kind node = {.group = "", .version = "v1", .kind = "Node"};
    static const struct kos_kind job = {.group = "batch", .version = "v1", .kind = "Job"};

    check_patch(&pod_kind, "spec.containers", "name", "merge");
    check_patch(&pod_kind, "spec.initContainers", "name", "merge");
    check_patch(&pod_kind, "spec.ephemeralContainers", "name", "merge");
    check_patch(&pod_kind, "spec.containers.ports", "containerPort", "merge");
    check_patch(&service_kind, "spec.ports", "port", "merge");
    check_patch(&pod_kind, "spec.containers.volumeMounts", "mountPath", "merge");
    check_patch(&pod_kind, "spec.containers.env", "name", "merge");
    check_patch(&pod_kind, "spec.ephemeralContainers.env", "name", "merge");
    check_patch(&pod_kind, "spec.volumes", "name", "merge,retainKeys");
    check_patch(&pod_kind, "spec.tolerations", NULL, NULL);
    check_patch(&pod_kind, "metadata.finalizers", NULL, "merge");
    check_patch(&pod_kind, "metadata.ownerReferences", "uid", "merge");
    check_patch(&pod_kind, "status.conditions", "type", "merge");
    check_patch(&node, "status.conditions", "type", "merge");
    check_patch(&node, "status.addresses", "type", "merge");
    check_patch(&node, "spec.taints", NULL, NULL);
    check_patch(&deployment_kind, "spec.template.spec.containers", "name", "merge");
    check_patch(&deployment_kind, "spec.strategy", NULL, "retainKeys");
    check_patch(&deployment_kind, "status.conditions", "type", "merge");
    check_patch(&job, "spec.template.spec.volumes", "name", "merge,retainKeys");
    assert_null(schema_field_at_path(schema_for_kind(&pod_kind), "spec.containers.imagee"));
}

static void test_types_and_protobuf(void **state)
{
    const struct schema_struct *pod = schema_for_kind(&pod_kind);
    const struct schema_field *f;

    f = schema_field_at_path(pod, "spec.containers.resources.limits");
    assert_int_equal(f->node.type, SCHEMA_MAP);
    assert_int_equal(f->node.items->type, SCHEMA_QUANTITY);
    f = schema_field_at_path(pod, "spec.containers.ports.containerPort");
    assert_int_equal(f->node.type, SCHEMA_INTEGER);
    assert_string_equal(f->node.format, "int32");
    assert_int_equal(f->proto_tag, 3);
    f = schema_field_at_path(pod, "spec.containers.livenessProbe.httpGet.port");
    assert_int_equal(f->node.type, SCHEMA_INT_OR_STRING);
    f = schema_field_at_path(pod, "metadata.creationTimestamp");
    assert_int_equal(f->node.type, SCHEMA_TIME);
    f = schema_field_at_path(pod, "metadata.managedFields.fieldsV1");
    assert_int_equal(f->node.type, SCHEMA_ANY);
    /* apiVersion and kind are not in the protobuf message; inline structs nest. */
    assert_int_equal(schema_struct_field(pod, "kind")->proto_tag, 0);
    assert_int_equal(schema_struct_field(pod, "spec")->proto_tag, 2);
    f = schema_field_at_path(pod, "spec.volumes.emptyDir");
    assert_int_equal(f->proto_inline, 2);
    assert_int_equal(f->proto_tag, 2);
    f = schema_field_at_path(pod, "spec.volumes.name");
    assert_int_equal(f->proto_inline, 0);
    assert_int_equal(f->proto_tag, 1);
    f = schema_field_at_path(pod, "spec.containers.readinessProbe.exec");
    assert_int_equal(f->proto_inline, 1);
    static const struct kos_kind secret = {.group = "", .version = "v1", .kind = "Secret"};
    f = schema_field_at_path(schema_for_kind(&secret), "data");
    assert_string_equal(f->node.items->format, "byte");
    assert_null(schema_field_at_path(pod, "spec..containers"));
    assert_null(schema_field_at_path(pod, "spec.nodeName.x"));
    assert_null(schema_field_at_path(pod, ""));
}

/* Every struct is well formed: resolvable by its name, unique field names, complete nodes. */
static void check_node(const struct schema_node *n)
{
    switch (n->type) {
    case SCHEMA_OBJECT:
        assert_non_null(n->ref);
        break;
    case SCHEMA_ARRAY:
    case SCHEMA_MAP:
        assert_non_null(n->items);
        check_node(n->items);
        break;
    default:
        assert_null(n->ref);
        assert_null(n->items);
    }
}

static void test_tables_well_formed(void **state)
{
    size_t count = schema_struct_count();

    assert_true(count > 200);
    assert_null(schema_struct_at(count));
    for (size_t i = 0; i < count; i++) {
        const struct schema_struct *s = schema_struct_at(i);

        assert_non_null(s);
        assert_ptr_equal(schema_struct_by_name(s->name), s);
        assert_true(s->nfields > 0);
        for (size_t a = 0; a < s->nfields; a++) {
            check_node(&s->fields[a].node);
            for (size_t b = a + 1; b < s->nfields; b++)
                if (strcmp(s->fields[a].name, s->fields[b].name) == 0)
                    fail_msg("%s: field %s twice", s->name, s->fields[a].name);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_pod_is_known),
        cmocka_unit_test(test_misspelled_fields),
        cmocka_unit_test(test_prune_removes_unknown_fields),
        cmocka_unit_test(test_nothing_below_unknown_or_free_form),
        cmocka_unit_test(test_type_mismatch_does_not_crash),
        cmocka_unit_test(test_deployment_template_and_service),
        cmocka_unit_test(test_limit_and_dedupe),
        cmocka_unit_test(test_unknown_kind_and_no_schema),
        cmocka_unit_test(test_every_kind_has_a_schema),
        cmocka_unit_test(test_lookups_by_name),
        cmocka_unit_test(test_merge_keys),
        cmocka_unit_test(test_types_and_protobuf),
        cmocka_unit_test(test_tables_well_formed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
