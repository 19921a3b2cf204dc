/* Field tables of apps/v1, after k8s.io/api v0.33: JSON names, types,
 * strategic merge patch tags and protobuf field numbers, in the order of the Go types. */
#include "api/schema_tables.h"

static const struct schema_struct schema_apps_deployment_spec;
static const struct schema_struct schema_apps_deployment_strategy;
static const struct schema_struct schema_apps_rolling_update_deployment;
static const struct schema_struct schema_apps_deployment_status;
static const struct schema_struct schema_apps_deployment_condition;
static const struct schema_struct schema_apps_replica_set_spec;
static const struct schema_struct schema_apps_replica_set_status;
static const struct schema_struct schema_apps_replica_set_condition;
static const struct schema_struct schema_apps_stateful_set_spec;
static const struct schema_struct schema_apps_stateful_set_update_strategy;
static const struct schema_struct schema_apps_rolling_update_stateful_set_strategy;
static const struct schema_struct schema_apps_stateful_set_persistent_volume_claim_retention_policy;
static const struct schema_struct schema_apps_stateful_set_ordinals;
static const struct schema_struct schema_apps_stateful_set_status;
static const struct schema_struct schema_apps_stateful_set_condition;
static const struct schema_struct schema_apps_daemon_set_spec;
static const struct schema_struct schema_apps_daemon_set_update_strategy;
static const struct schema_struct schema_apps_rolling_update_daemon_set;
static const struct schema_struct schema_apps_daemon_set_status;
static const struct schema_struct schema_apps_daemon_set_condition;

static const struct schema_field apps_deployment_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_apps_deployment_spec),
    F_OBJ("status", 3, &schema_apps_deployment_status),
    /* clang-format on */
};
const struct schema_struct schema_apps_deployment =
    S("io.k8s.api.apps.v1.Deployment", apps_deployment_fields,
      "Declarative rolling updates of pods through replica sets.");

static const struct schema_field apps_deployment_spec_fields[] = {
    /* clang-format off */
    F_I32("replicas", 1),
    F_OBJ("selector", 2, &schema_meta_label_selector),
    F_OBJ("template", 3, &schema_core_pod_template_spec),
    F_PATCH("strategy", 4, NULL, "retainKeys", N_OBJ(&schema_apps_deployment_strategy)),
    F_I32("minReadySeconds", 5),
    F_I32("revisionHistoryLimit", 6),
    F_BOOL("paused", 7),
    F_I32("progressDeadlineSeconds", 9),
    /* clang-format on */
};
static const struct schema_struct schema_apps_deployment_spec =
    S("io.k8s.api.apps.v1.DeploymentSpec", apps_deployment_spec_fields, NULL);

static const struct schema_field apps_deployment_strategy_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_OBJ("rollingUpdate", 2, &schema_apps_rolling_update_deployment),
    /* clang-format on */
};
static const struct schema_struct schema_apps_deployment_strategy =
    S("io.k8s.api.apps.v1.DeploymentStrategy", apps_deployment_strategy_fields, NULL);

static const struct schema_field apps_rolling_update_deployment_fields[] = {
    /* clang-format off */
    F_IOS("maxUnavailable", 1),
    F_IOS("maxSurge", 2),
    /* clang-format on */
};
static const struct schema_struct schema_apps_rolling_update_deployment =
    S("io.k8s.api.apps.v1.RollingUpdateDeployment", apps_rolling_update_deployment_fields, NULL);

static const struct schema_field apps_deployment_status_fields[] = {
    /* clang-format off */
    F_I64("observedGeneration", 1),
    F_I32("replicas", 2),
    F_I32("updatedReplicas", 3),
    F_I32("readyReplicas", 7),
    F_I32("availableReplicas", 4),
    F_I32("unavailableReplicas", 5),
    F_I32("terminatingReplicas", 9),
    F_PATCH("conditions", 6, "type", "merge", N_ARR(N_OBJ(&schema_apps_deployment_condition))),
    F_I32("collisionCount", 8),
    /* clang-format on */
};
static const struct schema_struct schema_apps_deployment_status =
    S("io.k8s.api.apps.v1.DeploymentStatus", apps_deployment_status_fields, NULL);

static const struct schema_field apps_deployment_condition_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("status", 2),
    F_TIME("lastUpdateTime", 6),
    F_TIME("lastTransitionTime", 7),
    F_STR("reason", 4),
    F_STR("message", 5),
    /* clang-format on */
};
static const struct schema_struct schema_apps_deployment_condition =
    S("io.k8s.api.apps.v1.DeploymentCondition", apps_deployment_condition_fields, NULL);

static const struct schema_field apps_replica_set_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_apps_replica_set_spec),
    F_OBJ("status", 3, &schema_apps_replica_set_status),
    /* clang-format on */
};
const struct schema_struct schema_apps_replica_set =
    S("io.k8s.api.apps.v1.ReplicaSet", apps_replica_set_fields,
      "Keeps a number of identical pods running.");

static const struct schema_field apps_replica_set_spec_fields[] = {
    /* clang-format off */
    F_I32("replicas", 1),
    F_I32("minReadySeconds", 4),
    F_OBJ("selector", 2, &schema_meta_label_selector),
    F_OBJ("template", 3, &schema_core_pod_template_spec),
    /* clang-format on */
};
static const struct schema_struct schema_apps_replica_set_spec =
    S("io.k8s.api.apps.v1.ReplicaSetSpec", apps_replica_set_spec_fields, NULL);

static const struct schema_field apps_replica_set_status_fields[] = {
    /* clang-format off */
    F_I32("replicas", 1),
    F_I32("fullyLabeledReplicas", 2),
    F_I32("readyReplicas", 4),
    F_I32("availableReplicas", 5),
    F_I32("terminatingReplicas", 7),
    F_I64("observedGeneration", 3),
    F_PATCH("conditions", 6, "type", "merge", N_ARR(N_OBJ(&schema_apps_replica_set_condition))),
    /* clang-format on */
};
static const struct schema_struct schema_apps_replica_set_status =
    S("io.k8s.api.apps.v1.ReplicaSetStatus", apps_replica_set_status_fields, NULL);

static const struct schema_field apps_replica_set_condition_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("status", 2),
    F_TIME("lastTransitionTime", 3),
    F_STR("reason", 4),
    F_STR("message", 5),
    /* clang-format on */
};
static const struct schema_struct schema_apps_replica_set_condition =
    S("io.k8s.api.apps.v1.ReplicaSetCondition", apps_replica_set_condition_fields, NULL);

static const struct schema_field apps_stateful_set_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_apps_stateful_set_spec),
    F_OBJ("status", 3, &schema_apps_stateful_set_status),
    /* clang-format on */
};
const struct schema_struct schema_apps_stateful_set =
    S("io.k8s.api.apps.v1.StatefulSet", apps_stateful_set_fields,
      "Pods with stable identities and per-pod storage.");

static const struct schema_field apps_stateful_set_spec_fields[] = {
    /* clang-format off */
    F_I32("replicas", 1),
    F_OBJ("selector", 2, &schema_meta_label_selector),
    F_OBJ("template", 3, &schema_core_pod_template_spec),
    F_ARR_OBJ("volumeClaimTemplates", 4, &schema_core_persistent_volume_claim),
    F_STR("serviceName", 5),
    F_STR("podManagementPolicy", 6),
    F_OBJ("updateStrategy", 7, &schema_apps_stateful_set_update_strategy),
    F_I32("revisionHistoryLimit", 8),
    F_I32("minReadySeconds", 9),
    F_OBJ("persistentVolumeClaimRetentionPolicy", 10,
            &schema_apps_stateful_set_persistent_volume_claim_retention_policy),
    F_OBJ("ordinals", 11, &schema_apps_stateful_set_ordinals),
    /* clang-format on */
};
static const struct schema_struct schema_apps_stateful_set_spec =
    S("io.k8s.api.apps.v1.StatefulSetSpec", apps_stateful_set_spec_fields, NULL);

static const struct schema_field apps_stateful_set_update_strategy_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_OBJ("rollingUpdate", 2, &schema_apps_rolling_update_stateful_set_strategy),
    /* clang-format on */
};
static const struct schema_struct schema_apps_stateful_set_update_strategy = S(
    "io.k8s.api.apps.v1.StatefulSetUpdateStrategy", apps_stateful_set_update_strategy_fields, NULL);

static const struct schema_field apps_rolling_update_stateful_set_strategy_fields[] = {
    /* clang-format off */
    F_I32("partition", 1),
    F_IOS("maxUnavailable", 2),
    /* clang-format on */
};
static const struct schema_struct schema_apps_rolling_update_stateful_set_strategy =
    S("io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy",
      apps_rolling_update_stateful_set_strategy_fields, NULL);

static const struct schema_field
    apps_stateful_set_persistent_volume_claim_retention_policy_fields[] = {
        /* clang-format off */
    F_STR("whenDeleted", 1),
    F_STR("whenScaled", 2),
        /* clang-format on */
};
static const struct schema_struct
    schema_apps_stateful_set_persistent_volume_claim_retention_policy =
        S("io.k8s.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy",
          apps_stateful_set_persistent_volume_claim_retention_policy_fields, NULL);

static const struct schema_field apps_stateful_set_ordinals_fields[] = {
    /* clang-format off */
    F_I32("start", 1),
    /* clang-format on */
};
static const struct schema_struct schema_apps_stateful_set_ordinals =
    S("io.k8s.api.apps.v1.StatefulSetOrdinals", apps_stateful_set_ordinals_fields, NULL);

static const struct schema_field apps_stateful_set_status_fields[] = {
    /* clang-format off */
    F_I64("observedGeneration", 1),
    F_I32("replicas", 2),
    F_I32("readyReplicas", 3),
    F_I32("currentReplicas", 4),
    F_I32("updatedReplicas", 5),
    F_STR("currentRevision", 6),
    F_STR("updateRevision", 7),
    F_I32("collisionCount", 9),
    F_PATCH("conditions", 10, "type", "merge", N_ARR(N_OBJ(&schema_apps_stateful_set_condition))),
    F_I32("availableReplicas", 11),
    /* clang-format on */
};
static const struct schema_struct schema_apps_stateful_set_status =
    S("io.k8s.api.apps.v1.StatefulSetStatus", apps_stateful_set_status_fields, NULL);

static const struct schema_field apps_stateful_set_condition_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("status", 2),
    F_TIME("lastTransitionTime", 3),
    F_STR("reason", 4),
    F_STR("message", 5),
    /* clang-format on */
};
static const struct schema_struct schema_apps_stateful_set_condition =
    S("io.k8s.api.apps.v1.StatefulSetCondition", apps_stateful_set_condition_fields, NULL);

static const struct schema_field apps_daemon_set_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_apps_daemon_set_spec),
    F_OBJ("status", 3, &schema_apps_daemon_set_status),
    /* clang-format on */
};
const struct schema_struct schema_apps_daemon_set =
    S("io.k8s.api.apps.v1.DaemonSet", apps_daemon_set_fields,
      "Runs a copy of a pod on each selected node.");

static const struct schema_field apps_daemon_set_spec_fields[] = {
    /* clang-format off */
    F_OBJ("selector", 1, &schema_meta_label_selector),
    F_OBJ("template", 2, &schema_core_pod_template_spec),
    F_OBJ("updateStrategy", 3, &schema_apps_daemon_set_update_strategy),
    F_I32("minReadySeconds", 4),
    F_I32("revisionHistoryLimit", 6),
    /* clang-format on */
};
static const struct schema_struct schema_apps_daemon_set_spec =
    S("io.k8s.api.apps.v1.DaemonSetSpec", apps_daemon_set_spec_fields, NULL);

static const struct schema_field apps_daemon_set_update_strategy_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_OBJ("rollingUpdate", 2, &schema_apps_rolling_update_daemon_set),
    /* clang-format on */
};
static const struct schema_struct schema_apps_daemon_set_update_strategy =
    S("io.k8s.api.apps.v1.DaemonSetUpdateStrategy", apps_daemon_set_update_strategy_fields, NULL);

static const struct schema_field apps_rolling_update_daemon_set_fields[] = {
    /* clang-format off */
    F_IOS("maxUnavailable", 1),
    F_IOS("maxSurge", 2),
    /* clang-format on */
};
static const struct schema_struct schema_apps_rolling_update_daemon_set =
    S("io.k8s.api.apps.v1.RollingUpdateDaemonSet", apps_rolling_update_daemon_set_fields, NULL);

static const struct schema_field apps_daemon_set_status_fields[] = {
    /* clang-format off */
    F_I32("currentNumberScheduled", 1),
    F_I32("numberMisscheduled", 2),
    F_I32("desiredNumberScheduled", 3),
    F_I32("numberReady", 4),
    F_I64("observedGeneration", 5),
    F_I32("updatedNumberScheduled", 6),
    F_I32("numberAvailable", 7),
    F_I32("numberUnavailable", 8),
    F_I32("collisionCount", 9),
    F_PATCH("conditions", 10, "type", "merge", N_ARR(N_OBJ(&schema_apps_daemon_set_condition))),
    /* clang-format on */
};
static const struct schema_struct schema_apps_daemon_set_status =
    S("io.k8s.api.apps.v1.DaemonSetStatus", apps_daemon_set_status_fields, NULL);

static const struct schema_field apps_daemon_set_condition_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("status", 2),
    F_TIME("lastTransitionTime", 3),
    F_STR("reason", 4),
    F_STR("message", 5),
    /* clang-format on */
};
static const struct schema_struct schema_apps_daemon_set_condition =
    S("io.k8s.api.apps.v1.DaemonSetCondition", apps_daemon_set_condition_fields, NULL);

const struct schema_struct *const schema_apps_structs[] = {
    &schema_apps_deployment,
    &schema_apps_deployment_spec,
    &schema_apps_deployment_strategy,
    &schema_apps_rolling_update_deployment,
    &schema_apps_deployment_status,
    &schema_apps_deployment_condition,
    &schema_apps_replica_set,
    &schema_apps_replica_set_spec,
    &schema_apps_replica_set_status,
    &schema_apps_replica_set_condition,
    &schema_apps_stateful_set,
    &schema_apps_stateful_set_spec,
    &schema_apps_stateful_set_update_strategy,
    &schema_apps_rolling_update_stateful_set_strategy,
    &schema_apps_stateful_set_persistent_volume_claim_retention_policy,
    &schema_apps_stateful_set_ordinals,
    &schema_apps_stateful_set_status,
    &schema_apps_stateful_set_condition,
    &schema_apps_daemon_set,
    &schema_apps_daemon_set_spec,
    &schema_apps_daemon_set_update_strategy,
    &schema_apps_rolling_update_daemon_set,
    &schema_apps_daemon_set_status,
    &schema_apps_daemon_set_condition,
};
const size_t schema_apps_nstructs = ARRAY_SIZE(schema_apps_structs);
