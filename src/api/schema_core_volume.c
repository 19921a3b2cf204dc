/* Field tables of core/v1 volume sources, after k8s.io/api v0.33: JSON names, types,
 * strategic merge patch tags and protobuf field numbers, in the order of the Go types. */
#include "api/schema_tables.h"

static const struct schema_struct schema_core_key_to_path;
static const struct schema_struct schema_core_downward_api_volume_file;
static const struct schema_struct schema_core_volume_projection;
static const struct schema_struct schema_core_secret_projection;
static const struct schema_struct schema_core_downward_api_projection;
static const struct schema_struct schema_core_config_map_projection;
static const struct schema_struct schema_core_service_account_token_projection;
static const struct schema_struct schema_core_cluster_trust_bundle_projection;
static const struct schema_struct schema_core_persistent_volume_claim_template;
static const struct schema_struct schema_core_volume_resource_requirements;
static const struct schema_struct schema_core_typed_local_object_reference;
static const struct schema_struct schema_core_typed_object_reference;
static const struct schema_struct schema_core_secret_reference;

static const struct schema_field core_host_path_volume_source_fields[] = {
    /* clang-format off */
    F_STR("path", 1),
    F_STR("type", 2),
    /* clang-format on */
};
const struct schema_struct schema_core_host_path_volume_source =
    S("io.k8s.api.core.v1.HostPathVolumeSource", core_host_path_volume_source_fields, NULL);

static const struct schema_field core_empty_dir_volume_source_fields[] = {
    /* clang-format off */
    F_STR("medium", 1),
    F_QTY("sizeLimit", 2),
    /* clang-format on */
};
const struct schema_struct schema_core_empty_dir_volume_source =
    S("io.k8s.api.core.v1.EmptyDirVolumeSource", core_empty_dir_volume_source_fields, NULL);

static const struct schema_field core_gce_persistent_disk_volume_source_fields[] = {
    /* clang-format off */
    F_STR("pdName", 1),
    F_STR("fsType", 2),
    F_I32("partition", 3),
    F_BOOL("readOnly", 4),
    /* clang-format on */
};
const struct schema_struct schema_core_gce_persistent_disk_volume_source =
    S("io.k8s.api.core.v1.GCEPersistentDiskVolumeSource",
      core_gce_persistent_disk_volume_source_fields, NULL);

static const struct schema_field core_aws_elastic_block_store_volume_source_fields[] = {
    /* clang-format off */
    F_STR("volumeID", 1),
    F_STR("fsType", 2),
    F_I32("partition", 3),
    F_BOOL("readOnly", 4),
    /* clang-format on */
};
const struct schema_struct schema_core_aws_elastic_block_store_volume_source =
    S("io.k8s.api.core.v1.AWSElasticBlockStoreVolumeSource",
      core_aws_elastic_block_store_volume_source_fields, NULL);

static const struct schema_field core_git_repo_volume_source_fields[] = {
    /* clang-format off */
    F_STR("repository", 1),
    F_STR("revision", 2),
    F_STR("directory", 3),
    /* clang-format on */
};
const struct schema_struct schema_core_git_repo_volume_source =
    S("io.k8s.api.core.v1.GitRepoVolumeSource", core_git_repo_volume_source_fields, NULL);

static const struct schema_field core_secret_volume_source_fields[] = {
    /* clang-format off */
    F_STR("secretName", 1),
    F_ARR_OBJ("items", 2, &schema_core_key_to_path),
    F_I32("defaultMode", 3),
    F_BOOL("optional", 4),
    /* clang-format on */
};
const struct schema_struct schema_core_secret_volume_source =
    S("io.k8s.api.core.v1.SecretVolumeSource", core_secret_volume_source_fields, NULL);

static const struct schema_field core_key_to_path_fields[] = {
    /* clang-format off */
    F_STR("key", 1),
    F_STR("path", 2),
    F_I32("mode", 3),
    /* clang-format on */
};
static const struct schema_struct schema_core_key_to_path =
    S("io.k8s.api.core.v1.KeyToPath", core_key_to_path_fields, NULL);

static const struct schema_field core_nfs_volume_source_fields[] = {
    /* clang-format off */
    F_STR("server", 1),
    F_STR("path", 2),
    F_BOOL("readOnly", 3),
    /* clang-format on */
};
const struct schema_struct schema_core_nfs_volume_source =
    S("io.k8s.api.core.v1.NFSVolumeSource", core_nfs_volume_source_fields, NULL);

static const struct schema_field core_iscsi_volume_source_fields[] = {
    /* clang-format off */
    F_STR("targetPortal", 1),
    F_STR("iqn", 2),
    F_I32("lun", 3),
    F_STR("iscsiInterface", 4),
    F_STR("fsType", 5),
    F_BOOL("readOnly", 6),
    F_ARR_STR("portals", 7),
    F_BOOL("chapAuthDiscovery", 8),
    F_BOOL("chapAuthSession", 11),
    F_OBJ("secretRef", 10, &schema_core_local_object_reference),
    F_STR("initiatorName", 12),
    /* clang-format on */
};
const struct schema_struct schema_core_iscsi_volume_source =
    S("io.k8s.api.core.v1.ISCSIVolumeSource", core_iscsi_volume_source_fields, NULL);

static const struct schema_field core_glusterfs_volume_source_fields[] = {
    /* clang-format off */
    F_STR("endpoints", 1),
    F_STR("path", 2),
    F_BOOL("readOnly", 3),
    /* clang-format on */
};
const struct schema_struct schema_core_glusterfs_volume_source =
    S("io.k8s.api.core.v1.GlusterfsVolumeSource", core_glusterfs_volume_source_fields, NULL);

static const struct schema_field core_persistent_volume_claim_volume_source_fields[] = {
    /* clang-format off */
    F_STR("claimName", 1),
    F_BOOL("readOnly", 2),
    /* clang-format on */
};
const struct schema_struct schema_core_persistent_volume_claim_volume_source =
    S("io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource",
      core_persistent_volume_claim_volume_source_fields, NULL);

static const struct schema_field core_rbd_volume_source_fields[] = {
    /* clang-format off */
    F_ARR_STR("monitors", 1),
    F_STR("image", 2),
    F_STR("fsType", 3),
    F_STR("pool", 4),
    F_STR("user", 5),
    F_STR("keyring", 6),
    F_OBJ("secretRef", 7, &schema_core_local_object_reference),
    F_BOOL("readOnly", 8),
    /* clang-format on */
};
const struct schema_struct schema_core_rbd_volume_source =
    S("io.k8s.api.core.v1.RBDVolumeSource", core_rbd_volume_source_fields, NULL);

static const struct schema_field core_flex_volume_source_fields[] = {
    /* clang-format off */
    F_STR("driver", 1),
    F_STR("fsType", 2),
    F_OBJ("secretRef", 3, &schema_core_local_object_reference),
    F_BOOL("readOnly", 4),
    F_MAP_STR("options", 5),
    /* clang-format on */
};
const struct schema_struct schema_core_flex_volume_source =
    S("io.k8s.api.core.v1.FlexVolumeSource", core_flex_volume_source_fields, NULL);

static const struct schema_field core_cinder_volume_source_fields[] = {
    /* clang-format off */
    F_STR("volumeID", 1),
    F_STR("fsType", 2),
    F_BOOL("readOnly", 3),
    F_OBJ("secretRef", 4, &schema_core_local_object_reference),
    /* clang-format on */
};
const struct schema_struct schema_core_cinder_volume_source =
    S("io.k8s.api.core.v1.CinderVolumeSource", core_cinder_volume_source_fields, NULL);

static const struct schema_field core_ceph_fs_volume_source_fields[] = {
    /* clang-format off */
    F_ARR_STR("monitors", 1),
    F_STR("path", 2),
    F_STR("user", 3),
    F_STR("secretFile", 4),
    F_OBJ("secretRef", 5, &schema_core_local_object_reference),
    F_BOOL("readOnly", 6),
    /* clang-format on */
};
const struct schema_struct schema_core_ceph_fs_volume_source =
    S("io.k8s.api.core.v1.CephFSVolumeSource", core_ceph_fs_volume_source_fields, NULL);

static const struct schema_field core_flocker_volume_source_fields[] = {
    /* clang-format off */
    F_STR("datasetName", 1),
    F_STR("datasetUUID", 2),
    /* clang-format on */
};
const struct schema_struct schema_core_flocker_volume_source =
    S("io.k8s.api.core.v1.FlockerVolumeSource", core_flocker_volume_source_fields, NULL);

static const struct schema_field core_downward_api_volume_source_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("items", 1, &schema_core_downward_api_volume_file),
    F_I32("defaultMode", 2),
    /* clang-format on */
};
const struct schema_struct schema_core_downward_api_volume_source =
    S("io.k8s.api.core.v1.DownwardAPIVolumeSource", core_downward_api_volume_source_fields, NULL);

static const struct schema_field core_downward_api_volume_file_fields[] = {
    /* clang-format off */
    F_STR("path", 1),
    F_OBJ("fieldRef", 2, &schema_core_object_field_selector),
    F_OBJ("resourceFieldRef", 3, &schema_core_resource_field_selector),
    F_I32("mode", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_downward_api_volume_file =
    S("io.k8s.api.core.v1.DownwardAPIVolumeFile", core_downward_api_volume_file_fields, NULL);

static const struct schema_field core_fc_volume_source_fields[] = {
    /* clang-format off */
    F_ARR_STR("targetWWNs", 1),
    F_I32("lun", 2),
    F_STR("fsType", 3),
    F_BOOL("readOnly", 4),
    F_ARR_STR("wwids", 5),
    /* clang-format on */
};
const struct schema_struct schema_core_fc_volume_source =
    S("io.k8s.api.core.v1.FCVolumeSource", core_fc_volume_source_fields, NULL);

static const struct schema_field core_azure_file_volume_source_fields[] = {
    /* clang-format off */
    F_STR("secretName", 1),
    F_STR("shareName", 2),
    F_BOOL("readOnly", 3),
    /* clang-format on */
};
const struct schema_struct schema_core_azure_file_volume_source =
    S("io.k8s.api.core.v1.AzureFileVolumeSource", core_azure_file_volume_source_fields, NULL);

static const struct schema_field core_config_map_volume_source_fields[] = {
    /* clang-format off */
    F_INLINE("name", 1, 1, NULL, NULL, N_STR),
    F_ARR_OBJ("items", 2, &schema_core_key_to_path),
    F_I32("defaultMode", 3),
    F_BOOL("optional", 4),
    /* clang-format on */
};
const struct schema_struct schema_core_config_map_volume_source =
    S("io.k8s.api.core.v1.ConfigMapVolumeSource", core_config_map_volume_source_fields, NULL);

static const struct schema_field core_vsphere_virtual_disk_volume_source_fields[] = {
    /* clang-format off */
    F_STR("volumePath", 1),
    F_STR("fsType", 2),
    F_STR("storagePolicyName", 3),
    F_STR("storagePolicyID", 4),
    /* clang-format on */
};
const struct schema_struct schema_core_vsphere_virtual_disk_volume_source =
    S("io.k8s.api.core.v1.VsphereVirtualDiskVolumeSource",
      core_vsphere_virtual_disk_volume_source_fields, NULL);

static const struct schema_field core_quobyte_volume_source_fields[] = {
    /* clang-format off */
    F_STR("registry", 1),
    F_STR("volume", 2),
    F_BOOL("readOnly", 3),
    F_STR("user", 4),
    F_STR("group", 5),
    F_STR("tenant", 6),
    /* clang-format on */
};
const struct schema_struct schema_core_quobyte_volume_source =
    S("io.k8s.api.core.v1.QuobyteVolumeSource", core_quobyte_volume_source_fields, NULL);

static const struct schema_field core_azure_disk_volume_source_fields[] = {
    /* clang-format off */
    F_STR("diskName", 1),
    F_STR("diskURI", 2),
    F_STR("cachingMode", 3),
    F_STR("fsType", 4),
    F_BOOL("readOnly", 5),
    F_STR("kind", 6),
    /* clang-format on */
};
const struct schema_struct schema_core_azure_disk_volume_source =
    S("io.k8s.api.core.v1.AzureDiskVolumeSource", core_azure_disk_volume_source_fields, NULL);

static const struct schema_field core_photon_persistent_disk_volume_source_fields[] = {
    /* clang-format off */
    F_STR("pdID", 1),
    F_STR("fsType", 2),
    /* clang-format on */
};
const struct schema_struct schema_core_photon_persistent_disk_volume_source =
    S("io.k8s.api.core.v1.PhotonPersistentDiskVolumeSource",
      core_photon_persistent_disk_volume_source_fields, NULL);

static const struct schema_field core_projected_volume_source_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("sources", 1, &schema_core_volume_projection),
    F_I32("defaultMode", 2),
    /* clang-format on */
};
const struct schema_struct schema_core_projected_volume_source =
    S("io.k8s.api.core.v1.ProjectedVolumeSource", core_projected_volume_source_fields, NULL);

static const struct schema_field core_volume_projection_fields[] = {
    /* clang-format off */
    F_OBJ("secret", 1, &schema_core_secret_projection),
    F_OBJ("downwardAPI", 2, &schema_core_downward_api_projection),
    F_OBJ("configMap", 3, &schema_core_config_map_projection),
    F_OBJ("serviceAccountToken", 4, &schema_core_service_account_token_projection),
    F_OBJ("clusterTrustBundle", 5, &schema_core_cluster_trust_bundle_projection),
    /* clang-format on */
};
static const struct schema_struct schema_core_volume_projection =
    S("io.k8s.api.core.v1.VolumeProjection", core_volume_projection_fields, NULL);

static const struct schema_field core_secret_projection_fields[] = {
    /* clang-format off */
    F_INLINE("name", 1, 1, NULL, NULL, N_STR),
    F_ARR_OBJ("items", 2, &schema_core_key_to_path),
    F_BOOL("optional", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_secret_projection =
    S("io.k8s.api.core.v1.SecretProjection", core_secret_projection_fields, NULL);

static const struct schema_field core_downward_api_projection_fields[] = {
    /* clang-format off */
    F_ARR_OBJ("items", 1, &schema_core_downward_api_volume_file),
    /* clang-format on */
};
static const struct schema_struct schema_core_downward_api_projection =
    S("io.k8s.api.core.v1.DownwardAPIProjection", core_downward_api_projection_fields, NULL);

static const struct schema_field core_config_map_projection_fields[] = {
    /* clang-format off */
    F_INLINE("name", 1, 1, NULL, NULL, N_STR),
    F_ARR_OBJ("items", 2, &schema_core_key_to_path),
    F_BOOL("optional", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_config_map_projection =
    S("io.k8s.api.core.v1.ConfigMapProjection", core_config_map_projection_fields, NULL);

static const struct schema_field core_service_account_token_projection_fields[] = {
    /* clang-format off */
    F_STR("audience", 1),
    F_I64("expirationSeconds", 2),
    F_STR("path", 3),
    /* clang-format on */
};
static const struct schema_struct schema_core_service_account_token_projection =
    S("io.k8s.api.core.v1.ServiceAccountTokenProjection",
      core_service_account_token_projection_fields, NULL);

static const struct schema_field core_cluster_trust_bundle_projection_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("signerName", 2),
    F_OBJ("labelSelector", 3, &schema_meta_label_selector),
    F_BOOL("optional", 5),
    F_STR("path", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_cluster_trust_bundle_projection =
    S("io.k8s.api.core.v1.ClusterTrustBundleProjection",
      core_cluster_trust_bundle_projection_fields, NULL);

static const struct schema_field core_portworx_volume_source_fields[] = {
    /* clang-format off */
    F_STR("volumeID", 1),
    F_STR("fsType", 2),
    F_BOOL("readOnly", 3),
    /* clang-format on */
};
const struct schema_struct schema_core_portworx_volume_source =
    S("io.k8s.api.core.v1.PortworxVolumeSource", core_portworx_volume_source_fields, NULL);

static const struct schema_field core_scale_io_volume_source_fields[] = {
    /* clang-format off */
    F_STR("gateway", 1),
    F_STR("system", 2),
    F_OBJ("secretRef", 3, &schema_core_local_object_reference),
    F_BOOL("sslEnabled", 4),
    F_STR("protectionDomain", 5),
    F_STR("storagePool", 6),
    F_STR("storageMode", 7),
    F_STR("volumeName", 8),
    F_STR("fsType", 9),
    F_BOOL("readOnly", 10),
    /* clang-format on */
};
const struct schema_struct schema_core_scale_io_volume_source =
    S("io.k8s.api.core.v1.ScaleIOVolumeSource", core_scale_io_volume_source_fields, NULL);

static const struct schema_field core_storage_os_volume_source_fields[] = {
    /* clang-format off */
    F_STR("volumeName", 1),
    F_STR("volumeNamespace", 2),
    F_STR("fsType", 3),
    F_BOOL("readOnly", 4),
    F_OBJ("secretRef", 5, &schema_core_local_object_reference),
    /* clang-format on */
};
const struct schema_struct schema_core_storage_os_volume_source =
    S("io.k8s.api.core.v1.StorageOSVolumeSource", core_storage_os_volume_source_fields, NULL);

static const struct schema_field core_csi_volume_source_fields[] = {
    /* clang-format off */
    F_STR("driver", 1),
    F_BOOL("readOnly", 2),
    F_STR("fsType", 3),
    F_MAP_STR("volumeAttributes", 4),
    F_OBJ("nodePublishSecretRef", 5, &schema_core_local_object_reference),
    /* clang-format on */
};
const struct schema_struct schema_core_csi_volume_source =
    S("io.k8s.api.core.v1.CSIVolumeSource", core_csi_volume_source_fields, NULL);

static const struct schema_field core_ephemeral_volume_source_fields[] = {
    /* clang-format off */
    F_OBJ("volumeClaimTemplate", 1, &schema_core_persistent_volume_claim_template),
    /* clang-format on */
};
const struct schema_struct schema_core_ephemeral_volume_source =
    S("io.k8s.api.core.v1.EphemeralVolumeSource", core_ephemeral_volume_source_fields, NULL);

static const struct schema_field core_persistent_volume_claim_template_fields[] = {
    /* clang-format off */
    F_OBJ("metadata", 1, &schema_meta_object_meta),
    F_OBJ("spec", 2, &schema_core_persistent_volume_claim_spec),
    /* clang-format on */
};
static const struct schema_struct schema_core_persistent_volume_claim_template =
    S("io.k8s.api.core.v1.PersistentVolumeClaimTemplate",
      core_persistent_volume_claim_template_fields, NULL);

static const struct schema_field core_persistent_volume_claim_spec_fields[] = {
    /* clang-format off */
    F_ARR_STR("accessModes", 1),
    F_OBJ("selector", 4, &schema_meta_label_selector),
    F_OBJ("resources", 2, &schema_core_volume_resource_requirements),
    F_STR("volumeName", 3),
    F_STR("storageClassName", 5),
    F_STR("volumeMode", 6),
    F_OBJ("dataSource", 7, &schema_core_typed_local_object_reference),
    F_OBJ("dataSourceRef", 8, &schema_core_typed_object_reference),
    F_STR("volumeAttributesClassName", 9),
    /* clang-format on */
};
const struct schema_struct schema_core_persistent_volume_claim_spec = S(
    "io.k8s.api.core.v1.PersistentVolumeClaimSpec", core_persistent_volume_claim_spec_fields, NULL);

static const struct schema_field core_volume_resource_requirements_fields[] = {
    /* clang-format off */
    F_MAP_QTY("limits", 1),
    F_MAP_QTY("requests", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_volume_resource_requirements =
    S("io.k8s.api.core.v1.VolumeResourceRequirements", core_volume_resource_requirements_fields,
      NULL);

static const struct schema_field core_typed_local_object_reference_fields[] = {
    /* clang-format off */
    F_STR("apiGroup", 1),
    F_STR("kind", 2),
    F_STR("name", 3),
    /* clang-format on */
};
static const struct schema_struct schema_core_typed_local_object_reference = S(
    "io.k8s.api.core.v1.TypedLocalObjectReference", core_typed_local_object_reference_fields, NULL);

static const struct schema_field core_typed_object_reference_fields[] = {
    /* clang-format off */
    F_STR("apiGroup", 1),
    F_STR("kind", 2),
    F_STR("name", 3),
    F_STR("namespace", 4),
    /* clang-format on */
};
static const struct schema_struct schema_core_typed_object_reference =
    S("io.k8s.api.core.v1.TypedObjectReference", core_typed_object_reference_fields, NULL);

static const struct schema_field core_image_volume_source_fields[] = {
    /* clang-format off */
    F_STR("reference", 1),
    F_STR("pullPolicy", 2),
    /* clang-format on */
};
const struct schema_struct schema_core_image_volume_source =
    S("io.k8s.api.core.v1.ImageVolumeSource", core_image_volume_source_fields, NULL);

static const struct schema_field core_glusterfs_persistent_volume_source_fields[] = {
    /* clang-format off */
    F_STR("endpoints", 1),
    F_STR("path", 2),
    F_BOOL("readOnly", 3),
    F_STR("endpointsNamespace", 4),
    /* clang-format on */
};
const struct schema_struct schema_core_glusterfs_persistent_volume_source =
    S("io.k8s.api.core.v1.GlusterfsPersistentVolumeSource",
      core_glusterfs_persistent_volume_source_fields, NULL);

static const struct schema_field core_rbd_persistent_volume_source_fields[] = {
    /* clang-format off */
    F_ARR_STR("monitors", 1),
    F_STR("image", 2),
    F_STR("fsType", 3),
    F_STR("pool", 4),
    F_STR("user", 5),
    F_STR("keyring", 6),
    F_OBJ("secretRef", 7, &schema_core_secret_reference),
    F_BOOL("readOnly", 8),
    /* clang-format on */
};
const struct schema_struct schema_core_rbd_persistent_volume_source = S(
    "io.k8s.api.core.v1.RBDPersistentVolumeSource", core_rbd_persistent_volume_source_fields, NULL);

static const struct schema_field core_secret_reference_fields[] = {
    /* clang-format off */
    F_STR("name", 1),
    F_STR("namespace", 2),
    /* clang-format on */
};
static const struct schema_struct schema_core_secret_reference =
    S("io.k8s.api.core.v1.SecretReference", core_secret_reference_fields, NULL);

static const struct schema_field core_iscsi_persistent_volume_source_fields[] = {
    /* clang-format off */
    F_STR("targetPortal", 1),
    F_STR("iqn", 2),
    F_I32("lun", 3),
    F_STR("iscsiInterface", 4),
    F_STR("fsType", 5),
    F_BOOL("readOnly", 6),
    F_ARR_STR("portals", 7),
    F_BOOL("chapAuthDiscovery", 8),
    F_BOOL("chapAuthSession", 11),
    F_OBJ("secretRef", 10, &schema_core_secret_reference),
    F_STR("initiatorName", 12),
    /* clang-format on */
};
const struct schema_struct schema_core_iscsi_persistent_volume_source =
    S("io.k8s.api.core.v1.ISCSIPersistentVolumeSource", core_iscsi_persistent_volume_source_fields,
      NULL);

static const struct schema_field core_cinder_persistent_volume_source_fields[] = {
    /* clang-format off */
    F_STR("volumeID", 1),
    F_STR("fsType", 2),
    F_BOOL("readOnly", 3),
    F_OBJ("secretRef", 4, &schema_core_secret_reference),
    /* clang-format on */
};
const struct schema_struct schema_core_cinder_persistent_volume_source =
    S("io.k8s.api.core.v1.CinderPersistentVolumeSource",
      core_cinder_persistent_volume_source_fields, NULL);

static const struct schema_field core_ceph_fs_persistent_volume_source_fields[] = {
    /* clang-format off */
    F_ARR_STR("monitors", 1),
    F_STR("path", 2),
    F_STR("user", 3),
    F_STR("secretFile", 4),
    F_OBJ("secretRef", 5, &schema_core_secret_reference),
    F_BOOL("readOnly", 6),
    /* clang-format on */
};
const struct schema_struct schema_core_ceph_fs_persistent_volume_source =
    S("io.k8s.api.core.v1.CephFSPersistentVolumeSource",
      core_ceph_fs_persistent_volume_source_fields, NULL);

static const struct schema_field core_flex_persistent_volume_source_fields[] = {
    /* clang-format off */
    F_STR("driver", 1),
    F_STR("fsType", 2),
    F_OBJ("secretRef", 3, &schema_core_secret_reference),
    F_BOOL("readOnly", 4),
    F_MAP_STR("options", 5),
    /* clang-format on */
};
const struct schema_struct schema_core_flex_persistent_volume_source =
    S("io.k8s.api.core.v1.FlexPersistentVolumeSource", core_flex_persistent_volume_source_fields,
      NULL);

static const struct schema_field core_azure_file_persistent_volume_source_fields[] = {
    /* clang-format off */
    F_STR("secretName", 1),
    F_STR("shareName", 2),
    F_BOOL("readOnly", 3),
    F_STR("secretNamespace", 4),
    /* clang-format on */
};
const struct schema_struct schema_core_azure_file_persistent_volume_source =
    S("io.k8s.api.core.v1.AzureFilePersistentVolumeSource",
      core_azure_file_persistent_volume_source_fields, NULL);

static const struct schema_field core_scale_io_persistent_volume_source_fields[] = {
    /* clang-format off */
    F_STR("gateway", 1),
    F_STR("system", 2),
    F_OBJ("secretRef", 3, &schema_core_secret_reference),
    F_BOOL("sslEnabled", 4),
    F_STR("protectionDomain", 5),
    F_STR("storagePool", 6),
    F_STR("storageMode", 7),
    F_STR("volumeName", 8),
    F_STR("fsType", 9),
    F_BOOL("readOnly", 10),
    /* clang-format on */
};
const struct schema_struct schema_core_scale_io_persistent_volume_source =
    S("io.k8s.api.core.v1.ScaleIOPersistentVolumeSource",
      core_scale_io_persistent_volume_source_fields, NULL);

static const struct schema_field core_local_volume_source_fields[] = {
    /* clang-format off */
    F_STR("path", 1),
    F_STR("fsType", 2),
    /* clang-format on */
};
const struct schema_struct schema_core_local_volume_source =
    S("io.k8s.api.core.v1.LocalVolumeSource", core_local_volume_source_fields, NULL);

static const struct schema_field core_storage_os_persistent_volume_source_fields[] = {
    /* clang-format off */
    F_STR("volumeName", 1),
    F_STR("volumeNamespace", 2),
    F_STR("fsType", 3),
    F_BOOL("readOnly", 4),
    F_OBJ("secretRef", 5, &schema_core_object_reference),
    /* clang-format on */
};
const struct schema_struct schema_core_storage_os_persistent_volume_source =
    S("io.k8s.api.core.v1.StorageOSPersistentVolumeSource",
      core_storage_os_persistent_volume_source_fields, NULL);

static const struct schema_field core_csi_persistent_volume_source_fields[] = {
    /* clang-format off */
    F_STR("driver", 1),
    F_STR("volumeHandle", 2),
    F_BOOL("readOnly", 3),
    F_STR("fsType", 4),
    F_MAP_STR("volumeAttributes", 5),
    F_OBJ("controllerPublishSecretRef", 6, &schema_core_secret_reference),
    F_OBJ("nodeStageSecretRef", 7, &schema_core_secret_reference),
    F_OBJ("nodePublishSecretRef", 8, &schema_core_secret_reference),
    F_OBJ("controllerExpandSecretRef", 9, &schema_core_secret_reference),
    F_OBJ("nodeExpandSecretRef", 10, &schema_core_secret_reference),
    /* clang-format on */
};
const struct schema_struct schema_core_csi_persistent_volume_source = S(
    "io.k8s.api.core.v1.CSIPersistentVolumeSource", core_csi_persistent_volume_source_fields, NULL);

const struct schema_struct *const schema_core_volume_structs[] = {
    &schema_core_host_path_volume_source,
    &schema_core_empty_dir_volume_source,
    &schema_core_gce_persistent_disk_volume_source,
    &schema_core_aws_elastic_block_store_volume_source,
    &schema_core_git_repo_volume_source,
    &schema_core_secret_volume_source,
    &schema_core_key_to_path,
    &schema_core_nfs_volume_source,
    &schema_core_iscsi_volume_source,
    &schema_core_glusterfs_volume_source,
    &schema_core_persistent_volume_claim_volume_source,
    &schema_core_rbd_volume_source,
    &schema_core_flex_volume_source,
    &schema_core_cinder_volume_source,
    &schema_core_ceph_fs_volume_source,
    &schema_core_flocker_volume_source,
    &schema_core_downward_api_volume_source,
    &schema_core_downward_api_volume_file,
    &schema_core_fc_volume_source,
    &schema_core_azure_file_volume_source,
    &schema_core_config_map_volume_source,
    &schema_core_vsphere_virtual_disk_volume_source,
    &schema_core_quobyte_volume_source,
    &schema_core_azure_disk_volume_source,
    &schema_core_photon_persistent_disk_volume_source,
    &schema_core_projected_volume_source,
    &schema_core_volume_projection,
    &schema_core_secret_projection,
    &schema_core_downward_api_projection,
    &schema_core_config_map_projection,
    &schema_core_service_account_token_projection,
    &schema_core_cluster_trust_bundle_projection,
    &schema_core_portworx_volume_source,
    &schema_core_scale_io_volume_source,
    &schema_core_storage_os_volume_source,
    &schema_core_csi_volume_source,
    &schema_core_ephemeral_volume_source,
    &schema_core_persistent_volume_claim_template,
    &schema_core_persistent_volume_claim_spec,
    &schema_core_volume_resource_requirements,
    &schema_core_typed_local_object_reference,
    &schema_core_typed_object_reference,
    &schema_core_image_volume_source,
    &schema_core_glusterfs_persistent_volume_source,
    &schema_core_rbd_persistent_volume_source,
    &schema_core_secret_reference,
    &schema_core_iscsi_persistent_volume_source,
    &schema_core_cinder_persistent_volume_source,
    &schema_core_ceph_fs_persistent_volume_source,
    &schema_core_flex_persistent_volume_source,
    &schema_core_azure_file_persistent_volume_source,
    &schema_core_scale_io_persistent_volume_source,
    &schema_core_local_volume_source,
    &schema_core_storage_os_persistent_volume_source,
    &schema_core_csi_persistent_volume_source,
};
const size_t schema_core_volume_nstructs = ARRAY_SIZE(schema_core_volume_structs);
