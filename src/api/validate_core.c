/* Core-group kinds other than Pod (validate_pod.c): Service, ConfigMap, Secret, Namespace,
 * PersistentVolume(Claim), Node, Event, following pkg/apis/core/validation/validation.go. */
#include "api/validate_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/quantity.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define MAX_SECRET_SIZE    (1024 * 1024)
#define QUANTITY_REGEX_MSG KOS_QUANTITY_ERR_MSG

static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
static const char *const access_modes[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                           "ReadWriteOncePod", NULL};

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; s && list[i]; i++)
        if (!strcmp(s, list[i]))
            return true;
    return false;
}

/* ---- Service ---- */

static bool valid_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* %#v of the (protocol, port) key kube reports duplicates with. */
static char *service_port_key_repr(const char *protocol, int64_t port)
{
    _cleanup_free_ char *q = go_quote(protocol ? protocol : "");
    char *out = NULL;
    if (!q || asprintf(&out,
                       "core.ServicePort{Name:\"\", Protocol:%s, AppProtocol:(*string)(nil), "
                       "Port:%lld, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, "
                       "NodePort:0}",
                       q, (long long)port) < 0)
        return NULL;
    return out;
}

static void v_service(struct vctx *v, const json_t *obj)
{
    char p[FP_MAX], f[FP_MAX];
    static const char *const types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
                                        NULL};
    static const char *const affinities[] = {"ClientIP", "None", NULL};
    const json_t *spec = v_obj(v, obj, "spec", "");
    const json_t *ports = v_arr(v, spec, "ports", "spec");
    const char *type = v_str(v, spec, "type", "spec");
    const char *cip = v_str(v, spec, "clusterIP", "spec");
    bool headless = cip && !strcmp(cip, "None");
    bool external = type && !strcmp(type, "ExternalName");

    if (json_array_size(ports) == 0 && !headless && !external)
        v_required(v, "spec.ports", "");
    if (external) {
        if (json_array_size(json_object_get(spec, "clusterIPs")) > 0)
            v_forbidden(v, "spec.clusterIPs", "may not be set for ExternalName services");
        const char *en = v_str(v, spec, "externalName", "spec");
        _cleanup_free_ char *cname = strdup(en ? en : "");
        if (!cname) {
            v->oom = true;
            return;
        }
        size_t l = strlen(cname);
        if (l && cname[l - 1] == '.')
            cname[l - 1] = '\0';
        if (*cname)
            v_dns1123_subdomain(v, "spec.externalName", cname);
        else
            v_required(v, "spec.externalName", "");
    } else if (cip && *cip && !headless && !valid_ip(cip)) {
        v_invalid_str(v, "spec.clusterIPs[0]", cip,
                      "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
    }

    _cleanup_json_ json_t *names = json_object();
    _cleanup_json_ json_t *keys = json_object();
    if (!names || !keys) {
        v->oom = true;
        return;
    }
    size_t n = json_array_size(ports);
    for (size_t i = 0; i < n; i++) {
        fp(p, "spec.ports[%zu]", i);
        const json_t *sp = v_elem_obj(v, ports, i, p);
        if (!sp)
            continue;
        const char *name = v_str(v, sp, "name", p);
        if (n > 1 && (!name || !*name)) {
            v_required(v, fp(f, "%s.name", p), "");
        } else if (name && *name) {
            v_dns1123_label(v, fp(f, "%s.name", p), name);
            if (json_object_get(names, name))
                v_duplicate_str(v, f, name);
            else
                json_object_set_new(names, name, json_true());
        }
        int64_t port = 0;
        v_int(v, sp, "port", p, 32, &port);
        if (port < 1 || port > 65535)
            v_invalid_int(v, fp(f, "%s.port", p), port, "must be between 1 and 65535, inclusive");
        const char *proto = v_str(v, sp, "protocol", p);
        if (!proto || !*proto)
            v_required(v, fp(f, "%s.protocol", p), "");
        else if (!in_list(proto, protocols))
            v_not_supported(v, fp(f, "%s.protocol", p), proto, protocols);
        int64_t tp = 0;
        const char *tps = NULL;
        fp(f, "%s.targetPort", p);
        switch (v_int_or_string(v, sp, "targetPort", p, &tp, &tps)) {
        case 2: {
            const char *msgs[6];
            int k = port_name_msgs(tps, msgs);
            for (int j = 0; j < k; j++)
                v_invalid_str(v, f, tps, msgs[j]);
            break;
        }
        default:
            if (tp < 1 || tp > 65535)
                v_invalid_int(v, f, tp, "must be between 1 and 65535, inclusive");
        }
        int64_t np = 0;
        if (v_int(v, sp, "nodePort", p, 32, &np) && np != 0 && type && !strcmp(type, "ClusterIP"))
            v_forbidden(v, fp(f, "%s.nodePort", p), "may not be used when `type` is 'ClusterIP'");
    }
    v_labels(v, v_strmap(v, spec, "selector", "spec"), "spec.selector");
    const char *aff = v_str(v, spec, "sessionAffinity", "spec");
    if (!aff || !*aff)
        v_required(v, "spec.sessionAffinity", "");
    else if (!in_list(aff, affinities))
        v_not_supported(v, "spec.sessionAffinity", aff, affinities);
    if (!type || !*type)
        v_required(v, "spec.type", "");
    else if (!in_list(type, types))
        v_not_supported(v, "spec.type", type, types);
    /* duplicate (protocol, port) pairs, reported after the per-port checks as kube does */
    for (size_t i = 0; i < n; i++) {
        const json_t *sp = json_array_get(ports, i);
        if (!json_is_object(sp))
            continue;
        const char *proto = json_string_value(json_object_get(sp, "protocol"));
        json_int_t port = json_integer_value(json_object_get(sp, "port"));
        char key[128];
        snprintf(key, sizeof(key), "%.60s/%lld", proto ? proto : "", (long long)port);
        if (json_object_get(keys, key)) {
            _cleanup_free_ char *repr = service_port_key_repr(proto, port);
            if (!repr) {
                v->oom = true;
                return;
            }
            verr_add(v, VERR_DUPLICATE, fp(f, "spec.ports[%zu]", i), repr, NULL);
        } else {
            json_object_set_new(keys, key, json_true());
        }
    }
}

static void v_service_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *ospec = json_object_get(old, "spec");
    const char *type = json_string_value(json_object_get(spec, "type"));
    const char *otype = json_string_value(json_object_get(ospec, "type"));
    if ((type && !strcmp(type, "ExternalName")) || (otype && !strcmp(otype, "ExternalName")))
        return;
    const char *cip = json_string_value(json_object_get(spec, "clusterIP"));
    const char *ocip = json_string_value(json_object_get(ospec, "clusterIP"));
    /* an empty clusterIP on update keeps the allocated one (the handler copies it) */
    if (!cip || !*cip || !ocip || !*ocip || !strcmp(cip, ocip))
        return;
    const json_t *ips = json_object_get(spec, "clusterIPs");
    _cleanup_json_ json_t *tmp = json_is_array(ips) ? NULL : json_pack("[s]", cip);
    _cleanup_free_ char *repr = go_strlist_repr(json_is_array(ips) ? ips : tmp);
    v_invalid_repr(v, "spec.clusterIPs[0]", repr, "may not change once set");
}

/* ---- ConfigMap / Secret ---- */

static void config_keys(struct vctx *v, const json_t *m, const char *path, const json_t *other,
                        const char *dup_msg)
{
    char f[FP_MAX];
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)m, k, val)
    {
        const char *msgs[6];
        int n = config_key_msgs(k, msgs);
        fp(f, "%s[%s]", path, k);
        for (int i = 0; i < n; i++)
            v_invalid_str(v, f, k, msgs[i]);
        if (other && json_object_get(other, k))
            v_invalid_str(v, f, k, dup_msg);
    }
}

/* Decoded size of a base64 value (kube decodes []byte fields and rejects bad base64 as a
 * decode error). Returns -1 when it is not valid standard base64. */
static long base64_decoded_len(const char *s)
{
    size_t n = strlen(s);
    if (n % 4 != 0)
        return -1;
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/';
        if (c == '=' && i >= n - 2) {
            pad++;
            continue;
        }
        if (!ok || pad)
            return -1;
    }
    return (long)(n / 4 * 3 - pad);
}

static long bytes_map_size(struct vctx *v, const json_t *m, const char *path)
{
    const char *k;
    const json_t *val;
    long total = 0;
    json_object_foreach((json_t *)m, k, val)
    {
        const char *s = json_string_value(val);
        long n = s ? base64_decoded_len(s) : 0;
        if (n < 0) {
            char msg[256];
            /* encoding/base64's CorruptInputError, as the decoder reports it */
            size_t off = 0;
            while (s[off] && s[off] != '=' &&
                   ((s[off] >= 'A' && s[off] <= 'Z') || (s[off] >= 'a' && s[off] <= 'z') ||
                    (s[off] >= '0' && s[off] <= '9') || s[off] == '+' || s[off] == '/'))
                off++;
            snprintf(msg, sizeof(msg), "illegal base64 data at input byte %zu", off);
            v_decode_msg(v, msg);
            return 0;
        }
        total += n;
    }
    (void)path;
    return total;
}

static void v_configmap(struct vctx *v, const json_t *obj)
{
    const json_t *data = v_strmap(v, obj, "data", "");
    const json_t *bin = v_strmap(v, obj, "binaryData", "");
    bool imm;
    v_bool(v, obj, "immutable", "", &imm);
    config_keys(v, data, "data", bin, "duplicate of key present in binaryData");
    config_keys(v, bin, "binaryData", data, "duplicate of key present in data");
    long total = 0;
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)data, k, val) total += (long)json_string_length(val);
    total += bytes_map_size(v, bin, "binaryData");
    if (total > MAX_SECRET_SIZE)
        v_too_long(v, "", MAX_SECRET_SIZE);
}

static void immutable_data(struct vctx *v, const json_t *obj, const json_t *old,
                           const char *const *keys)
{
    if (!json_is_true(json_object_get(old, "immutable")))
        return;
    if (!json_is_true(json_object_get(obj, "immutable")))
        v_forbidden(v, "immutable", "field is immutable when `immutable` is set");
    for (size_t i = 0; keys[i]; i++)
        if (!json_equal_loose(json_object_get(obj, keys[i]), json_object_get(old, keys[i])))
            v_forbidden(v, keys[i], "field is immutable when `immutable` is set");
}

static void v_configmap_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    static const char *const keys[] = {"data", "binaryData", NULL};
    immutable_data(v, obj, old, keys);
}

static void v_secret(struct vctx *v, const json_t *obj)
{
    char f[FP_MAX];
    const json_t *data = v_strmap(v, obj, "data", "");
    v_strmap(v, obj, "stringData", "");
    bool imm;
    v_bool(v, obj, "immutable", "", &imm);
    config_keys(v, data, "data", NULL, NULL);
    long total = bytes_map_size(v, data, "data");
    const char *type = v_str(v, obj, "type", "");
    type = type ? type : "";
    if (!strcmp(type, "kubernetes.io/service-account-token")) {
        const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
        const char *sa =
            json_string_value(json_object_get(ann, "kubernetes.io/service-account.name"));
        if (!sa || !*sa)
            v_required(v, "metadata.annotations[kubernetes.io/service-account.name]", "");
    } else if (!strcmp(type, "kubernetes.io/dockercfg")) {
        if (!json_object_get(data, ".dockercfg"))
            v_required(v, fp(f, "data[.dockercfg]"), "");
    } else if (!strcmp(type, "kubernetes.io/dockerconfigjson")) {
        if (!json_object_get(data, ".dockerconfigjson"))
            v_required(v, fp(f, "data[.dockerconfigjson]"), "");
    } else if (!strcmp(type, "kubernetes.io/basic-auth")) {
        if (!json_object_get(data, "username") && !json_object_get(data, "password")) {
            v_required(v, "data[username]", "");
            v_required(v, "data[password]", "");
        }
    } else if (!strcmp(type, "kubernetes.io/ssh-auth")) {
        if (!json_object_get(data, "ssh-privatekey"))
            v_required(v, "data[ssh-privatekey]", "");
    } else if (!strcmp(type, "kubernetes.io/tls")) {
        if (!json_object_get(data, "tls.crt"))
            v_required(v, "data[tls.crt]", "");
        if (!json_object_get(data, "tls.key"))
            v_required(v, "data[tls.key]", "");
    }
    if (total > MAX_SECRET_SIZE)
        v_too_long(v, "data", MAX_SECRET_SIZE);
}

static void v_secret_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    static const char *const keys[] = {"data", NULL};
    const char *t = json_string_value(json_object_get(obj, "type"));
    const char *ot = json_string_value(json_object_get(old, "type"));
    if (strcmp(t ? t : "", ot ? ot : "") != 0)
        v_invalid_str(v, "type", t ? t : "", "field is immutable");
    immutable_data(v, obj, old, keys);
}

/* ---- Namespace ---- */

static void v_finalizer_names(struct vctx *v, const json_t *arr, const char *path)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        if (!json_is_string(e)) {
            v_decode_error(v, path, e, "string");
            continue;
        }
        const char *s = json_string_value(e);
        const char *msgs[6];
        int n = qualified_name_msgs(s, msgs);
        for (int k = 0; k < n; k++)
            v_invalid_str(v, path, s, msgs[k]);
        if (n == 0 && !strchr(s, '/') && strcmp(s, "kubernetes") && strcmp(s, "orphan") &&
            strcmp(s, "foregroundDeletion"))
            v_invalid_str(v, path, s,
                          "name is neither a standard finalizer name nor is it fully qualified");
    }
}

static void v_namespace(struct vctx *v, const json_t *obj)
{
    const json_t *spec = v_obj(v, obj, "spec", "");
    v_finalizer_names(v, v_arr(v, spec, "finalizers", "spec"), "spec.finalizers");
}

/* ---- PersistentVolumeClaim / PersistentVolume ---- */

static void v_access_modes(struct vctx *v, const json_t *spec, const char *path,
                           const char *required_detail)
{
    char f[FP_MAX];
    const json_t *modes = v_arr(v, spec, "accessModes", path);
    fp(f, "%s.accessModes", path);
    if (json_array_size(modes) == 0)
        v_required(v, f, required_detail);
    for (size_t i = 0; i < json_array_size(modes); i++) {
        const json_t *m = json_array_get(modes, i);
        if (!json_is_string(m)) {
            v_decode_error(v, f, m, "string");
            continue;
        }
        if (!in_list(json_string_value(m), access_modes))
            v_not_supported(v, f, json_string_value(m), access_modes);
    }
}

static bool storage_quantity(struct vctx *v, const json_t *val, struct kos_quantity *q, char *text,
                             size_t size)
{
    if (json_is_string(val))
        snprintf(text, size, "%s", json_string_value(val));
    else if (json_is_integer(val))
        snprintf(text, size, "%lld", (long long)json_integer_value(val));
    else if (json_is_real(val))
        snprintf(text, size, "%.17g", json_real_value(val));
    else
        snprintf(text, size, "?");
    if (kos_quantity_parse(text, q) < 0) {
        v_decode_msg(v, QUANTITY_REGEX_MSG);
        return false;
    }
    return true;
}

static bool not_positive(const struct kos_quantity *q)
{
    const struct kos_quantity zero = {0};
    return kos_quantity_cmp(q, &zero) <= 0;
}

static void v_volume_mode(struct vctx *v, const json_t *spec, const char *path)
{
    static const char *const modes[] = {"Block", "Filesystem", NULL};
    char f[FP_MAX];
    const char *m = v_str(v, spec, "volumeMode", path);
    if (m && !in_list(m, modes))
        v_not_supported(v, fp(f, "%s.volumeMode", path), m, modes);
}

static void v_pvc_spec(struct vctx *v, const json_t *spec, const char *path)
{
    char f[FP_MAX], r[FP_MAX];
    v_access_modes(v, spec, path, "at least 1 access mode is required");
    const json_t *res = v_obj(v, spec, "resources", path);
    const json_t *req = v_obj(v, res, "requests", fp(r, "%s.resources", path));
    const json_t *st = json_object_get(req, "storage");
    fp(f, "%s.resources[storage]", path);
    if (!st) {
        v_required(v, f, "");
    } else {
        struct kos_quantity q;
        char text[256];
        if (storage_quantity(v, st, &q, text, sizeof(text)) && not_positive(&q))
            v_invalid_str(v, f, text, "must be greater than zero");
    }
    v_volume_mode(v, spec, path);
    v_label_selector(v, v_obj(v, spec, "selector", path), fp(r, "%s.selector", path));
}

static void v_pvc(struct vctx *v, const json_t *obj)
{
    v_pvc_spec(v, v_obj(v, obj, "spec", ""), "spec");
}

static void v_pvc_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *ospec = json_object_get(old, "spec");
    _cleanup_json_ json_t *a = json_is_object(spec) ? json_deep_copy(spec) : json_object();
    _cleanup_json_ json_t *b = json_is_object(ospec) ? json_deep_copy(ospec) : json_object();
    if (!a || !b) {
        v->oom = true;
        return;
    }
    /* requests (expansion), volumeAttributesClassName, and a volumeName set by binding may
     * change */
    json_t *ra = json_object_get(a, "resources");
    json_t *rb = json_object_get(b, "resources");
    if (json_is_object(ra))
        json_object_del(ra, "requests");
    if (json_is_object(rb))
        json_object_del(rb, "requests");
    json_object_del(a, "volumeAttributesClassName");
    json_object_del(b, "volumeAttributesClassName");
    const char *ovn = json_string_value(json_object_get(ospec, "volumeName"));
    if (!ovn || !*ovn) {
        json_object_del(a, "volumeName");
        json_object_del(b, "volumeName");
    }
    if (!json_equal_loose(a, b)) {
        v_forbidden(v, "spec",
                    "spec is immutable after creation except resources.requests and "
                    "volumeAttributesClassName for bound claims");
        return;
    }
    const json_t *ns =
        json_object_get(json_object_get(json_object_get(spec, "resources"), "requests"), "storage");
    const json_t *os = json_object_get(
        json_object_get(json_object_get(ospec, "resources"), "requests"), "storage");
    struct kos_quantity nq, oq;
    char nt[256], ot[256];
    if (ns && os && storage_quantity(v, ns, &nq, nt, sizeof(nt)) &&
        storage_quantity(v, os, &oq, ot, sizeof(ot)) && kos_quantity_cmp(&nq, &oq) < 0)
        v_forbidden(v, "spec.resources.requests.storage",
                    "field can not be less than status.capacity");
}

static const char *const pv_sources[] = {
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "hostPath",
    "glusterfs",
    "nfs",
    "rbd",
    "quobyte",
    "cinder",
    "cephfs",
    "iscsi",
    "fc",
    "flocker",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "local",
    "storageos",
    "csi",
    NULL,
};

static void v_pv(struct vctx *v, const json_t *obj)
{
    char f[FP_MAX];
    const json_t *spec = v_obj(v, obj, "spec", "");
    v_access_modes(v, spec, "spec", "");
    const json_t *cap = v_obj(v, spec, "capacity", "spec");
    if (json_object_size(cap) == 0) {
        v_required(v, "spec.capacity", "");
    } else {
        const json_t *st = json_object_get(cap, "storage");
        if (!st || json_object_size(cap) > 1) {
            static const char *const storage_only[] = {"storage", NULL};
            const char *first = NULL;
            const char *k;
            const json_t *val;
            json_object_foreach((json_t *)cap, k, val)
            {
                if (strcmp(k, "storage") != 0) {
                    first = k;
                    break;
                }
            }
            v_not_supported(v, "spec.capacity", first ? first : "", storage_only);
        }
        struct kos_quantity q;
        char text[256];
        if (st && storage_quantity(v, st, &q, text, sizeof(text)) && not_positive(&q))
            v_invalid_str(v, "spec.capacity[storage]", text, "must be greater than zero");
    }
    int n = 0;
    for (size_t i = 0; pv_sources[i]; i++) {
        const json_t *src = v_obj(v, spec, pv_sources[i], "spec");
        if (!src)
            continue;
        if (n++ > 0) {
            v_forbidden(v, fp(f, "spec.%s", pv_sources[i]),
                        "may not specify more than 1 volume type");
            continue;
        }
        const char *need = !strcmp(pv_sources[i], "hostPath") || !strcmp(pv_sources[i], "local") ||
                                   !strcmp(pv_sources[i], "nfs")
                               ? "path"
                           : !strcmp(pv_sources[i], "csi") ? "driver"
                                                           : NULL;
        if (need) {
            const char *s = v_str(v, src, need, fp(f, "spec.%s", pv_sources[i]));
            if (!s || !*s) {
                char g[FP_MAX];
                v_required(v, fp(g, "spec.%s.%s", pv_sources[i], need), "");
            }
        }
    }
    if (n == 0)
        v_required(v, "spec", "must specify a volume type");
    static const char *const policies[] = {"Delete", "Recycle", "Retain", NULL};
    const char *rp = v_str(v, spec, "persistentVolumeReclaimPolicy", "spec");
    if (rp && *rp && !in_list(rp, policies))
        v_not_supported(v, "spec.persistentVolumeReclaimPolicy", rp, policies);
    v_volume_mode(v, spec, "spec");
}

static void v_pv_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *ospec = json_object_get(old, "spec");
    for (size_t i = 0; pv_sources[i]; i++) {
        const json_t *a = json_object_get(spec, pv_sources[i]);
        const json_t *b = json_object_get(ospec, pv_sources[i]);
        if (!json_equal_loose(a, b)) {
            v_forbidden(v, "spec.persistentvolumesource",
                        "spec.persistentvolumesource is forbidden once set");
            break;
        }
    }
    const char *m = json_string_value(json_object_get(spec, "volumeMode"));
    const char *om = json_string_value(json_object_get(ospec, "volumeMode"));
    if (m && om && strcmp(m, om) != 0)
        v_invalid_str(v, "volumeMode", m, "field is immutable");
}

/* ---- Node ---- */

static void v_node(struct vctx *v, const json_t *obj)
{
    char p[FP_MAX], f[FP_MAX];
    static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
    const json_t *spec = v_obj(v, obj, "spec", "");
    const json_t *taints = v_arr(v, spec, "taints", "spec");
    for (size_t i = 0; i < json_array_size(taints); i++) {
        fp(p, "spec.taints[%zu]", i);
        const json_t *t = v_elem_obj(v, taints, i, p);
        if (!t)
            continue;
        const char *key = v_str(v, t, "key", p);
        v_qualified_name(v, fp(f, "%s.key", p), key ? key : "");
        const char *val = v_str(v, t, "value", p);
        if (val) {
            const char *msgs[6];
            int n = label_value_msgs(val, msgs);
            for (int k = 0; k < n; k++)
                v_invalid_str(v, fp(f, "%s.value", p), val, msgs[k]);
        }
        const char *eff = v_str(v, t, "effect", p);
        if (!eff || !*eff)
            v_required(v, fp(f, "%s.effect", p), "");
        else if (!in_list(eff, effects))
            v_not_supported(v, fp(f, "%s.effect", p), eff, effects);
    }
}

/* kube's ValidateNodeUpdate: the node IPAM controller may give a Node its podCIDRs once;
 * after that no update changes them (pods hold addresses from them). */
static void v_node_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *was = json_object_get(json_object_get(old, "spec"), "podCIDRs");
    const json_t *now = json_object_get(json_object_get(obj, "spec"), "podCIDRs");
    if (json_array_size(was) > 0 && !json_equal(was, now))
        v_forbidden(v, "spec.podCIDRs",
                    "node updates may not change podCIDR except from \"\" to "
                    "valid");
}

/* ---- Event ---- */

static void v_event(struct vctx *v, const json_t *obj)
{
    const json_t *io = v_obj(v, obj, "involvedObject", "");
    const char *ions = v_str(v, io, "namespace", "involvedObject");
    const char *ns =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
    const char *et = v_str(v, obj, "eventTime", "");
    ions = ions ? ions : "";
    ns = ns ? ns : "";
    if (!et || !*et) {
        if (!*ions) {
            if (*ns && strcmp(ns, "default") != 0)
                v_invalid_str(v, "involvedObject.namespace", ions,
                              "does not match event.namespace");
        } else if (strcmp(ns, ions) != 0) {
            v_invalid_str(v, "involvedObject.namespace", ions, "does not match event.namespace");
        }
        return;
    }
    if (!*ions && strcmp(ns, "default") && strcmp(ns, "kube-system"))
        v_invalid_str(v, "involvedObject.namespace", ions, "does not match event.namespace");
    const char *rc = v_str(v, obj, "reportingComponent", "");
    if (!rc || !*rc)
        v_required(v, "reportingComponent", "");
    v_qualified_name(v, "reportingComponent", rc ? rc : "");
    static const char *const required[] = {"reportingInstance", "action", "reason", NULL};
    for (size_t i = 0; required[i]; i++) {
        const char *s = v_str(v, obj, required[i], "");
        if (!s || !*s)
            v_required(v, required[i], "");
    }
}

const struct vkind vkinds_core[] = {
    {"", "Pod", NULL, NULL},
    {"", "Service", v_service, v_service_update},
    {"", "ConfigMap", v_configmap, v_configmap_update},
    {"", "Secret", v_secret, v_secret_update},
    {"", "Namespace", v_namespace, NULL},
    {"", "PersistentVolumeClaim", v_pvc, v_pvc_update},
    {"", "PersistentVolume", v_pv, v_pv_update},
    {"", "Node", v_node, v_node_update},
    {"", "Event", v_event, NULL},
    {NULL, NULL, NULL, NULL},
};
