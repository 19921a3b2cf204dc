/* Field tables of batch, policy, storage, scheduling, coordination, rbac, autoscaling, after
 * k8s.io/api v0.33: JSON names, types, strategic merge patch tags and protobuf field numbers, in
 * the order of the Go types. */
#include "api/schema_tables.h"

static const struct schema_struct schema_batch_pod_failure_policy;
static const struct schema_struct schema_batch_pod_failure_policy_rule;
static const struct schema_struct schema_batch_pod_failure_policy_on_exit_codes_requirement;
static const struct schema_struct schema_batch_pod_failure_policy_on_pod_conditions_pattern;
static const struct schema_struct schema_batch_success_policy;
static const struct schema_struct schema_batch_success_policy_rule;
static const struct schema_struct schema_batch_job_status;
static const struct schema_struct schema_batch_job_condition;
static const struct schema_struct schema_batch_uncounted_terminated_pods;
static const struct schema_struct schema_policy_pod_disruption_budget_spec;
static const struct schema_struct schema_policy_pod_disruption_budget_status;
static const struct schema_struct schema_coordination_lease_spec;
static const struct schema_struct schema_discovery_endpoint;
static const struct schema_struct schema_discovery_endpoint_conditions;
static const struct schema_struct schema_discovery_endpoint_hints;
static const struct schema_struct schema_discovery_for_zone;
static const struct schema_struct schema_discovery_for_node;
static const struct schema_struct schema_discovery_endpoint_port;
static const struct schema_struct schema_rbac_policy_rule;
static const struct schema_struct schema_rbac_subject;
static const struct schema_struct schema_rbac_role_ref;
static const struct schema_struct schema_rbac_aggregation_rule;
static const struct schema_struct schema_autoscaling_scale_spec;
static const struct schema_struct schema_autoscaling_scale_status;

static const struct schema_field batch_job_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_batch_job_spec),
    F_OBJ("status", 3, &schema_batch_job_status),
    /* clang-format on */
};
const struct schema_struct schema_batch_job =
    S("io.k8s.api.batch.v1.Job", batch_job_fields, "Runs pods until a number of them complete.");

static const struct schema_field batch_job_spec_fields[] = {
    /* clang-format off */
    F_I32("parallelism", 1),
    F_I32("completions", 2),
    F_I64("activeDeadlineSeconds", 3),
    F_OBJ("podFailurePolicy", 11, &schema_batch_pod_failure_policy),
    F_OBJ("successPolicy", 16, &schema_batch_success_policy),
    F_I32("backoffLimit", 7),
    F_I32("backoffLimitPerIndex", 12),
    F_I32("maxFailedIndexes", 13),
    F_OBJ("selector", 4, &schema_meta_label_selector),
    F_BOOL("manualSelector", 5),
    F_OBJ("template", 6, &schema_core_pod_template_spec),
    F_I32("ttlSecondsAfterFinished", 8),
    F_STR("completionMode", 9),
    F_BOOL("suspend", 10),
    F_STR("podReplacementPolicy", 14),
    F_STR("managedBy", 15),
    /* clang-format on */
};
const struct schema_struct schema_batch_job_spec =
    S("io.k8s.api.batch.v1.JobSpec", batch_job_spec_fields, NULL);

static const struct schema_field batch_pod_failure_policy_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("rules", 1, &schema_batch_pod_failure_policy_rule),
    /* clang-format on */
};
static const struct schema_struct schema_batch_pod_failure_policy =
    S("io.k8s.api.batch.v1.PodFailurePolicy", batch_pod_failure_policy_fields, NULL);

static const struct schema_field batch_pod_failure_policy_rule_fields[] = {
    /* clang-format off */
    F_STR("action", 1),
    F_OBJ("onExitCodes", 2, &schema_batch_pod_failure_policy_on_exit_codes_requirement),
    F_ARR_OBJ("onPodConditions", 3, &schema_batch_pod_failure_policy_on_pod_conditions_pattern),
    /* clang-format on */
};
static const struct schema_struct schema_batch_pod_failure_policy_rule =
    S("io.k8s.api.batch.v1.PodFailurePolicyRule", batch_pod_failure_policy_rule_fields, NULL);

static const struct schema_field batch_pod_failure_policy_on_exit_codes_requirement_fields[] = {
    /* clang-format off */
    F_STR("containerName", 1),
    F_STR("operator", 2),
    F_ARR_I32("values", 3),
    /* clang-format on */
};
static const struct schema_struct schema_batch_pod_failure_policy_on_exit_codes_requirement =
    S("io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
      batch_pod_failure_policy_on_exit_codes_requirement_fields, NULL);

static const struct schema_field batch_pod_failure_policy_on_pod_conditions_pattern_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("status", 2),
    /* clang-format on */
};
static const struct schema_struct schema_batch_pod_failure_policy_on_pod_conditions_pattern =
    S("io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern",
      batch_pod_failure_policy_on_pod_conditions_pattern_fields, NULL);

static const struct schema_field batch_success_policy_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("rules", 1, &schema_batch_success_policy_rule),
    /* clang-format on */
};
static const struct schema_struct schema_batch_success_policy =
    S("io.k8s.api.batch.v1.SuccessPolicy", batch_success_policy_fields, NULL);

static const struct schema_field batch_success_policy_rule_fields[] = {
    /* clang-format off */
    F_STR("succeededIndexes", 1),
    F_I32("succeededCount", 2),
    /* clang-format on */
};
static const struct schema_struct schema_batch_success_policy_rule =
    S("io.k8s.api.batch.v1.SuccessPolicyRule", batch_success_policy_rule_fields, NULL);

static const struct schema_field batch_job_status_fields[] = {
    /* clang-format off */
    F_PATCH("conditions", 1, "type", "merge", N_ARR(N_OBJ(&schema_batch_job_condition))),
    F_TIME("startTime", 2),
    F_TIME("completionTime", 3),
    F_I32("active", 4),
    F_I32("succeeded", 5),
    F_I32("failed", 6),
    F_I32("terminating", 11),
    F_STR("completedIndexes", 7),
    F_STR("failedIndexes", 10),
    F_OBJ("uncountedTerminatedPods", 8, &schema_batch_uncounted_terminated_pods),
    F_I32("ready", 9),
    /* clang-format on */
};
static const struct schema_struct schema_batch_job_status =
    S("io.k8s.api.batch.v1.JobStatus", batch_job_status_fields, NULL);

static const struct schema_field batch_job_condition_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("status", 2),
    F_TIME("lastProbeTime", 3),
    F_TIME("lastTransitionTime", 4),
    F_STR("reason", 5),
    F_STR("message", 6),
    /* clang-format on */
};
static const struct schema_struct schema_batch_job_condition =
    S("io.k8s.api.batch.v1.JobCondition", batch_job_condition_fields, NULL);

static const struct schema_field batch_uncounted_terminated_pods_fields[] = {
    /* clang-format off */
    F_ARR_STR("succeeded", 1),
    F_ARR_STR("failed", 2),
    /* clang-format on */
};
static const struct schema_struct schema_batch_uncounted_terminated_pods =
    S("io.k8s.api.batch.v1.UncountedTerminatedPods", batch_uncounted_terminated_pods_fields, NULL);

static const struct schema_field policy_pod_disruption_budget_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_policy_pod_disruption_budget_spec),
    F_OBJ("status", 3, &schema_policy_pod_disruption_budget_status),
    /* clang-format on */
};
const struct schema_struct schema_policy_pod_disruption_budget =
    S("io.k8s.api.policy.v1.PodDisruptionBudget", policy_pod_disruption_budget_fields,
      "Limits voluntary disruption of a set of pods.");

static const struct schema_field policy_pod_disruption_budget_spec_fields[] = {
    /* clang-format off */
    F_IOS("minAvailable", 1),
    F_PATCH("selector", 2, NULL, "replace", N_OBJ(&schema_meta_label_selector)),
    F_IOS("maxUnavailable", 3),
    F_STR("unhealthyPodEvictionPolicy", 4),
    /* clang-format on */
};
static const struct schema_struct schema_policy_pod_disruption_budget_spec = S(
    "io.k8s.api.policy.v1.PodDisruptionBudgetSpec", policy_pod_disruption_budget_spec_fields, NULL);

static const struct schema_field policy_pod_disruption_budget_status_fields[] = {
    /* clang-format off */
    F_I64("observedGeneration", 1),
    F_MAP_TIME("disruptedPods", 2),
    F_I32("disruptionsAllowed", 3),
    F_I32("currentHealthy", 4),
    F_I32("desiredHealthy", 5),
    F_I32("expectedPods", 6),
    F_PATCH("conditions", 7, "type", "merge", N_ARR(N_OBJ(&schema_meta_condition))),
    /* clang-format on */
};
static const struct schema_struct schema_policy_pod_disruption_budget_status =
    S("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", policy_pod_disruption_budget_status_fields,
      NULL);

static const struct schema_field storage_storage_class_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_STR("provisioner", 2),
    F_MAP_STR("parameters", 3),
    F_STR("reclaimPolicy", 4),
    F_ARR_STR("mountOptions", 5),
    F_BOOL("allowVolumeExpansion", 6),
    F_STR("volumeBindingMode", 7),
    F_ARR_OBJ("allowedTopologies", 8, &schema_core_topology_selector_term),
    /* clang-format on */
};
const struct schema_struct schema_storage_storage_class =
    S("io.k8s.api.storage.v1.StorageClass", storage_storage_class_fields,
      "A class of dynamically provisioned storage.");

static const struct schema_field scheduling_priority_class_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_I32("value", 2),
    F_BOOL("globalDefault", 3),
    F_STR("description", 4),
    F_STR("preemptionPolicy", 5),
    /* clang-format on */
};
const struct schema_struct schema_scheduling_priority_class =
    S("io.k8s.api.scheduling.v1.PriorityClass", scheduling_priority_class_fields,
      "Maps a priority class name to a pod priority.");

static const struct schema_field coordination_lease_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_coordination_lease_spec),
    /* clang-format on */
};
const struct schema_struct schema_coordination_lease =
    S("io.k8s.api.coordination.v1.Lease", coordination_lease_fields,
      "A lease for leader election and node heartbeats.");

static const struct schema_field coordination_lease_spec_fields[] = {
    /* clang-format off */
    F_STR("holderIdentity", 1),
    F_I32("leaseDurationSeconds", 2),
    F_TIME("acquireTime", 3),
    F_TIME("renewTime", 4),
    F_I32("leaseTransitions", 5),
    F_STR("strategy", 6),
    F_STR("preferredHolder", 7),
    /* clang-format on */
};
static const struct schema_struct schema_coordination_lease_spec =
    S("io.k8s.api.coordination.v1.LeaseSpec", coordination_lease_spec_fields, NULL);

static const struct schema_field discovery_endpoint_slice_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_STR("addressType", 4),
    F_ARR_OBJ("endpoints", 2, &schema_discovery_endpoint),
    F_ARR_OBJ("ports", 3, &schema_discovery_endpoint_port),
    /* clang-format on */
};
const struct schema_struct schema_discovery_endpoint_slice =
    S("io.k8s.api.discovery.v1.EndpointSlice", discovery_endpoint_slice_fields,
      "A subset of the endpoints that implement a service.");

static const struct schema_field discovery_endpoint_fields[] = {
    /* clang-format off */
    F_ARR_STR("addresses", 1),
    F_OBJ("conditions", 2, &schema_discovery_endpoint_conditions),
    F_STR("hostname", 3),
    F_OBJ("targetRef", 4, &schema_core_object_reference),
    F_MAP_STR("deprecatedTopology", 5),
    F_STR("nodeName", 6),
    F_STR("zone", 7),
    F_OBJ("hints", 8, &schema_discovery_endpoint_hints),
    /* clang-format on */
};
static const struct schema_struct schema_discovery_endpoint =
    S("io.k8s.api.discovery.v1.Endpoint", discovery_endpoint_fields, NULL);

static const struct schema_field discovery_endpoint_conditions_fields[] = {
    /* clang-format off */
    F_BOOL("ready", 1),
    F_BOOL("serving", 2),
    F_BOOL("terminating", 3),
    /* clang-format on */
};
static const struct schema_struct schema_discovery_endpoint_conditions =
    S("io.k8s.api.discovery.v1.EndpointConditions", discovery_endpoint_conditions_fields, NULL);

static const struct schema_field discovery_endpoint_hints_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("forZones", 1, &schema_discovery_for_zone),
    F_ARR_OBJ("forNodes", 2, &schema_discovery_for_node),
    /* clang-format on */
};
static const struct schema_struct schema_discovery_endpoint_hints =
    S("io.k8s.api.discovery.v1.EndpointHints", discovery_endpoint_hints_fields, NULL);

static const struct schema_field discovery_for_zone_fields[] = {
    F_STR("name", 1),
};
static const struct schema_struct schema_discovery_for_zone =
    S("io.k8s.api.discovery.v1.ForZone", discovery_for_zone_fields, NULL);

static const struct schema_field discovery_for_node_fields[] = {
    F_STR("name", 1),
};
static const struct schema_struct schema_discovery_for_node =
    S("io.k8s.api.discovery.v1.ForNode", discovery_for_node_fields, NULL);

static const struct schema_field discovery_endpoint_port_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("protocol", 2),
    F_I32("port", 3),
    F_STR("appProtocol", 4),
    /* clang-format on */
};
static const struct schema_struct schema_discovery_endpoint_port =
    S("io.k8s.api.discovery.v1.EndpointPort", discovery_endpoint_port_fields, NULL);

static const struct schema_field rbac_role_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_ARR_OBJ("rules", 2, &schema_rbac_policy_rule),
    /* clang-format on */
};
const struct schema_struct schema_rbac_role =
    S("io.k8s.api.rbac.v1.Role", rbac_role_fields, "Namespaced set of permission rules.");

static const struct schema_field rbac_policy_rule_fields[] = {
    /* clang-format off */
    F_ARR_STR("verbs", 1),
    F_ARR_STR("apiGroups", 2),
    F_ARR_STR("resources", 3),
    F_ARR_STR("resourceNames", 4),
    F_ARR_STR("nonResourceURLs", 5),
    /* clang-format on */
};
static const struct schema_struct schema_rbac_policy_rule =
    S("io.k8s.api.rbac.v1.PolicyRule", rbac_policy_rule_fields, NULL);

static const struct schema_field rbac_role_binding_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_ARR_OBJ("subjects", 2, &schema_rbac_subject),
    F_OBJ("roleRef", 3, &schema_rbac_role_ref),
    /* clang-format on */
};
const struct schema_struct schema_rbac_role_binding =
    S("io.k8s.api.rbac.v1.RoleBinding", rbac_role_binding_fields,
      "Grants a role to subjects within a namespace.");

static const struct schema_field rbac_subject_fields[] = {
    /* clang-format off */
    F_STR("kind", 1),
    F_STR("apiGroup", 2),
    F_STR("name", 3),
    F_STR("namespace", 4),
    /* clang-format on */
};
static const struct schema_struct schema_rbac_subject =
    S("io.k8s.api.rbac.v1.Subject", rbac_subject_fields, NULL);

static const struct schema_field rbac_role_ref_fields[] = {
    /* clang-format off */
    F_STR("apiGroup", 1),
    F_STR("kind", 2),
    F_STR("name", 3),
    /* clang-format on */
};
static const struct schema_struct schema_rbac_role_ref =
    S("io.k8s.api.rbac.v1.RoleRef", rbac_role_ref_fields, NULL);

static const struct schema_field rbac_cluster_role_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_ARR_OBJ("rules", 2, &schema_rbac_policy_rule),
    F_OBJ("aggregationRule", 3, &schema_rbac_aggregation_rule),
    /* clang-format on */
};
const struct schema_struct schema_rbac_cluster_role =
    S("io.k8s.api.rbac.v1.ClusterRole", rbac_cluster_role_fields,
      "Cluster-wide set of permission rules.");

static const struct schema_field rbac_aggregation_rule_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("clusterRoleSelectors", 1, &schema_meta_label_selector),
    /* clang-format on */
};
static const struct schema_struct schema_rbac_aggregation_rule =
    S("io.k8s.api.rbac.v1.AggregationRule", rbac_aggregation_rule_fields, NULL);

static const struct schema_field rbac_cluster_role_binding_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_ARR_OBJ("subjects", 2, &schema_rbac_subject),
    F_OBJ("roleRef", 3, &schema_rbac_role_ref),
    /* clang-format on */
};
const struct schema_struct schema_rbac_cluster_role_binding =
    S("io.k8s.api.rbac.v1.ClusterRoleBinding", rbac_cluster_role_binding_fields,
      "Grants a cluster role to subjects cluster-wide.");

static const struct schema_field autoscaling_scale_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_autoscaling_scale_spec),
    F_OBJ("status", 3, &schema_autoscaling_scale_status),
    /* clang-format on */
};
const struct schema_struct schema_autoscaling_scale =
    S("io.k8s.api.autoscaling.v1.Scale", autoscaling_scale_fields,
      "The scale subresource of a scalable object.");

static const struct schema_field autoscaling_scale_spec_fields[] = {
    /* clang-format off */
    F_I32("replicas", 1),
    /* clang-format on */
};
static const struct schema_struct schema_autoscaling_scale_spec =
    S("io.k8s.api.autoscaling.v1.ScaleSpec", autoscaling_scale_spec_fields, NULL);

static const struct schema_field autoscaling_scale_status_fields[] = {
    /* clang-format off */
    F_I32("replicas", 1),
    F_STR("selector", 2),
    /* clang-format on */
};
static const struct schema_struct schema_autoscaling_scale_status =
    S("io.k8s.api.autoscaling.v1.ScaleStatus", autoscaling_scale_status_fields, NULL);

const struct schema_struct *const schema_misc_structs[] = {
    &schema_batch_job,
    &schema_batch_job_spec,
    &schema_batch_pod_failure_policy,
    &schema_batch_pod_failure_policy_rule,
    &schema_batch_pod_failure_policy_on_exit_codes_requirement,
    &schema_batch_pod_failure_policy_on_pod_conditions_pattern,
    &schema_batch_success_policy,
    &schema_batch_success_policy_rule,
    &schema_batch_job_status,
    &schema_batch_job_condition,
    &schema_batch_uncounted_terminated_pods,
    &schema_policy_pod_disruption_budget,
    &schema_policy_pod_disruption_budget_spec,
    &schema_policy_pod_disruption_budget_status,
    &schema_storage_storage_class,
    &schema_scheduling_priority_class,
    &schema_coordination_lease,
    &schema_coordination_lease_spec,
    &schema_discovery_endpoint_slice,
    &schema_discovery_endpoint,
    &schema_discovery_endpoint_conditions,
    &schema_discovery_endpoint_hints,
    &schema_discovery_for_zone,
    &schema_discovery_for_node,
    &schema_discovery_endpoint_port,
    &schema_rbac_role,
    &schema_rbac_policy_rule,
    &schema_rbac_role_binding,
    &schema_rbac_subject,
    &schema_rbac_role_ref,
    &schema_rbac_cluster_role,
    &schema_rbac_aggregation_rule,
    &schema_rbac_cluster_role_binding,
    &schema_autoscaling_scale,
    &schema_autoscaling_scale_spec,
    &schema_autoscaling_scale_status,
};
const size_t schema_misc_nstructs = ARRAY_SIZE(schema_misc_structs);
