/* k8s-keystone-auth's auth-data synchronisation (its "syncConfig" YAML):
 *   data-types-to-sync: [projects, role_assignments]
 *   namespace-format: "%i"            %i project id (required), %n name, %d user domain id
 *   projects-blacklist: [ids]   projects-name-blacklist: [names]
 *   role-mappings: [{keystone-role, username, groups}]
 * Role mappings rewrite the authenticated user (append groups, replace the name); the data sync
 * runs after a successful login: a namespace per project, RoleBindings "<uid>_<role>" (User
 * subject, ClusterRole <role>) for the user's roles, the user's stale ones deleted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "auth/user.h"
#include "util/error.h"

#define KEYSTONE_SYNC_MAX_BYTES (256u * 1024)

struct keystone_role_map {
    char *keystone_role;
    char *username; /* NULL: keep */
    char **groups;
    size_t ngroups;
};

struct keystone_sync_config {
    bool sync_projects;
    bool sync_role_assignments;
    char *namespace_format;
    char **project_blacklist;
    size_t nproject_blacklist;
    char **project_name_blacklist;
    size_t nproject_name_blacklist;
    struct keystone_role_map *role_maps;
    size_t nrole_maps;
};

int keystone_sync_config_parse(const char *data, size_t len, struct keystone_sync_config **ret,
                               struct kos_error **err);
int keystone_sync_config_load(const char *path, struct keystone_sync_config **ret,
                              struct kos_error **err);
void keystone_sync_config_free(struct keystone_sync_config *c);

/* Applies the role mappings to u (c may be NULL: nothing to do). */
int keystone_sync_apply_role_maps(const struct keystone_sync_config *c, struct kos_user_info *u);

/* The namespace for a project: the format expanded, or the project id past 63 characters. */
int keystone_sync_namespace_name(const struct keystone_sync_config *c, const char *id,
                                 const char *name, const char *domain, char *out, size_t size);

struct kos_client;
/* Runs the data sync for a logged-in user through the API client. 0 when there is nothing to
 * do (no data types, no project, blacklisted). */
int keystone_sync_user(const struct keystone_sync_config *c, struct kos_client *client,
                       const struct kos_user_info *u, struct kos_error **err);
