/* OpenAPI v3: the root index and one document per group/version. Each kind gets a PATCH
 * operation carrying its GVK and a fieldValidation parameter, which is what kubectl checks
 * before it sends fieldValidation=Strict (spec/kubectl-contract.md §2.3). */
#pragma once

#include <jansson.h>

#include "api/schema.h"

/* Definitions the field tables name by type rather than by struct (both OpenAPI versions). */
#define QUANTITY_SCHEMA "io.k8s.apimachinery.pkg.api.resource.Quantity"
#define INTSTR_SCHEMA   "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
#define TIME_SCHEMA     "io.k8s.apimachinery.pkg.apis.meta.v1.Time"

/* {"type": ..., "format": ...} for a scalar field type (string, integer, number, boolean), the
 * same in v2 and v3; NULL for any other type or when out of memory. */
json_t *openapi_scalar_schema(const struct schema_node *n);

json_t *openapi_v3_root(void);
/* NULL if the group/version is not served. */
json_t *openapi_v3_group_version(const char *group, const char *version);
