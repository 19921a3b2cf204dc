/* Defaulting as kube-apiserver applies it: the SetDefaults_* functions of
 * pkg/apis/{core,apps,batch,rbac,storage,scheduling}/v1/defaults.go, plus the few values
 * admission plugins always add to a pod (ServiceAccount, DefaultTolerationSeconds, Priority)
 * and the status fields the server owns at creation (pod phase and qosClass, namespace and
 * volume phases).
 *
 * Objects of the wrong shape are left as they are: validation reports them. */
#include "api/defaults.h"
#include "api/volume_sources.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/quantity.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

struct dctx {
    int r; /* first failure (-ENOMEM) */
};

/* Puts val (stolen; NULL from a failed allocation) at key. The keys are the literals of this
 * file, valid UTF-8, so jansson's check of them is skipped. */
static void put_new(struct dctx *d, json_t *obj, const char *key, json_t *val)
{
    if (!val || json_object_set_new_nocheck(obj, key, val) < 0)
        d->r = -ENOMEM;
}

/* Sets key to val (stolen) when it is absent or null. */
static void set_default(struct dctx *d, json_t *obj, const char *key, json_t *val)
{
    if (!val) {
        d->r = -ENOMEM;
        return;
    }
    if (!json_is_object(obj)) {
        json_decref(val);
        return;
    }
    const json_t *cur = json_object_get(obj, key);
    if (cur && !json_is_null(cur)) {
        json_decref(val);
        return;
    }
    put_new(d, obj, key, val);
}

/* The scalar defaults look the key up once and build the value only when it is set: most
 * of a pod's defaulted fields are already there (a client sends them back, a controller
 * copies its template), and the lookups and allocations were most of the defaulting. */
static void def_str(struct dctx *d, json_t *obj, const char *key, const char *s)
{
    if (!json_is_object(obj))
        return;
    const json_t *cur = json_object_get(obj, key);
    if (cur && !json_is_null(cur)) {
        /* kube's string fields default when empty, not only when absent: the empty one goes
         * and the default comes after the other members */
        const char *cs = json_string_value(cur);
        if (!cs || *cs)
            return;
        json_object_del(obj, key);
    }
    put_new(d, obj, key, json_string(s));
}

static void def_int(struct dctx *d, json_t *obj, const char *key, json_int_t v)
{
    if (!json_is_object(obj))
        return;
    const json_t *cur = json_object_get(obj, key);
    if (cur && !json_is_null(cur))
        return;
    put_new(d, obj, key, json_integer(v));
}

/* Defaults an int32 field whose zero value means "unset" (probe thresholds). */
static void def_int_nonzero(struct dctx *d, json_t *obj, const char *key, json_int_t v)
{
    if (!json_is_object(obj))
        return;
    const json_t *cur = json_object_get(obj, key);
    if (json_is_integer(cur) && json_integer_value(cur) == 0) {
        json_object_del(obj, key); /* the default comes after the other members */
        cur = NULL;
    }
    if (cur && !json_is_null(cur))
        return;
    put_new(d, obj, key, json_integer(v));
}

/* The object at key, created empty if absent or null; NULL if it has another type. */
static json_t *ensure_obj(struct dctx *d, json_t *parent, const char *key)
{
    if (!json_is_object(parent))
        return NULL;
    json_t *c = json_object_get(parent, key);
    if (json_is_object(c))
        return c;
    if (c && !json_is_null(c))
        return NULL;
    c = json_object();
    if (!c || json_object_set_new(parent, key, c) < 0) {
        d->r = -ENOMEM;
        return NULL;
    }
    return c;
}

static json_t *get_obj(json_t *parent, const char *key)
{
    json_t *c = json_object_get(parent, key);
    return json_is_object(c) ? c : NULL;
}

/* ---- QoS (spec/resource-semantics.md §1.1, ComputePodQOS) ---- */

struct qos_sums {
    int64_t req_cpu, req_mem, lim_cpu, lim_mem;
    bool req_cpu_set, req_mem_set, lim_cpu_set, lim_mem_set;
    bool guaranteed;
};

static bool positive_quantity(const json_t *val, int64_t *milli)
{
    char text[KOS_QUANTITY_MAX_LEN + 32];
    struct kos_quantity q, zero = {0};
    if (json_is_string(val))
        snprintf(text, sizeof(text), "%s", json_string_value(val));
    else if (json_is_integer(val))
        snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(val));
    else if (json_is_real(val))
        snprintf(text, sizeof(text), "%.17g", json_real_value(val));
    else
        return false;
    if (kos_quantity_parse(text, &q) < 0 || kos_quantity_cmp(&q, &zero) <= 0)
        return false;
    *milli = q.overflow ? INT64_MAX : kos_quantity_milli_value(&q);
    return true;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static void qos_add(struct qos_sums *s, const json_t *resources)
{
    const json_t *req = json_object_get(resources, "requests");
    const json_t *lim = json_object_get(resources, "limits");
    int64_t m;
    /* only cpu and memory count; zero counts as unset */
    if (positive_quantity(json_object_get(req, "cpu"), &m)) {
        s->req_cpu = sat_add(s->req_cpu, m);
        s->req_cpu_set = true;
    }
    if (positive_quantity(json_object_get(req, "memory"), &m)) {
        s->req_mem = sat_add(s->req_mem, m);
        s->req_mem_set = true;
    }
    bool cpu = false, mem = false;
    if (positive_quantity(json_object_get(lim, "cpu"), &m)) {
        s->lim_cpu = sat_add(s->lim_cpu, m);
        s->lim_cpu_set = cpu = true;
    }
    if (positive_quantity(json_object_get(lim, "memory"), &m)) {
        s->lim_mem = sat_add(s->lim_mem, m);
        s->lim_mem_set = mem = true;
    }
    if (!cpu || !mem)
        s->guaranteed = false;
}

const char *kos_pod_qos_class(const json_t *pod)
{
    const json_t *spec = json_object_get(pod, "spec");
    struct qos_sums s = {.guaranteed = true};
    const json_t *podres = json_object_get(spec, "resources");
    if (json_is_object(podres) && (json_object_size(json_object_get(podres, "requests")) > 0 ||
                                   json_object_size(json_object_get(podres, "limits")) > 0)) {
        /* pod-level resources decide alone when set */
        qos_add(&s, podres);
    } else {
        static const char *const lists[] = {"containers", "initContainers"};
        for (size_t l = 0; l < 2; l++) {
            const json_t *ctrs = json_object_get(spec, lists[l]);
            for (size_t i = 0; i < json_array_size(ctrs); i++)
                qos_add(&s, json_object_get(json_array_get(ctrs, i), "resources"));
        }
    }
    int nreq = s.req_cpu_set + s.req_mem_set;
    int nlim = s.lim_cpu_set + s.lim_mem_set;
    if (nreq == 0 && nlim == 0)
        return "BestEffort";
    if (s.guaranteed) {
        if (s.req_cpu_set && (!s.lim_cpu_set || s.lim_cpu != s.req_cpu))
            s.guaranteed = false;
        if (s.req_mem_set && (!s.lim_mem_set || s.lim_mem != s.req_mem))
            s.guaranteed = false;
    }
    return s.guaranteed && nreq == nlim ? "Guaranteed" : "Burstable";
}

/* ---- pod spec ---- */

/* Always when the tag is "latest" or missing (and no digest), else IfNotPresent, as
 * SetDefaults_Container reads the reference. */
static const char *pull_policy_for(const char *image)
{
    if (!image)
        return "IfNotPresent";
    const char *slash = strrchr(image, '/');
    const char *last = slash ? slash + 1 : image;
    const char *at = strchr(last, '@');
    const char *colon = strchr(last, ':');
    if (colon && at && colon > at)
        colon = NULL;
    if (colon) {
        size_t n = at ? (size_t)(at - colon - 1) : strlen(colon + 1);
        return n == 6 && !strncmp(colon + 1, "latest", 6) ? "Always" : "IfNotPresent";
    }
    return at ? "IfNotPresent" : "Always";
}

static void defaults_handler(struct dctx *d, json_t *h)
{
    json_t *http = get_obj(h, "httpGet");
    if (http) {
        def_str(d, http, "path", "/");
        def_str(d, http, "scheme", "HTTP");
    }
}

static void defaults_probe(struct dctx *d, json_t *probe)
{
    if (!probe)
        return;
    defaults_handler(d, probe);
    def_int_nonzero(d, probe, "timeoutSeconds", 1);
    def_int_nonzero(d, probe, "periodSeconds", 10);
    def_int_nonzero(d, probe, "successThreshold", 1);
    def_int_nonzero(d, probe, "failureThreshold", 3);
}

static void defaults_field_ref(struct dctx *d, json_t *holder)
{
    json_t *fr = get_obj(holder, "fieldRef");
    if (fr)
        def_str(d, fr, "apiVersion", "v1");
}

static void defaults_container(struct dctx *d, json_t *c, bool is_pod, bool host_network)
{
    if (!json_is_object(c))
        return;
    def_str(d, c, "terminationMessagePath", "/dev/termination-log");
    def_str(d, c, "terminationMessagePolicy", "File");
    const char *pp = json_string_value(json_object_get(c, "imagePullPolicy"));
    if (!pp || !*pp)
        def_str(d, c, "imagePullPolicy",
                pull_policy_for(json_string_value(json_object_get(c, "image"))));
    json_t *ports = json_object_get(c, "ports");
    for (size_t i = 0; i < json_array_size(ports); i++) {
        json_t *p = json_array_get(ports, i);
        if (!json_is_object(p))
            continue;
        def_str(d, p, "protocol", "TCP");
        /* with hostNetwork the host port is the container port */
        const json_t *cp = json_object_get(p, "containerPort");
        const json_t *hp = json_object_get(p, "hostPort");
        if (host_network && json_is_integer(cp) &&
            (!hp || (json_is_integer(hp) && json_integer_value(hp) == 0))) {
            if (json_object_set(p, "hostPort", (json_t *)cp) < 0)
                d->r = -ENOMEM;
        }
    }
    defaults_probe(d, get_obj(c, "livenessProbe"));
    defaults_probe(d, get_obj(c, "readinessProbe"));
    defaults_probe(d, get_obj(c, "startupProbe"));
    json_t *lc = get_obj(c, "lifecycle");
    if (lc) {
        json_t *h = get_obj(lc, "postStart");
        if (h)
            defaults_handler(d, h);
        h = get_obj(lc, "preStop");
        if (h)
            defaults_handler(d, h);
    }
    json_t *env = json_object_get(c, "env");
    for (size_t i = 0; i < json_array_size(env); i++) {
        json_t *vf = get_obj(json_array_get(env, i), "valueFrom");
        if (vf)
            defaults_field_ref(d, vf);
    }
    json_t *res = ensure_obj(d, c, "resources");
    if (!is_pod || !res)
        return;
    /* SetDefaults_Pod: limits without requests become the requests (pods only, not
     * templates) */
    json_t *lim = get_obj(res, "limits");
    if (!lim || json_object_size(lim) == 0)
        return;
    json_t *req = ensure_obj(d, res, "requests");
    if (!req)
        return;
    const char *k;
    json_t *val;
    json_object_foreach(lim, k, val)
    {
        if (!json_object_get(req, k) && json_object_set(req, k, val) < 0)
            d->r = -ENOMEM;
    }
}

static void defaults_pvc_spec(struct dctx *d, json_t *spec)
{
    if (spec)
        def_str(d, spec, "volumeMode", "Filesystem");
}

static void defaults_volumes(struct dctx *d, json_t *spec)
{
    json_t *vols = json_object_get(spec, "volumes");
    for (size_t i = 0; i < json_array_size(vols); i++) {
        json_t *vol = json_array_get(vols, i);
        if (!json_is_object(vol))
            continue;
        bool any = false;
        for (size_t s = 0; kos_volume_sources[s] && !any; s++) {
            const json_t *x = json_object_get(vol, kos_volume_sources[s]);
            any = x && !json_is_null(x);
        }
        if (!any)
            set_default(d, vol, "emptyDir", json_object());
        json_t *src;
        if ((src = get_obj(vol, "secret")))
            def_int(d, src, "defaultMode", 0644);
        if ((src = get_obj(vol, "configMap")))
            def_int(d, src, "defaultMode", 0644);
        if ((src = get_obj(vol, "downwardAPI"))) {
            def_int(d, src, "defaultMode", 0644);
            json_t *items = json_object_get(src, "items");
            for (size_t k = 0; k < json_array_size(items); k++)
                defaults_field_ref(d, json_array_get(items, k));
        }
        if ((src = get_obj(vol, "hostPath")))
            set_default(d, src, "type", json_string(""));
        if ((src = get_obj(vol, "projected"))) {
            def_int(d, src, "defaultMode", 0644);
            json_t *ps = json_object_get(src, "sources");
            for (size_t k = 0; k < json_array_size(ps); k++) {
                json_t *sat = get_obj(json_array_get(ps, k), "serviceAccountToken");
                if (sat)
                    def_int(d, sat, "expirationSeconds", 3600);
            }
        }
        if ((src = get_obj(vol, "ephemeral"))) {
            json_t *vct = get_obj(src, "volumeClaimTemplate");
            defaults_pvc_spec(d, vct ? get_obj(vct, "spec") : NULL);
        }
    }
}

/* SetDefaults_PodSpec plus the container defaults; is_pod adds SetDefaults_Pod. */
static void defaults_pod_spec(struct dctx *d, json_t *spec, bool is_pod)
{
    if (!json_is_object(spec))
        return;
    def_str(d, spec, "dnsPolicy", "ClusterFirst");
    def_str(d, spec, "restartPolicy", "Always");
    set_default(d, spec, "securityContext", json_object());
    def_int(d, spec, "terminationGracePeriodSeconds", 30);
    def_str(d, spec, "schedulerName", "default-scheduler");
    bool host_network = is_pod && json_is_true(json_object_get(spec, "hostNetwork"));
    static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};
    for (size_t l = 0; l < 3; l++) {
        json_t *ctrs = json_object_get(spec, lists[l]);
        for (size_t i = 0; i < json_array_size(ctrs); i++)
            defaults_container(d, json_array_get(ctrs, i), is_pod && l < 2, host_network);
    }
    defaults_volumes(d, spec);
    if (is_pod)
        set_default(d, spec, "enableServiceLinks", json_true());
}

static void defaults_template(struct dctx *d, json_t *tmpl)
{
    if (!json_is_object(tmpl))
        return;
    /* metav1.Time's zero value serializes as null: kube prints it in templates */
    json_t *meta = ensure_obj(d, tmpl, "metadata");
    if (meta && !json_object_get(meta, "creationTimestamp") &&
        json_object_set_new(meta, "creationTimestamp", json_null()) < 0)
        d->r = -ENOMEM;
    defaults_pod_spec(d, ensure_obj(d, tmpl, "spec"), false);
}

static bool has_toleration_for(const json_t *tols, const char *key)
{
    for (size_t i = 0; i < json_array_size(tols); i++) {
        const json_t *t = json_array_get(tols, i);
        const char *k = json_string_value(json_object_get(t, "key"));
        const char *e = json_string_value(json_object_get(t, "effect"));
        if ((!k || !*k || !strcmp(k, key)) && (!e || !*e || !strcmp(e, "NoExecute")))
            return true;
    }
    return false;
}

static void add_default_tolerations(struct dctx *d, json_t *spec)
{
    static const char *const keys[] = {"node.kubernetes.io/not-ready",
                                       "node.kubernetes.io/unreachable"};
    json_t *tols = json_object_get(spec, "tolerations");
    if (tols && !json_is_array(tols) && !json_is_null(tols))
        return;
    for (size_t i = 0; i < 2; i++) {
        if (has_toleration_for(tols, keys[i]))
            continue;
        if (!json_is_array(tols)) {
            tols = json_array();
            if (!tols || json_object_set_new(spec, "tolerations", tols) < 0) {
                d->r = -ENOMEM;
                return;
            }
        }
        /* built directly: json_pack's format parse cost more than the object */
        json_t *t = json_object();
        if (!t || json_object_set_new_nocheck(t, "key", json_string(keys[i])) < 0 ||
            json_object_set_new_nocheck(t, "operator", json_string("Exists")) < 0 ||
            json_object_set_new_nocheck(t, "effect", json_string("NoExecute")) < 0 ||
            json_object_set_new_nocheck(t, "tolerationSeconds", json_integer(300)) < 0) {
            json_decref(t);
            d->r = -ENOMEM;
            return;
        }
        if (json_array_append_new(tols, t) < 0)
            d->r = -ENOMEM;
    }
}

static void defaults_pod(struct dctx *d, json_t *pod)
{
    json_t *spec = ensure_obj(d, pod, "spec");
    if (!spec)
        return;
    defaults_pod_spec(d, spec, true);

    /* ServiceAccount admission; the deprecated serviceAccount field mirrors the name */
    const char *sa = json_string_value(json_object_get(spec, "serviceAccountName"));
    const char *dep = json_string_value(json_object_get(spec, "serviceAccount"));
    if (!sa || !*sa)
        def_str(d, spec, "serviceAccountName", dep && *dep ? dep : "default");
    sa = json_string_value(json_object_get(spec, "serviceAccountName"));
    if (sa && json_object_set_new(spec, "serviceAccount", json_string(sa)) < 0)
        d->r = -ENOMEM;

    /* Priority admission: the two system classes are known; other classes are looked up by
     * the admission plugin, which sets priority itself */
    const char *pcn = json_string_value(json_object_get(spec, "priorityClassName"));
    if (!pcn || !*pcn)
        def_int(d, spec, "priority", 0);
    else if (!strcmp(pcn, "system-node-critical"))
        def_int(d, spec, "priority", 2000001000);
    else if (!strcmp(pcn, "system-cluster-critical"))
        def_int(d, spec, "priority", 2000000000);
    def_str(d, spec, "preemptionPolicy", "PreemptLowerPriority");

    add_default_tolerations(d, spec);

    json_t *status = ensure_obj(d, pod, "status");
    if (!status)
        return;
    def_str(d, status, "phase", "Pending");
    json_t *q = json_string(kos_pod_qos_class(pod));
    if (!q || json_object_set_new(status, "qosClass", q) < 0)
        d->r = -ENOMEM;
}

/* ---- other kinds ---- */

static void defaults_deployment(struct dctx *d, json_t *obj)
{
    json_t *spec = ensure_obj(d, obj, "spec");
    if (!spec)
        return;
    def_int(d, spec, "replicas", 1);
    json_t *st = ensure_obj(d, spec, "strategy");
    if (st) {
        def_str(d, st, "type", "RollingUpdate");
        const char *type = json_string_value(json_object_get(st, "type"));
        if (type && !strcmp(type, "RollingUpdate")) {
            json_t *ru = ensure_obj(d, st, "rollingUpdate");
            set_default(d, ru, "maxUnavailable", json_string("25%"));
            set_default(d, ru, "maxSurge", json_string("25%"));
        }
    }
    def_int(d, spec, "revisionHistoryLimit", 10);
    def_int(d, spec, "progressDeadlineSeconds", 600);
    defaults_template(d, get_obj(spec, "template"));
}

static void defaults_replicaset(struct dctx *d, json_t *obj)
{
    json_t *spec = ensure_obj(d, obj, "spec");
    def_int(d, spec, "replicas", 1);
    defaults_template(d, get_obj(spec, "template"));
}

static void defaults_pvc(struct dctx *d, json_t *obj, bool with_status)
{
    defaults_pvc_spec(d, ensure_obj(d, obj, "spec"));
    if (with_status)
        def_str(d, ensure_obj(d, obj, "status"), "phase", "Pending");
}

static void defaults_statefulset(struct dctx *d, json_t *obj)
{
    json_t *spec = ensure_obj(d, obj, "spec");
    if (!spec)
        return;
    def_str(d, spec, "podManagementPolicy", "OrderedReady");
    json_t *us = ensure_obj(d, spec, "updateStrategy");
    if (us) {
        const char *t = json_string_value(json_object_get(us, "type"));
        if (!t || !*t) {
            def_str(d, us, "type", "RollingUpdate");
            ensure_obj(d, us, "rollingUpdate");
        }
        t = json_string_value(json_object_get(us, "type"));
        json_t *ru = get_obj(us, "rollingUpdate");
        if (t && !strcmp(t, "RollingUpdate") && ru)
            def_int(d, ru, "partition", 0);
    }
    json_t *ret = ensure_obj(d, spec, "persistentVolumeClaimRetentionPolicy");
    def_str(d, ret, "whenDeleted", "Retain");
    def_str(d, ret, "whenScaled", "Retain");
    def_int(d, spec, "replicas", 1);
    def_int(d, spec, "revisionHistoryLimit", 10);
    defaults_template(d, get_obj(spec, "template"));
    json_t *vcts = json_object_get(spec, "volumeClaimTemplates");
    for (size_t i = 0; i < json_array_size(vcts); i++) {
        json_t *vct = json_array_get(vcts, i);
        if (json_is_object(vct))
            defaults_pvc(d, vct, true);
    }
}

static void defaults_daemonset(struct dctx *d, json_t *obj)
{
    json_t *spec = ensure_obj(d, obj, "spec");
    if (!spec)
        return;
    json_t *us = ensure_obj(d, spec, "updateStrategy");
    def_str(d, us, "type", "RollingUpdate");
    const char *t = json_string_value(json_object_get(us, "type"));
    if (t && !strcmp(t, "RollingUpdate")) {
        json_t *ru = ensure_obj(d, us, "rollingUpdate");
        set_default(d, ru, "maxUnavailable", json_integer(1));
        set_default(d, ru, "maxSurge", json_integer(0));
    }
    def_int(d, spec, "revisionHistoryLimit", 10);
    defaults_template(d, get_obj(spec, "template"));
}

/* batch's generateSelector: without manualSelector the job selects its pods by its uid. Needs
 * metadata.uid, so it only happens once the server has assigned one. */
static void job_generate_selector(struct dctx *d, json_t *obj, json_t *spec)
{
    json_t *meta = get_obj(obj, "metadata");
    const char *uid = json_string_value(json_object_get(meta, "uid"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (!uid || !*uid || json_is_true(json_object_get(spec, "manualSelector")))
        return;
    const json_t *sel = json_object_get(spec, "selector");
    if (sel && !json_is_null(sel))
        return;
    json_t *tmpl = ensure_obj(d, spec, "template");
    json_t *tmeta = ensure_obj(d, tmpl, "metadata");
    json_t *labels = ensure_obj(d, tmeta, "labels");
    if (!labels)
        return;
    def_str(d, labels, "batch.kubernetes.io/controller-uid", uid);
    def_str(d, labels, "batch.kubernetes.io/job-name", name ? name : "");
    def_str(d, labels, "controller-uid", uid);
    def_str(d, labels, "job-name", name ? name : "");
    set_default(d, spec, "selector",
                json_pack("{s:{s:s}}", "matchLabels", "batch.kubernetes.io/controller-uid", uid));
}

static void defaults_job_spec(struct dctx *d, json_t *spec)
{
    if (!spec)
        return;
    const json_t *c = json_object_get(spec, "completions");
    const json_t *p = json_object_get(spec, "parallelism");
    if ((!c || json_is_null(c)) && (!p || json_is_null(p))) {
        def_int(d, spec, "completions", 1);
        def_int(d, spec, "parallelism", 1);
    }
    def_int(d, spec, "parallelism", 1);
    const json_t *bli = json_object_get(spec, "backoffLimitPerIndex");
    def_int(d, spec, "backoffLimit", bli && !json_is_null(bli) ? 2147483647 : 6);
    def_str(d, spec, "completionMode", "NonIndexed");
    set_default(d, spec, "suspend", json_false());
    const json_t *pfp = json_object_get(spec, "podFailurePolicy");
    def_str(d, spec, "podReplacementPolicy",
            pfp && !json_is_null(pfp) ? "Failed" : "TerminatingOrFailed");
    defaults_template(d, get_obj(spec, "template"));
}

static void defaults_job(struct dctx *d, json_t *obj)
{
    json_t *spec = ensure_obj(d, obj, "spec");
    if (!spec)
        return;
    job_generate_selector(d, obj, spec);
    defaults_job_spec(d, spec);
    /* a job without labels takes its template's */
    json_t *tl = get_obj(get_obj(get_obj(spec, "template"), "metadata"), "labels");
    json_t *meta = ensure_obj(d, obj, "metadata");
    json_t *labels = get_obj(meta, "labels");
    if (tl && json_object_size(tl) > 0 && (!labels || json_object_size(labels) == 0)) {
        json_t *copy = json_deep_copy(tl);
        if (!copy || json_object_set_new(meta, "labels", copy) < 0)
            d->r = -ENOMEM;
    }
}

static void defaults_cronjob(struct dctx *d, json_t *obj)
{
    json_t *spec = ensure_obj(d, obj, "spec");
    if (!spec)
        return;
    def_str(d, spec, "concurrencyPolicy", "Allow");
    set_default(d, spec, "suspend", json_false());
    def_int(d, spec, "successfulJobsHistoryLimit", 3);
    def_int(d, spec, "failedJobsHistoryLimit", 1);
    json_t *jt = get_obj(spec, "jobTemplate");
    if (jt)
        defaults_job_spec(d, get_obj(jt, "spec"));
}

static void defaults_service(struct dctx *d, json_t *obj)
{
    json_t *spec = ensure_obj(d, obj, "spec");
    if (!spec)
        return;
    def_str(d, spec, "sessionAffinity", "None");
    const char *aff = json_string_value(json_object_get(spec, "sessionAffinity"));
    if (aff && !strcmp(aff, "None"))
        json_object_del(spec, "sessionAffinityConfig");
    else if (aff && !strcmp(aff, "ClientIP")) {
        json_t *cfg = ensure_obj(d, spec, "sessionAffinityConfig");
        json_t *cip = ensure_obj(d, cfg, "clientIP");
        def_int(d, cip, "timeoutSeconds", 10800);
    }
    def_str(d, spec, "type", "ClusterIP");
    const char *type = json_string_value(json_object_get(spec, "type"));
    json_t *ports = json_object_get(spec, "ports");
    for (size_t i = 0; i < json_array_size(ports); i++) {
        json_t *p = json_array_get(ports, i);
        if (!json_is_object(p))
            continue;
        def_str(d, p, "protocol", "TCP");
        const json_t *tp = json_object_get(p, "targetPort");
        bool unset = !tp || json_is_null(tp) ||
                     (json_is_integer(tp) && json_integer_value(tp) == 0) ||
                     (json_is_string(tp) && !*json_string_value(tp));
        const json_t *port = json_object_get(p, "port");
        if (unset && json_is_integer(port) && json_object_set(p, "targetPort", (json_t *)port) < 0)
            d->r = -ENOMEM;
    }
    bool external = type && (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer"));
    if (external)
        def_str(d, spec, "externalTrafficPolicy", "Cluster");
    if (external || (type && !strcmp(type, "ClusterIP")))
        def_str(d, spec, "internalTrafficPolicy", "Cluster");
    if (type && !strcmp(type, "LoadBalancer"))
        set_default(d, spec, "allocateLoadBalancerNodePorts", json_true());
    if (type && strcmp(type, "ExternalName") != 0) {
        def_str(d, spec, "ipFamilyPolicy", "SingleStack");
        set_default(d, spec, "ipFamilies", json_pack("[s]", "IPv4"));
    }
}

static void defaults_namespace(struct dctx *d, json_t *obj)
{
    json_t *meta = ensure_obj(d, obj, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (name && *name) {
        /* SetDefaults_Namespace: the immutable name label, always in sync with the name */
        json_t *labels = ensure_obj(d, meta, "labels");
        if (labels &&
            json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name)) < 0)
            d->r = -ENOMEM;
    }
    json_t *spec = ensure_obj(d, obj, "spec");
    set_default(d, spec, "finalizers", json_pack("[s]", "kubernetes"));
    def_str(d, ensure_obj(d, obj, "status"), "phase", "Active");
}

static void defaults_secret(struct dctx *d, json_t *obj)
{
    def_str(d, obj, "type", "Opaque");
    /* stringData is write-only: merged into data (winning over it) and never stored */
    json_t *sd = json_object_get(obj, "stringData");
    if (!json_is_object(sd))
        return;
    const char *k;
    json_t *val;
    json_object_foreach(sd, k, val)
    {
        if (!json_is_string(val))
            return; /* validation reports the type */
    }
    json_t *data = ensure_obj(d, obj, "data");
    if (!data)
        return;
    json_object_foreach(sd, k, val)
    {
        char *enc = kos_base64_encode(json_string_value(val), json_string_length(val));
        json_t *s = enc ? json_string(enc) : NULL;
        free(enc);
        if (!s || json_object_set_new(data, k, s) < 0) {
            d->r = -ENOMEM;
            return;
        }
    }
    json_object_del(obj, "stringData");
}

static void defaults_pv(struct dctx *d, json_t *obj)
{
    json_t *spec = ensure_obj(d, obj, "spec");
    def_str(d, spec, "persistentVolumeReclaimPolicy", "Retain");
    def_str(d, spec, "volumeMode", "Filesystem");
    def_str(d, ensure_obj(d, obj, "status"), "phase", "Pending");
}

static void defaults_node(struct dctx *d, json_t *obj)
{
    json_t *status = get_obj(obj, "status");
    json_t *cap = get_obj(status, "capacity");
    if (cap && !json_object_get(status, "allocatable"))
        set_default(d, status, "allocatable", json_deep_copy(cap));
}

static void defaults_endpoints(struct dctx *d, json_t *obj)
{
    json_t *subsets = json_object_get(obj, "subsets");
    for (size_t i = 0; i < json_array_size(subsets); i++) {
        json_t *ports = json_object_get(json_array_get(subsets, i), "ports");
        for (size_t j = 0; j < json_array_size(ports); j++)
            def_str(d, json_array_get(ports, j), "protocol", "TCP");
    }
}

static void defaults_binding(struct dctx *d, json_t *obj)
{
    json_t *ref = get_obj(obj, "roleRef");
    if (ref)
        def_str(d, ref, "apiGroup", "rbac.authorization.k8s.io");
    json_t *subjects = json_object_get(obj, "subjects");
    for (size_t i = 0; i < json_array_size(subjects); i++) {
        json_t *s = json_array_get(subjects, i);
        const char *kind = json_string_value(json_object_get(s, "kind"));
        const char *g = json_string_value(json_object_get(s, "apiGroup"));
        if (!json_is_object(s) || (g && *g) || !kind)
            continue;
        if (!strcmp(kind, "User") || !strcmp(kind, "Group"))
            def_str(d, s, "apiGroup", "rbac.authorization.k8s.io");
    }
}

static bool is(const struct kos_kind *k, const char *group, const char *kind)
{
    return !strcmp(k->group ? k->group : "", group) && k->kind && !strcmp(k->kind, kind);
}

int kos_apply_defaults(const struct kos_kind *kind, json_t *obj)
{
    struct dctx d = {0};
    if (!kind || !json_is_object(obj))
        return -EINVAL;
    if (is(kind, "", "Pod"))
        defaults_pod(&d, obj);
    else if (is(kind, "apps", "Deployment"))
        defaults_deployment(&d, obj);
    else if (is(kind, "apps", "ReplicaSet"))
        defaults_replicaset(&d, obj);
    else if (is(kind, "apps", "StatefulSet"))
        defaults_statefulset(&d, obj);
    else if (is(kind, "apps", "DaemonSet"))
        defaults_daemonset(&d, obj);
    else if (is(kind, "batch", "Job"))
        defaults_job(&d, obj);
    else if (is(kind, "batch", "CronJob"))
        defaults_cronjob(&d, obj);
    else if (is(kind, "", "Service"))
        defaults_service(&d, obj);
    else if (is(kind, "", "Namespace"))
        defaults_namespace(&d, obj);
    else if (is(kind, "", "Secret"))
        defaults_secret(&d, obj);
    else if (is(kind, "", "PersistentVolume"))
        defaults_pv(&d, obj);
    else if (is(kind, "", "PersistentVolumeClaim"))
        defaults_pvc(&d, obj, true);
    else if (is(kind, "", "Node"))
        defaults_node(&d, obj);
    else if (is(kind, "", "Endpoints"))
        defaults_endpoints(&d, obj);
    else if (is(kind, "", "PodTemplate"))
        defaults_template(&d, get_obj(obj, "template"));
    else if (is(kind, "", "ReplicationController")) {
        json_t *spec = ensure_obj(&d, obj, "spec");
        def_int(&d, spec, "replicas", 1);
        defaults_template(&d, get_obj(spec, "template"));
    } else if (is(kind, "storage.k8s.io", "StorageClass")) {
        def_str(&d, obj, "reclaimPolicy", "Delete");
        def_str(&d, obj, "volumeBindingMode", "Immediate");
    } else if (is(kind, "scheduling.k8s.io", "PriorityClass")) {
        def_str(&d, obj, "preemptionPolicy", "PreemptLowerPriority");
    } else if (is(kind, "rbac.authorization.k8s.io", "RoleBinding") ||
               is(kind, "rbac.authorization.k8s.io", "ClusterRoleBinding")) {
        defaults_binding(&d, obj);
    }
    return d.r;
}
