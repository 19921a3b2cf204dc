/* The 403 kube-apiserver answers when no authorizer allowed a request
 * (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go Forbidden). */
#pragma once

#include "apiserver/authz/authz.h"
#include "util/error.h"

/* Fills *err with a 403 Forbidden Status whose message is kube's, e.g.
 *   pods "x" is forbidden: User "alice" cannot get resource "pods" in API group "" in the
 *   namespace "default"
 *   nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the
 *   cluster scope
 *   forbidden: User "alice" cannot get path "/foo"
 * followed by ": <reason>" when the authorizers gave one (several joined with "\n", as kube's
 * union authorizer joins them), and details {name, group, kind = the resource}.
 * Returns -EACCES (or -ENOMEM). */
int authz_forbidden_error(const struct authz_attributes *attrs, const char *reason,
                          struct kos_error **err);
