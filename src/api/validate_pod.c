/* Pod and pod template validation, following pkg/apis/core/validation/validation.go
 * (ValidatePodSpec, validateContainers, ValidateVolumes, ValidateResourceRequirements,
 * ValidatePodUpdate) in the order kube-apiserver reports errors. */
#include "api/validate_internal.h"
#include "api/volume_sources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/quantity.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define QUANTITY_REGEX_MSG KOS_QUANTITY_ERR_MSG
#define MAX_INT32          2147483647LL

static const char *const restart_policies[] = {"Always", "OnFailure", "Never", NULL};
static const char *const dns_policies[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default",
                                           "None", NULL};
static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};
static const char *const msg_policies[] = {"File", "FallbackToLogsOnError", NULL};
static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
static const char *const http_schemes[] = {"HTTP", "HTTPS", NULL};
static const char *const taint_effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
static const char *const toleration_ops[] = {"Equal", "Exists", NULL};
static const char *const preemption_policies[] = {"Never", "PreemptLowerPriority", NULL};

static void port_range(struct vctx *v, const char *field, int64_t port)
{
    if (port < 1 || port > 65535)
        v_invalid_int(v, field, port, "must be between 1 and 65535, inclusive");
}

static void port_num_or_name(struct vctx *v, const json_t *parent, const char *key,
                             const char *path)
{
    char p[FP_MAX];
    int64_t i = 0;
    const char *s = NULL;
    const char *msgs[6];
    fp(p, "%s.%s", path, key);
    switch (v_int_or_string(v, parent, key, path, &i, &s)) {
    case 1:
        port_range(v, p, i);
        break;
    case 2: {
        int n = port_name_msgs(s, msgs);
        for (int k = 0; k < n; k++)
            v_invalid_str(v, p, s, msgs[k]);
        break;
    }
    default:
        /* absent port: the zero IntOrString is an int 0 */
        if (!json_object_get(parent, key))
            port_range(v, p, 0);
    }
}

/* A policy string field: Required when empty, Unsupported when not in the list. */
static void v_enum(struct vctx *v, const json_t *parent, const char *key, const char *path,
                   const char *const *allowed, bool required)
{
    char p[FP_MAX];
    const char *s = v_str(v, parent, key, path);
    fp(p, "%s.%s", path, key);
    if (!s || !*s) {
        if (required)
            v_required(v, p, "");
        return;
    }
    for (size_t i = 0; allowed[i]; i++)
        if (!strcmp(s, allowed[i]))
            return;
    v_not_supported(v, p, s, allowed);
}

/* ---- resources ---- */

static bool is_native_resource(const char *name)
{
    return !strchr(name, '/') || strstr(name, "kubernetes.io/");
}

static bool is_hugepages(const char *name)
{
    return strncmp(name, "hugepages-", 10) == 0;
}

/* Native resources other than hugepages may be overcommitted (request < limit). */
static bool overcommit_allowed(const char *name)
{
    return is_native_resource(name) && !is_hugepages(name);
}

static void container_resource_name(struct vctx *v, const char *name, const char *field)
{
    v_qualified_name(v, field, name);
    if (!strchr(name, '/')) {
        if (strcmp(name, "cpu") && strcmp(name, "memory") && strcmp(name, "ephemeral-storage") &&
            !is_hugepages(name))
            v_invalid_str(v, field, name, "must be a standard resource for containers");
    } else if (!is_native_resource(name)) {
        char buf[FP_MAX];
        const char *msgs[6];
        snprintf(buf, sizeof(buf), "requests.%s", name);
        if (strncmp(name, "requests.", 9) == 0 || qualified_name_msgs(buf, msgs) > 0)
            v_invalid_str(v, field, name, "doesn't follow extended resource name standard");
    }
}

/* Parses one quantity value (string or JSON number). Returns false (and records the 400 a
 * decode would give) when it is not a quantity. text receives the value as written. */
static bool parse_quantity(struct vctx *v, const json_t *val, struct kos_quantity *q, char *text,
                           size_t size)
{
    if (json_is_string(val))
        snprintf(text, size, "%s", json_string_value(val));
    else if (json_is_integer(val))
        snprintf(text, size, "%lld", (long long)json_integer_value(val));
    else if (json_is_real(val))
        snprintf(text, size, "%.17g", json_real_value(val));
    else if (json_is_null(val))
        snprintf(text, size, "0");
    else {
        v_decode_msg(v, QUANTITY_REGEX_MSG);
        return false;
    }
    if (kos_quantity_parse(text, q) < 0) {
        v_decode_msg(v, QUANTITY_REGEX_MSG);
        return false;
    }
    return true;
}

static bool quantity_is_negative(const struct kos_quantity *q)
{
    const struct kos_quantity zero = {0};
    return kos_quantity_cmp(q, &zero) < 0;
}

static void resource_value(struct vctx *v, const char *name, const struct kos_quantity *q,
                           const char *text, const char *field)
{
    if (quantity_is_negative(q))
        v_invalid_str(v, field, text, "must be greater than or equal to 0");
    /* integer resources: extended resources and hugepages need whole units */
    if (!is_native_resource(name) && !q->overflow && q->milli % 1000 != 0)
        v_invalid_str(v, field, text, "must be an integer");
}

static void v_resources(struct vctx *v, const json_t *ctr, const char *path)
{
    char p[FP_MAX], lim_path[FP_MAX], req_path[FP_MAX], f[FP_MAX];
    const json_t *res = v_obj(v, ctr, "resources", path);
    if (!res)
        return;
    fp(p, "%s.resources", path);
    fp(lim_path, "%s.limits", p);
    fp(req_path, "%s.requests", p);
    const json_t *limits = v_obj(v, res, "limits", p);
    const json_t *requests = v_obj(v, res, "requests", p);
    const char *name;
    const json_t *val;
    struct kos_quantity q;
    char text[256];

    json_object_foreach((json_t *)limits, name, val)
    {
        fp(f, "%s[%s]", lim_path, name);
        container_resource_name(v, name, f);
        if (parse_quantity(v, val, &q, text, sizeof(text)))
            resource_value(v, name, &q, text, f);
    }
    json_object_foreach((json_t *)requests, name, val)
    {
        fp(f, "%s[%s]", req_path, name);
        container_resource_name(v, name, f);
        if (!parse_quantity(v, val, &q, text, sizeof(text)))
            continue;
        resource_value(v, name, &q, text, f);
        const json_t *lv = json_object_get(limits, name);
        struct kos_quantity lq;
        char ltext[256];
        if (lv) {
            if (!parse_quantity(v, lv, &lq, ltext, sizeof(ltext)))
                continue;
            int c = kos_quantity_cmp(&q, &lq);
            char d[512];
            if (c != 0 && !overcommit_allowed(name)) {
                snprintf(d, sizeof(d), "must be equal to %s limit of %s", name, ltext);
                v_invalid_str(v, req_path, text, d);
            } else if (c > 0) {
                snprintf(d, sizeof(d), "must be less than or equal to %s limit of %s", name, ltext);
                v_invalid_str(v, req_path, text, d);
            }
        } else if (!overcommit_allowed(name)) {
            v_required(v, lim_path, "Limit must be set for non overcommitable resources");
        }
    }
}

/* ---- probes and handlers ---- */

static void v_handler(struct vctx *v, const json_t *h, const char *path, bool lifecycle)
{
    static const char *const kinds_probe[] = {"exec", "httpGet", "tcpSocket", "grpc", NULL};
    static const char *const kinds_lifecycle[] = {"exec", "httpGet", "tcpSocket", "sleep", NULL};
    const char *const *kinds = lifecycle ? kinds_lifecycle : kinds_probe;
    char p[FP_MAX], q[FP_MAX];
    int n = 0;
    for (size_t i = 0; kinds[i]; i++) {
        const json_t *a = v_obj(v, h, kinds[i], path);
        if (!a)
            continue;
        fp(p, "%s.%s", path, kinds[i]);
        if (n++ > 0) {
            v_forbidden(v, p, "may not specify more than 1 handler type");
            continue;
        }
        if (!strcmp(kinds[i], "exec")) {
            if (json_array_size(v_arr(v, a, "command", p)) == 0)
                v_required(v, fp(q, "%s.command", p), "");
        } else if (!strcmp(kinds[i], "httpGet")) {
            const char *hp = v_str(v, a, "path", p);
            if (!hp || !*hp)
                v_required(v, fp(q, "%s.path", p), "");
            port_num_or_name(v, a, "port", p);
            v_enum(v, a, "scheme", p, http_schemes, false);
        } else if (!strcmp(kinds[i], "tcpSocket")) {
            port_num_or_name(v, a, "port", p);
        } else if (!strcmp(kinds[i], "grpc")) {
            int64_t port = 0;
            v_int(v, a, "port", p, 32, &port);
            port_range(v, fp(q, "%s.port", p), port);
        }
    }
    if (n == 0)
        v_required(v, path, "must specify a handler type");
}

static void v_probe(struct vctx *v, const json_t *ctr, const char *key, const char *path,
                    bool success_must_be_one)
{
    char p[FP_MAX], q[FP_MAX];
    const json_t *probe = v_obj(v, ctr, key, path);
    if (!probe)
        return;
    fp(p, "%s.%s", path, key);
    v_handler(v, probe, p, false);
    static const char *const nums[] = {"initialDelaySeconds", "timeoutSeconds",   "periodSeconds",
                                       "successThreshold",    "failureThreshold", NULL};
    for (size_t i = 0; nums[i]; i++)
        v_nonnegative(v, probe, nums[i], p);
    int64_t st;
    if (success_must_be_one && v_int(v, probe, "successThreshold", p, 32, &st) && st != 1)
        v_invalid_int(v, fp(q, "%s.successThreshold", p), st, "must be 1");
    int64_t tgp;
    if (v_int(v, probe, "terminationGracePeriodSeconds", p, 64, &tgp) &&
        json_object_get(probe, "terminationGracePeriodSeconds") && tgp <= 0)
        v_invalid_int(v, fp(q, "%s.terminationGracePeriodSeconds", p), tgp,
                      "must be greater than 0");
    if (!strcmp(key, "readinessProbe") && json_object_get(probe, "terminationGracePeriodSeconds"))
        v_invalid_int(v, fp(q, "%s.terminationGracePeriodSeconds", p),
                      json_integer_value(json_object_get(probe, "terminationGracePeriodSeconds")),
                      "must not be set for readinessProbes");
}

/* ---- containers ---- */

static void v_ports(struct vctx *v, const json_t *ctr, const char *path)
{
    char p[FP_MAX], f[FP_MAX];
    const json_t *ports = v_arr(v, ctr, "ports", path);
    _cleanup_json_ json_t *names = json_object();
    if (!names) {
        v->oom = true;
        return;
    }
    for (size_t i = 0; i < json_array_size(ports); i++) {
        fp(p, "%s.ports[%zu]", path, i);
        const json_t *port = v_elem_obj(v, ports, i, p);
        if (!port)
            continue;
        const char *name = v_str(v, port, "name", p);
        if (name && *name) {
            const char *msgs[6];
            int n = port_name_msgs(name, msgs);
            for (int k = 0; k < n; k++)
                v_invalid_str(v, fp(f, "%s.name", p), name, msgs[k]);
            if (n == 0 && json_object_get(names, name))
                v_duplicate_str(v, fp(f, "%s.name", p), name);
            else if (n == 0)
                json_object_set_new(names, name, json_true());
        }
        int64_t cp = 0, hp = 0;
        v_int(v, port, "containerPort", p, 32, &cp);
        if (cp == 0)
            v_required(v, fp(f, "%s.containerPort", p), "");
        else
            port_range(v, fp(f, "%s.containerPort", p), cp);
        if (v_int(v, port, "hostPort", p, 32, &hp) && hp != 0)
            port_range(v, fp(f, "%s.hostPort", p), hp);
        v_enum(v, port, "protocol", p, protocols, true);
    }
}

static void v_env(struct vctx *v, const json_t *ctr, const char *path)
{
    char p[FP_MAX], f[FP_MAX];
    const json_t *env = v_arr(v, ctr, "env", path);
    for (size_t i = 0; i < json_array_size(env); i++) {
        fp(p, "%s.env[%zu]", path, i);
        const json_t *e = v_elem_obj(v, env, i, p);
        if (!e)
            continue;
        const char *name = v_str(v, e, "name", p);
        if (!name || !*name)
            v_required(v, fp(f, "%s.name", p), "");
        v_str(v, e, "value", p);
        v_obj(v, e, "valueFrom", p);
    }
}

static void v_volume_mounts(struct vctx *v, const json_t *ctr, const char *path,
                            const json_t *volnames)
{
    char p[FP_MAX], f[FP_MAX];
    const json_t *mounts = v_arr(v, ctr, "volumeMounts", path);
    _cleanup_json_ json_t *seen = json_object();
    if (!seen) {
        v->oom = true;
        return;
    }
    for (size_t i = 0; i < json_array_size(mounts); i++) {
        fp(p, "%s.volumeMounts[%zu]", path, i);
        const json_t *m = v_elem_obj(v, mounts, i, p);
        if (!m)
            continue;
        const char *name = v_str(v, m, "name", p);
        const char *mp = v_str(v, m, "mountPath", p);
        if (!name || !*name)
            v_required(v, fp(f, "%s.name", p), "");
        if (!json_object_get(volnames, name ? name : ""))
            v_not_found_str(v, fp(f, "%s.name", p), name ? name : "");
        if (!mp || !*mp)
            v_required(v, fp(f, "%s.mountPath", p), "");
        if (json_object_get(seen, mp ? mp : ""))
            v_invalid_str(v, fp(f, "%s.mountPath", p), mp ? mp : "", "must be unique");
        json_object_set_new(seen, mp ? mp : "", json_true());
    }
}

static void v_container_common(struct vctx *v, const json_t *ctr, const char *path,
                               const json_t *volnames)
{
    char f[FP_MAX];
    const char *name = v_str(v, ctr, "name", path);
    if (!name || !*name)
        v_required(v, fp(f, "%s.name", path), "");
    else
        v_dns1123_label(v, fp(f, "%s.name", path), name);
    const char *image = v_str(v, ctr, "image", path);
    if (!image || !*image)
        v_required(v, fp(f, "%s.image", path), "");
    v_enum(v, ctr, "terminationMessagePolicy", path, msg_policies, true);
    v_ports(v, ctr, path);
    v_env(v, ctr, path);
    v_arr(v, ctr, "command", path);
    v_arr(v, ctr, "args", path);
    v_volume_mounts(v, ctr, path, volnames);
    v_enum(v, ctr, "imagePullPolicy", path, pull_policies, true);
    v_resources(v, ctr, path);
    v_obj(v, ctr, "securityContext", path);
}

static void v_containers(struct vctx *v, const json_t *spec, const char *path,
                         const json_t *volnames, json_t *names)
{
    char p[FP_MAX], f[FP_MAX];
    const json_t *ctrs = v_arr(v, spec, "containers", path);
    if (json_array_size(ctrs) == 0)
        v_required(v, fp(p, "%s.containers", path), "");
    for (size_t i = 0; i < json_array_size(ctrs); i++) {
        fp(p, "%s.containers[%zu]", path, i);
        const json_t *c = v_elem_obj(v, ctrs, i, p);
        if (!c)
            continue;
        v_container_common(v, c, p, volnames);
        const char *name = json_string_value(json_object_get(c, "name"));
        if (json_object_get(names, name ? name : ""))
            v_duplicate_str(v, fp(f, "%s.name", p), name ? name : "");
        else
            json_object_set_new(names, name ? name : "", json_true());
        if (v_obj(v, c, "lifecycle", p)) {
            const json_t *lc = json_object_get(c, "lifecycle");
            const char *hooks[] = {"postStart", "preStop"};
            for (size_t h = 0; h < 2; h++) {
                const json_t *hook = v_obj(v, lc, hooks[h], fp(f, "%s.lifecycle", p));
                if (hook) {
                    char hp[FP_MAX];
                    v_handler(v, hook, fp(hp, "%s.lifecycle.%s", p, hooks[h]), true);
                }
            }
        }
        v_probe(v, c, "livenessProbe", p, true);
        v_probe(v, c, "readinessProbe", p, false);
        v_probe(v, c, "startupProbe", p, true);
    }
}

static void v_init_containers(struct vctx *v, const json_t *spec, const char *path,
                              const json_t *volnames, json_t *names)
{
    char p[FP_MAX], f[FP_MAX];
    const json_t *ctrs = v_arr(v, spec, "initContainers", path);
    for (size_t i = 0; i < json_array_size(ctrs); i++) {
        fp(p, "%s.initContainers[%zu]", path, i);
        const json_t *c = v_elem_obj(v, ctrs, i, p);
        if (!c)
            continue;
        v_container_common(v, c, p, volnames);
        const char *rp = v_str(v, c, "restartPolicy", p);
        bool sidecar = rp && !strcmp(rp, "Always");
        if (rp && !sidecar) {
            static const char *const always[] = {"Always", NULL};
            v_not_supported(v, fp(f, "%s.restartPolicy", p), rp, always);
        }
        const char *name = json_string_value(json_object_get(c, "name"));
        if (json_object_get(names, name ? name : ""))
            v_duplicate_str(v, fp(f, "%s.name", p), name ? name : "");
        else if (name && *name)
            json_object_set_new(names, name, json_true());
        if (sidecar) {
            v_probe(v, c, "livenessProbe", p, true);
            v_probe(v, c, "readinessProbe", p, false);
            v_probe(v, c, "startupProbe", p, true);
            continue;
        }
        static const char *const banned[] = {"lifecycle", "livenessProbe", "readinessProbe",
                                             "startupProbe", NULL};
        for (size_t b = 0; banned[b]; b++)
            if (json_object_get(c, banned[b]) && !json_is_null(json_object_get(c, banned[b])))
                v_forbidden(v, fp(f, "%s.%s", p, banned[b]),
                            "may not be set for init containers without restartPolicy=Always");
    }
}

/* ---- volumes ---- */

static void required_str(struct vctx *v, const json_t *o, const char *key, const char *path)
{
    char f[FP_MAX];
    const char *s = v_str(v, o, key, path);
    if (!s || !*s)
        v_required(v, fp(f, "%s.%s", path, key), "");
}

static void default_mode(struct vctx *v, const json_t *o, const char *key, const char *path)
{
    char f[FP_MAX];
    int64_t m;
    if (v_int(v, o, key, path, 32, &m) && (m < 0 || m > 0777))
        v_invalid_int(v, fp(f, "%s.%s", path, key), m,
                      "must be a number between 0 and 0777 (octal), both inclusive");
}

/* Returns how many errors the source had (kube leaves a bad volume out of the name set). */
static size_t v_volume_source(struct vctx *v, const json_t *vol, const char *path)
{
    char p[FP_MAX];
    size_t before = json_array_size(v->errs);
    int n = 0;
    for (size_t i = 0; kos_volume_sources[i]; i++) {
        const char *key = kos_volume_sources[i];
        const json_t *src = v_obj(v, vol, key, path);
        if (!src)
            continue;
        fp(p, "%s.%s", path, key);
        if (n++ > 0) {
            v_forbidden(v, p, "may not specify more than 1 volume type");
            continue;
        }
        if (!strcmp(key, "secret")) {
            required_str(v, src, "secretName", p);
            default_mode(v, src, "defaultMode", p);
        } else if (!strcmp(key, "configMap")) {
            required_str(v, src, "name", p);
            default_mode(v, src, "defaultMode", p);
        } else if (!strcmp(key, "persistentVolumeClaim")) {
            required_str(v, src, "claimName", p);
        } else if (!strcmp(key, "hostPath")) {
            required_str(v, src, "path", p);
        } else if (!strcmp(key, "nfs")) {
            required_str(v, src, "server", p);
            required_str(v, src, "path", p);
        } else if (!strcmp(key, "downwardAPI") || !strcmp(key, "projected")) {
            default_mode(v, src, "defaultMode", p);
        } else if (!strcmp(key, "csi")) {
            required_str(v, src, "driver", p);
        }
    }
    if (n == 0)
        v_required(v, path, "must specify a volume type");
    return json_array_size(v->errs) - before;
}

static void v_volumes(struct vctx *v, const json_t *spec, const char *path, json_t *volnames)
{
    char p[FP_MAX], f[FP_MAX];
    const json_t *vols = v_arr(v, spec, "volumes", path);
    for (size_t i = 0; i < json_array_size(vols); i++) {
        fp(p, "%s.volumes[%zu]", path, i);
        const json_t *vol = v_elem_obj(v, vols, i, p);
        if (!vol)
            continue;
        size_t errs = v_volume_source(v, vol, p);
        size_t before = json_array_size(v->errs);
        const char *name = v_str(v, vol, "name", p);
        fp(f, "%s.name", p);
        if (!name || !*name)
            v_required(v, f, "");
        else
            v_dns1123_label(v, f, name);
        if (json_object_get(volnames, name ? name : ""))
            v_duplicate_str(v, f, name ? name : "");
        errs += json_array_size(v->errs) - before;
        if (errs == 0 && name)
            json_object_set_new(volnames, name, json_true());
    }
}

/* ---- tolerations ---- */

static void v_tolerations(struct vctx *v, const json_t *spec, const char *path)
{
    char p[FP_MAX], f[FP_MAX];
    const json_t *tols = v_arr(v, spec, "tolerations", path);
    for (size_t i = 0; i < json_array_size(tols); i++) {
        fp(p, "%s.tolerations[%zu]", path, i);
        const json_t *t = v_elem_obj(v, tols, i, p);
        if (!t)
            continue;
        const char *key = v_str(v, t, "key", p);
        const char *op = v_str(v, t, "operator", p);
        const char *value = v_str(v, t, "value", p);
        const char *effect = v_str(v, t, "effect", p);
        int64_t secs;
        bool has_secs = v_int(v, t, "tolerationSeconds", p, 64, &secs);
        key = key ? key : "";
        op = op ? op : "";
        value = value ? value : "";
        effect = effect ? effect : "";
        if (*key)
            v_qualified_name(v, fp(f, "%s.key", p), key);
        if (!*key && strcmp(op, "Exists") != 0)
            v_invalid_str(v, fp(f, "%s.operator", p), op,
                          "operator must be Exists when `key` is empty, which means \"match all "
                          "values and all keys\"");
        if (has_secs && strcmp(effect, "NoExecute") != 0)
            v_invalid_str(v, fp(f, "%s.effect", p), effect,
                          "effect must be 'NoExecute' when `tolerationSeconds` is set");
        if (!*op || !strcmp(op, "Equal")) {
            const char *msgs[6];
            int n = label_value_msgs(value, msgs);
            if (n > 0) {
                /* kube joins the messages with ";" into one error */
                char d[2048];
                snprintf(d, sizeof(d), "%s%s%s", msgs[0], n > 1 ? ";" : "", n > 1 ? msgs[1] : "");
                v_invalid_str(v, fp(f, "%s.operator", p), value, d);
            }
        } else if (!strcmp(op, "Exists")) {
            if (*value)
                v_invalid_str(v, fp(f, "%s.operator", p), value,
                              "value must be empty when `operator` is 'Exists'");
        } else {
            v_not_supported(v, fp(f, "%s.operator", p), op, toleration_ops);
        }
        if (*effect)
            v_enum(v, t, "effect", p, taint_effects, false);
    }
}

/* ---- pod spec ---- */

void v_pod_spec(struct vctx *v, const json_t *spec, const char *path)
{
    char f[FP_MAX];
    _cleanup_json_ json_t *volnames = json_object();
    _cleanup_json_ json_t *names = json_object();
    if (!volnames || !names) {
        v->oom = true;
        return;
    }
    if (!spec) {
        /* a missing spec is an empty PodSpec: no containers */
        v_required(v, fp(f, "%s.containers", path), "");
        return;
    }
    v_volumes(v, spec, path, volnames);
    v_containers(v, spec, path, volnames, names);
    v_init_containers(v, spec, path, volnames, names);
    v_enum(v, spec, "restartPolicy", path, restart_policies, true);
    v_enum(v, spec, "dnsPolicy", path, dns_policies, true);
    v_labels(v, v_strmap(v, spec, "nodeSelector", path), fp(f, "%s.nodeSelector", path));

    const char *sa = v_str(v, spec, "serviceAccountName", path);
    if (sa && *sa)
        v_dns1123_subdomain(v, fp(f, "%s.serviceAccountName", path), sa);
    const char *node = v_str(v, spec, "nodeName", path);
    if (node && *node)
        v_dns1123_subdomain(v, fp(f, "%s.nodeName", path), node);
    int64_t ads;
    if (v_int(v, spec, "activeDeadlineSeconds", path, 64, &ads) && (ads < 1 || ads > MAX_INT32))
        v_invalid_int(v, fp(f, "%s.activeDeadlineSeconds", path), ads,
                      "must be between 1 and 2147483647, inclusive");
    const char *hostname = v_str(v, spec, "hostname", path);
    if (hostname && *hostname)
        v_dns1123_label(v, fp(f, "%s.hostname", path), hostname);
    const char *subdomain = v_str(v, spec, "subdomain", path);
    if (subdomain && *subdomain)
        v_dns1123_label(v, fp(f, "%s.subdomain", path), subdomain);
    v_tolerations(v, spec, path);
    const char *pcn = v_str(v, spec, "priorityClassName", path);
    if (pcn && *pcn)
        v_dns1123_subdomain(v, fp(f, "%s.priorityClassName", path), pcn);
    v_enum(v, spec, "preemptionPolicy", path, preemption_policies, false);
    int64_t tgp;
    v_int(v, spec, "terminationGracePeriodSeconds", path, 64, &tgp);
    bool b;
    v_bool(v, spec, "hostNetwork", path, &b);
    v_bool(v, spec, "enableServiceLinks", path, &b);
    v_obj(v, spec, "securityContext", path);
    v_obj(v, spec, "affinity", path);
}

void v_pod_template(struct vctx *v, const json_t *tmpl, const char *path)
{
    char f[FP_MAX], m[FP_MAX];
    const json_t *meta = v_obj(v, tmpl, "metadata", path);
    fp(m, "%s.metadata", path);
    v_labels(v, v_strmap(v, meta, "labels", m), fp(f, "%s.labels", m));
    v_annotations(v, v_strmap(v, meta, "annotations", m), fp(f, "%s.annotations", m));
    v_pod_spec(v, v_obj(v, tmpl, "spec", path), fp(f, "%s.spec", path));
}

static void image_whitespace(struct vctx *v, const json_t *spec, const char *key)
{
    char f[FP_MAX];
    const json_t *ctrs = json_object_get(spec, key);
    for (size_t i = 0; i < json_array_size(ctrs); i++) {
        const char *img = json_string_value(json_object_get(json_array_get(ctrs, i), "image"));
        size_t n = img ? strlen(img) : 0;
        if (n &&
            (img[0] == ' ' || img[0] == '\t' || img[0] == '\n' || img[0] == '\r' ||
             img[n - 1] == ' ' || img[n - 1] == '\t' || img[n - 1] == '\n' || img[n - 1] == '\r'))
            v_invalid_str(v, fp(f, "spec.%s[%zu].image", key, i), img,
                          "must not have leading or trailing whitespace");
    }
}

void v_pod(struct vctx *v, const json_t *pod)
{
    v_object_meta(v, pod, "metadata");
    const json_t *spec = v_obj(v, pod, "spec", "");
    v_pod_spec(v, spec, "spec");
    image_whitespace(v, spec, "containers");
    image_whitespace(v, spec, "initContainers");
}

/* ---- update ---- */

static bool toleration_same(const json_t *a, const json_t *b)
{
    static const char *const keys[] = {"key", "operator", "value", "effect", NULL};
    for (size_t i = 0; keys[i]; i++) {
        const char *x = json_string_value(json_object_get(a, keys[i]));
        const char *y = json_string_value(json_object_get(b, keys[i]));
        /* an empty operator means Equal */
        if (!strcmp(keys[i], "operator")) {
            x = x && *x ? x : "Equal";
            y = y && *y ? y : "Equal";
        }
        if (strcmp(x ? x : "", y ? y : "") != 0)
            return false;
    }
    return true;
}

static void only_added_tolerations(struct vctx *v, const json_t *newt, const json_t *oldt)
{
    for (size_t i = 0; i < json_array_size(oldt); i++) {
        const json_t *o = json_array_get(oldt, i);
        bool found = false;
        for (size_t j = 0; j < json_array_size(newt) && !found; j++) {
            const json_t *n = json_array_get(newt, j);
            if (!toleration_same(o, n))
                continue;
            /* tolerationSeconds may only be set or shortened, never lengthened or removed */
            const json_t *os = json_object_get(o, "tolerationSeconds");
            const json_t *ns = json_object_get(n, "tolerationSeconds");
            if (json_is_integer(os) &&
                (!json_is_integer(ns) || json_integer_value(ns) > json_integer_value(os)))
                continue;
            found = true;
        }
        if (!found) {
            v_forbidden(v, "spec.tolerations",
                        "existing toleration can not be modified except its tolerationSeconds");
            return;
        }
    }
}

static bool container_counts_differ(struct vctx *v, const json_t *spec, const json_t *ospec,
                                    const char *key)
{
    char f[FP_MAX];
    size_t a = json_array_size(json_object_get(spec, key));
    size_t b = json_array_size(json_object_get(ospec, key));
    if (a != b) {
        v_forbidden(v, fp(f, "spec.%s", key), "pod updates may not add or remove containers");
        return true;
    }
    return false;
}

void v_pod_update(struct vctx *v, const json_t *pod, const json_t *old)
{
    char f[FP_MAX];
    const json_t *spec = json_object_get(pod, "spec");
    const json_t *ospec = json_object_get(old, "spec");
    if (!json_is_object(spec) || !json_is_object(ospec))
        return;
    if (container_counts_differ(v, spec, ospec, "containers") ||
        container_counts_differ(v, spec, ospec, "initContainers"))
        return;

    const json_t *nads = json_object_get(spec, "activeDeadlineSeconds");
    const json_t *oads = json_object_get(ospec, "activeDeadlineSeconds");
    if (json_is_integer(nads)) {
        json_int_t n = json_integer_value(nads);
        if (n < 0 || n > MAX_INT32) {
            v_invalid_int(v, "spec.activeDeadlineSeconds", n,
                          "must be between 0 and 2147483647, inclusive");
            return;
        }
        if (json_is_integer(oads) && json_integer_value(oads) < n) {
            v_invalid_int(v, "spec.activeDeadlineSeconds", n,
                          "must be less than or equal to previous value");
            return;
        }
    } else if (json_is_integer(oads)) {
        v_invalid_repr(v, "spec.activeDeadlineSeconds", "null",
                       "must not update from a positive integer to nil value");
    }
    only_added_tolerations(v, json_object_get(spec, "tolerations"),
                           json_object_get(ospec, "tolerations"));

    /* Munge the mutable fields of the new spec back to the old values; whatever still
     * differs is a forbidden change. */
    _cleanup_json_ json_t *m = json_deep_copy(spec);
    if (!m) {
        v->oom = true;
        return;
    }
    static const char *const lists[] = {"containers", "initContainers", NULL};
    for (size_t l = 0; lists[l]; l++) {
        json_t *nc = json_object_get(m, lists[l]);
        const json_t *oc = json_object_get(ospec, lists[l]);
        for (size_t i = 0; i < json_array_size(nc); i++) {
            json_t *c = json_array_get(nc, i);
            const json_t *oimg = json_object_get(json_array_get(oc, i), "image");
            if (!json_is_object(c))
                continue;
            if (oimg)
                json_object_set(c, "image", (json_t *)oimg);
            else
                json_object_del(c, "image");
        }
    }
    static const char *const carried[] = {"activeDeadlineSeconds", "tolerations", "schedulingGates",
                                          NULL};
    for (size_t i = 0; carried[i]; i++) {
        const json_t *o = json_object_get(ospec, carried[i]);
        if (o)
            json_object_set(m, carried[i], (json_t *)o);
        else
            json_object_del(m, carried[i]);
    }
    const json_t *otgp = json_object_get(ospec, "terminationGracePeriodSeconds");
    const json_t *ntgp = json_object_get(m, "terminationGracePeriodSeconds");
    if (json_is_integer(otgp) && json_integer_value(otgp) < 0 && json_is_integer(ntgp) &&
        json_integer_value(ntgp) == 1)
        json_object_set(m, "terminationGracePeriodSeconds", (json_t *)otgp);
    /* scheduling gates may only be removed: other gate changes stay visible */
    const json_t *ng = json_object_get(spec, "schedulingGates");
    const json_t *og = json_object_get(ospec, "schedulingGates");
    for (size_t i = 0; i < json_array_size(ng); i++) {
        bool found = false;
        for (size_t j = 0; j < json_array_size(og) && !found; j++)
            found = json_equal(json_array_get(ng, i), json_array_get(og, j));
        if (!found) {
            v_forbidden(v, "spec.schedulingGates",
                        "only deletion is allowed, but found new "
                        "scheduling gate");
            break;
        }
    }

    if (!json_equal_loose(m, ospec))
        v_forbidden(v, fp(f, "spec"),
                    "pod updates may not change fields other than "
                    "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                    "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
                    "set to 1 if it was previously negative)");
}
