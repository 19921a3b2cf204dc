/* Field tables of core/v1 pods and containers, after k8s.io/api v0.33: JSON names, types,
 * strategic merge patch tags and protobuf field numbers, in the order of the Go types. */
#include "api/schema_tables.h"

static const struct schema_struct schema_core_volume;
static const struct schema_struct schema_core_container;
static const struct schema_struct schema_core_container_port;
static const struct schema_struct schema_core_env_from_source;
static const struct schema_struct schema_core_config_map_env_source;
static const struct schema_struct schema_core_secret_env_source;
static const struct schema_struct schema_core_env_var;
static const struct schema_struct schema_core_env_var_source;
static const struct schema_struct schema_core_config_map_key_selector;
static const struct schema_struct schema_core_secret_key_selector;
static const struct schema_struct schema_core_resource_claim;
static const struct schema_struct schema_core_container_resize_policy;
static const struct schema_struct schema_core_volume_mount;
static const struct schema_struct schema_core_volume_device;
static const struct schema_struct schema_core_probe;
static const struct schema_struct schema_core_exec_action;
static const struct schema_struct schema_core_http_get_action;
static const struct schema_struct schema_core_http_header;
static const struct schema_struct schema_core_tcp_socket_action;
static const struct schema_struct schema_core_grpc_action;
static const struct schema_struct schema_core_lifecycle;
static const struct schema_struct schema_core_lifecycle_handler;
static const struct schema_struct schema_core_sleep_action;
static const struct schema_struct schema_core_security_context;
static const struct schema_struct schema_core_capabilities;
static const struct schema_struct schema_core_se_linux_options;
static const struct schema_struct schema_core_windows_security_context_options;
static const struct schema_struct schema_core_seccomp_profile;
static const struct schema_struct schema_core_app_armor_profile;
static const struct schema_struct schema_core_ephemeral_container;
static const struct schema_struct schema_core_pod_security_context;
static const struct schema_struct schema_core_sysctl;
static const struct schema_struct schema_core_affinity;
static const struct schema_struct schema_core_node_affinity;
static const struct schema_struct schema_core_node_selector_term;
static const struct schema_struct schema_core_node_selector_requirement;
static const struct schema_struct schema_core_preferred_scheduling_term;
static const struct schema_struct schema_core_pod_affinity;
static const struct schema_struct schema_core_pod_affinity_term;
static const struct schema_struct schema_core_weighted_pod_affinity_term;
static const struct schema_struct schema_core_pod_anti_affinity;
static const struct schema_struct schema_core_toleration;
static const struct schema_struct schema_core_host_alias;
static const struct schema_struct schema_core_pod_dns_config;
static const struct schema_struct schema_core_pod_dns_config_option;
static const struct schema_struct schema_core_pod_readiness_gate;
static const struct schema_struct schema_core_topology_spread_constraint;
static const struct schema_struct schema_core_pod_os;
static const struct schema_struct schema_core_pod_scheduling_gate;
static const struct schema_struct schema_core_pod_resource_claim;

static const struct schema_field core_pod_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_core_pod_spec),
    F_OBJ("status", 3, &schema_core_pod_status),
    /* clang-format on */
};
const struct schema_struct schema_core_pod =
    S("io.k8s.api.core.v1.Pod", core_pod_fields,
      "A group of containers scheduled together onto one node.");

static const struct schema_field core_pod_spec_fields[] = {
    /* clang-format off */
    F_PATCH("volumes", 1, "name", "merge,retainKeys", N_ARR(N_OBJ(&schema_core_volume))),
    F_PATCH("initContainers", 20, "name", "merge", N_ARR(N_OBJ(&schema_core_container))),
    F_PATCH("containers", 2, "name", "merge", N_ARR(N_OBJ(&schema_core_container))),
    F_PATCH("ephemeralContainers", 34, "name", "merge",
            N_ARR(N_OBJ(&schema_core_ephemeral_container))),
    F_STR("restartPolicy", 3),
    F_I64("terminationGracePeriodSeconds", 4),
    F_I64("activeDeadlineSeconds", 5),
    F_STR("dnsPolicy", 6),
    F_MAP_STR("nodeSelector", 7),
    F_STR("serviceAccountName", 8),
    F_STR("serviceAccount", 9),
    F_BOOL("automountServiceAccountToken", 21),
    F_STR("nodeName", 10),
    F_BOOL("hostNetwork", 11),
    F_BOOL("hostPID", 12),
    F_BOOL("hostIPC", 13),
    F_BOOL("shareProcessNamespace", 27),
    F_OBJ("securityContext", 14, &schema_core_pod_security_context),
    F_PATCH("imagePullSecrets", 15, "name", "merge",
            N_ARR(N_OBJ(&schema_core_local_object_reference))),
    F_STR("hostname", 16),
    F_STR("subdomain", 17),
    F_OBJ("affinity", 18, &schema_core_affinity),
    F_STR("schedulerName", 19),
    F_ARR_OBJ("tolerations", 22, &schema_core_toleration),
    F_PATCH("hostAliases", 23, "ip", "merge", N_ARR(N_OBJ(&schema_core_host_alias))),
    F_STR("priorityClassName", 24),
    F_I32("priority", 25),
    F_OBJ("dnsConfig", 26, &schema_core_pod_dns_config),
    F_ARR_OBJ("readinessGates", 28, &schema_core_pod_readiness_gate),
    F_STR("runtimeClassName", 29),
    F_BOOL("enableServiceLinks", 30),
    F_STR("preemptionPolicy", 31),
    F_MAP_QTY("overhead", 32),
    F_PATCH("topologySpreadConstraints", 33, "topologyKey", "merge",
            N_ARR(N_OBJ(&schema_core_topology_spread_constraint))),
    F_BOOL("setHostnameAsFQDN", 35),
    F_OBJ("os", 36, &schema_core_pod_os),
    F_BOOL("hostUsers", 37),
    F_PATCH("schedulingGates", 38, "name", "merge", N_ARR(N_OBJ(&schema_core_pod_scheduling_gate))),
    F_PATCH("resourceClaims", 39, "name", "merge,retainKeys",
            N_ARR(N_OBJ(&schema_core_pod_resource_claim))),
    F_OBJ("resources", 40, &schema_core_resource_requirements),
    /* clang-format on */
};
const struct schema_struct schema_core_pod_spec =
    S("io.k8s.api.core.v1.PodSpec", core_pod_spec_fields, NULL);

static const struct schema_field core_volume_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_INLINE("hostPath", 2, 1, NULL, NULL, N_OBJ(&schema_core_host_path_volume_source)),
    F_INLINE("emptyDir", 2, 2, NULL, NULL, N_OBJ(&schema_core_empty_dir_volume_source)),
    F_INLINE("gcePersistentDisk", 2, 3, NULL, NULL,
            N_OBJ(&schema_core_gce_persistent_disk_volume_source)),
    F_INLINE("awsElasticBlockStore", 2, 4, NULL, NULL,
            N_OBJ(&schema_core_aws_elastic_block_store_volume_source)),
    F_INLINE("gitRepo", 2, 5, NULL, NULL, N_OBJ(&schema_core_git_repo_volume_source)),
    F_INLINE("secret", 2, 6, NULL, NULL, N_OBJ(&schema_core_secret_volume_source)),
    F_INLINE("nfs", 2, 7, NULL, NULL, N_OBJ(&schema_core_nfs_volume_source)),
    F_INLINE("iscsi", 2, 8, NULL, NULL, N_OBJ(&schema_core_iscsi_volume_source)),
    F_INLINE("glusterfs", 2, 9, NULL, NULL, N_OBJ(&schema_core_glusterfs_volume_source)),
    F_INLINE("persistentVolumeClaim", 2, 10, NULL, NULL,
            N_OBJ(&schema_core_persistent_volume_claim_volume_source)),
    F_INLINE("rbd", 2, 11, NULL, NULL, N_OBJ(&schema_core_rbd_volume_source)),
    F_INLINE("flexVolume", 2, 12, NULL, NULL, N_OBJ(&schema_core_flex_volume_source)),
    F_INLINE("cinder", 2, 13, NULL, NULL, N_OBJ(&schema_core_cinder_volume_source)),
    F_INLINE("cephfs", 2, 14, NULL, NULL, N_OBJ(&schema_core_ceph_fs_volume_source)),
    F_INLINE("flocker", 2, 15, NULL, NULL, N_OBJ(&schema_core_flocker_volume_source)),
    F_INLINE("downwardAPI", 2, 16, NULL, NULL, N_OBJ(&schema_core_downward_api_volume_source)),
    F_INLINE("fc", 2, 17, NULL, NULL, N_OBJ(&schema_core_fc_volume_source)),
    F_INLINE("azureFile", 2, 18, NULL, NULL, N_OBJ(&schema_core_azure_file_volume_source)),
    F_INLINE("configMap", 2, 19, NULL, NULL, N_OBJ(&schema_core_config_map_volume_source)),
    F_INLINE("vsphereVolume", 2, 20, NULL, NULL,
            N_OBJ(&schema_core_vsphere_virtual_disk_volume_source)),
    F_INLINE("quobyte", 2, 21, NULL, NULL, N_OBJ(&schema_core_quobyte_volume_source)),
    F_INLINE("azureDisk", 2, 22, NULL, NULL, N_OBJ(&schema_core_azure_disk_volume_source)),
    F_INLINE("photonPersistentDisk", 2, 23, NULL, NULL,
            N_OBJ(&schema_core_photon_persistent_disk_volume_source)),
    F_INLINE("projected", 2, 26, NULL, NULL, N_OBJ(&schema_core_projected_volume_source)),
    F_INLINE("portworxVolume", 2, 24, NULL, NULL, N_OBJ(&schema_core_portworx_volume_source)),
    F_INLINE("scaleIO", 2, 25, NULL, NULL, N_OBJ(&schema_core_scale_io_volume_source)),
    F_INLINE("storageos", 2, 27, NULL, NULL, N_OBJ(&schema_core_storage_os_volume_source)),
    F_INLINE("csi", 2, 28, NULL, NULL, N_OBJ(&schema_core_csi_volume_source)),
    F_INLINE("ephemeral", 2, 29, NULL, NULL, N_OBJ(&schema_core_ephemeral_volume_source)),
    F_INLINE("image", 2, 30, NULL, NULL, N_OBJ(&schema_core_image_volume_source)),
    /* clang-format on */
};
static const struct schema_struct schema_core_volume =
    S("io.k8s.api.core.v1.Volume", core_volume_fields, NULL);

static const struct schema_field core_local_object_reference_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    /* clang-format on */
};
const struct schema_struct schema_core_local_object_reference =
    S("io.k8s.api.core.v1.LocalObjectReference", core_local_object_reference_fields, NULL);

static const struct schema_field core_object_field_selector_fields[] = {
    /* clang-format off */
    F_STR("apiVersion", 1),
    F_STR("fieldPath", 2),
    /* clang-format on */
};
const struct schema_struct schema_core_object_field_selector =
    S("io.k8s.api.core.v1.ObjectFieldSelector", core_object_field_selector_fields, NULL);

static const struct schema_field core_resource_field_selector_fields[] = {
    /* clang-format off */
    F_STR("containerName", 1),
    F_STR("resource", 2),
    F_QTY("divisor", 3),
    /* clang-format on */
};
const struct schema_struct schema_core_resource_field_selector =
    S("io.k8s.api.core.v1.ResourceFieldSelector", core_resource_field_selector_fields, NULL);

static const struct schema_field core_container_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("image", 2),
    F_ARR_STR("command", 3),
    F_ARR_STR("args", 4),
    F_STR("workingDir", 5),
    F_PATCH("ports", 6, "containerPort", "merge", N_ARR(N_OBJ(&schema_core_container_port))),
    F_ARR_OBJ("envFrom", 19, &schema_core_env_from_source),
    F_PATCH("env", 7, "name", "merge", N_ARR(N_OBJ(&schema_core_env_var))),
    F_OBJ("resources", 8, &schema_core_resource_requirements),
    F_ARR_OBJ("resizePolicy", 23, &schema_core_container_resize_policy),
    F_STR("restartPolicy", 24),
    F_PATCH("volumeMounts", 9, "mountPath", "merge", N_ARR(N_OBJ(&schema_core_volume_mount))),
    F_PATCH("volumeDevices", 21, "devicePath", "merge", N_ARR(N_OBJ(&schema_core_volume_device))),
    F_OBJ("livenessProbe", 10, &schema_core_probe),
    F_OBJ("readinessProbe", 11, &schema_core_probe),
    F_OBJ("startupProbe", 22, &schema_core_probe),
    F_OBJ("lifecycle", 12, &schema_core_lifecycle),
    F_STR("terminationMessagePath", 13),
    F_STR("terminationMessagePolicy", 20),
    F_STR("imagePullPolicy", 14),
    F_OBJ("securityContext", 15, &schema_core_security_context),
    F_BOOL("stdin", 16),
    F_BOOL("stdinOnce", 17),
    F_BOOL("tty", 18),
    /* clang-format on */
};
static const struct schema_struct schema_core_container =
    S("io.k8s.api.core.v1.Container", core_container_fields, NULL);

static const struct schema_field core_container_port_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_I32("hostPort", 2),
    F_I32("containerPort", 3),
    F_STR("protocol", 4),
    F_STR("hostIP", 5),
    /* clang-format on */
};
static const struct schema_struct schema_core_container_port =
    S("io.k8s.api.core.v1.ContainerPort", core_container_port_fields, NULL);

static const struct schema_field core_env_from_source_fields[] = {
    /* clang-format off */
    F_STR("prefix", 1),
    F_OBJ("configMapRef", 2, &schema_core_config_map_env_source),
    F_OBJ("secretRef", 3, &schema_core_secret_env_source),
    /* clang-format on */
};
static const struct schema_struct schema_core_env_from_source =
    S("io.k8s.api.core.v1.EnvFromSource", core_env_from_source_fields, NULL);

static const struct schema_field core_config_map_env_source_fields[] = {
    /* clang-format off */
    F_INLINE("name", 1, 1, NULL, NULL, N_STR),
    F_BOOL("optional", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_config_map_env_source =
    S("io.k8s.api.core.v1.ConfigMapEnvSource", core_config_map_env_source_fields, NULL);

static const struct schema_field core_secret_env_source_fields[] = {
    /* clang-format off */
    F_INLINE("name", 1, 1, NULL, NULL, N_STR),
    F_BOOL("optional", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_secret_env_source =
    S("io.k8s.api.core.v1.SecretEnvSource", core_secret_env_source_fields, NULL);

static const struct schema_field core_env_var_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("value", 2),
    F_OBJ("valueFrom", 3, &schema_core_env_var_source),
    /* clang-format on */
};
static const struct schema_struct schema_core_env_var =
    S("io.k8s.api.core.v1.EnvVar", core_env_var_fields, NULL);

static const struct schema_field core_env_var_source_fields[] = {
    /* clang-format off */
    F_OBJ("fieldRef", 1, &schema_core_object_field_selector),
    F_OBJ("resourceFieldRef", 2, &schema_core_resource_field_selector),
    F_OBJ("configMapKeyRef", 3, &schema_core_config_map_key_selector),
    F_OBJ("secretKeyRef", 4, &schema_core_secret_key_selector),
    /* clang-format on */
};
static const struct schema_struct schema_core_env_var_source =
    S("io.k8s.api.core.v1.EnvVarSource", core_env_var_source_fields, NULL);

static const struct schema_field core_config_map_key_selector_fields[] = {
    /* clang-format off */
    F_INLINE("name", 1, 1, NULL, NULL, N_STR),
    F_STR("key", 2),
    F_BOOL("optional", 3),
    /* clang-format on */
};
static const struct schema_struct schema_core_config_map_key_selector =
    S("io.k8s.api.core.v1.ConfigMapKeySelector", core_config_map_key_selector_fields, NULL);

static const struct schema_field core_secret_key_selector_fields[] = {
    /* clang-format off */
    F_INLINE("name", 1, 1, NULL, NULL, N_STR),
    F_STR("key", 2),
    F_BOOL("optional", 3),
    /* clang-format on */
};
static const struct schema_struct schema_core_secret_key_selector =
    S("io.k8s.api.core.v1.SecretKeySelector", core_secret_key_selector_fields, NULL);

static const struct schema_field core_resource_requirements_fields[] = {
    /* clang-format off */
    F_MAP_QTY("limits", 1),
    F_MAP_QTY("requests", 2),
    F_ARR_OBJ("claims", 3, &schema_core_resource_claim),
    /* clang-format on */
};
const struct schema_struct schema_core_resource_requirements =
    S("io.k8s.api.core.v1.ResourceRequirements", core_resource_requirements_fields, NULL);

static const struct schema_field core_resource_claim_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("request", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_resource_claim =
    S("io.k8s.api.core.v1.ResourceClaim", core_resource_claim_fields, NULL);

static const struct schema_field core_container_resize_policy_fields[] = {
    /* clang-format off */
    F_STR("resourceName", 1),
    F_STR("restartPolicy", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_container_resize_policy =
    S("io.k8s.api.core.v1.ContainerResizePolicy", core_container_resize_policy_fields, NULL);

static const struct schema_field core_volume_mount_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_BOOL("readOnly", 2),
    F_STR("recursiveReadOnly", 7),
    F_STR("mountPath", 3),
    F_STR("subPath", 4),
    F_STR("mountPropagation", 5),
    F_STR("subPathExpr", 6),
    /* clang-format on */
};
static const struct schema_struct schema_core_volume_mount =
    S("io.k8s.api.core.v1.VolumeMount", core_volume_mount_fields, NULL);

static const struct schema_field core_volume_device_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("devicePath", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_volume_device =
    S("io.k8s.api.core.v1.VolumeDevice", core_volume_device_fields, NULL);

static const struct schema_field core_probe_fields[] = {
    /* clang-format off */
    F_INLINE("exec", 1, 1, NULL, NULL, N_OBJ(&schema_core_exec_action)),
    F_INLINE("httpGet", 1, 2, NULL, NULL, N_OBJ(&schema_core_http_get_action)),
    F_INLINE("tcpSocket", 1, 3, NULL, NULL, N_OBJ(&schema_core_tcp_socket_action)),
    F_INLINE("grpc", 1, 4, NULL, NULL, N_OBJ(&schema_core_grpc_action)),
    F_I32("initialDelaySeconds", 2),
    F_I32("timeoutSeconds", 3),
    F_I32("periodSeconds", 4),
    F_I32("successThreshold", 5),
    F_I32("failureThreshold", 6),
    F_I64("terminationGracePeriodSeconds", 7),
    /* clang-format on */
};
static const struct schema_struct schema_core_probe =
    S("io.k8s.api.core.v1.Probe", core_probe_fields, NULL);

static const struct schema_field core_exec_action_fields[] = {
    /* clang-format off */
    F_ARR_STR("command", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_exec_action =
    S("io.k8s.api.core.v1.ExecAction", core_exec_action_fields, NULL);

static const struct schema_field core_http_get_action_fields[] = {
    /* clang-format off */
    F_STR("path", 1),
    F_IOS("port", 2),
    F_STR("host", 3),
    F_STR("scheme", 4),
    F_ARR_OBJ("httpHeaders", 5, &schema_core_http_header),
    /* clang-format on */
};
static const struct schema_struct schema_core_http_get_action =
    S("io.k8s.api.core.v1.HTTPGetAction", core_http_get_action_fields, NULL);

static const struct schema_field core_http_header_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("value", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_http_header =
    S("io.k8s.api.core.v1.HTTPHeader", core_http_header_fields, NULL);

static const struct schema_field core_tcp_socket_action_fields[] = {
    /* clang-format off */
    F_IOS("port", 1),
    F_STR("host", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_tcp_socket_action =
    S("io.k8s.api.core.v1.TCPSocketAction", core_tcp_socket_action_fields, NULL);

static const struct schema_field core_grpc_action_fields[] = {
    /* clang-format off */
    F_I32("port", 1),
    F_STR("service", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_grpc_action =
    S("io.k8s.api.core.v1.GRPCAction", core_grpc_action_fields, NULL);

static const struct schema_field core_lifecycle_fields[] = {
    /* clang-format off */
    F_OBJ("postStart", 1, &schema_core_lifecycle_handler),
    F_OBJ("preStop", 2, &schema_core_lifecycle_handler),
    F_STR("stopSignal", 3),
    /* clang-format on */
};
static const struct schema_struct schema_core_lifecycle =
    S("io.k8s.api.core.v1.Lifecycle", core_lifecycle_fields, NULL);

static const struct schema_field core_lifecycle_handler_fields[] = {
    /* clang-format off */
    F_OBJ("exec", 1, &schema_core_exec_action),
    F_OBJ("httpGet", 2, &schema_core_http_get_action),
    F_OBJ("tcpSocket", 3, &schema_core_tcp_socket_action),
    F_OBJ("sleep", 4, &schema_core_sleep_action),
    /* clang-format on */
};
static const struct schema_struct schema_core_lifecycle_handler =
    S("io.k8s.api.core.v1.LifecycleHandler", core_lifecycle_handler_fields, NULL);

static const struct schema_field core_sleep_action_fields[] = {
    /* clang-format off */
    F_I64("seconds", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_sleep_action =
    S("io.k8s.api.core.v1.SleepAction", core_sleep_action_fields, NULL);

static const struct schema_field core_security_context_fields[] = {
    /* clang-format off */
    F_OBJ("capabilities", 1, &schema_core_capabilities),
    F_BOOL("privileged", 2),
    F_OBJ("seLinuxOptions", 3, &schema_core_se_linux_options),
    F_OBJ("windowsOptions", 10, &schema_core_windows_security_context_options),
    F_I64("runAsUser", 4),
    F_I64("runAsGroup", 8),
    F_BOOL("runAsNonRoot", 5),
    F_BOOL("readOnlyRootFilesystem", 6),
    F_BOOL("allowPrivilegeEscalation", 7),
    F_STR("procMount", 9),
    F_OBJ("seccompProfile", 11, &schema_core_seccomp_profile),
    F_OBJ("appArmorProfile", 12, &schema_core_app_armor_profile),
    /* clang-format on */
};
static const struct schema_struct schema_core_security_context =
    S("io.k8s.api.core.v1.SecurityContext", core_security_context_fields, NULL);

static const struct schema_field core_capabilities_fields[] = {
    /* clang-format off */
    F_ARR_STR("add", 1),
    F_ARR_STR("drop", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_capabilities =
    S("io.k8s.api.core.v1.Capabilities", core_capabilities_fields, NULL);

static const struct schema_field core_se_linux_options_fields[] = {
    /* clang-format off */
    F_STR("user", 1),
    F_STR("role", 2),
    F_STR("type", 3),
    F_STR("level", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_se_linux_options =
    S("io.k8s.api.core.v1.SELinuxOptions", core_se_linux_options_fields, NULL);

static const struct schema_field core_windows_security_context_options_fields[] = {
    /* clang-format off */
    F_STR("gmsaCredentialSpecName", 1),
    F_STR("gmsaCredentialSpec", 2),
    F_STR("runAsUserName", 3),
    F_BOOL("hostProcess", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_windows_security_context_options =
    S("io.k8s.api.core.v1.WindowsSecurityContextOptions",
      core_windows_security_context_options_fields, NULL);

static const struct schema_field core_seccomp_profile_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("localhostProfile", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_seccomp_profile =
    S("io.k8s.api.core.v1.SeccompProfile", core_seccomp_profile_fields, NULL);

static const struct schema_field core_app_armor_profile_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("localhostProfile", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_app_armor_profile =
    S("io.k8s.api.core.v1.AppArmorProfile", core_app_armor_profile_fields, NULL);

static const struct schema_field core_ephemeral_container_fields[] = {
    /* clang-format off */
    F_INLINE("name", 1, 1, NULL, NULL, N_STR),
    F_INLINE("image", 1, 2, NULL, NULL, N_STR),
    F_INLINE("command", 1, 3, NULL, NULL, N_ARR(N_STR)),
    F_INLINE("args", 1, 4, NULL, NULL, N_ARR(N_STR)),
    F_INLINE("workingDir", 1, 5, NULL, NULL, N_STR),
    F_INLINE("ports", 1, 6, "containerPort", "merge", N_ARR(N_OBJ(&schema_core_container_port))),
    F_INLINE("envFrom", 1, 19, NULL, NULL, N_ARR(N_OBJ(&schema_core_env_from_source))),
    F_INLINE("env", 1, 7, "name", "merge", N_ARR(N_OBJ(&schema_core_env_var))),
    F_INLINE("resources", 1, 8, NULL, NULL, N_OBJ(&schema_core_resource_requirements)),
    F_INLINE("resizePolicy", 1, 23, NULL, NULL, N_ARR(N_OBJ(&schema_core_container_resize_policy))),
    F_INLINE("restartPolicy", 1, 24, NULL, NULL, N_STR),
    F_INLINE("volumeMounts", 1, 9, "mountPath", "merge", N_ARR(N_OBJ(&schema_core_volume_mount))),
    F_INLINE("volumeDevices", 1, 21, "devicePath", "merge",
            N_ARR(N_OBJ(&schema_core_volume_device))),
    F_INLINE("livenessProbe", 1, 10, NULL, NULL, N_OBJ(&schema_core_probe)),
    F_INLINE("readinessProbe", 1, 11, NULL, NULL, N_OBJ(&schema_core_probe)),
    F_INLINE("startupProbe", 1, 22, NULL, NULL, N_OBJ(&schema_core_probe)),
    F_INLINE("lifecycle", 1, 12, NULL, NULL, N_OBJ(&schema_core_lifecycle)),
    F_INLINE("terminationMessagePath", 1, 13, NULL, NULL, N_STR),
    F_INLINE("terminationMessagePolicy", 1, 20, NULL, NULL, N_STR),
    F_INLINE("imagePullPolicy", 1, 14, NULL, NULL, N_STR),
    F_INLINE("securityContext", 1, 15, NULL, NULL, N_OBJ(&schema_core_security_context)),
    F_INLINE("stdin", 1, 16, NULL, NULL, N_BOOL),
    F_INLINE("stdinOnce", 1, 17, NULL, NULL, N_BOOL),
    F_INLINE("tty", 1, 18, NULL, NULL, N_BOOL),
    F_STR("targetContainerName", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_ephemeral_container =
    S("io.k8s.api.core.v1.EphemeralContainer", core_ephemeral_container_fields, NULL);

static const struct schema_field core_pod_security_context_fields[] = {
    /* clang-format off */
    F_OBJ("seLinuxOptions", 1, &schema_core_se_linux_options),
    F_OBJ("windowsOptions", 8, &schema_core_windows_security_context_options),
    F_I64("runAsUser", 2),
    F_I64("runAsGroup", 6),
    F_BOOL("runAsNonRoot", 3),
    F_ARR_I64("supplementalGroups", 4),
    F_STR("supplementalGroupsPolicy", 12),
    F_I64("fsGroup", 5),
    F_ARR_OBJ("sysctls", 7, &schema_core_sysctl),
    F_STR("fsGroupChangePolicy", 9),
    F_OBJ("seccompProfile", 10, &schema_core_seccomp_profile),
    F_OBJ("appArmorProfile", 11, &schema_core_app_armor_profile),
    F_STR("seLinuxChangePolicy", 13),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_security_context =
    S("io.k8s.api.core.v1.PodSecurityContext", core_pod_security_context_fields, NULL);

static const struct schema_field core_sysctl_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("value", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_sysctl =
    S("io.k8s.api.core.v1.Sysctl", core_sysctl_fields, NULL);

static const struct schema_field core_affinity_fields[] = {
    /* clang-format off */
    F_OBJ("nodeAffinity", 1, &schema_core_node_affinity),
    F_OBJ("podAffinity", 2, &schema_core_pod_affinity),
    F_OBJ("podAntiAffinity", 3, &schema_core_pod_anti_affinity),
    /* clang-format on */
};
static const struct schema_struct schema_core_affinity =
    S("io.k8s.api.core.v1.Affinity", core_affinity_fields, NULL);

static const struct schema_field core_node_affinity_fields[] = {
    /* clang-format off */
    F_OBJ("requiredDuringSchedulingIgnoredDuringExecution", 1, &schema_core_node_selector),
    F_ARR_OBJ("preferredDuringSchedulingIgnoredDuringExecution", 2,
            &schema_core_preferred_scheduling_term),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_affinity =
    S("io.k8s.api.core.v1.NodeAffinity", core_node_affinity_fields, NULL);

static const struct schema_field core_node_selector_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("nodeSelectorTerms", 1, &schema_core_node_selector_term),
    /* clang-format on */
};
const struct schema_struct schema_core_node_selector =
    S("io.k8s.api.core.v1.NodeSelector", core_node_selector_fields, NULL);

static const struct schema_field core_node_selector_term_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("matchExpressions", 1, &schema_core_node_selector_requirement),
    F_ARR_OBJ("matchFields", 2, &schema_core_node_selector_requirement),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_selector_term =
    S("io.k8s.api.core.v1.NodeSelectorTerm", core_node_selector_term_fields, NULL);

static const struct schema_field core_node_selector_requirement_fields[] = {
    /* clang-format off */
    F_STR("key", 1),
    F_STR("operator", 2),
    F_ARR_STR("values", 3),
    /* clang-format on */
};
static const struct schema_struct schema_core_node_selector_requirement =
    S("io.k8s.api.core.v1.NodeSelectorRequirement", core_node_selector_requirement_fields, NULL);

static const struct schema_field core_preferred_scheduling_term_fields[] = {
    /* clang-format off */
    F_I32("weight", 1),
    F_OBJ("preference", 2, &schema_core_node_selector_term),
    /* clang-format on */
};
static const struct schema_struct schema_core_preferred_scheduling_term =
    S("io.k8s.api.core.v1.PreferredSchedulingTerm", core_preferred_scheduling_term_fields, NULL);

static const struct schema_field core_pod_affinity_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("requiredDuringSchedulingIgnoredDuringExecution", 1, &schema_core_pod_affinity_term),
    F_ARR_OBJ("preferredDuringSchedulingIgnoredDuringExecution", 2,
            &schema_core_weighted_pod_affinity_term),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_affinity =
    S("io.k8s.api.core.v1.PodAffinity", core_pod_affinity_fields, NULL);

static const struct schema_field core_pod_affinity_term_fields[] = {
    /* clang-format off */
    F_OBJ("labelSelector", 1, &schema_meta_label_selector),
    F_ARR_STR("namespaces", 2),
    F_STR("topologyKey", 3),
    F_OBJ("namespaceSelector", 4, &schema_meta_label_selector),
    F_ARR_STR("matchLabelKeys", 5),
    F_ARR_STR("mismatchLabelKeys", 6),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_affinity_term =
    S("io.k8s.api.core.v1.PodAffinityTerm", core_pod_affinity_term_fields, NULL);

static const struct schema_field core_weighted_pod_affinity_term_fields[] = {
    /* clang-format off */
    F_I32("weight", 1),
    F_OBJ("podAffinityTerm", 2, &schema_core_pod_affinity_term),
    /* clang-format on */
};
static const struct schema_struct schema_core_weighted_pod_affinity_term =
    S("io.k8s.api.core.v1.WeightedPodAffinityTerm", core_weighted_pod_affinity_term_fields, NULL);

static const struct schema_field core_pod_anti_affinity_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("requiredDuringSchedulingIgnoredDuringExecution", 1, &schema_core_pod_affinity_term),
    F_ARR_OBJ("preferredDuringSchedulingIgnoredDuringExecution", 2,
            &schema_core_weighted_pod_affinity_term),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_anti_affinity =
    S("io.k8s.api.core.v1.PodAntiAffinity", core_pod_anti_affinity_fields, NULL);

static const struct schema_field core_toleration_fields[] = {
    /* clang-format off */
    F_STR("key", 1),
    F_STR("operator", 2),
    F_STR("value", 3),
    F_STR("effect", 4),
    F_I64("tolerationSeconds", 5),
    /* clang-format on */
};
static const struct schema_struct schema_core_toleration =
    S("io.k8s.api.core.v1.Toleration", core_toleration_fields, NULL);

static const struct schema_field core_host_alias_fields[] = {
    /* clang-format off */
    F_STR("ip", 1),
    F_ARR_STR("hostnames", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_host_alias =
    S("io.k8s.api.core.v1.HostAlias", core_host_alias_fields, NULL);

static const struct schema_field core_pod_dns_config_fields[] = {
    /* clang-format off */
    F_ARR_STR("nameservers", 1),
    F_ARR_STR("searches", 2),
    F_ARR_OBJ("options", 3, &schema_core_pod_dns_config_option),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_dns_config =
    S("io.k8s.api.core.v1.PodDNSConfig", core_pod_dns_config_fields, NULL);

static const struct schema_field core_pod_dns_config_option_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("value", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_dns_config_option =
    S("io.k8s.api.core.v1.PodDNSConfigOption", core_pod_dns_config_option_fields, NULL);

static const struct schema_field core_pod_readiness_gate_fields[] = {
    /* clang-format off */
    F_STR("conditionType", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_readiness_gate =
    S("io.k8s.api.core.v1.PodReadinessGate", core_pod_readiness_gate_fields, NULL);

static const struct schema_field core_topology_spread_constraint_fields[] = {
    /* clang-format off */
    F_I32("maxSkew", 1),
    F_STR("topologyKey", 2),
    F_STR("whenUnsatisfiable", 3),
    F_OBJ("labelSelector", 4, &schema_meta_label_selector),
    F_I32("minDomains", 5),
    F_STR("nodeAffinityPolicy", 6),
    F_STR("nodeTaintsPolicy", 7),
    F_ARR_STR("matchLabelKeys", 8),
    /* clang-format on */
};
static const struct schema_struct schema_core_topology_spread_constraint =
    S("io.k8s.api.core.v1.TopologySpreadConstraint", core_topology_spread_constraint_fields, NULL);

static const struct schema_field core_pod_os_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_os =
    S("io.k8s.api.core.v1.PodOS", core_pod_os_fields, NULL);

static const struct schema_field core_pod_scheduling_gate_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_scheduling_gate =
    S("io.k8s.api.core.v1.PodSchedulingGate", core_pod_scheduling_gate_fields, NULL);

static const struct schema_field core_pod_resource_claim_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("resourceClaimName", 3),
    F_STR("resourceClaimTemplateName", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_pod_resource_claim =
    S("io.k8s.api.core.v1.PodResourceClaim", core_pod_resource_claim_fields, NULL);

const struct schema_struct *const schema_core_pod_structs[] = {
    &schema_core_pod,
    &schema_core_pod_spec,
    &schema_core_volume,
    &schema_core_local_object_reference,
    &schema_core_object_field_selector,
    &schema_core_resource_field_selector,
    &schema_core_container,
    &schema_core_container_port,
    &schema_core_env_from_source,
    &schema_core_config_map_env_source,
    &schema_core_secret_env_source,
    &schema_core_env_var,
    &schema_core_env_var_source,
    &schema_core_config_map_key_selector,
    &schema_core_secret_key_selector,
    &schema_core_resource_requirements,
    &schema_core_resource_claim,
    &schema_core_container_resize_policy,
    &schema_core_volume_mount,
    &schema_core_volume_device,
    &schema_core_probe,
    &schema_core_exec_action,
    &schema_core_http_get_action,
    &schema_core_http_header,
    &schema_core_tcp_socket_action,
    &schema_core_grpc_action,
    &schema_core_lifecycle,
    &schema_core_lifecycle_handler,
    &schema_core_sleep_action,
    &schema_core_security_context,
    &schema_core_capabilities,
    &schema_core_se_linux_options,
    &schema_core_windows_security_context_options,
    &schema_core_seccomp_profile,
    &schema_core_app_armor_profile,
    &schema_core_ephemeral_container,
    &schema_core_pod_security_context,
    &schema_core_sysctl,
    &schema_core_affinity,
    &schema_core_node_affinity,
    &schema_core_node_selector,
    &schema_core_node_selector_term,
    &schema_core_node_selector_requirement,
    &schema_core_preferred_scheduling_term,
    &schema_core_pod_affinity,
    &schema_core_pod_affinity_term,
    &schema_core_weighted_pod_affinity_term,
    &schema_core_pod_anti_affinity,
    &schema_core_toleration,
    &schema_core_host_alias,
    &schema_core_pod_dns_config,
    &schema_core_pod_dns_config_option,
    &schema_core_pod_readiness_gate,
    &schema_core_topology_spread_constraint,
    &schema_core_pod_os,
    &schema_core_pod_scheduling_gate,
    &schema_core_pod_resource_claim,
};
const size_t schema_core_pod_nstructs = ARRAY_SIZE(schema_core_pod_structs);
