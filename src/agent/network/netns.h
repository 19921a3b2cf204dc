/* Pod network namespaces: made once per pod (its sandbox) and kept alive by a bind mount of
 * the namespace onto a file under the agent's state dir, so that they outlive an agent
 * restart and every container of the pod joins the same one (OCI linux.namespaces path). */
#pragma once

#include "agent/network/netlink.h"

/* Makes a new network namespace bound at path (a file that must not be a mount yet) and
 * opens *ret, a netlink socket inside it. -EEXIST when path already holds a namespace. */
int kos_netns_create(const char *path, struct rtnl *ret);
/* Opens a netlink socket inside the namespace bound at path; -ENOENT when there is none. */
int kos_netns_open(const char *path, struct rtnl *ret);
/* Whether path is a bound network namespace. */
bool kos_netns_exists(const char *path);
/* Unbinds and removes path (0 also when it is gone already). The namespace dies with the last
 * process in it. */
int kos_netns_remove(const char *path);
