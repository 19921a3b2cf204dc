/* Field tables of meta/v1, after k8s.io/api v0.33: JSON names, types,
 * strategic merge patch tags and protobuf field numbers, in the order of the Go types. */
#include "api/schema_tables.h"

static const struct schema_struct schema_meta_owner_reference;
static const struct schema_struct schema_meta_managed_fields_entry;
static const struct schema_struct schema_meta_preconditions;

static const struct schema_field meta_object_meta_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("generateName", 2),
    F_STR("namespace", 3),
    F_STR("selfLink", 4),
    F_STR("uid", 5),
    F_STR("resourceVersion", 6),
    F_I64("generation", 7),
    F_TIME("creationTimestamp", 8),
    F_TIME("deletionTimestamp", 9),
    F_I64("deletionGracePeriodSeconds", 10),
    F_MAP_STR("labels", 11),
    F_MAP_STR("annotations", 12),
    F_PATCH("ownerReferences", 13, "uid", "merge", N_ARR(N_OBJ(&schema_meta_owner_reference))),
    F_PATCH("finalizers", 14, NULL, "merge", N_ARR(N_STR)),
    F_ARR_OBJ("managedFields", 17, &schema_meta_managed_fields_entry),
    /* clang-format on */
};
const struct schema_struct schema_meta_object_meta =
    S("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", meta_object_meta_fields, NULL);

static const struct schema_field meta_owner_reference_fields[] = {
    /* clang-format off */
    F_STR("apiVersion", 5),
    F_STR("kind", 1),
    F_STR("name", 3),
    F_STR("uid", 4),
    F_BOOL("controller", 6),
    F_BOOL("blockOwnerDeletion", 7),
    /* clang-format on */
};
static const struct schema_struct schema_meta_owner_reference =
    S("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference", meta_owner_reference_fields, NULL);

static const struct schema_field meta_managed_fields_entry_fields[] = {
    /* clang-format off */
    F_STR("manager", 1),
    F_STR("operation", 2),
    F_STR("apiVersion", 3),
    F_TIME("time", 4),
    F_STR("fieldsType", 6),
    F_ANY("fieldsV1", 7),
    F_STR("subresource", 8),
    /* clang-format on */
};
static const struct schema_struct schema_meta_managed_fields_entry =
    S("io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry", meta_managed_fields_entry_fields,
      NULL);

static const struct schema_field meta_label_selector_fields[] = {
    /* clang-format off */
    F_MAP_STR("matchLabels", 1),
    F_ARR_OBJ("matchExpressions", 2, &schema_meta_label_selector_requirement),
    /* clang-format on */
};
const struct schema_struct schema_meta_label_selector =
    S("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", meta_label_selector_fields, NULL);

static const struct schema_field meta_label_selector_requirement_fields[] = {
    /* clang-format off */
    F_STR("key", 1),
    F_STR("operator", 2),
    F_ARR_STR("values", 3),
    /* clang-format on */
};
const struct schema_struct schema_meta_label_selector_requirement =
    S("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
      meta_label_selector_requirement_fields, NULL);

static const struct schema_field meta_condition_fields[] = {
    /* clang-format off */
    F_STR("type", 1),
    F_STR("status", 2),
    F_I64("observedGeneration", 3),
    F_TIME("lastTransitionTime", 4),
    F_STR("reason", 5),
    F_STR("message", 6),
    /* clang-format on */
};
const struct schema_struct schema_meta_condition =
    S("io.k8s.apimachinery.pkg.apis.meta.v1.Condition", meta_condition_fields, NULL);

static const struct schema_field meta_delete_options_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_I64("gracePeriodSeconds", 1),
    F_OBJ("preconditions", 2, &schema_meta_preconditions),
    F_BOOL("orphanDependents", 3),
    F_STR("propagationPolicy", 4),
    F_ARR_STR("dryRun", 5),
    F_BOOL("ignoreStoreReadErrorWithClusterBreakingPotential", 6),
    /* clang-format on */
};
const struct schema_struct schema_meta_delete_options =
    S("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", meta_delete_options_fields,
      "Options for deleting an object.");

static const struct schema_field meta_preconditions_fields[] = {
    /* clang-format off */
    F_STR("uid", 1),
    F_STR("resourceVersion", 2),
    /* clang-format on */
};
static const struct schema_struct schema_meta_preconditions =
    S("io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions", meta_preconditions_fields, NULL);

const struct schema_struct *const schema_meta_structs[] = {
    &schema_meta_object_meta,
    &schema_meta_owner_reference,
    &schema_meta_managed_fields_entry,
    &schema_meta_label_selector,
    &schema_meta_label_selector_requirement,
    &schema_meta_condition,
    &schema_meta_delete_options,
    &schema_meta_preconditions,
};
const size_t schema_meta_nstructs = ARRAY_SIZE(schema_meta_structs);
