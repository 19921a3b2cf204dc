/* Field tables of core/v1 other than pod specs, after k8s.io/api v0.33: JSON names, types,
 * strategic merge patch tags and protobuf field numbers, in the order of the Go types. */
#include "api/schema_tables.h"

static const struct schema_struct schema_core_namespace_spec;
static const struct schema_struct schema_core_namespace_status;
static const struct schema_struct schema_core_namespace_condition;
static const struct schema_struct schema_core_pod_condition;
static const struct schema_struct schema_core_host_ip;
static const struct schema_struct schema_core_pod_ip;
static const struct schema_struct schema_core_container_status;
static const struct schema_struct schema_core_container_state;
static const struct schema_struct schema_core_container_state_waiting;
static const struct schema_struct schema_core_container_state_running;
static const struct schema_struct schema_core_container_state_terminated;
static const struct schema_struct schema_core_volume_mount_status;
static const struct schema_struct schema_core_container_user;
static const struct schema_struct schema_core_linux_container_user;
static const struct schema_struct schema_core_resource_status;
static const struct schema_struct schema_core_resource_health;
static const struct schema_struct schema_core_pod_resource_claim_status;
static const struct schema_struct schema_core_node_spec;
static const struct schema_struct schema_core_taint;
static const struct schema_struct schema_core_node_config_source;
static const struct schema_struct schema_core_config_map_node_config_source;
static const struct schema_struct schema_core_node_status;
static const struct schema_struct schema_core_node_condition;
static const struct schema_struct schema_core_node_address;
static const struct schema_struct schema_core_node_daemon_endpoints;
static const struct schema_struct schema_core_daemon_endpoint;
static const struct schema_struct schema_core_node_system_info;
static const struct schema_struct schema_core_node_swap_status;
static const struct schema_struct schema_core_container_image;
static const struct schema_struct schema_core_attached_volume;
static const struct schema_struct schema_core_node_config_status;
static const struct schema_struct schema_core_node_runtime_handler;
static const struct schema_struct schema_core_node_runtime_handler_features;
static const struct schema_struct schema_core_node_features;
static const struct schema_struct schema_core_service_spec;
static const struct schema_struct schema_core_service_port;
static const struct schema_struct schema_core_session_affinity_config;
static const struct schema_struct schema_core_client_ip_config;
static const struct schema_struct schema_core_service_status;
static const struct schema_struct schema_core_load_balancer_status;
static const struct schema_struct schema_core_load_balancer_ingress;
static const struct schema_struct schema_core_port_status;
static const struct schema_struct schema_core_endpoint_subset;
static const struct schema_struct schema_core_endpoint_address;
static const struct schema_struct schema_core_endpoint_port;
static const struct schema_struct schema_core_event_source;
static const struct schema_struct schema_core_event_series;
static const struct schema_struct schema_core_persistent_volume_spec;
static const struct schema_struct schema_core_volume_node_affinity;
static const struct schema_struct schema_core_persistent_volume_status;
static const struct schema_struct schema_core_persistent_volume_claim_status;
static const struct schema_struct schema_core_persistent_volume_claim_condition;
static const struct schema_struct schema_core_modify_volume_status;
static const struct schema_struct schema_core_topology_selector_label_requirement;

static const struct schema_field core_namespace_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_core_namespace_spec),
    F_OBJ("status", 3, &schema_core_namespace_status),
    /* clang-format on */
};
const struct schema_struct schema_core_namespace =
    S("io.k8s.api.core.v1.Namespace", core_namespace_fields,
      "A scope for names of namespaced objects.");

static const struct schema_field core_namespace_spec_fields[] = {
    /* clang-format off */
    F_ARR_STR("finalizers", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_namespace_spec =
    S("io.k8s.api.core.v1.NamespaceSpec", core_namespace_spec_fields, NULL);

static const struct schema_field core_namespace_status_fields[] = {
    /* clang-format off */
    F_STR("phase", 1),
    F_PATCH("conditions", 2, "type", "merge", N_ARR(N_OBJ(&schema_core_namespace_condition))),
    /* clang-format on */
};
static const struct schema_struct schema_core_namespace_status =
    S("io.k8s.api.core.v1.NamespaceStatus", core_namespace_status_fields, NULL);

static const struct schema_field core_namespace_condition_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("status", 2),
    F_TIME("lastTransitionTime", 4),
    F_STR("reason", 5),
    F_STR("message", 6),
    /* clang-format on */
};
static const struct schema_struct schema_core_namespace_condition =
    S("io.k8s.api.core.v1.NamespaceCondition", core_namespace_condition_fields, NULL);

static const struct schema_field core_pod_status_fields[] = {
    /* clang-format off */
    F_I64("observedGeneration", 17),
    F_STR("phase", 1),
    F_PATCH("conditions", 2, "type", "merge", N_ARR(N_OBJ(&schema_core_pod_condition))),
    F_STR("message", 3),
    F_STR("reason", 4),
    F_STR("nominatedNodeName", 11),
    F_STR("hostIP", 5),
    F_PATCH("hostIPs", 16, "ip", "merge", N_ARR(N_OBJ(&schema_core_host_ip))),
    F_STR("podIP", 6),
    F_PATCH("podIPs", 12, "ip", "merge", N_ARR(N_OBJ(&schema_core_pod_ip))),
    F_TIME("startTime", 7),
    F_ARR_OBJ("initContainerStatuses", 10, &schema_core_container_status),
    F_ARR_OBJ("containerStatuses", 8, &schema_core_container_status),
    F_STR("qosClass", 9),
    F_ARR_OBJ("ephemeralContainerStatuses", 13, &schema_core_container_status),
    F_STR("resize", 14),
    F_PATCH("resourceClaimStatuses", 15, "name", "merge,retainKeys",
            N_ARR(N_OBJ(&schema_core_pod_resource_claim_status))),
    /* clang-format on */
};
const struct schema_struct schema_core_pod_status =
    S("io.k8s.api.core.v1.PodStatus", core_pod_status_fields, NULL);

static const struct schema_field core_pod_condition_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_I64("observedGeneration", 7),
    F_STR("status", 2),
    F_TIME("lastProbeTime", 3),
    F_TIME("lastTransitionTime", 4),
    F_STR("reason", 5),
    F_STR("message", 6),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_condition =
    S("io.k8s.api.core.v1.PodCondition", core_pod_condition_fields, NULL);

static const struct schema_field core_host_ip_fields[] = {
    /* clang-format off */
    F_STR("ip", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_host_ip =
    S("io.k8s.api.core.v1.HostIP", core_host_ip_fields, NULL);

static const struct schema_field core_pod_ip_fields[] = {
    /* clang-format off */
    F_STR("ip", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_ip =
    S("io.k8s.api.core.v1.PodIP", core_pod_ip_fields, NULL);

static const struct schema_field core_container_status_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_OBJ("state", 2, &schema_core_container_state),
    F_OBJ("lastState", 3, &schema_core_container_state),
    F_BOOL("ready", 4),
    F_I32("restartCount", 5),
    F_STR("image", 6),
    F_STR("imageID", 7),
    F_STR("containerID", 8),
    F_BOOL("started", 9),
    F_MAP_QTY("allocatedResources", 10),
    F_OBJ("resources", 11, &schema_core_resource_requirements),
    F_PATCH("volumeMounts", 12, "mountPath", "merge",
            N_ARR(N_OBJ(&schema_core_volume_mount_status))),
    F_OBJ("user", 13, &schema_core_container_user),
    F_PATCH("allocatedResourcesStatus", 14, "name", "merge",
            N_ARR(N_OBJ(&schema_core_resource_status))),
    F_STR("stopSignal", 15),
    /* clang-format on */
};
static const struct schema_struct schema_core_container_status =
    S("io.k8s.api.core.v1.ContainerStatus", core_container_status_fields, NULL);

static const struct schema_field core_container_state_fields[] = {
    /* clang-format off */
    F_OBJ("waiting", 1, &schema_core_container_state_waiting),
    F_OBJ("running", 2, &schema_core_container_state_running),
    F_OBJ("terminated", 3, &schema_core_container_state_terminated),
    /* clang-format on */
};
static const struct schema_struct schema_core_container_state =
    S("io.k8s.api.core.v1.ContainerState", core_container_state_fields, NULL);

static const struct schema_field core_container_state_waiting_fields[] = {
    /* clang-format off */
    F_STR("reason", 1),
    F_STR("message", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_container_state_waiting =
    S("io.k8s.api.core.v1.ContainerStateWaiting", core_container_state_waiting_fields, NULL);

static const struct schema_field core_container_state_running_fields[] = {
    /* clang-format off */
    F_TIME("startedAt", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_container_state_running =
    S("io.k8s.api.core.v1.ContainerStateRunning", core_container_state_running_fields, NULL);

static const struct schema_field core_container_state_terminated_fields[] = {
    /* clang-format off */
    F_I32("exitCode", 1),
    F_I32("signal", 2),
    F_STR("reason", 3),
    F_STR("message", 4),
    F_TIME("startedAt", 5),
    F_TIME("finishedAt", 6),
    F_STR("containerID", 7),
    /* clang-format on */
};
static const struct schema_struct schema_core_container_state_terminated =
    S("io.k8s.api.core.v1.ContainerStateTerminated", core_container_state_terminated_fields, NULL);

static const struct schema_field core_volume_mount_status_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("mountPath", 2),
    F_BOOL("readOnly", 3),
    F_STR("recursiveReadOnly", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_volume_mount_status =
    S("io.k8s.api.core.v1.VolumeMountStatus", core_volume_mount_status_fields, NULL);

static const struct schema_field core_container_user_fields[] = {
    /* clang-format off */
    F_OBJ("linux", 1, &schema_core_linux_container_user),
    /* clang-format on */
};
static const struct schema_struct schema_core_container_user =
    S("io.k8s.api.core.v1.ContainerUser", core_container_user_fields, NULL);

static const struct schema_field core_linux_container_user_fields[] = {
    /* clang-format off */
    F_I64("uid", 1),
    F_I64("gid", 2),
    F_ARR_I64("supplementalGroups", 3),
    /* clang-format on */
};
static const struct schema_struct schema_core_linux_container_user =
    S("io.k8s.api.core.v1.LinuxContainerUser", core_linux_container_user_fields, NULL);

static const struct schema_field core_resource_status_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_ARR_OBJ("resources", 2, &schema_core_resource_health),
    /* clang-format on */
};
static const struct schema_struct schema_core_resource_status =
    S("io.k8s.api.core.v1.ResourceStatus", core_resource_status_fields, NULL);

static const struct schema_field core_resource_health_fields[] = {
    /* clang-format off */
    F_STR("resourceID", 1),
    F_STR("health", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_resource_health =
    S("io.k8s.api.core.v1.ResourceHealth", core_resource_health_fields, NULL);

static const struct schema_field core_pod_resource_claim_status_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("resourceClaimName", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_resource_claim_status =
    S("io.k8s.api.core.v1.PodResourceClaimStatus", core_pod_resource_claim_status_fields, NULL);

static const struct schema_field core_node_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_core_node_spec),
    F_OBJ("status", 3, &schema_core_node_status),
    /* clang-format on */
};
const struct schema_struct schema_core_node =
    S("io.k8s.api.core.v1.Node", core_node_fields, "A worker machine that runs pods.");

static const struct schema_field core_node_spec_fields[] = {
    /* clang-format off */
    F_STR("podCIDR", 1),
    F_PATCH("podCIDRs", 7, NULL, "merge", N_ARR(N_STR)),
    F_STR("providerID", 3),
    F_BOOL("unschedulable", 4),
    F_ARR_OBJ("taints", 5, &schema_core_taint),
    F_OBJ("configSource", 6, &schema_core_node_config_source),
    F_STR("externalID", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_spec =
    S("io.k8s.api.core.v1.NodeSpec", core_node_spec_fields, NULL);

static const struct schema_field core_taint_fields[] = {
    /* clang-format off */
    F_STR("key", 1),
    F_STR("value", 2),
    F_STR("effect", 3),
    F_TIME("timeAdded", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_taint =
    S("io.k8s.api.core.v1.Taint", core_taint_fields, NULL);

static const struct schema_field core_node_config_source_fields[] = {
    /* clang-format off */
    F_OBJ("configMap", 2, &schema_core_config_map_node_config_source),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_config_source =
    S("io.k8s.api.core.v1.NodeConfigSource", core_node_config_source_fields, NULL);

static const struct schema_field core_config_map_node_config_source_fields[] = {
    /* clang-format off */
    F_STR("namespace", 1),
    F_STR("name", 2),
    F_STR("uid", 3),
    F_STR("resourceVersion", 4),
    F_STR("kubeletConfigKey", 5),
    /* clang-format on */
};
static const struct schema_struct schema_core_config_map_node_config_source =
    S("io.k8s.api.core.v1.ConfigMapNodeConfigSource", core_config_map_node_config_source_fields,
      NULL);

static const struct schema_field core_node_status_fields[] = {
    /* clang-format off */
    F_MAP_QTY("capacity", 1),
    F_MAP_QTY("allocatable", 2),
    F_STR("phase", 3),
    F_PATCH("conditions", 4, "type", "merge", N_ARR(N_OBJ(&schema_core_node_condition))),
    F_PATCH("addresses", 5, "type", "merge", N_ARR(N_OBJ(&schema_core_node_address))),
    F_OBJ("daemonEndpoints", 6, &schema_core_node_daemon_endpoints),
    F_OBJ("nodeInfo", 7, &schema_core_node_system_info),
    F_ARR_OBJ("images", 8, &schema_core_container_image),
    F_ARR_STR("volumesInUse", 9),
    F_ARR_OBJ("volumesAttached", 10, &schema_core_attached_volume),
    F_OBJ("config", 11, &schema_core_node_config_status),
    F_ARR_OBJ("runtimeHandlers", 12, &schema_core_node_runtime_handler),
    F_OBJ("features", 13, &schema_core_node_features),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_status =
    S("io.k8s.api.core.v1.NodeStatus", core_node_status_fields, NULL);

static const struct schema_field core_node_condition_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("status", 2),
    F_TIME("lastHeartbeatTime", 3),
    F_TIME("lastTransitionTime", 4),
    F_STR("reason", 5),
    F_STR("message", 6),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_condition =
    S("io.k8s.api.core.v1.NodeCondition", core_node_condition_fields, NULL);

static const struct schema_field core_node_address_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("address", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_address =
    S("io.k8s.api.core.v1.NodeAddress", core_node_address_fields, NULL);

static const struct schema_field core_node_daemon_endpoints_fields[] = {
    /* clang-format off */
    F_OBJ("kubeletEndpoint", 1, &schema_core_daemon_endpoint),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_daemon_endpoints =
    S("io.k8s.api.core.v1.NodeDaemonEndpoints", core_node_daemon_endpoints_fields, NULL);

static const struct schema_field core_daemon_endpoint_fields[] = {
    /* clang-format off */
    F_I32("Port", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_daemon_endpoint =
    S("io.k8s.api.core.v1.DaemonEndpoint", core_daemon_endpoint_fields, NULL);

static const struct schema_field core_node_system_info_fields[] = {
    /* clang-format off */
    F_STR("machineID", 1),
    F_STR("systemUUID", 2),
    F_STR("bootID", 3),
    F_STR("kernelVersion", 4),
    F_STR("osImage", 5),
    F_STR("containerRuntimeVersion", 6),
    F_STR("kubeletVersion", 7),
    F_STR("kubeProxyVersion", 8),
    F_STR("operatingSystem", 9),
    F_STR("architecture", 10),
    F_OBJ("swap", 11, &schema_core_node_swap_status),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_system_info =
    S("io.k8s.api.core.v1.NodeSystemInfo", core_node_system_info_fields, NULL);

static const struct schema_field core_node_swap_status_fields[] = {
    /* clang-format off */
    F_I64("capacity", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_swap_status =
    S("io.k8s.api.core.v1.NodeSwapStatus", core_node_swap_status_fields, NULL);

static const struct schema_field core_container_image_fields[] = {
    /* clang-format off */
    F_ARR_STR("names", 1),
    F_I64("sizeBytes", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_container_image =
    S("io.k8s.api.core.v1.ContainerImage", core_container_image_fields, NULL);

static const struct schema_field core_attached_volume_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("devicePath", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_attached_volume =
    S("io.k8s.api.core.v1.AttachedVolume", core_attached_volume_fields, NULL);

static const struct schema_field core_node_config_status_fields[] = {
    /* clang-format off */
    F_OBJ("assigned", 1, &schema_core_node_config_source),
    F_OBJ("active", 2, &schema_core_node_config_source),
    F_OBJ("lastKnownGood", 3, &schema_core_node_config_source),
    F_STR("error", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_config_status =
    S("io.k8s.api.core.v1.NodeConfigStatus", core_node_config_status_fields, NULL);

static const struct schema_field core_node_runtime_handler_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_OBJ("features", 2, &schema_core_node_runtime_handler_features),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_runtime_handler =
    S("io.k8s.api.core.v1.NodeRuntimeHandler", core_node_runtime_handler_fields, NULL);

static const struct schema_field core_node_runtime_handler_features_fields[] = {
    /* clang-format off */
    F_BOOL("recursiveReadOnlyMounts", 1),
    F_BOOL("userNamespaces", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_runtime_handler_features =
    S("io.k8s.api.core.v1.NodeRuntimeHandlerFeatures", core_node_runtime_handler_features_fields,
      NULL);

static const struct schema_field core_node_features_fields[] = {
    /* clang-format off */
    F_BOOL("supplementalGroupsPolicy", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_features =
    S("io.k8s.api.core.v1.NodeFeatures", core_node_features_fields, NULL);

static const struct schema_field core_config_map_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_BOOL("immutable", 4),
    F_MAP_STR("data", 2),
    F_MAP_BYTES("binaryData", 3),
    /* clang-format on */
};
const struct schema_struct schema_core_config_map =
    S("io.k8s.api.core.v1.ConfigMap", core_config_map_fields,
      "Non-secret configuration data as key/value pairs.");

static const struct schema_field core_secret_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_BOOL("immutable", 5),
    F_MAP_BYTES("data", 2),
    F_MAP_STR("stringData", 4),
    F_STR("type", 3),
    /* clang-format on */
};
const struct schema_struct schema_core_secret =
    S("io.k8s.api.core.v1.Secret", core_secret_fields,
      "Sensitive data as key/value pairs, base64 encoded.");

static const struct schema_field core_service_account_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_PATCH("secrets", 2, "name", "merge", N_ARR(N_OBJ(&schema_core_object_reference))),
    F_ARR_OBJ("imagePullSecrets", 3, &schema_core_local_object_reference),
    F_BOOL("automountServiceAccountToken", 4),
    /* clang-format on */
};
const struct schema_struct schema_core_service_account =
    S("io.k8s.api.core.v1.ServiceAccount", core_service_account_fields,
      "An identity for processes that run in pods.");

static const struct schema_field core_object_reference_fields[] = {
    /* clang-format off */
    F_STR("kind", 1),
    F_STR("namespace", 2),
    F_STR("name", 3),
    F_STR("uid", 4),
    F_STR("apiVersion", 5),
    F_STR("resourceVersion", 6),
    F_STR("fieldPath", 7),
    /* clang-format on */
};
const struct schema_struct schema_core_object_reference =
    S("io.k8s.api.core.v1.ObjectReference", core_object_reference_fields, NULL);

static const struct schema_field core_service_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_core_service_spec),
    F_OBJ("status", 3, &schema_core_service_status),
    /* clang-format on */
};
const struct schema_struct schema_core_service =
    S("io.k8s.api.core.v1.Service", core_service_fields,
      "A stable name and address for a set of pods.");

static const struct schema_field core_service_spec_fields[] = {
    /* clang-format off */
    F_PATCH("ports", 1, "port", "merge", N_ARR(N_OBJ(&schema_core_service_port))),
    F_MAP_STR("selector", 2),
    F_STR("clusterIP", 3),
    F_ARR_STR("clusterIPs", 18),
    F_STR("type", 4),
    F_ARR_STR("externalIPs", 5),
    F_STR("sessionAffinity", 7),
    F_STR("loadBalancerIP", 8),
    F_ARR_STR("loadBalancerSourceRanges", 9),
    F_STR("externalName", 10),
    F_STR("externalTrafficPolicy", 11),
    F_I32("healthCheckNodePort", 12),
    F_BOOL("publishNotReadyAddresses", 13),
    F_OBJ("sessionAffinityConfig", 14, &schema_core_session_affinity_config),
    F_ARR_STR("ipFamilies", 19),
    F_STR("ipFamilyPolicy", 17),
    F_BOOL("allocateLoadBalancerNodePorts", 20),
    F_STR("loadBalancerClass", 21),
    F_STR("internalTrafficPolicy", 22),
    F_STR("trafficDistribution", 23),
    /* clang-format on */
};
static const struct schema_struct schema_core_service_spec =
    S("io.k8s.api.core.v1.ServiceSpec", core_service_spec_fields, NULL);

static const struct schema_field core_service_port_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("protocol", 2),
    F_STR("appProtocol", 6),
    F_I32("port", 3),
    F_IOS("targetPort", 4),
    F_I32("nodePort", 5),
    /* clang-format on */
};
static const struct schema_struct schema_core_service_port =
    S("io.k8s.api.core.v1.ServicePort", core_service_port_fields, NULL);

static const struct schema_field core_session_affinity_config_fields[] = {
    /* clang-format off */
    F_OBJ("clientIP", 1, &schema_core_client_ip_config),
    /* clang-format on */
};
static const struct schema_struct schema_core_session_affinity_config =
    S("io.k8s.api.core.v1.SessionAffinityConfig", core_session_affinity_config_fields, NULL);

static const struct schema_field core_client_ip_config_fields[] = {
    /* clang-format off */
    F_I32("timeoutSeconds", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_client_ip_config =
    S("io.k8s.api.core.v1.ClientIPConfig", core_client_ip_config_fields, NULL);

static const struct schema_field core_service_status_fields[] = {
    /* clang-format off */
    F_OBJ("loadBalancer", 1, &schema_core_load_balancer_status),
    F_PATCH("conditions", 2, "type", "merge", N_ARR(N_OBJ(&schema_meta_condition))),
    /* clang-format on */
};
static const struct schema_struct schema_core_service_status =
    S("io.k8s.api.core.v1.ServiceStatus", core_service_status_fields, NULL);

static const struct schema_field core_load_balancer_status_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("ingress", 1, &schema_core_load_balancer_ingress),
    /* clang-format on */
};
static const struct schema_struct schema_core_load_balancer_status =
    S("io.k8s.api.core.v1.LoadBalancerStatus", core_load_balancer_status_fields, NULL);

static const struct schema_field core_load_balancer_ingress_fields[] = {
    /* clang-format off */
    F_STR("ip", 1),
    F_STR("hostname", 2),
    F_STR("ipMode", 3),
    F_ARR_OBJ("ports", 4, &schema_core_port_status),
    /* clang-format on */
};
static const struct schema_struct schema_core_load_balancer_ingress =
    S("io.k8s.api.core.v1.LoadBalancerIngress", core_load_balancer_ingress_fields, NULL);

static const struct schema_field core_port_status_fields[] = {
    /* clang-format off */
    F_I32("port", 1),
    F_STR("protocol", 2),
    F_STR("error", 3),
    /* clang-format on */
};
static const struct schema_struct schema_core_port_status =
    S("io.k8s.api.core.v1.PortStatus", core_port_status_fields, NULL);

static const struct schema_field core_endpoints_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_ARR_OBJ("subsets", 2, &schema_core_endpoint_subset),
    /* clang-format on */
};
const struct schema_struct schema_core_endpoints =
    S("io.k8s.api.core.v1.Endpoints", core_endpoints_fields,
      "The addresses and ports that back a service.");

static const struct schema_field core_endpoint_subset_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("addresses", 1, &schema_core_endpoint_address),
    F_ARR_OBJ("notReadyAddresses", 2, &schema_core_endpoint_address),
    F_ARR_OBJ("ports", 3, &schema_core_endpoint_port),
    /* clang-format on */
};
static const struct schema_struct schema_core_endpoint_subset =
    S("io.k8s.api.core.v1.EndpointSubset", core_endpoint_subset_fields, NULL);

static const struct schema_field core_endpoint_address_fields[] = {
    /* clang-format off */
    F_STR("ip", 1),
    F_STR("hostname", 3),
    F_STR("nodeName", 4),
    F_OBJ("targetRef", 2, &schema_core_object_reference),
    /* clang-format on */
};
static const struct schema_struct schema_core_endpoint_address =
    S("io.k8s.api.core.v1.EndpointAddress", core_endpoint_address_fields, NULL);

static const struct schema_field core_endpoint_port_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_I32("port", 2),
    F_STR("protocol", 3),
    F_STR("appProtocol", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_endpoint_port =
    S("io.k8s.api.core.v1.EndpointPort", core_endpoint_port_fields, NULL);

static const struct schema_field core_event_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("involvedObject", 2, &schema_core_object_reference),
    F_STR("reason", 3),
    F_STR("message", 4),
    F_OBJ("source", 5, &schema_core_event_source),
    F_TIME("firstTimestamp", 6),
    F_TIME("lastTimestamp", 7),
    F_I32("count", 8),
    F_STR("type", 9),
    F_TIME("eventTime", 10),
    F_OBJ("series", 11, &schema_core_event_series),
    F_STR("action", 12),
    F_OBJ("related", 13, &schema_core_object_reference),
    F_STR("reportingComponent", 14),
    F_STR("reportingInstance", 15),
    /* clang-format on */
};
const struct schema_struct schema_core_event =
    S("io.k8s.api.core.v1.Event", core_event_fields,
      "A report of something that happened to an object.");

static const struct schema_field core_event_source_fields[] = {
    /* clang-format off */
    F_STR("component", 1),
    F_STR("host", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_event_source =
    S("io.k8s.api.core.v1.EventSource", core_event_source_fields, NULL);

static const struct schema_field core_event_series_fields[] = {
    /* clang-format off */
    F_I32("count", 1),
    F_TIME("lastObservedTime", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_event_series =
    S("io.k8s.api.core.v1.EventSeries", core_event_series_fields, NULL);

static const struct schema_field core_persistent_volume_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_core_persistent_volume_spec),
    F_OBJ("status", 3, &schema_core_persistent_volume_status),
    /* clang-format on */
};
const struct schema_struct schema_core_persistent_volume =
    S("io.k8s.api.core.v1.PersistentVolume", core_persistent_volume_fields,
      "A piece of storage provisioned in the cluster.");

static const struct schema_field core_persistent_volume_spec_fields[] = {
    /* clang-format off */
    F_MAP_QTY("capacity", 1),
    F_INLINE("gcePersistentDisk", 2, 1, NULL, NULL,
            N_OBJ(&schema_core_gce_persistent_disk_volume_source)),
    F_INLINE("awsElasticBlockStore", 2, 2, NULL, NULL,
            N_OBJ(&schema_core_aws_elastic_block_store_volume_source)),
    F_INLINE("hostPath", 2, 3, NULL, NULL, N_OBJ(&schema_core_host_path_volume_source)),
    F_INLINE("glusterfs", 2, 4, NULL, NULL, N_OBJ(&schema_core_glusterfs_persistent_volume_source)),
    F_INLINE("nfs", 2, 5, NULL, NULL, N_OBJ(&schema_core_nfs_volume_source)),
    F_INLINE("rbd", 2, 6, NULL, NULL, N_OBJ(&schema_core_rbd_persistent_volume_source)),
    F_INLINE("iscsi", 2, 7, NULL, NULL, N_OBJ(&schema_core_iscsi_persistent_volume_source)),
    F_INLINE("cinder", 2, 8, NULL, NULL, N_OBJ(&schema_core_cinder_persistent_volume_source)),
    F_INLINE("cephfs", 2, 9, NULL, NULL, N_OBJ(&schema_core_ceph_fs_persistent_volume_source)),
    F_INLINE("fc", 2, 10, NULL, NULL, N_OBJ(&schema_core_fc_volume_source)),
    F_INLINE("flocker", 2, 11, NULL, NULL, N_OBJ(&schema_core_flocker_volume_source)),
    F_INLINE("flexVolume", 2, 12, NULL, NULL, N_OBJ(&schema_core_flex_persistent_volume_source)),
    F_INLINE("azureFile", 2, 13, NULL, NULL,
            N_OBJ(&schema_core_azure_file_persistent_volume_source)),
    F_INLINE("vsphereVolume", 2, 14, NULL, NULL,
            N_OBJ(&schema_core_vsphere_virtual_disk_volume_source)),
    F_INLINE("quobyte", 2, 15, NULL, NULL, N_OBJ(&schema_core_quobyte_volume_source)),
    F_INLINE("azureDisk", 2, 16, NULL, NULL, N_OBJ(&schema_core_azure_disk_volume_source)),
    F_INLINE("photonPersistentDisk", 2, 17, NULL, NULL,
            N_OBJ(&schema_core_photon_persistent_disk_volume_source)),
    F_INLINE("portworxVolume", 2, 18, NULL, NULL, N_OBJ(&schema_core_portworx_volume_source)),
    F_INLINE("scaleIO", 2, 19, NULL, NULL, N_OBJ(&schema_core_scale_io_persistent_volume_source)),
    F_INLINE("local", 2, 20, NULL, NULL, N_OBJ(&schema_core_local_volume_source)),
    F_INLINE("storageos", 2, 21, NULL, NULL,
            N_OBJ(&schema_core_storage_os_persistent_volume_source)),
    F_INLINE("csi", 2, 22, NULL, NULL, N_OBJ(&schema_core_csi_persistent_volume_source)),
    F_ARR_STR("accessModes", 3),
    F_OBJ("claimRef", 4, &schema_core_object_reference),
    F_STR("persistentVolumeReclaimPolicy", 5),
    F_STR("storageClassName", 6),
    F_ARR_STR("mountOptions", 7),
    F_STR("volumeMode", 8),
    F_OBJ("nodeAffinity", 9, &schema_core_volume_node_affinity),
    F_STR("volumeAttributesClassName", 10),
    /* clang-format on */
};
static const struct schema_struct schema_core_persistent_volume_spec =
    S("io.k8s.api.core.v1.PersistentVolumeSpec", core_persistent_volume_spec_fields, NULL);

static const struct schema_field core_volume_node_affinity_fields[] = {
    /* clang-format off */
    F_OBJ("required", 1, &schema_core_node_selector),
    /* clang-format on */
};
static const struct schema_struct schema_core_volume_node_affinity =
    S("io.k8s.api.core.v1.VolumeNodeAffinity", core_volume_node_affinity_fields, NULL);

static const struct schema_field core_persistent_volume_status_fields[] = {
    /* clang-format off */
    F_STR("phase", 1),
    F_STR("message", 2),
    F_STR("reason", 3),
    F_TIME("lastPhaseTransitionTime", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_persistent_volume_status =
    S("io.k8s.api.core.v1.PersistentVolumeStatus", core_persistent_volume_status_fields, NULL);

static const struct schema_field core_persistent_volume_claim_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_core_persistent_volume_claim_spec),
    F_OBJ("status", 3, &schema_core_persistent_volume_claim_status),
    /* clang-format on */
};
const struct schema_struct schema_core_persistent_volume_claim =
    S("io.k8s.api.core.v1.PersistentVolumeClaim", core_persistent_volume_claim_fields,
      "A request for storage by a user.");

static const struct schema_field core_persistent_volume_claim_status_fields[] = {
    /* clang-format off */
    F_STR("phase", 1),
    F_ARR_STR("accessModes", 2),
    F_MAP_QTY("capacity", 3),
    F_PATCH("conditions", 4, "type", "merge",
            N_ARR(N_OBJ(&schema_core_persistent_volume_claim_condition))),
    F_MAP_QTY("allocatedResources", 5),
    F_MAP_STR("allocatedResourceStatuses", 7),
    F_STR("currentVolumeAttributesClassName", 8),
    F_OBJ("modifyVolumeStatus", 9, &schema_core_modify_volume_status),
    /* clang-format on */
};
static const struct schema_struct schema_core_persistent_volume_claim_status =
    S("io.k8s.api.core.v1.PersistentVolumeClaimStatus", core_persistent_volume_claim_status_fields,
      NULL);

static const struct schema_field core_persistent_volume_claim_condition_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("status", 2),
    F_TIME("lastProbeTime", 3),
    F_TIME("lastTransitionTime", 4),
    F_STR("reason", 5),
    F_STR("message", 6),
    /* clang-format on */
};
static const struct schema_struct schema_core_persistent_volume_claim_condition =
    S("io.k8s.api.core.v1.PersistentVolumeClaimCondition",
      core_persistent_volume_claim_condition_fields, NULL);

static const struct schema_field core_modify_volume_status_fields[] = {
    /* clang-format off */
    F_STR("targetVolumeAttributesClassName", 1),
    F_STR("status", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_modify_volume_status =
    S("io.k8s.api.core.v1.ModifyVolumeStatus", core_modify_volume_status_fields, NULL);

static const struct schema_field core_binding_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("target", 2, &schema_core_object_reference),
    /* clang-format on */
};
const struct schema_struct schema_core_binding =
    S("io.k8s.api.core.v1.Binding", core_binding_fields, "Binds a pod to a node (pods/binding).");

static const struct schema_field core_pod_template_spec_fields[] = {
    /* clang-format off */
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_core_pod_spec),
    /* clang-format on */
};
const struct schema_struct schema_core_pod_template_spec =
    S("io.k8s.api.core.v1.PodTemplateSpec", core_pod_template_spec_fields, NULL);

static const struct schema_field core_topology_selector_term_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("matchLabelExpressions", 1, &schema_core_topology_selector_label_requirement),
    /* clang-format on */
};
const struct schema_struct schema_core_topology_selector_term =
    S("io.k8s.api.core.v1.TopologySelectorTerm", core_topology_selector_term_fields, NULL);

static const struct schema_field core_topology_selector_label_requirement_fields[] = {
    /* clang-format off */
    F_STR("key", 1),
    F_ARR_STR("values", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_topology_selector_label_requirement =
    S("io.k8s.api.core.v1.TopologySelectorLabelRequirement",
      core_topology_selector_label_requirement_fields, NULL);

const struct schema_struct *const schema_core_structs[] = {
    &schema_core_namespace,
    &schema_core_namespace_spec,
    &schema_core_namespace_status,
    &schema_core_namespace_condition,
    &schema_core_pod_status,
    &schema_core_pod_condition,
    &schema_core_host_ip,
    &schema_core_pod_ip,
    &schema_core_container_status,
    &schema_core_container_state,
    &schema_core_container_state_waiting,
    &schema_core_container_state_running,
    &schema_core_container_state_terminated,
    &schema_core_volume_mount_status,
    &schema_core_container_user,
    &schema_core_linux_container_user,
    &schema_core_resource_status,
    &schema_core_resource_health,
    &schema_core_pod_resource_claim_status,
    &schema_core_node,
    &schema_core_node_spec,
    &schema_core_taint,
    &schema_core_node_config_source,
    &schema_core_config_map_node_config_source,
    &schema_core_node_status,
    &schema_core_node_condition,
    &schema_core_node_address,
    &schema_core_node_daemon_endpoints,
    &schema_core_daemon_endpoint,
    &schema_core_node_system_info,
    &schema_core_node_swap_status,
    &schema_core_container_image,
    &schema_core_attached_volume,
    &schema_core_node_config_status,
    &schema_core_node_runtime_handler,
    &schema_core_node_runtime_handler_features,
    &schema_core_node_features,
    &schema_core_config_map,
    &schema_core_secret,
    &schema_core_service_account,
    &schema_core_object_reference,
    &schema_core_service,
    &schema_core_service_spec,
    &schema_core_service_port,
    &schema_core_session_affinity_config,
    &schema_core_client_ip_config,
    &schema_core_service_status,
    &schema_core_load_balancer_status,
    &schema_core_load_balancer_ingress,
    &schema_core_port_status,
    &schema_core_endpoints,
    &schema_core_endpoint_subset,
    &schema_core_endpoint_address,
    &schema_core_endpoint_port,
    &schema_core_event,
    &schema_core_event_source,
    &schema_core_event_series,
    &schema_core_persistent_volume,
    &schema_core_persistent_volume_spec,
    &schema_core_volume_node_affinity,
    &schema_core_persistent_volume_status,
    &schema_core_persistent_volume_claim,
    &schema_core_persistent_volume_claim_status,
    &schema_core_persistent_volume_claim_condition,
    &schema_core_modify_volume_status,
    &schema_core_binding,
    &schema_core_pod_template_spec,
    &schema_core_topology_selector_term,
    &schema_core_topology_selector_label_requirement,
};
const size_t schema_core_nstructs = ARRAY_SIZE(schema_core_structs);
