/* OpenAPI v3: the root index and one document per group/version. Each kind gets a PATCH
 * operation carrying its GVK and a fieldValidation parameter, which is what kubectl checks
 * before it sends fieldValidation=Strict (spec/kubectl-contract.md §2.3). */
#pragma once

#include <jansson.h>

json_t *openapi_v3_root(void);
/* NULL if the group/version is not served. */
json_t *openapi_v3_group_version(const char *group, const char *version);
