/* Field tables of the kinds kubectl 1.32+ sends as protobuf that the other tables lack:
 * authorization.k8s.io/v1 access and rules reviews (`auth can-i`), authentication.k8s.io/v1
 * SelfSubjectReview (`auth whoami`) and TokenRequest (`create token`), batch/v1 CronJob
 * (`create cronjob`) and core/v1 ResourceQuota (`create quota`). After k8s.io/api v0.33
 * (generated.proto and types.go): JSON names, types and protobuf field numbers, in the order
 * of the Go types. */
#include "api/schema_tables.h"

static const struct schema_struct schema_authz_self_subject_access_review_spec;
static const struct schema_struct schema_authz_subject_access_review_spec;
static const struct schema_struct schema_authz_resource_attributes;
static const struct schema_struct schema_authz_field_selector_attributes;
static const struct schema_struct schema_authz_label_selector_attributes;
static const struct schema_struct schema_meta_field_selector_requirement;
static const struct schema_struct schema_authz_non_resource_attributes;
static const struct schema_struct schema_authz_subject_access_review_status;
static const struct schema_struct schema_authz_self_subject_rules_review_spec;
static const struct schema_struct schema_authz_subject_rules_review_status;
static const struct schema_struct schema_authz_resource_rule;
static const struct schema_struct schema_authz_non_resource_rule;
static const struct schema_struct schema_authn_self_subject_review_status;
static const struct schema_struct schema_authn_user_info;
static const struct schema_struct schema_authn_token_request_spec;
static const struct schema_struct schema_authn_bound_object_reference;
static const struct schema_struct schema_authn_token_request_status;
static const struct schema_struct schema_batch_cron_job_spec;
static const struct schema_struct schema_batch_job_template_spec;
static const struct schema_struct schema_batch_cron_job_status;
static const struct schema_struct schema_core_resource_quota_spec;
static const struct schema_struct schema_core_scope_selector;
static const struct schema_struct schema_core_scoped_resource_selector_requirement;
static const struct schema_struct schema_core_resource_quota_status;

/* ---- authorization.k8s.io/v1 -------------------------------------------------------------- */

static const struct schema_field authz_self_subject_access_review_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_authz_self_subject_access_review_spec),
    F_OBJ("status", 3, &schema_authz_subject_access_review_status),
    /* clang-format on */
};
const struct schema_struct schema_authz_self_subject_access_review = S(
    "io.k8s.api.authorization.v1.SelfSubjectAccessReview", authz_self_subject_access_review_fields,
    "Checks whether the current user can perform an action.");

static const struct schema_field authz_self_subject_access_review_spec_fields[] = {
    /* clang-format off */
    F_OBJ("resourceAttributes", 1, &schema_authz_resource_attributes),
    F_OBJ("nonResourceAttributes", 2, &schema_authz_non_resource_attributes),
    /* clang-format on */
};
static const struct schema_struct schema_authz_self_subject_access_review_spec =
    S("io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec",
      authz_self_subject_access_review_spec_fields, NULL);

static const struct schema_field authz_subject_access_review_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_authz_subject_access_review_spec),
    F_OBJ("status", 3, &schema_authz_subject_access_review_status),
    /* clang-format on */
};
const struct schema_struct schema_authz_subject_access_review =
    S("io.k8s.api.authorization.v1.SubjectAccessReview", authz_subject_access_review_fields,
      "Checks whether a user or group can perform an action.");
const struct schema_struct schema_authz_local_subject_access_review =
    S("io.k8s.api.authorization.v1.LocalSubjectAccessReview", authz_subject_access_review_fields,
      "Checks whether a user or group can perform an action in a given namespace.");

static const struct schema_field authz_subject_access_review_spec_fields[] = {
    /* clang-format off */
    F_OBJ("resourceAttributes", 1, &schema_authz_resource_attributes),
    F_OBJ("nonResourceAttributes", 2, &schema_authz_non_resource_attributes),
    F_STR("user", 3),
    F_ARR_STR("groups", 4),
    F_NODE("extra", 5, N_MAP(N_ARR(N_STR))),
    F_STR("uid", 6),
    /* clang-format on */
};
static const struct schema_struct schema_authz_subject_access_review_spec =
    S("io.k8s.api.authorization.v1.SubjectAccessReviewSpec",
      authz_subject_access_review_spec_fields, NULL);

static const struct schema_field authz_resource_attributes_fields[] = {
    /* clang-format off */
    F_STR("namespace", 1),
    F_STR("verb", 2),
    F_STR("group", 3),
    F_STR("version", 4),
    F_STR("resource", 5),
    F_STR("subresource", 6),
    F_STR("name", 7),
    F_OBJ("fieldSelector", 8, &schema_authz_field_selector_attributes),
    F_OBJ("labelSelector", 9, &schema_authz_label_selector_attributes),
    /* clang-format on */
};
static const struct schema_struct schema_authz_resource_attributes =
    S("io.k8s.api.authorization.v1.ResourceAttributes", authz_resource_attributes_fields, NULL);

static const struct schema_field authz_field_selector_attributes_fields[] = {
    /* clang-format off */
    F_STR("rawSelector", 1),
    F_ARR_OBJ("requirements", 2, &schema_meta_field_selector_requirement),
    /* clang-format on */
};
static const struct schema_struct schema_authz_field_selector_attributes =
    S("io.k8s.api.authorization.v1.FieldSelectorAttributes", authz_field_selector_attributes_fields,
      NULL);

static const struct schema_field authz_label_selector_attributes_fields[] = {
    /* clang-format off */
    F_STR("rawSelector", 1),
    F_ARR_OBJ("requirements", 2, &schema_meta_label_selector_requirement),
    /* clang-format on */
};
static const struct schema_struct schema_authz_label_selector_attributes =
    S("io.k8s.api.authorization.v1.LabelSelectorAttributes", authz_label_selector_attributes_fields,
      NULL);

/* Only field selector attributes use it, so it lives here rather than with meta/v1. */
static const struct schema_field meta_field_selector_requirement_fields[] = {
    /* clang-format off */
    F_STR("key", 1),
    F_STR("operator", 2),
    F_ARR_STR("values", 3),
    /* clang-format on */
};
static const struct schema_struct schema_meta_field_selector_requirement =
    S("io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement",
      meta_field_selector_requirement_fields, NULL);

static const struct schema_field authz_non_resource_attributes_fields[] = {
    /* clang-format off */
    F_STR("path", 1),
    F_STR("verb", 2),
    /* clang-format on */
};
static const struct schema_struct schema_authz_non_resource_attributes =
    S("io.k8s.api.authorization.v1.NonResourceAttributes", authz_non_resource_attributes_fields,
      NULL);

static const struct schema_field authz_subject_access_review_status_fields[] = {
    /* clang-format off */
    F_BOOL("allowed", 1),
    F_BOOL("denied", 4),
    F_STR("reason", 2),
    F_STR("evaluationError", 3),
    /* clang-format on */
};
static const struct schema_struct schema_authz_subject_access_review_status =
    S("io.k8s.api.authorization.v1.SubjectAccessReviewStatus",
      authz_subject_access_review_status_fields, NULL);

static const struct schema_field authz_self_subject_rules_review_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_authz_self_subject_rules_review_spec),
    F_OBJ("status", 3, &schema_authz_subject_rules_review_status),
    /* clang-format on */
};
const struct schema_struct schema_authz_self_subject_rules_review =
    S("io.k8s.api.authorization.v1.SelfSubjectRulesReview", authz_self_subject_rules_review_fields,
      "Lists the actions the current user can perform in a namespace.");

static const struct schema_field authz_self_subject_rules_review_spec_fields[] = {
    /* clang-format off */
    F_STR("namespace", 1),
    /* clang-format on */
};
static const struct schema_struct schema_authz_self_subject_rules_review_spec =
    S("io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec",
      authz_self_subject_rules_review_spec_fields, NULL);

static const struct schema_field authz_subject_rules_review_status_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("resourceRules", 1, &schema_authz_resource_rule),
    F_ARR_OBJ("nonResourceRules", 2, &schema_authz_non_resource_rule),
    F_BOOL("incomplete", 3),
    F_STR("evaluationError", 4),
    /* clang-format on */
};
static const struct schema_struct schema_authz_subject_rules_review_status =
    S("io.k8s.api.authorization.v1.SubjectRulesReviewStatus",
      authz_subject_rules_review_status_fields, NULL);

static const struct schema_field authz_resource_rule_fields[] = {
    /* clang-format off */
    F_ARR_STR("verbs", 1),
    F_ARR_STR("apiGroups", 2),
    F_ARR_STR("resources", 3),
    F_ARR_STR("resourceNames", 4),
    /* clang-format on */
};
static const struct schema_struct schema_authz_resource_rule =
    S("io.k8s.api.authorization.v1.ResourceRule", authz_resource_rule_fields, NULL);

static const struct schema_field authz_non_resource_rule_fields[] = {
    /* clang-format off */
    F_ARR_STR("verbs", 1),
    F_ARR_STR("nonResourceURLs", 2),
    /* clang-format on */
};
static const struct schema_struct schema_authz_non_resource_rule =
    S("io.k8s.api.authorization.v1.NonResourceRule", authz_non_resource_rule_fields, NULL);

/* ---- authentication.k8s.io/v1 ------------------------------------------------------------- */

static const struct schema_field authn_self_subject_review_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("status", 2, &schema_authn_self_subject_review_status),
    /* clang-format on */
};
const struct schema_struct schema_authn_self_subject_review =
    S("io.k8s.api.authentication.v1.SelfSubjectReview", authn_self_subject_review_fields,
      "Reports the user information the server sees for the requester.");

static const struct schema_field authn_self_subject_review_status_fields[] = {
    /* clang-format off */
    F_OBJ("userInfo", 1, &schema_authn_user_info),
    /* clang-format on */
};
static const struct schema_struct schema_authn_self_subject_review_status =
    S("io.k8s.api.authentication.v1.SelfSubjectReviewStatus",
      authn_self_subject_review_status_fields, NULL);

/* extra is map[string]ExtraValue, ExtraValue being []string: in protobuf each map value is a
 * message {1: repeated string}, which a map of arrays stands for (see proto_decode.c). */
static const struct schema_field authn_user_info_fields[] = {
    /* clang-format off */
    F_STR("username", 1),
    F_STR("uid", 2),
    F_ARR_STR("groups", 3),
    F_NODE("extra", 4, N_MAP(N_ARR(N_STR))),
    /* clang-format on */
};
static const struct schema_struct schema_authn_user_info =
    S("io.k8s.api.authentication.v1.UserInfo", authn_user_info_fields, NULL);

static const struct schema_field authn_token_request_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_authn_token_request_spec),
    F_OBJ("status", 3, &schema_authn_token_request_status),
    /* clang-format on */
};
const struct schema_struct schema_authn_token_request =
    S("io.k8s.api.authentication.v1.TokenRequest", authn_token_request_fields,
      "Requests a token for a service account.");

static const struct schema_field authn_token_request_spec_fields[] = {
    /* clang-format off */
    F_ARR_STR("audiences", 1),
    F_I64("expirationSeconds", 4),
    F_OBJ("boundObjectRef", 3, &schema_authn_bound_object_reference),
    /* clang-format on */
};
static const struct schema_struct schema_authn_token_request_spec =
    S("io.k8s.api.authentication.v1.TokenRequestSpec", authn_token_request_spec_fields, NULL);

static const struct schema_field authn_bound_object_reference_fields[] = {
    /* clang-format off */
    F_STR("kind", 1),
    F_STR("apiVersion", 2),
    F_STR("name", 3),
    F_STR("uid", 4),
    /* clang-format on */
};
static const struct schema_struct schema_authn_bound_object_reference = S(
    "io.k8s.api.authentication.v1.BoundObjectReference", authn_bound_object_reference_fields, NULL);

static const struct schema_field authn_token_request_status_fields[] = {
    /* clang-format off */
    F_STR("token", 1),
    F_TIME("expirationTimestamp", 2),
    /* clang-format on */
};
static const struct schema_struct schema_authn_token_request_status =
    S("io.k8s.api.authentication.v1.TokenRequestStatus", authn_token_request_status_fields, NULL);

/* ---- batch/v1 CronJob --------------------------------------------------------------------- */

static const struct schema_field batch_cron_job_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_batch_cron_job_spec),
    F_OBJ("status", 3, &schema_batch_cron_job_status),
    /* clang-format on */
};
const struct schema_struct schema_batch_cron_job =
    S("io.k8s.api.batch.v1.CronJob", batch_cron_job_fields, "Runs a job on a schedule.");

static const struct schema_field batch_cron_job_spec_fields[] = {
    /* clang-format off */
    F_STR("schedule", 1),
    F_STR("timeZone", 8),
    F_I64("startingDeadlineSeconds", 2),
    F_STR("concurrencyPolicy", 3),
    F_BOOL("suspend", 4),
    F_OBJ("jobTemplate", 5, &schema_batch_job_template_spec),
    F_I32("successfulJobsHistoryLimit", 6),
    F_I32("failedJobsHistoryLimit", 7),
    /* clang-format on */
};
static const struct schema_struct schema_batch_cron_job_spec =
    S("io.k8s.api.batch.v1.CronJobSpec", batch_cron_job_spec_fields, NULL);

static const struct schema_field batch_job_template_spec_fields[] = {
    /* clang-format off */
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_batch_job_spec),
    /* clang-format on */
};
static const struct schema_struct schema_batch_job_template_spec =
    S("io.k8s.api.batch.v1.JobTemplateSpec", batch_job_template_spec_fields, NULL);

static const struct schema_field batch_cron_job_status_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("active", 1, &schema_core_object_reference),
    F_TIME("lastScheduleTime", 4),
    F_TIME("lastSuccessfulTime", 5),
    /* clang-format on */
};
static const struct schema_struct schema_batch_cron_job_status =
    S("io.k8s.api.batch.v1.CronJobStatus", batch_cron_job_status_fields, NULL);

/* ---- core/v1 ResourceQuota ---------------------------------------------------------------- */

static const struct schema_field core_resource_quota_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("apiVersion", 0),
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_core_resource_quota_spec),
    F_OBJ("status", 3, &schema_core_resource_quota_status),
    /* clang-format on */
};
const struct schema_struct schema_core_resource_quota =
    S("io.k8s.api.core.v1.ResourceQuota", core_resource_quota_fields,
      "Limits the aggregate resource use in a namespace.");

static const struct schema_field core_resource_quota_spec_fields[] = {
    /* clang-format off */
    F_MAP_QTY("hard", 1),
    F_ARR_STR("scopes", 2),
    F_OBJ("scopeSelector", 3, &schema_core_scope_selector),
    /* clang-format on */
};
static const struct schema_struct schema_core_resource_quota_spec =
    S("io.k8s.api.core.v1.ResourceQuotaSpec", core_resource_quota_spec_fields, NULL);

static const struct schema_field core_scope_selector_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("matchExpressions", 1, &schema_core_scoped_resource_selector_requirement),
    /* clang-format on */
};
static const struct schema_struct schema_core_scope_selector =
    S("io.k8s.api.core.v1.ScopeSelector", core_scope_selector_fields, NULL);

static const struct schema_field core_scoped_resource_selector_requirement_fields[] = {
    /* clang-format off */
    F_STR("scopeName", 1),
    F_STR("operator", 2),
    F_ARR_STR("values", 3),
    /* clang-format on */
};
static const struct schema_struct schema_core_scoped_resource_selector_requirement =
    S("io.k8s.api.core.v1.ScopedResourceSelectorRequirement",
      core_scoped_resource_selector_requirement_fields, NULL);

static const struct schema_field core_resource_quota_status_fields[] = {
    /* clang-format off */
    F_MAP_QTY("hard", 1),
    F_MAP_QTY("used", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_resource_quota_status =
    S("io.k8s.api.core.v1.ResourceQuotaStatus", core_resource_quota_status_fields, NULL);

const struct schema_struct *const schema_authz_structs[] = {
    &schema_authz_self_subject_access_review,
    &schema_authz_self_subject_access_review_spec,
    &schema_authz_subject_access_review,
    &schema_authz_local_subject_access_review,
    &schema_authz_subject_access_review_spec,
    &schema_authz_resource_attributes,
    &schema_authz_field_selector_attributes,
    &schema_authz_label_selector_attributes,
    &schema_meta_field_selector_requirement,
    &schema_authz_non_resource_attributes,
    &schema_authz_subject_access_review_status,
    &schema_authz_self_subject_rules_review,
    &schema_authz_self_subject_rules_review_spec,
    &schema_authz_subject_rules_review_status,
    &schema_authz_resource_rule,
    &schema_authz_non_resource_rule,
    &schema_authn_self_subject_review,
    &schema_authn_self_subject_review_status,
    &schema_authn_user_info,
    &schema_authn_token_request,
    &schema_authn_token_request_spec,
    &schema_authn_bound_object_reference,
    &schema_authn_token_request_status,
    &schema_batch_cron_job,
    &schema_batch_cron_job_spec,
    &schema_batch_job_template_spec,
    &schema_batch_cron_job_status,
    &schema_core_resource_quota,
    &schema_core_resource_quota_spec,
    &schema_core_scope_selector,
    &schema_core_scoped_resource_selector_requirement,
    &schema_core_resource_quota_status,
};
const size_t schema_authz_nstructs = ARRAY_SIZE(schema_authz_structs);
