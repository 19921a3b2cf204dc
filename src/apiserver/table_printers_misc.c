/* Table printers for events, namespaces, configuration, storage, scheduling, coordination,
 * policy and RBAC bindings, after kube-apiserver's pkg/printers/internalversion/printers.go
 * (v1.33). Every printer emits the wide cells too. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "apiserver/table_internal.h"
#include "util/cleanup.h"

/* ---- events ---- */

static const struct table_column event_columns[] = {
    {"Last Seen", "string", "",
     "The time at which the most recent occurrence of this event was recorded.", 0},
    {"Type", "string", "",
     "Type of this event (Normal, Warning), new types could be added in the future", 0},
    {"Reason", "string", "",
     "This should be a short, machine understandable string that gives the reason for the "
     "transition into the object's current status.",
     0},
    {"Object", "string", "", "The object that this event is about.", 0},
    {"Subobject", "string", "",
     "If referring to a piece of an object instead of an entire object, this string should contain "
     "a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For "
     "example, if the object reference is to a container within a pod, this would take on a value "
     "like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that "
     "triggered the event) or if no container name is specified \"spec.containers[2]\" (container "
     "with index 2 in this pod). This syntax is chosen only to have some well-defined way of "
     "referencing a part of an object.",
     1},
    {"Source", "string", "",
     "The component reporting this event. Should be a short machine understandable string.", 1},
    {"Message", "string", "", "A human-readable description of the status of this operation.", 0},
    {"First Seen", "string", "",
     "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", 1},
    {"Count", "string", "", "The number of times this event has occurred.", 1},
    {"Name", "string", "name", D_NAME, 1},
};

/* strings.TrimSpace of the message into b. */
static int append_trimmed(struct kos_buf *b, const char *s)
{
    size_t len = strlen(s);
    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    return kos_buf_append(b, s, len);
}

static void event_cells(struct table_cells *c, const json_t *ev)
{
    char first[32], last[32];
    int64_t first_t = table_time(json_object_get(ev, "firstTimestamp"));
    if (first_t == TABLE_TIME_ZERO)
        first_t = table_time(json_object_get(ev, "eventTime"));
    table_age(c, first_t, first, sizeof(first));
    int64_t last_t = table_time(json_object_get(ev, "lastTimestamp"));
    if (last_t == TABLE_TIME_ZERO)
        snprintf(last, sizeof(last), "%s", first);
    else
        table_age(c, last_t, last, sizeof(last));
    int64_t count = i_at(ev, "count");
    const json_t *series = json_object_get(ev, "series");
    if (json_is_object(series)) {
        table_age(c, table_time(json_object_get(series, "lastObservedTime")), last, sizeof(last));
        count = i_at(series, "count");
    } else if (count == 0) {
        count = 1; /* singleton events of the events.k8s.io API have no count */
    }

    /* the involved object as kind/name, the kind lowercased */
    const json_t *io = json_object_get(ev, "involvedObject");
    const char *name = s_at(io, "name");
    _cleanup_buf_ struct kos_buf target;
    kos_buf_init(&target, TABLE_CELL_MAX);
    int r = 0;
    for (const char *k = str_or(s_at(io, "kind"), ""); r == 0 && *k; k++) {
        char ch = (char)tolower((unsigned char)*k);
        r = kos_buf_append(&target, &ch, 1);
    }
    if (r == 0 && name && name[0])
        r = kos_buf_printf(&target, "/%s", name);

    /* formatEventSource: component (else reportingComponent), then host (else
     * reportingInstance) after a comma */
    const char *component = str_or(obj_str(ev, "source.component"), s_at(ev, "reportingComponent"));
    const char *host = str_or(obj_str(ev, "source.host"), s_at(ev, "reportingInstance"));
    _cleanup_buf_ struct kos_buf message;
    kos_buf_init(&message, TABLE_CELL_MAX);
    int mr = append_trimmed(&message, str_or(s_at(ev, "message"), ""));

    cell_str(c, last);
    cell_str(c, s_at(ev, "type"));
    cell_str(c, s_at(ev, "reason"));
    cell_buf(c, &target, r, "");
    cell_str(c, s_at(io, "fieldPath"));
    if (host && host[0])
        cell_fmt(c, "%s, %s", str_or(component, ""), host);
    else
        cell_str(c, component);
    cell_buf(c, &message, mr, "");
    cell_str(c, first);
    cell_int(c, count);
    cell_str(c, obj_str(ev, "metadata.name"));
}

/* ---- namespaces and configuration ---- */

static const struct table_column namespace_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Status", "string", "", "The status of the namespace", 0},
    {"Age", "string", "", D_AGE, 0},
};

static void namespace_cells(struct table_cells *c, const json_t *ns)
{
    cell_str(c, obj_str(ns, "metadata.name"));
    cell_str(c, obj_str(ns, "status.phase"));
    cell_age(c, ns);
}

static const struct table_column configmap_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Data", "string", "",
     "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', "
     "'_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys "
     "stored in Data must not overlap with the keys in the BinaryData field, this is enforced "
     "during validation process.",
     0},
    {"Age", "string", "", D_AGE, 0},
};

static void configmap_cells(struct table_cells *c, const json_t *cm)
{
    cell_str(c, obj_str(cm, "metadata.name"));
    cell_int(c, (int64_t)(json_object_size(json_object_get(cm, "data")) +
                          json_object_size(json_object_get(cm, "binaryData"))));
    cell_age(c, cm);
}

static const struct table_column secret_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Type", "string", "",
     "Used to facilitate programmatic handling of secret data. More info: "
     "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
     0},
    {"Data", "string", "",
     "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or "
     "'.'. The serialized form of the secret data is a base64 encoded string, representing the "
     "arbitrary (possibly non-string) data value here. Described in "
     "https://tools.ietf.org/html/rfc4648#section-4",
     0},
    {"Age", "string", "", D_AGE, 0},
};

static void secret_cells(struct table_cells *c, const json_t *s)
{
    cell_str(c, obj_str(s, "metadata.name"));
    cell_str(c, s_at(s, "type"));
    cell_int(c, (int64_t)json_object_size(json_object_get(s, "data")));
    cell_age(c, s);
}

static const struct table_column serviceaccount_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Secrets", "string", "",
     "Secrets is a list of the secrets in the same namespace that pods running using this "
     "ServiceAccount are allowed to use. More info: "
     "https://kubernetes.io/docs/concepts/configuration/secret",
     0},
    {"Age", "string", "", D_AGE, 0},
};

static void serviceaccount_cells(struct table_cells *c, const json_t *sa)
{
    cell_str(c, obj_str(sa, "metadata.name"));
    cell_int(c, (int64_t)json_array_size(json_object_get(sa, "secrets")));
    cell_age(c, sa);
}

/* ---- storage ---- */

/* helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once. */
static void cell_access_modes(struct table_cells *c, const json_t *modes)
{
    static const char *const names[][2] = {{"ReadWriteOnce", "RWO"},
                                           {"ReadOnlyMany", "ROX"},
                                           {"ReadWriteMany", "RWX"},
                                           {"ReadWriteOncePod", "RWOP"}};
    char out[32] = "";
    for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
        size_t i;
        const json_t *m;
        json_array_foreach(modes, i, m)
        {
            if (kos_streq_null(json_string_value(m), names[n][0])) {
                size_t len = strlen(out);
                snprintf(out + len, sizeof(out) - len, "%s%s", len ? "," : "", names[n][1]);
                break;
            }
        }
    }
    cell_str(c, out);
}

#define BETA_STORAGE_CLASS "volume.beta.kubernetes.io/storage-class"

/* The beta annotation wins over spec.storageClassName. */
static const char *storage_class(const json_t *obj)
{
    const json_t *ann = json_object_get(obj_path(obj, "metadata.annotations"), BETA_STORAGE_CLASS);
    return ann ? str_or(json_string_value(ann), "") : obj_str(obj, "spec.storageClassName");
}

static const struct table_column pv_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Capacity", "string", "",
     "capacity is the description of the persistent volume's resources and capacity. More info: "
     "https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity",
     0},
    {"Access Modes", "string", "",
     "accessModes contains all ways the volume can be mounted. More info: "
     "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes",
     0},
    {"Reclaim Policy", "string", "",
     "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from "
     "its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete "
     "(default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle "
     "must be supported by the volume plugin underlying this PersistentVolume. More info: "
     "https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming",
     0},
    {"Status", "string", "",
     "phase indicates if a volume is available, bound to a claim, or released by a claim. More "
     "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase",
     0},
    {"Claim", "string", "",
     "claimRef is part of a bi-directional binding between PersistentVolume and "
     "PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the "
     "authoritative bind between PV and PVC. More info: "
     "https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding",
     0},
    {"StorageClass", "string", "", "StorageClass of the pv", 0},
    {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pv", 0},
    {"Reason", "string", "",
     "reason is a brief CamelCase string that describes any failure and is meant for machine "
     "parsing and tidy display in the CLI.",
     0},
    {"Age", "string", "", D_AGE, 0},
    {"VolumeMode", "string", "",
     "volumeMode defines if a volume is intended to be used with a formatted filesystem or to "
     "remain in raw block state. Value of Filesystem is implied when not included in spec.",
     1},
};

static void pv_cells(struct table_cells *c, const json_t *pv)
{
    const json_t *claim = obj_path(pv, "spec.claimRef");
    cell_str(c, obj_str(pv, "metadata.name"));
    cell_str(c, obj_str(pv, "spec.capacity.storage"));
    cell_access_modes(c, obj_path(pv, "spec.accessModes"));
    cell_str(c, obj_str(pv, "spec.persistentVolumeReclaimPolicy"));
    cell_str(c, table_deleting(pv) ? "Terminating" : obj_str(pv, "status.phase"));
    if (json_is_object(claim))
        cell_fmt(c, "%s/%s", str_or(s_at(claim, "namespace"), ""), str_or(s_at(claim, "name"), ""));
    else
        cell_str(c, "");
    cell_str(c, storage_class(pv));
    cell_str(c, str_or(obj_str(pv, "spec.volumeAttributesClassName"), "<unset>"));
    cell_str(c, obj_str(pv, "status.reason"));
    cell_age(c, pv);
    cell_str(c, str_or(obj_str(pv, "spec.volumeMode"), "<unset>"));
}

static const struct table_column pvc_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Status", "string", "", "phase represents the current phase of PersistentVolumeClaim.", 0},
    {"Volume", "string", "",
     "volumeName is the binding reference to the PersistentVolume backing this claim.", 0},
    {"Capacity", "string", "", "capacity represents the actual resources of the underlying volume.",
     0},
    {"Access Modes", "string", "",
     "accessModes contains the actual access modes the volume backing the PVC has. More info: "
     "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
     0},
    {"StorageClass", "string", "", "StorageClass of the pvc", 0},
    {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pvc", 0},
    {"Age", "string", "", D_AGE, 0},
    {"VolumeMode", "string", "",
     "volumeMode defines what type of volume is required by the claim. Value of Filesystem is "
     "implied when not included in claim spec.",
     1},
};

static void pvc_cells(struct table_cells *c, const json_t *pvc)
{
    const char *volume = str_or(obj_str(pvc, "spec.volumeName"), "");
    bool bound = volume[0] != '\0';
    cell_str(c, obj_str(pvc, "metadata.name"));
    cell_str(c, table_deleting(pvc) ? "Terminating" : obj_str(pvc, "status.phase"));
    cell_str(c, volume);
    /* capacity and access modes are shown only once the claim names its volume */
    cell_str(c, bound ? obj_str(pvc, "status.capacity.storage") : "");
    if (bound)
        cell_access_modes(c, obj_path(pvc, "status.accessModes"));
    else
        cell_str(c, "");
    cell_str(c, storage_class(pvc));
    cell_str(c, str_or(obj_str(pvc, "spec.volumeAttributesClassName"), "<unset>"));
    cell_age(c, pvc);
    cell_str(c, str_or(obj_str(pvc, "spec.volumeMode"), "<unset>"));
}

static const struct table_column storageclass_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Provisioner", "string", "", "provisioner indicates the type of the provisioner.", 0},
    {"ReclaimPolicy", "string", "",
     "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of "
     "this storage class. Defaults to Delete.",
     0},
    {"VolumeBindingMode", "string", "",
     "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  "
     "When unset, VolumeBindingImmediate is used. This field is only honored by servers that "
     "enable the VolumeScheduling feature.",
     0},
    {"AllowVolumeExpansion", "string", "",
     "allowVolumeExpansion shows whether the storage class allow volume expand.", 0},
    {"Age", "string", "", D_AGE, 0},
};

static void storageclass_cells(struct table_cells *c, const json_t *sc)
{
    const json_t *ann = obj_path(sc, "metadata.annotations");
    bool is_default =
        kos_streq_null(s_at(ann, "storageclass.kubernetes.io/is-default-class"), "true") ||
        kos_streq_null(s_at(ann, "storageclass.beta.kubernetes.io/is-default-class"), "true");
    cell_fmt(c, "%s%s", str_or(obj_str(sc, "metadata.name"), ""), is_default ? " (default)" : "");
    cell_str(c, s_at(sc, "provisioner"));
    cell_str(c, str_or(s_at(sc, "reclaimPolicy"), "Delete"));
    cell_str(c, str_or(s_at(sc, "volumeBindingMode"), "Immediate"));
    cell_bool(c, json_is_true(json_object_get(sc, "allowVolumeExpansion")));
    cell_age(c, sc);
}

/* ---- scheduling, coordination, policy ---- */

static const struct table_column priorityclass_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Value", "integer", "",
     "value represents the integer value of this priority class. This is the actual priority that "
     "pods receive when they have the name of this class in their pod spec.",
     0},
    {"Global-Default", "boolean", "",
     "globalDefault specifies whether this PriorityClass should be considered as the default "
     "priority for pods that do not have any priority class. Only one PriorityClass can be marked "
     "as `globalDefault`. However, if more than one PriorityClasses exists with their "
     "`globalDefault` field set to true, the smallest value of such global default PriorityClasses "
     "will be used as the default priority.",
     0},
    {"Age", "string", "", D_AGE, 0},
    {"PreemptionPolicy", "string", "",
     "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, "
     "PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
     1},
};

static void priorityclass_cells(struct table_cells *c, const json_t *pc)
{
    cell_str(c, obj_str(pc, "metadata.name"));
    cell_int(c, i_at(pc, "value"));
    cell_bool(c, json_is_true(json_object_get(pc, "globalDefault")));
    cell_age(c, pc);
    cell_str(c, s_at(pc, "preemptionPolicy"));
}

static const struct table_column lease_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Holder", "string", "",
     "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader "
     "Election is used, the holder identity must be equal to the elected "
     "LeaseCandidate.metadata.name field.",
     0},
    {"Age", "string", "", D_AGE, 0},
};

static void lease_cells(struct table_cells *c, const json_t *lease)
{
    cell_str(c, obj_str(lease, "metadata.name"));
    cell_str(c, obj_str(lease, "spec.holderIdentity"));
    cell_age(c, lease);
}

static const struct table_column pdb_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Min Available", "string", "", "The minimum number of pods that must be available.", 0},
    {"Max Unavailable", "string", "", "The maximum number of pods that may be unavailable.", 0},
    {"Allowed Disruptions", "integer", "",
     "Calculated number of pods that may be disrupted at this time.", 0},
    {"Age", "string", "", D_AGE, 0},
};

/* An IntOrString as IntOrString.String() prints it, "N/A" when unset. */
static void cell_int_or_string(struct table_cells *c, const json_t *v)
{
    if (json_is_integer(v))
        cell_fmt(c, "%" PRId64, (int64_t)json_integer_value(v));
    else if (json_is_string(v))
        cell_str(c, json_string_value(v));
    else
        cell_str(c, "N/A");
}

static void pdb_cells(struct table_cells *c, const json_t *pdb)
{
    cell_str(c, obj_str(pdb, "metadata.name"));
    cell_int_or_string(c, obj_path(pdb, "spec.minAvailable"));
    cell_int_or_string(c, obj_path(pdb, "spec.maxUnavailable"));
    cell_int(c, i_path(pdb, "status.disruptionsAllowed"));
    cell_age(c, pdb);
}

/* ---- RBAC bindings ---- */

static const struct table_column rolebinding_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Role", "string", "",
     "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "
     "namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This "
     "field is immutable.",
     0},
    {"Age", "string", "", D_AGE, 0},
    {"Users", "string", "", "Users in the roleBinding", 1},
    {"Groups", "string", "", "Groups in the roleBinding", 1},
    {"ServiceAccounts", "string", "", "ServiceAccounts in the roleBinding", 1},
};

static const struct table_column clusterrolebinding_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Role", "string", "",
     "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be "
     "resolved, the Authorizer must return an error. This field is immutable.",
     0},
    {"Age", "string", "", D_AGE, 0},
    {"Users", "string", "", "Users in the clusterRoleBinding", 1},
    {"Groups", "string", "", "Groups in the clusterRoleBinding", 1},
    {"ServiceAccounts", "string", "", "ServiceAccounts in the clusterRoleBinding", 1},
};

/* rbac.SubjectsStrings: users, groups and namespace/name service accounts, ", "-joined. */
static void binding_cells(struct table_cells *c, const json_t *rb)
{
    static const char *const kinds[] = {"User", "Group", "ServiceAccount"};
    cell_str(c, obj_str(rb, "metadata.name"));
    cell_fmt(c, "%s/%s", str_or(obj_str(rb, "roleRef.kind"), ""),
             str_or(obj_str(rb, "roleRef.name"), ""));
    cell_age(c, rb);
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        _cleanup_buf_ struct kos_buf b;
        kos_buf_init(&b, TABLE_CELL_MAX);
        int r = 0;
        size_t i;
        const json_t *s;
        json_array_foreach(json_object_get(rb, "subjects"), i, s)
        {
            if (r < 0 || !kos_streq_null(s_at(s, "kind"), kinds[k]))
                continue;
            const char *sep = b.len ? ", " : "";
            const char *name = str_or(s_at(s, "name"), "");
            if (k == 2)
                r = kos_buf_printf(&b, "%s%s/%s", sep, str_or(s_at(s, "namespace"), ""), name);
            else
                r = kos_buf_printf(&b, "%s%s", sep, name);
        }
        cell_buf(c, &b, r, "");
    }
}

#define PRINTER(g, k, cols, fn)                                                                    \
    {                                                                                              \
        g, k, cols, sizeof(cols) / sizeof(cols[0]), fn                                             \
    }

const struct table_printer table_printers_misc[] = {
    PRINTER("", "Event", event_columns, event_cells),
    PRINTER("", "Namespace", namespace_columns, namespace_cells),
    PRINTER("", "ConfigMap", configmap_columns, configmap_cells),
    PRINTER("", "Secret", secret_columns, secret_cells),
    PRINTER("", "ServiceAccount", serviceaccount_columns, serviceaccount_cells),
    PRINTER("", "PersistentVolume", pv_columns, pv_cells),
    PRINTER("", "PersistentVolumeClaim", pvc_columns, pvc_cells),
    PRINTER("storage.k8s.io", "StorageClass", storageclass_columns, storageclass_cells),
    PRINTER("scheduling.k8s.io", "PriorityClass", priorityclass_columns, priorityclass_cells),
    PRINTER("coordination.k8s.io", "Lease", lease_columns, lease_cells),
    PRINTER("policy", "PodDisruptionBudget", pdb_columns, pdb_cells),
    PRINTER("rbac.authorization.k8s.io", "RoleBinding", rolebinding_columns, binding_cells),
    PRINTER("rbac.authorization.k8s.io", "ClusterRoleBinding", clusterrolebinding_columns,
            binding_cells),
    {NULL, NULL, NULL, 0, NULL},
};
