/* The per-kind Table printers: column definitions and row cells computed from the object's
 * JSON exactly as kube-apiserver's printers compute them from the typed object
 * (pkg/printers/internalversion/printers.go, v1.33). Server-side tables are always generated
 * wide, so every printer emits its priority-1 cells too. Pods, nodes, the defaults and the
 * lookup are here; workloads and services are in table_printers_apps.c, the rest in
 * table_printers_misc.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/table_internal.h"
#include "util/cleanup.h"
#include "util/timeutil.h"

/* ---- pods ---- */

static const struct table_column pod_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted and when the last "
     "container in this pod has restarted.",
     0},
    {"Age", "string", "", D_AGE, 0},
    {"IP", "string", "",
     "podIP address allocated to the pod. Routable at least within the cluster. Empty if not "
     "yet allocated.",
     1},
    {"Node", "string", "",
     "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate "
     "for scheduling by the scheduler defined in schedulerName. Once this field is set, the "
     "kubelet for this node becomes responsible for the lifecycle of this pod. This field "
     "should not be used to express a desire for the pod to be scheduled on a specific node. "
     "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
     1},
    {"Nominated Node", "string", "",
     "nominatedNodeName is set only when this pod preempts other pods on the node, but it "
     "cannot be scheduled right away as preemption victims receive their graceful termination "
     "periods. This field does not guarantee that the pod will be scheduled on this node. "
     "Scheduler may decide to place the pod elsewhere if other nodes become available sooner. "
     "Scheduler may also decide to give the resources on this node to a higher priority pod "
     "that is created after preemption. As a result, this field may be different than "
     "PodSpec.nodeName when the pod is scheduled.",
     1},
    {"Readiness Gates", "string", "",
     "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready "
     "when all its containers are ready AND all conditions specified in the readiness gates "
     "have status equal to \"True\" More info: "
     "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
     1},
};

/* podutil.IsRestartableInitContainer for the init container of that name. */
static bool restartable_init(const json_t *inits, const char *name)
{
    size_t i;
    const json_t *ic;
    json_array_foreach(inits, i, ic)
    {
        if (kos_streq_null(s_at(ic, "name"), name))
            return kos_streq_null(s_at(ic, "restartPolicy"), "Always");
    }
    return false;
}

static bool condition_true(const json_t *conditions, const char *type)
{
    size_t i;
    const json_t *cond;
    json_array_foreach(conditions, i, cond)
    {
        if (kos_streq_null(s_at(cond, "type"), type))
            return kos_streq_null(s_at(cond, "status"), "True");
    }
    return false;
}

/* lastState.terminated.finishedAt, the time of a container's last restart. */
static void note_restart(const json_t *cs, int64_t *last)
{
    int64_t t = table_time(obj_path(cs, "lastState.terminated.finishedAt"));
    if (t != TABLE_TIME_ZERO && t > *last)
        *last = t;
}

static void pod_wide_cells(struct table_cells *c, const json_t *pod)
{
    const char *ip = s_at(json_array_get(obj_path(pod, "status.podIPs"), 0), "ip");
    if (!ip || !ip[0])
        ip = obj_str(pod, "status.podIP");
    cell_str(c, str_or(ip, "<none>"));
    cell_str(c, str_or(obj_str(pod, "spec.nodeName"), "<none>"));
    cell_str(c, str_or(obj_str(pod, "status.nominatedNodeName"), "<none>"));
    const json_t *gates = obj_path(pod, "spec.readinessGates");
    if (json_array_size(gates) == 0) {
        cell_str(c, "<none>");
        return;
    }
    size_t i, j, true_conditions = 0;
    const json_t *gate, *cond;
    json_array_foreach(gates, i, gate)
    {
        json_array_foreach(obj_path(pod, "status.conditions"), j, cond)
        {
            if (kos_streq_null(s_at(cond, "type"), s_at(gate, "conditionType"))) {
                if (kos_streq_null(s_at(cond, "status"), "True"))
                    true_conditions++;
                break;
            }
        }
    }
    cell_fmt(c, "%zu/%zu", true_conditions, json_array_size(gates));
}

/* The first init container that has not finished decides the status (printPod). Returns
 * true while the pod is still initializing. */
static bool pod_init_status(const json_t *pod, char *reason, size_t size, int64_t *restarts,
                            int64_t *last_restart, int64_t *sidecar_restarts,
                            int64_t *last_sidecar_restart, int64_t *ready)
{
    const json_t *inits = obj_path(pod, "spec.initContainers");
    size_t i;
    const json_t *cs;
    json_array_foreach(obj_path(pod, "status.initContainerStatuses"), i, cs)
    {
        bool sidecar = restartable_init(inits, s_at(cs, "name"));
        *restarts += i_at(cs, "restartCount");
        note_restart(cs, last_restart);
        if (sidecar) {
            *sidecar_restarts += i_at(cs, "restartCount");
            note_restart(cs, last_sidecar_restart);
        }
        const json_t *term = obj_path(cs, "state.terminated");
        const json_t *waiting = obj_path(cs, "state.waiting");
        if (json_is_object(term) && i_at(term, "exitCode") == 0)
            continue;
        if (sidecar && json_is_true(json_object_get(cs, "started"))) {
            if (json_is_true(json_object_get(cs, "ready")))
                (*ready)++;
            continue;
        }
        const char *wr = s_at(waiting, "reason");
        if (json_is_object(term)) {
            const char *tr = s_at(term, "reason");
            if (tr && tr[0])
                snprintf(reason, size, "Init:%s", tr);
            else if (i_at(term, "signal") != 0)
                snprintf(reason, size, "Init:Signal:%" PRId64, i_at(term, "signal"));
            else
                snprintf(reason, size, "Init:ExitCode:%" PRId64, i_at(term, "exitCode"));
        } else if (json_is_object(waiting) && wr && wr[0] && strcmp(wr, "PodInitializing") != 0) {
            snprintf(reason, size, "Init:%s", wr);
        } else {
            snprintf(reason, size, "Init:%zu/%zu", i, json_array_size(inits));
        }
        return true;
    }
    return false;
}

static void pod_cells(struct table_cells *c, const json_t *pod)
{
    const json_t *status = json_object_get(pod, "status");
    const json_t *conditions = json_object_get(status, "conditions");
    const json_t *inits = obj_path(pod, "spec.initContainers");
    const char *phase = str_or(s_at(status, "phase"), "");
    const char *status_reason = s_at(status, "reason");
    int64_t total = (int64_t)json_array_size(obj_path(pod, "spec.containers"));
    int64_t ready = 0, restarts = 0, sidecar_restarts = 0;
    int64_t last_restart = TABLE_TIME_ZERO, last_sidecar_restart = TABLE_TIME_ZERO;
    char reason[512];
    snprintf(reason, sizeof(reason), "%s", str_or(status_reason, phase));

    size_t i;
    const json_t *item;
    json_array_foreach(conditions, i, item)
    {
        if (kos_streq_null(s_at(item, "type"), "PodScheduled") &&
            kos_streq_null(s_at(item, "reason"), "SchedulingGated"))
            snprintf(reason, sizeof(reason), "SchedulingGated");
    }
    if (strcmp(phase, "Succeeded") == 0) {
        c->cond_reason = "Succeeded";
        c->cond_message = "The pod has completed successfully.";
    } else if (strcmp(phase, "Failed") == 0) {
        c->cond_reason = "Failed";
        c->cond_message = "The pod failed.";
    }
    json_array_foreach(inits, i, item)
    {
        if (kos_streq_null(s_at(item, "restartPolicy"), "Always"))
            total++;
    }

    bool initializing = pod_init_status(pod, reason, sizeof(reason), &restarts, &last_restart,
                                        &sidecar_restarts, &last_sidecar_restart, &ready);
    if (!initializing || condition_true(conditions, "Initialized")) {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        bool has_running = false;
        const json_t *statuses = json_object_get(status, "containerStatuses");
        for (size_t n = json_array_size(statuses); n > 0; n--) {
            const json_t *cs = json_array_get(statuses, n - 1);
            restarts += i_at(cs, "restartCount");
            note_restart(cs, &last_restart);
            const json_t *term = obj_path(cs, "state.terminated");
            const char *wr = obj_str(cs, "state.waiting.reason");
            const char *tr = s_at(term, "reason");
            if (wr && wr[0]) {
                snprintf(reason, sizeof(reason), "%s", wr);
            } else if (json_is_object(term) && tr && tr[0]) {
                snprintf(reason, sizeof(reason), "%s", tr);
            } else if (json_is_object(term)) {
                if (i_at(term, "signal") != 0)
                    snprintf(reason, sizeof(reason), "Signal:%" PRId64, i_at(term, "signal"));
                else
                    snprintf(reason, sizeof(reason), "ExitCode:%" PRId64, i_at(term, "exitCode"));
            } else if (json_is_true(json_object_get(cs, "ready")) &&
                       json_is_object(obj_path(cs, "state.running"))) {
                has_running = true;
                ready++;
            }
        }
        /* a pod whose last container completed while another still runs is Running */
        if (strcmp(reason, "Completed") == 0 && has_running)
            snprintf(reason, sizeof(reason), "%s",
                     condition_true(conditions, "Ready") ? "Running" : "NotReady");
    }

    bool deleting = table_deleting(pod);
    if (deleting && kos_streq_null(status_reason, "NodeLost"))
        snprintf(reason, sizeof(reason), "Unknown");
    else if (deleting && strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0)
        snprintf(reason, sizeof(reason), "Terminating");

    cell_str(c, obj_str(pod, "metadata.name"));
    cell_fmt(c, "%" PRId64 "/%" PRId64, ready, total);
    cell_str(c, reason);
    if (restarts != 0 && last_restart != TABLE_TIME_ZERO) {
        char ago[32];
        table_age(c, last_restart, ago, sizeof(ago));
        cell_fmt(c, "%" PRId64 " (%s ago)", restarts, ago);
    } else {
        cell_fmt(c, "%" PRId64, restarts);
    }
    cell_age(c, pod);
    pod_wide_cells(c, pod);
}

/* ---- nodes ---- */

static const struct table_column node_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    {"Age", "string", "", D_AGE, 0},
    {"Version", "string", "", "Kubelet Version reported by the node.", 0},
    {"Internal-IP", "string", "", D_NODE_ADDRESSES, 1},
    {"External-IP", "string", "", D_NODE_ADDRESSES, 1},
    {"OS-Image", "string", "",
     "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1},
    {"Kernel-Version", "string", "",
     "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1},
    {"Container-Runtime", "string", "",
     "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
     "containerd://1.4.2).",
     1},
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* findNodeRoles: node-role.kubernetes.io/<role> label keys and kubernetes.io/role values,
 * sorted and without duplicates. */
static void node_roles(struct table_cells *c, const json_t *node)
{
    static const char prefix[] = "node-role.kubernetes.io/";
    const json_t *labels = obj_path(node, "metadata.labels");
    size_t n = 0, cap = json_object_size(labels);
    _cleanup_free_ const char **roles = cap ? calloc(cap, sizeof(*roles)) : NULL;
    if (cap && !roles) {
        c->err = -ENOMEM;
        return;
    }
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)labels, key, value)
    {
        const char *v = json_string_value(value);
        if (kos_str_has_prefix(key, prefix) && key[sizeof(prefix) - 1])
            roles[n++] = key + sizeof(prefix) - 1;
        else if (strcmp(key, "kubernetes.io/role") == 0 && v && v[0])
            roles[n++] = v;
    }
    if (n > 1)
        qsort(roles, n, sizeof(*roles), cmp_str);
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, TABLE_CELL_MAX);
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (i && strcmp(roles[i], roles[i - 1]) == 0)
            continue;
        if (b.len)
            r = kos_buf_append(&b, ",", 1);
        if (r == 0)
            r = kos_buf_append_str(&b, roles[i]);
    }
    cell_buf(c, &b, r, "<none>");
}

static const char *node_address(const json_t *node, const char *type)
{
    size_t i;
    const json_t *a;
    json_array_foreach(obj_path(node, "status.addresses"), i, a)
    {
        if (kos_streq_null(s_at(a, "type"), type))
            return str_or(s_at(a, "address"), "");
    }
    return "<none>";
}

static void node_cells(struct table_cells *c, const json_t *node)
{
    /* Only Ready is reported; the last condition of a type wins, as in kube's map. */
    const char *ready = NULL;
    size_t i;
    const json_t *cond;
    json_array_foreach(obj_path(node, "status.conditions"), i, cond)
    {
        if (kos_streq_null(s_at(cond, "type"), "Ready"))
            ready = kos_streq_null(s_at(cond, "status"), "True") ? "Ready" : "NotReady";
    }
    bool unschedulable = json_is_true(obj_path(node, "spec.unschedulable"));
    cell_str(c, obj_str(node, "metadata.name"));
    cell_fmt(c, "%s%s", ready ? ready : "Unknown", unschedulable ? ",SchedulingDisabled" : "");
    node_roles(c, node);
    cell_age(c, node);
    cell_str(c, obj_str(node, "status.nodeInfo.kubeletVersion"));
    cell_str(c, node_address(node, "InternalIP"));
    cell_str(c, node_address(node, "ExternalIP"));
    cell_str(c, str_or(obj_str(node, "status.nodeInfo.osImage"), "<unknown>"));
    cell_str(c, str_or(obj_str(node, "status.nodeInfo.kernelVersion"), "<unknown>"));
    cell_str(c, str_or(obj_str(node, "status.nodeInfo.containerRuntimeVersion"), "<unknown>"));
}

/* ---- the defaults ---- */

/* Kinds without a printer of their own (CRDs' default): Name and Age. */
static const struct table_column default_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Age", "date", "", D_AGE, 0},
};

static void default_cells(struct table_cells *c, const json_t *obj)
{
    cell_str(c, obj_str(obj, "metadata.name"));
    cell_age(c, obj);
}

/* kube-apiserver's default table convertor, which RBAC roles use: Name and Created At. */
static const struct table_column created_at_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Created At", "date", "", D_AGE, 0},
};

static void created_at_cells(struct table_cells *c, const json_t *obj)
{
    char when[40] = "0001-01-01T00:00:00Z";
    int64_t t = table_time(obj_path(obj, "metadata.creationTimestamp"));
    if (t != TABLE_TIME_ZERO)
        kos_time_rfc3339((time_t)(t >= 0 ? t / 1000 : (t - 999) / 1000), when, sizeof(when));
    cell_str(c, obj_str(obj, "metadata.name"));
    cell_str(c, when);
}

#define PRINTER(g, k, cols, fn)                                                                    \
    {                                                                                              \
        g, k, cols, sizeof(cols) / sizeof(cols[0]), fn                                             \
    }

static const struct table_printer core_printers[] = {
    PRINTER("", "Pod", pod_columns, pod_cells),
    PRINTER("", "Node", node_columns, node_cells),
    PRINTER("rbac.authorization.k8s.io", "Role", created_at_columns, created_at_cells),
    PRINTER("rbac.authorization.k8s.io", "ClusterRole", created_at_columns, created_at_cells),
    {NULL, NULL, NULL, 0, NULL},
};

static const struct table_printer default_printer =
    PRINTER("", NULL, default_columns, default_cells);

const struct table_printer *table_printer_find(const char *group, const char *kind)
{
    const struct table_printer *const tables[] = {core_printers, table_printers_apps,
                                                  table_printers_misc};
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        for (const struct table_printer *p = tables[t]; p->kind; p++) {
            if (strcmp(p->group, group) == 0 && strcmp(p->kind, kind) == 0)
                return p;
        }
    }
    return &default_printer;
}
