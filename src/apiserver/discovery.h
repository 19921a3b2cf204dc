/* Discovery documents, built from the kind descriptors: aggregated (apidiscovery.k8s.io v2
 * and v2beta1) and legacy (APIVersions, APIGroupList, APIGroup, APIResourceList). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#define CT_DISCOVERY_V2 "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
#define CT_DISCOVERY_V2BETA1                                                                       \
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

/* core = true: the document for /api (the core group), else for /apis. */
json_t *discovery_aggregated(bool core, const char *version /* "v2" or "v2beta1" */);
json_t *discovery_api_versions(const char *server_address);
json_t *discovery_group_list(void);
/* NULL if the group is not served. */
json_t *discovery_group(const char *group);
/* NULL if the group/version is not served. */
json_t *discovery_resource_list(const char *group, const char *version);

enum discovery_format { DISCOVERY_LEGACY, DISCOVERY_V2, DISCOVERY_V2BETA1 };
/* Which form an Accept header asks for (spec/kubectl-contract.md §1.1). */
enum discovery_format discovery_negotiate(const char *accept);
