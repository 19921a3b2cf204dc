/* Entry points and the workload kinds (apps/v1, batch/v1), following
 * pkg/apis/apps/validation and pkg/apis/batch/validation. The core group lives in
 * validate_core.c, the smaller groups in validate_other.c, pods in validate_pod.c. */
#include "api/validate.h"
#include "api/validate_internal.h"

#include <errno.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/json_cleanup.h"

static const char *const always_only[] = {"Always", NULL};

static void selector_immutable(struct vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *s = json_object_get(json_object_get(obj, "spec"), "selector");
    const json_t *o = json_object_get(json_object_get(old, "spec"), "selector");
    if (json_equal_loose(s, o))
        return;
    _cleanup_free_ char *repr = s && !json_is_null(s) ? go_label_selector_repr(s) : strdup("null");
    v_invalid_repr(v, "spec.selector", repr, "field is immutable");
}

/* spec.selector + template (ValidatePodTemplateSpecForReplicaSet and friends). what names the
 * kind in "empty selector is invalid for <what>". */
static void v_selector_and_template(struct vctx *v, const json_t *spec, const char *what,
                                    bool always_restart)
{
    const json_t *sel = v_obj(v, spec, "selector", "spec");
    if (!sel) {
        v_required(v, "spec.selector", "");
    } else {
        v_label_selector(v, sel, "spec.selector");
        if (selector_is_empty(sel)) {
            char d[128];
            _cleanup_free_ char *repr = go_label_selector_repr(sel);
            snprintf(d, sizeof(d), "empty selector is invalid for %s", what);
            v_invalid_repr(v, "spec.selector", repr, d);
        }
    }
    const json_t *tmpl = v_obj(v, spec, "template", "spec");
    const json_t *labels = json_object_get(json_object_get(tmpl, "metadata"), "labels");
    /* a missing selector is labels.Nothing(): it matches no template */
    if (!sel || (!selector_is_empty(sel) && !selector_matches(sel, labels))) {
        _cleanup_free_ char *repr = go_strmap_repr(json_is_object(labels) ? labels : NULL);
        v_invalid_repr(v, "spec.template.metadata.labels", repr,
                       "`selector` does not match template `labels`");
    }
    v_pod_template(v, tmpl, "spec.template");
    if (!always_restart)
        return;
    const json_t *pspec = json_object_get(tmpl, "spec");
    const char *rp = json_string_value(json_object_get(pspec, "restartPolicy"));
    if (rp && *rp && strcmp(rp, "Always") != 0)
        v_not_supported(v, "spec.template.spec.restartPolicy", rp, always_only);
    if (json_is_integer(json_object_get(pspec, "activeDeadlineSeconds")))
        v_forbidden(v, "spec.template.spec.activeDeadlineSeconds",
                    "activeDeadlineSeconds in ReplicaSet is not Supported");
}

/* ValidatePositiveIntOrPercent (+ IsNotMoreThan100Percent when max100). */
static void int_or_percent(struct vctx *v, const json_t *parent, const char *key, const char *path,
                           bool max100)
{
    char f[FP_MAX];
    int64_t i = 0;
    const char *s = NULL;
    fp(f, "%s.%s", path, key);
    int t = v_int_or_string(v, parent, key, path, &i, &s);
    if (t == 0)
        return;
    const json_t *val = json_object_get(parent, key);
    _cleanup_free_ char *repr = go_intstr_repr(val);
    if (t == 1) {
        if (i < 0)
            v_invalid_int(v, f, i, "must be greater than or equal to 0");
        return;
    }
    size_t n = strlen(s);
    bool ok = n >= 2 && s[n - 1] == '%';
    for (size_t k = 0; ok && k + 1 < n; k++)
        ok = s[k] >= '0' && s[k] <= '9';
    if (!ok) {
        v_invalid_repr(v, f, repr,
                       "a valid percent string must be a numeric string followed by an ending "
                       "'%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
        return;
    }
    if (max100) {
        int64_t pct = 0;
        for (size_t k = 0; k + 1 < n && pct <= 1000; k++)
            pct = pct * 10 + (s[k] - '0');
        if (pct > 100)
            v_invalid_repr(v, f, repr, "must not be greater than 100%");
    }
}

static bool intstr_is_zero(const json_t *val)
{
    if (json_is_integer(val))
        return json_integer_value(val) == 0;
    const char *s = json_string_value(val);
    if (!s)
        return true;
    /* "0%" and "00%" are zero too */
    for (; *s == '0'; s++)
        ;
    return *s == '%' && s[1] == '\0';
}

/* ---- apps ---- */

static void v_deployment(struct vctx *v, const json_t *obj)
{
    const json_t *spec = v_obj(v, obj, "spec", "");
    v_nonnegative(v, spec, "replicas", "spec");
    v_selector_and_template(v, spec, "deployment", true);

    const json_t *st = v_obj(v, spec, "strategy", "spec");
    const char *type = v_str(v, st, "type", "spec.strategy");
    const json_t *ru = v_obj(v, st, "rollingUpdate", "spec.strategy");
    static const char *const types[] = {"Recreate", "RollingUpdate", NULL};
    if (!type || !*type) {
        v_required(v, "spec.strategy.type", "");
    } else if (!strcmp(type, "Recreate")) {
        if (ru)
            v_forbidden(v, "spec.strategy.rollingUpdate",
                        "may not be specified when strategy `type` is 'Recreate'");
    } else if (!strcmp(type, "RollingUpdate")) {
        if (!ru) {
            v_required(v, "spec.strategy.rollingUpdate",
                       "this should be defaulted and never be nil");
        } else {
            int_or_percent(v, ru, "maxUnavailable", "spec.strategy.rollingUpdate", true);
            int_or_percent(v, ru, "maxSurge", "spec.strategy.rollingUpdate", false);
            const json_t *mu = json_object_get(ru, "maxUnavailable");
            if (intstr_is_zero(mu) && intstr_is_zero(json_object_get(ru, "maxSurge"))) {
                _cleanup_free_ char *repr =
                    mu ? go_intstr_repr(mu)
                       : strdup("intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}");
                v_invalid_repr(v, "spec.strategy.rollingUpdate.maxUnavailable", repr,
                               "may not be 0 when `maxSurge` is 0");
            }
        }
    } else {
        v_not_supported(v, "spec.strategy.type", type, types);
    }
    v_nonnegative(v, spec, "minReadySeconds", "spec");
    v_nonnegative(v, spec, "revisionHistoryLimit", "spec");
    int64_t pds, mrs = 0;
    v_int(v, spec, "minReadySeconds", "spec", 32, &mrs);
    if (v_int(v, spec, "progressDeadlineSeconds", "spec", 32, &pds)) {
        if (pds <= 0)
            v_invalid_int(v, "spec.progressDeadlineSeconds", pds, "must be greater than zero");
        if (pds <= mrs)
            v_invalid_int(v, "spec.progressDeadlineSeconds", pds,
                          "must be greater than minReadySeconds");
    }
}

static void v_replicaset(struct vctx *v, const json_t *obj)
{
    const json_t *spec = v_obj(v, obj, "spec", "");
    v_nonnegative(v, spec, "replicas", "spec");
    v_nonnegative(v, spec, "minReadySeconds", "spec");
    /* kube's ReplicaSet message really says "deployment" */
    v_selector_and_template(v, spec, "deployment", true);
}

static void v_statefulset(struct vctx *v, const json_t *obj)
{
    const json_t *spec = v_obj(v, obj, "spec", "");
    static const char *const policies[] = {"OrderedReady", "Parallel", NULL};
    static const char *const types[] = {"OnDelete", "RollingUpdate", NULL};
    const char *pmp = v_str(v, spec, "podManagementPolicy", "spec");
    if (!pmp || !*pmp)
        v_required(v, "spec.podManagementPolicy", "");
    else if (strcmp(pmp, "OrderedReady") && strcmp(pmp, "Parallel"))
        v_not_supported(v, "spec.podManagementPolicy", pmp, policies);
    const json_t *us = v_obj(v, spec, "updateStrategy", "spec");
    const char *type = v_str(v, us, "type", "spec.updateStrategy");
    if (!type || !*type) {
        v_required(v, "spec.updateStrategy", "");
    } else if (!strcmp(type, "OnDelete")) {
        if (v_obj(v, us, "rollingUpdate", "spec.updateStrategy"))
            v_invalid_str(v, "spec.updateStrategy.rollingUpdate", type,
                          "only allowed for updateStrategy 'RollingUpdate'");
    } else if (!strcmp(type, "RollingUpdate")) {
        const json_t *ru = v_obj(v, us, "rollingUpdate", "spec.updateStrategy");
        v_nonnegative(v, ru, "partition", "spec.updateStrategy.rollingUpdate");
    } else {
        v_not_supported(v, "spec.updateStrategy", type, types);
    }
    v_nonnegative(v, spec, "replicas", "spec");
    v_nonnegative(v, spec, "minReadySeconds", "spec");
    v_selector_and_template(v, spec, "statefulset", true);
    const json_t *vcts = v_arr(v, spec, "volumeClaimTemplates", "spec");
    for (size_t i = 0; i < json_array_size(vcts); i++) {
        char p[FP_MAX];
        fp(p, "spec.volumeClaimTemplates[%zu]", i);
        v_elem_obj(v, vcts, i, p);
    }
}

static void v_daemonset(struct vctx *v, const json_t *obj)
{
    const json_t *spec = v_obj(v, obj, "spec", "");
    v_selector_and_template(v, spec, "daemonset", true);
    v_nonnegative(v, spec, "minReadySeconds", "spec");
    v_nonnegative(v, spec, "revisionHistoryLimit", "spec");
    const json_t *us = v_obj(v, spec, "updateStrategy", "spec");
    const char *type = v_str(v, us, "type", "spec.updateStrategy");
    static const char *const types[] = {"OnDelete", "RollingUpdate", NULL};
    if (!type || !*type) {
        v_required(v, "spec.updateStrategy.type", "");
    } else if (!strcmp(type, "RollingUpdate")) {
        const json_t *ru = v_obj(v, us, "rollingUpdate", "spec.updateStrategy");
        int_or_percent(v, ru, "maxUnavailable", "spec.updateStrategy.rollingUpdate", true);
        int_or_percent(v, ru, "maxSurge", "spec.updateStrategy.rollingUpdate", true);
    } else if (strcmp(type, "OnDelete") != 0) {
        v_not_supported(v, "spec.updateStrategy.type", type, types);
    }
}

static void v_apps_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    selector_immutable(v, obj, old);
}

static void v_statefulset_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    static const char *const mutable_fields[] = {"replicas",
                                                 "ordinals",
                                                 "template",
                                                 "updateStrategy",
                                                 "persistentVolumeClaimRetentionPolicy",
                                                 "minReadySeconds",
                                                 NULL};
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *ospec = json_object_get(old, "spec");
    _cleanup_json_ json_t *a = json_is_object(spec) ? json_deep_copy(spec) : json_object();
    _cleanup_json_ json_t *b = json_is_object(ospec) ? json_deep_copy(ospec) : json_object();
    if (!a || !b) {
        v->oom = true;
        return;
    }
    for (size_t i = 0; mutable_fields[i]; i++) {
        json_object_del(a, mutable_fields[i]);
        json_object_del(b, mutable_fields[i]);
    }
    if (!json_equal_loose(a, b))
        v_forbidden(v, "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                    "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                    "'minReadySeconds' are forbidden");
}

/* ---- batch ---- */

static void v_job_spec(struct vctx *v, const json_t *spec, const char *path, bool check_selector)
{
    char f[FP_MAX], t[FP_MAX];
    static const char *const nonneg[] = {"parallelism", "completions", "backoffLimit", NULL};
    for (size_t i = 0; nonneg[i]; i++)
        v_nonnegative(v, spec, nonneg[i], path);
    int64_t ads;
    if (v_int(v, spec, "activeDeadlineSeconds", path, 64, &ads) && ads <= 0)
        v_invalid_int(v, fp(f, "%s.activeDeadlineSeconds", path), ads,
                      "must be greater than or equal to 0");
    static const char *const modes[] = {"NonIndexed", "Indexed", NULL};
    v_str(v, spec, "completionMode", path);
    const char *mode = json_string_value(json_object_get(spec, "completionMode"));
    if (mode && strcmp(mode, "NonIndexed") && strcmp(mode, "Indexed"))
        v_not_supported(v, fp(f, "%s.completionMode", path), mode, modes);
    const json_t *tmpl = v_obj(v, spec, "template", path);
    if (check_selector) {
        const json_t *sel = v_obj(v, spec, "selector", path);
        if (!sel)
            v_required(v, fp(f, "%s.selector", path), "");
        else
            v_label_selector(v, sel, fp(f, "%s.selector", path));
        const json_t *labels = json_object_get(json_object_get(tmpl, "metadata"), "labels");
        if (!sel || !selector_matches(sel, labels)) {
            _cleanup_free_ char *repr = go_strmap_repr(json_is_object(labels) ? labels : NULL);
            v_invalid_repr(v, fp(f, "%s.template.metadata.labels", path), repr,
                           "`selector` does not match template `labels`");
        }
    }
    v_pod_template(v, tmpl, fp(t, "%s.template", path));
    static const char *const job_restart[] = {"OnFailure", "Never", NULL};
    const char *rp =
        json_string_value(json_object_get(json_object_get(tmpl, "spec"), "restartPolicy"));
    if (rp && *rp && strcmp(rp, "OnFailure") && strcmp(rp, "Never"))
        v_not_supported(v, fp(f, "%s.template.spec.restartPolicy", path), rp, job_restart);
}

static void v_job(struct vctx *v, const json_t *obj)
{
    v_job_spec(v, v_obj(v, obj, "spec", ""), "spec", true);
}

static void v_job_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    selector_immutable(v, obj, old);
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *ospec = json_object_get(old, "spec");
    const json_t *c = json_object_get(spec, "completions");
    const json_t *oc = json_object_get(ospec, "completions");
    const char *mode = json_string_value(json_object_get(spec, "completionMode"));
    bool indexed = mode && !strcmp(mode, "Indexed");
    if (!indexed && !json_equal_loose(c, oc)) {
        if (json_is_integer(c))
            v_invalid_int(v, "spec.completions", json_integer_value(c), "field is immutable");
        else
            v_invalid_repr(v, "spec.completions", "null", "field is immutable");
    }
    /* the template may change only while the job is suspended */
    bool suspended = json_is_true(json_object_get(spec, "suspend"));
    if (!suspended &&
        !json_equal_loose(json_object_get(spec, "template"), json_object_get(ospec, "template")))
        v_invalid_repr(v, "spec.template", "core.PodTemplateSpec{...}", "field is immutable");
}

static void v_cronjob(struct vctx *v, const json_t *obj)
{
    const json_t *spec = v_obj(v, obj, "spec", "");
    const char *sched = v_str(v, spec, "schedule", "spec");
    if (!sched || !*sched)
        v_required(v, "spec.schedule", "");
    static const char *const policies[] = {"Allow", "Forbid", "Replace", NULL};
    const char *cp = v_str(v, spec, "concurrencyPolicy", "spec");
    if (!cp || !*cp)
        v_required(v, "spec.concurrencyPolicy", "");
    else if (strcmp(cp, "Allow") && strcmp(cp, "Forbid") && strcmp(cp, "Replace"))
        v_not_supported(v, "spec.concurrencyPolicy", cp, policies);
    v_nonnegative(v, spec, "startingDeadlineSeconds", "spec");
    v_nonnegative(v, spec, "successfulJobsHistoryLimit", "spec");
    v_nonnegative(v, spec, "failedJobsHistoryLimit", "spec");
    const json_t *jt = v_obj(v, spec, "jobTemplate", "spec");
    const json_t *jmeta = v_obj(v, jt, "metadata", "spec.jobTemplate");
    v_labels(v, v_strmap(v, jmeta, "labels", "spec.jobTemplate.metadata"),
             "spec.jobTemplate.metadata.labels");
    v_job_spec(v, v_obj(v, jt, "spec", "spec.jobTemplate"), "spec.jobTemplate.spec", false);
}

static const struct vkind vkinds_workloads[] = {
    {"apps", "Deployment", v_deployment, v_apps_update},
    {"apps", "ReplicaSet", v_replicaset, v_apps_update},
    {"apps", "StatefulSet", v_statefulset, v_statefulset_update},
    {"apps", "DaemonSet", v_daemonset, v_apps_update},
    {"batch", "Job", v_job, v_job_update},
    {"batch", "CronJob", v_cronjob, NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct vkind *find_vkind(const struct kos_kind *kind)
{
    const struct vkind *const tables[] = {vkinds_core, vkinds_workloads, vkinds_other};
    const char *group = kind->group ? kind->group : "";
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
        for (const struct vkind *k = tables[t]; k->kind; k++)
            if (!strcmp(k->group, group) && kind->kind && !strcmp(k->kind, kind->kind))
                return k;
    return NULL;
}

static int check_args(const struct kos_kind *kind, const json_t *obj, struct kos_error **err)
{
    if (!kind)
        return kos_error_set(err, 500, "InternalError", "validation without a kind");
    if (!json_is_object(obj))
        return kos_error_set(err, 400, "BadRequest",
                             "%s in version \"%s\" cannot be handled as "
                             "a %s: the body is not a JSON object",
                             kind->kind ? kind->kind : "Object",
                             kind->version ? kind->version : "v1",
                             kind->kind ? kind->kind : "Object");
    return 0;
}

int kos_validate_create(const struct kos_kind *kind, const json_t *obj, struct kos_error **err)
{
    int r = check_args(kind, obj, err);
    if (r < 0)
        return r;
    struct vctx v = {.kind = kind};
    const struct vkind *vk = find_vkind(kind);
    if (vk && !strcmp(vk->group, "") && !strcmp(vk->kind, "Pod")) {
        v_pod(&v, obj);
    } else {
        v_object_meta(&v, obj, "metadata");
        if (vk && vk->create)
            vk->create(&v, obj);
    }
    r = vctx_finish(&v, obj, err);
    vctx_free(&v);
    return r;
}

int kos_validate_update(const struct kos_kind *kind, const json_t *obj, const json_t *old,
                        struct kos_error **err)
{
    int r = check_args(kind, obj, err);
    if (r < 0)
        return r;
    if (!json_is_object(old))
        return kos_error_set(err, 500, "InternalError", "stored object is not a JSON object");
    struct vctx v = {.kind = kind};
    const struct vkind *vk = find_vkind(kind);
    bool is_pod = vk && !strcmp(vk->group, "") && !strcmp(vk->kind, "Pod");
    /* kube runs the full create-time validation of the new object and then the update rules
     * (ValidatePod + ValidatePodUpdate, ValidateObjectMetaUpdate + spec + immutables) */
    if (is_pod) {
        v_pod(&v, obj);
        v_object_meta_update(&v, obj, old);
        v_pod_update(&v, obj, old);
    } else {
        v_object_meta_update(&v, obj, old);
        if (vk && vk->create)
            vk->create(&v, obj);
        if (vk && vk->update)
            vk->update(&v, obj, old);
    }
    r = vctx_finish(&v, obj, err);
    vctx_free(&v);
    return r;
}
