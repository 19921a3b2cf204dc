/* The authorization attributes of one HTTP request, computed as kube-apiserver's
 * RequestInfoFactory computes them (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go):
 * resource requests under /api and /apis get a verb from the method (GET on a collection is
 * list, or watch with ?watch=true; DELETE on a collection is deletecollection), group,
 * version, resource, subresource, name and namespace; everything else is a non-resource
 * request whose verb is the lowercased method and whose path is the URL path. */
#pragma once

#include "apiserver/authz/authz.h"
#include "apiserver/router.h"

struct request_info {
    struct authz_attributes attrs;
    char verb[16];
    char name[ROUTE_MAX_SEGMENT]; /* a list's fieldSelector metadata.name=<name> */
};

/* Fills *ri, which points into rt and the given strings (keep them alive while it is used).
 * watch and field_selector are the raw query values (NULL when absent). Never fails. */
void request_info_init(struct request_info *ri, const struct kos_user *user, const char *method,
                       const char *path, const struct route *rt, const char *watch,
                       const char *field_selector);
