/* Internal to the schema tables (schema_*.c): the table-building macros and the structs that
 * one table file references in another. Field order in the tables follows the Go types of
 * k8s.io/api, which is also the order of their protobuf messages. */
#pragma once

#include "api/schema.h"
#include "util/cleanup.h"

/* Nodes. N_ARR/N_MAP take the element node; compound literals at file scope have static
 * storage, so the tables stay constant data. */
#define N_STR                                                                                      \
    {                                                                                              \
        SCHEMA_STRING, NULL, NULL, NULL                                                            \
    }
#define N_BYTES                                                                                    \
    {                                                                                              \
        SCHEMA_STRING, NULL, NULL, "byte"                                                          \
    }
#define N_I32                                                                                      \
    {                                                                                              \
        SCHEMA_INTEGER, NULL, NULL, "int32"                                                        \
    }
#define N_I64                                                                                      \
    {                                                                                              \
        SCHEMA_INTEGER, NULL, NULL, "int64"                                                        \
    }
#define N_NUM                                                                                      \
    {                                                                                              \
        SCHEMA_NUMBER, NULL, NULL, "double"                                                        \
    }
#define N_BOOL                                                                                     \
    {                                                                                              \
        SCHEMA_BOOLEAN, NULL, NULL, NULL                                                           \
    }
#define N_QTY                                                                                      \
    {                                                                                              \
        SCHEMA_QUANTITY, NULL, NULL, NULL                                                          \
    }
#define N_IOS                                                                                      \
    {                                                                                              \
        SCHEMA_INT_OR_STRING, NULL, NULL, "int-or-string"                                          \
    }
#define N_TIME                                                                                     \
    {                                                                                              \
        SCHEMA_TIME, NULL, NULL, "date-time"                                                       \
    }
#define N_ANY                                                                                      \
    {                                                                                              \
        SCHEMA_ANY, NULL, NULL, NULL                                                               \
    }
#define N_OBJ(r)                                                                                   \
    {                                                                                              \
        SCHEMA_OBJECT, (r), NULL, NULL                                                             \
    }
#define N_ARR(...)                                                                                 \
    {                                                                                              \
        SCHEMA_ARRAY, NULL, &(const struct schema_node)__VA_ARGS__, NULL                           \
    }
#define N_MAP(...)                                                                                 \
    {                                                                                              \
        SCHEMA_MAP, NULL, &(const struct schema_node)__VA_ARGS__, NULL                             \
    }

/* Fields: JSON name, protobuf field number, then the node (last, so that it may hold commas).
 * F_PATCH adds the strategic merge patch key and strategy; F_INLINE marks a field of a Go
 * struct embedded inline, whose message is field `outer` of the enclosing message. */
#define F_NODE(name, tag, ...)                                                                     \
    {                                                                                              \
        name, __VA_ARGS__, NULL, NULL, NULL, tag, 0                                                \
    }
#define F_PATCH(name, tag, key, strategy, ...)                                                     \
    {                                                                                              \
        name, __VA_ARGS__, key, strategy, NULL, tag, 0                                             \
    }
#define F_INLINE(name, outer, tag, key, strategy, ...)                                             \
    {                                                                                              \
        name, __VA_ARGS__, key, strategy, NULL, tag, outer                                         \
    }

#define F_STR(name, tag)        F_NODE(name, tag, N_STR)
#define F_BYTES(name, tag)      F_NODE(name, tag, N_BYTES)
#define F_I32(name, tag)        F_NODE(name, tag, N_I32)
#define F_I64(name, tag)        F_NODE(name, tag, N_I64)
#define F_NUM(name, tag)        F_NODE(name, tag, N_NUM)
#define F_BOOL(name, tag)       F_NODE(name, tag, N_BOOL)
#define F_QTY(name, tag)        F_NODE(name, tag, N_QTY)
#define F_IOS(name, tag)        F_NODE(name, tag, N_IOS)
#define F_TIME(name, tag)       F_NODE(name, tag, N_TIME)
#define F_ANY(name, tag)        F_NODE(name, tag, N_ANY)
#define F_OBJ(name, tag, r)     F_NODE(name, tag, N_OBJ(r))
#define F_ARR_STR(name, tag)    F_NODE(name, tag, N_ARR(N_STR))
#define F_ARR_I32(name, tag)    F_NODE(name, tag, N_ARR(N_I32))
#define F_ARR_I64(name, tag)    F_NODE(name, tag, N_ARR(N_I64))
#define F_ARR_OBJ(name, tag, r) F_NODE(name, tag, N_ARR(N_OBJ(r)))
#define F_MAP_STR(name, tag)    F_NODE(name, tag, N_MAP(N_STR))
#define F_MAP_BYTES(name, tag)  F_NODE(name, tag, N_MAP(N_BYTES))
#define F_MAP_QTY(name, tag)    F_NODE(name, tag, N_MAP(N_QTY))
#define F_MAP_TIME(name, tag)   F_NODE(name, tag, N_MAP(N_TIME))
#define F_MAP_OBJ(name, tag, r) F_NODE(name, tag, N_MAP(N_OBJ(r)))

#define S(name, fields, description)                                                               \
    {                                                                                              \
        name, fields, ARRAY_SIZE(fields), description                                              \
    }

/* Every struct of each table file, for lookups by name. */
extern const struct schema_struct *const schema_core_pod_structs[];
extern const size_t schema_core_pod_nstructs;
extern const struct schema_struct *const schema_core_volume_structs[];
extern const size_t schema_core_volume_nstructs;
extern const struct schema_struct *const schema_core_structs[];
extern const size_t schema_core_nstructs;
extern const struct schema_struct *const schema_apps_structs[];
extern const size_t schema_apps_nstructs;
extern const struct schema_struct *const schema_misc_structs[];
extern const size_t schema_misc_nstructs;
extern const struct schema_struct *const schema_meta_structs[];
extern const size_t schema_meta_nstructs;
extern const struct schema_struct *const schema_authz_structs[];
extern const size_t schema_authz_nstructs;

/* Structs referenced across table files, and the top level of every kind. */
extern const struct schema_struct schema_core_namespace;
extern const struct schema_struct schema_meta_object_meta;
extern const struct schema_struct schema_core_pod;
extern const struct schema_struct schema_core_pod_spec;
extern const struct schema_struct schema_core_host_path_volume_source;
extern const struct schema_struct schema_core_empty_dir_volume_source;
extern const struct schema_struct schema_core_gce_persistent_disk_volume_source;
extern const struct schema_struct schema_core_aws_elastic_block_store_volume_source;
extern const struct schema_struct schema_core_git_repo_volume_source;
extern const struct schema_struct schema_core_secret_volume_source;
extern const struct schema_struct schema_core_nfs_volume_source;
extern const struct schema_struct schema_core_iscsi_volume_source;
extern const struct schema_struct schema_core_local_object_reference;
extern const struct schema_struct schema_core_glusterfs_volume_source;
extern const struct schema_struct schema_core_persistent_volume_claim_volume_source;
extern const struct schema_struct schema_core_rbd_volume_source;
extern const struct schema_struct schema_core_flex_volume_source;
extern const struct schema_struct schema_core_cinder_volume_source;
extern const struct schema_struct schema_core_ceph_fs_volume_source;
extern const struct schema_struct schema_core_flocker_volume_source;
extern const struct schema_struct schema_core_downward_api_volume_source;
extern const struct schema_struct schema_core_object_field_selector;
extern const struct schema_struct schema_core_resource_field_selector;
extern const struct schema_struct schema_core_fc_volume_source;
extern const struct schema_struct schema_core_azure_file_volume_source;
extern const struct schema_struct schema_core_config_map_volume_source;
extern const struct schema_struct schema_core_vsphere_virtual_disk_volume_source;
extern const struct schema_struct schema_core_quobyte_volume_source;
extern const struct schema_struct schema_core_azure_disk_volume_source;
extern const struct schema_struct schema_core_photon_persistent_disk_volume_source;
extern const struct schema_struct schema_core_projected_volume_source;
extern const struct schema_struct schema_meta_label_selector;
extern const struct schema_struct schema_core_portworx_volume_source;
extern const struct schema_struct schema_core_scale_io_volume_source;
extern const struct schema_struct schema_core_storage_os_volume_source;
extern const struct schema_struct schema_core_csi_volume_source;
extern const struct schema_struct schema_core_ephemeral_volume_source;
extern const struct schema_struct schema_core_persistent_volume_claim_spec;
extern const struct schema_struct schema_core_image_volume_source;
extern const struct schema_struct schema_core_resource_requirements;
extern const struct schema_struct schema_core_node_selector;
extern const struct schema_struct schema_core_pod_status;
extern const struct schema_struct schema_core_node;
extern const struct schema_struct schema_core_config_map;
extern const struct schema_struct schema_core_secret;
extern const struct schema_struct schema_core_service_account;
extern const struct schema_struct schema_core_object_reference;
extern const struct schema_struct schema_core_service;
extern const struct schema_struct schema_meta_condition;
extern const struct schema_struct schema_core_endpoints;
extern const struct schema_struct schema_core_event;
extern const struct schema_struct schema_core_persistent_volume;
extern const struct schema_struct schema_core_glusterfs_persistent_volume_source;
extern const struct schema_struct schema_core_rbd_persistent_volume_source;
extern const struct schema_struct schema_core_iscsi_persistent_volume_source;
extern const struct schema_struct schema_core_cinder_persistent_volume_source;
extern const struct schema_struct schema_core_ceph_fs_persistent_volume_source;
extern const struct schema_struct schema_core_flex_persistent_volume_source;
extern const struct schema_struct schema_core_azure_file_persistent_volume_source;
extern const struct schema_struct schema_core_scale_io_persistent_volume_source;
extern const struct schema_struct schema_core_local_volume_source;
extern const struct schema_struct schema_core_storage_os_persistent_volume_source;
extern const struct schema_struct schema_core_csi_persistent_volume_source;
extern const struct schema_struct schema_core_persistent_volume_claim;
extern const struct schema_struct schema_core_binding;
extern const struct schema_struct schema_apps_deployment;
extern const struct schema_struct schema_core_pod_template_spec;
extern const struct schema_struct schema_apps_replica_set;
extern const struct schema_struct schema_apps_stateful_set;
extern const struct schema_struct schema_apps_daemon_set;
extern const struct schema_struct schema_batch_job;
extern const struct schema_struct schema_policy_pod_disruption_budget;
extern const struct schema_struct schema_storage_storage_class;
extern const struct schema_struct schema_core_topology_selector_term;
extern const struct schema_struct schema_scheduling_priority_class;
extern const struct schema_struct schema_coordination_lease;
extern const struct schema_struct schema_discovery_endpoint_slice;
extern const struct schema_struct schema_rbac_role;
extern const struct schema_struct schema_rbac_role_binding;
extern const struct schema_struct schema_rbac_cluster_role;
extern const struct schema_struct schema_rbac_cluster_role_binding;
extern const struct schema_struct schema_autoscaling_scale;
extern const struct schema_struct schema_meta_delete_options;
extern const struct schema_struct schema_meta_label_selector_requirement;
extern const struct schema_struct schema_batch_job_spec;
/* schema_authz.c: kinds kubectl 1.32+ sends as protobuf that kos does not otherwise serve. */
extern const struct schema_struct schema_authz_self_subject_access_review;
extern const struct schema_struct schema_authz_subject_access_review;
extern const struct schema_struct schema_authz_local_subject_access_review;
extern const struct schema_struct schema_authz_self_subject_rules_review;
extern const struct schema_struct schema_authn_self_subject_review;
extern const struct schema_struct schema_authn_token_request;
extern const struct schema_struct schema_batch_cron_job;
extern const struct schema_struct schema_core_resource_quota;
