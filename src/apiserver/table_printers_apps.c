/* Table printers for workloads (apps, batch), services and endpoints, after kube-apiserver's
 * pkg/printers/internalversion/printers.go (v1.33). Every printer emits the wide cells too. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/table_internal.h"
#include "util/cleanup.h"

/* ---- shared formatting ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a JSON object, sorted (the caller frees the array). */
static const char **sorted_keys(const json_t *map, size_t *ret_n)
{
    size_t n = 0, cap = json_object_size(map);
    const char **keys = calloc(cap ? cap : 1, sizeof(*keys));
    if (!keys)
        return NULL;
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)map, key, value)
    {
        keys[n++] = key;
    }
    qsort(keys, n, sizeof(*keys), cmp_str);
    *ret_n = n;
    return keys;
}

/* labels.FormatLabels: "k=v" pairs sorted by key, "<none>" when empty. */
static void cell_labels(struct table_cells *c, const json_t *map)
{
    size_t n = 0;
    _cleanup_free_ const char **keys = sorted_keys(map, &n);
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, TABLE_CELL_MAX);
    int r = keys ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = kos_buf_printf(&b, "%s%s=%s", i ? "," : "", keys[i], str_or(s_at(map, keys[i]), ""));
    cell_buf(c, &b, r, "<none>");
}

struct requirement {
    const char *key;
    const char *op; /* "=", " in ", " notin ", "" (exists), "!" (does not exist) */
    const json_t *values;
    const char *value; /* the single value of "=" */
    size_t index;      /* keeps the sort stable */
};

static int cmp_requirement(const void *a, const void *b)
{
    const struct requirement *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    return r ? r : (x->index < y->index ? -1 : x->index > y->index);
}

static int append_requirement(struct kos_buf *b, const struct requirement *q)
{
    int r = kos_buf_printf(b, "%s%s", strcmp(q->op, "!") == 0 ? "!" : "", q->key);
    if (r < 0 || strcmp(q->op, "!") == 0 || !q->op[0])
        return r;
    if (q->value)
        return kos_buf_printf(b, "=%s", q->value);
    size_t n = json_array_size(q->values);
    _cleanup_free_ const char **vals = calloc(n ? n : 1, sizeof(*vals));
    if (!vals)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        vals[i] = str_or(json_string_value(json_array_get(q->values, i)), "");
    if (n > 1)
        qsort(vals, n, sizeof(*vals), cmp_str);
    r = kos_buf_printf(b, "%s(", q->op);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = kos_buf_printf(b, "%s%s", i ? "," : "", vals[i]);
    return r == 0 ? kos_buf_append(b, ")", 1) : r;
}

/* metav1.LabelSelectorAsSelector(sel).String(): requirements sorted by key; "" for a missing
 * or empty selector; -EINVAL for one kube could not convert. */
static int format_selector(const json_t *sel, struct kos_buf *b)
{
    const json_t *labels = json_object_get(sel, "matchLabels");
    const json_t *exprs = json_object_get(sel, "matchExpressions");
    size_t n = 0, cap = json_object_size(labels) + json_array_size(exprs);
    if (cap == 0)
        return 0;
    _cleanup_free_ struct requirement *reqs = calloc(cap, sizeof(*reqs));
    if (!reqs)
        return -ENOMEM;
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)labels, key, value)
    {
        reqs[n] = (struct requirement){key, "=", NULL, str_or(json_string_value(value), ""), n};
        n++;
    }
    size_t i;
    json_array_foreach(exprs, i, value)
    {
        const char *op = s_at(value, "operator");
        const json_t *vals = json_object_get(value, "values");
        struct requirement q = {str_or(s_at(value, "key"), ""), NULL, vals, NULL, n};
        if (kos_streq_null(op, "In") || kos_streq_null(op, "NotIn")) {
            q.op = strcmp(op, "In") == 0 ? " in " : " notin ";
            if (json_array_size(vals) == 0)
                return -EINVAL;
        } else if (kos_streq_null(op, "Exists") || kos_streq_null(op, "DoesNotExist")) {
            q.op = strcmp(op, "Exists") == 0 ? "" : "!";
            if (json_array_size(vals) != 0)
                return -EINVAL;
        } else {
            return -EINVAL;
        }
        reqs[n++] = q;
    }
    qsort(reqs, n, sizeof(*reqs), cmp_requirement);
    int r = 0;
    for (size_t k = 0; r == 0 && k < n; k++) {
        if (k)
            r = kos_buf_append(b, ",", 1);
        if (r == 0)
            r = append_requirement(b, &reqs[k]);
    }
    return r;
}

/* metav1.FormatLabelSelector: "<none>" when empty, "<error>" when unconvertible. */
static void cell_label_selector(struct table_cells *c, const json_t *sel)
{
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, TABLE_CELL_MAX);
    int r = format_selector(sel, &b);
    if (r == -EINVAL)
        cell_str(c, "<error>");
    else
        cell_buf(c, &b, r, "<none>");
}

/* layoutContainerCells: container names, then images, comma-separated. */
static void cell_containers(struct table_cells *c, const json_t *containers)
{
    static const char *const fields[] = {"name", "image"};
    for (size_t f = 0; f < 2; f++) {
        _cleanup_buf_ struct kos_buf b;
        kos_buf_init(&b, TABLE_CELL_MAX);
        int r = 0;
        size_t i;
        const json_t *ct;
        json_array_foreach(containers, i, ct)
        {
            if (r == 0)
                r = kos_buf_printf(&b, "%s%s", i ? "," : "", str_or(s_at(ct, fields[f]), ""));
        }
        cell_buf(c, &b, r, "");
    }
}

/* A *int32 replica count that defaulting sets to 1. */
static int64_t replicas(const json_t *obj)
{
    const json_t *v = obj_path(obj, "spec.replicas");
    return json_is_integer(v) ? json_integer_value(v) : 1;
}

/* ---- apps and batch ---- */

static const struct table_column deployment_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    {"Up-to-date", "string", "",
     "Total number of non-terminated pods targeted by this deployment that have the desired "
     "template spec.",
     0},
    {"Available", "string", "",
     "Total number of available pods (ready for at least minReadySeconds) targeted by this "
     "deployment.",
     0},
    {"Age", "string", "", D_AGE, 0},
    {"Containers", "string", "", D_CONTAINERS, 1},
    {"Images", "string", "", D_IMAGES, 1},
    {"Selector", "string", "",
     "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
     "ones affected by this deployment.",
     1},
};

static void deployment_cells(struct table_cells *c, const json_t *d)
{
    cell_str(c, obj_str(d, "metadata.name"));
    cell_fmt(c, "%" PRId64 "/%" PRId64, i_path(d, "status.readyReplicas"), replicas(d));
    cell_int(c, i_path(d, "status.updatedReplicas"));
    cell_int(c, i_path(d, "status.availableReplicas"));
    cell_age(c, d);
    cell_containers(c, obj_path(d, "spec.template.spec.containers"));
    /* printDeployment prints selector.String() itself: empty rather than <none> */
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, TABLE_CELL_MAX);
    int r = format_selector(obj_path(d, "spec.selector"), &b);
    if (r == -EINVAL)
        cell_str(c, "<invalid>");
    else
        cell_buf(c, &b, r, "");
}

static const struct table_column replicaset_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Desired", "integer", "",
     "Replicas is the number of desired replicas. This is a pointer to distinguish between "
     "explicit zero and unspecified. Defaults to 1. More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/"
     "#what-is-a-replicationcontroller",
     0},
    {"Current", "integer", "",
     "Replicas is the most recently observed number of replicas. More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/"
     "#what-is-a-replicationcontroller",
     0},
    {"Ready", "integer", "", "The number of ready replicas for this replica set.", 0},
    {"Age", "string", "", D_AGE, 0},
    {"Containers", "string", "", D_CONTAINERS, 1},
    {"Images", "string", "", D_IMAGES, 1},
    {"Selector", "string", "",
     "Selector is a label query over pods that should match the replica count. If the selector is "
     "empty, it is defaulted to the labels present on the pod template. Label keys and values that "
     "must match in order to be controlled by this replica set. More info: "
     "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
     1},
};

static void replicaset_cells(struct table_cells *c, const json_t *rs)
{
    cell_str(c, obj_str(rs, "metadata.name"));
    cell_int(c, replicas(rs));
    cell_int(c, i_path(rs, "status.replicas"));
    cell_int(c, i_path(rs, "status.readyReplicas"));
    cell_age(c, rs);
    cell_containers(c, obj_path(rs, "spec.template.spec.containers"));
    cell_label_selector(c, obj_path(rs, "spec.selector"));
}

static const struct table_column statefulset_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    {"Age", "string", "", D_AGE, 0},
    {"Containers", "string", "", D_CONTAINERS, 1},
    {"Images", "string", "", D_IMAGES, 1},
};

static void statefulset_cells(struct table_cells *c, const json_t *ss)
{
    cell_str(c, obj_str(ss, "metadata.name"));
    cell_fmt(c, "%" PRId64 "/%" PRId64, i_path(ss, "status.readyReplicas"), replicas(ss));
    cell_age(c, ss);
    cell_containers(c, obj_path(ss, "spec.template.spec.containers"));
}

static const struct table_column daemonset_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Desired", "integer", "",
     "The total number of nodes that should be running the daemon pod (including nodes correctly "
     "running the daemon pod). More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
     0},
    {"Current", "integer", "",
     "The number of nodes that are running at least 1 daemon pod and are supposed to run the "
     "daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
     0},
    {"Ready", "integer", "",
     "The number of nodes that should be running the daemon pod and have one or more of the daemon "
     "pod running and ready.",
     0},
    {"Up-to-date", "integer", "", "The total number of nodes that are running updated daemon pod",
     0},
    {"Available", "integer", "",
     "The number of nodes that should be running the daemon pod and have one or more of the daemon "
     "pod running and available (ready for at least spec.minReadySeconds)",
     0},
    {"Node Selector", "string", "",
     "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which "
     "must match a node's labels for the pod to be scheduled on that node. More info: "
     "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
     0},
    {"Age", "string", "", D_AGE, 0},
    {"Containers", "string", "", D_CONTAINERS, 1},
    {"Images", "string", "", D_IMAGES, 1},
    {"Selector", "string", "",
     "A label query over pods that are managed by the daemon set. Must match in order to be "
     "controlled. If empty, defaulted to labels on Pod template. More info: "
     "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
     1},
};

static void daemonset_cells(struct table_cells *c, const json_t *ds)
{
    static const char *const counts[] = {"desiredNumberScheduled", "currentNumberScheduled",
                                         "numberReady", "updatedNumberScheduled",
                                         "numberAvailable"};
    const json_t *status = json_object_get(ds, "status");
    cell_str(c, obj_str(ds, "metadata.name"));
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        cell_int(c, i_at(status, counts[i]));
    cell_labels(c, obj_path(ds, "spec.template.spec.nodeSelector"));
    cell_age(c, ds);
    cell_containers(c, obj_path(ds, "spec.template.spec.containers"));
    cell_label_selector(c, obj_path(ds, "spec.selector"));
}

static const struct table_column job_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Status", "string", "", "Status of the job.", 0},
    {"Completions", "string", "",
     "The number of pods which reached phase Succeeded. The value increases monotonically for a "
     "given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.",
     0},
    {"Duration", "string", "", "Time required to complete the job.", 0},
    {"Age", "string", "", D_AGE, 0},
    {"Containers", "string", "", D_CONTAINERS, 1},
    {"Images", "string", "", D_IMAGES, 1},
    {"Selector", "string", "",
     "A label query over pods that should match the pod count. Normally, the system sets this "
     "field for you. More info: "
     "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
     1},
};

/* hasJobCondition: the first condition of the type decides. */
static bool job_condition(const json_t *job, const char *type)
{
    size_t i;
    const json_t *cond;
    json_array_foreach(obj_path(job, "status.conditions"), i, cond)
    {
        if (kos_streq_null(s_at(cond, "type"), type))
            return kos_streq_null(s_at(cond, "status"), "True");
    }
    return false;
}

static void job_cells(struct table_cells *c, const json_t *job)
{
    int64_t succeeded = i_path(job, "status.succeeded");
    const json_t *completions = obj_path(job, "spec.completions");
    int64_t parallelism = i_path(job, "spec.parallelism");
    int64_t start = table_time(obj_path(job, "status.startTime"));
    int64_t done = table_time(obj_path(job, "status.completionTime"));
    char duration[32] = "";
    if (start != TABLE_TIME_ZERO && done == TABLE_TIME_ZERO)
        table_age(c, start, duration, sizeof(duration));
    else if (start != TABLE_TIME_ZERO)
        table_human_duration(done - start, duration, sizeof(duration));
    const char *status = "Running";
    if (job_condition(job, "Complete"))
        status = "Complete";
    else if (job_condition(job, "Failed"))
        status = "Failed";
    else if (table_deleting(job))
        status = "Terminating";
    else if (job_condition(job, "Suspended"))
        status = "Suspended";
    else if (job_condition(job, "FailureTarget"))
        status = "FailureTarget";

    cell_str(c, obj_str(job, "metadata.name"));
    cell_str(c, status);
    if (json_is_integer(completions))
        cell_fmt(c, "%" PRId64 "/%" PRId64, succeeded, (int64_t)json_integer_value(completions));
    else if (parallelism > 1)
        cell_fmt(c, "%" PRId64 "/1 of %" PRId64, succeeded, parallelism);
    else
        cell_fmt(c, "%" PRId64 "/1", succeeded);
    cell_str(c, duration);
    cell_age(c, job);
    cell_containers(c, obj_path(job, "spec.template.spec.containers"));
    cell_label_selector(c, obj_path(job, "spec.selector"));
}

/* ---- services and endpoints ---- */

static const struct table_column service_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Type", "string", "",
     "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
     "ExternalName, ClusterIP, NodePort, and LoadBalancer. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/"
     "#publishing-services-service-types",
     0},
    {"Cluster-IP", "string", "",
     "clusterIP is the IP address of the service and is usually assigned randomly. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/"
     "#virtual-ips-and-service-proxies",
     0},
    {"External-IP", "string", "",
     "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
     "traffic for this service.",
     0},
    {"Port(s)", "string", "",
     "The list of ports that are exposed by this service. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/"
     "#virtual-ips-and-service-proxies",
     0},
    {"Age", "string", "", D_AGE, 0},
    {"Selector", "string", "",
     "Route service traffic to pods with label keys and values matching this selector. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/",
     1},
};

/* getServiceExternalIP, wide (unclipped) as the server always generates it. */
static int service_external_ip(const json_t *svc, struct kos_buf *b)
{
    const char *type = str_or(obj_str(svc, "spec.type"), "");
    const json_t *ext = obj_path(svc, "spec.externalIPs");
    size_t i;
    const json_t *v;
    int r = 0;
    if (strcmp(type, "ExternalName") == 0)
        return kos_buf_append_str(b, str_or(obj_str(svc, "spec.externalName"), ""));
    if (strcmp(type, "LoadBalancer") == 0) {
        /* ingress IPs (else hostnames), sorted and unique, then the external IPs */
        const json_t *ingress = obj_path(svc, "status.loadBalancer.ingress");
        size_t n = 0, cap = json_array_size(ingress);
        _cleanup_free_ const char **lb = calloc(cap ? cap : 1, sizeof(*lb));
        if (!lb)
            return -ENOMEM;
        json_array_foreach(ingress, i, v)
        {
            const char *addr = str_or(s_at(v, "ip"), s_at(v, "hostname"));
            if (addr && addr[0])
                lb[n++] = addr;
        }
        qsort(lb, n, sizeof(*lb), cmp_str);
        for (size_t k = 0; r == 0 && k < n; k++) {
            if (k == 0 || strcmp(lb[k], lb[k - 1]) != 0)
                r = kos_buf_printf(b, "%s%s", b->len ? "," : "", lb[k]);
        }
        json_array_foreach(ext, i, v)
        {
            if (r == 0)
                r = kos_buf_printf(b, "%s%s", b->len ? "," : "", str_or(json_string_value(v), ""));
        }
        return r == 0 && b->len == 0 ? kos_buf_append_str(b, "<pending>") : r;
    }
    if (strcmp(type, "ClusterIP") != 0 && strcmp(type, "NodePort") != 0)
        return kos_buf_append_str(b, "<unknown>");
    json_array_foreach(ext, i, v)
    {
        if (r == 0)
            r = kos_buf_printf(b, "%s%s", i ? "," : "", str_or(json_string_value(v), ""));
    }
    return r == 0 && json_array_size(ext) == 0 ? kos_buf_append_str(b, "<none>") : r;
}

static void service_cells(struct table_cells *c, const json_t *svc)
{
    const char *ip = json_string_value(json_array_get(obj_path(svc, "spec.clusterIPs"), 0));
    if (!ip || !ip[0])
        ip = obj_str(svc, "spec.clusterIP");
    cell_str(c, obj_str(svc, "metadata.name"));
    cell_str(c, obj_str(svc, "spec.type"));
    cell_str(c, str_or(ip, "<none>"));
    _cleanup_buf_ struct kos_buf ext;
    kos_buf_init(&ext, TABLE_CELL_MAX);
    cell_buf(c, &ext, service_external_ip(svc, &ext), "");
    /* makePortString: port[:nodePort]/protocol */
    _cleanup_buf_ struct kos_buf ports;
    kos_buf_init(&ports, TABLE_CELL_MAX);
    int r = 0;
    size_t i;
    const json_t *p;
    json_array_foreach(obj_path(svc, "spec.ports"), i, p)
    {
        int64_t node_port = i_at(p, "nodePort");
        const char *proto = str_or(s_at(p, "protocol"), "TCP");
        if (r == 0 && node_port > 0)
            r = kos_buf_printf(&ports, "%s%" PRId64 ":%" PRId64 "/%s", i ? "," : "",
                               i_at(p, "port"), node_port, proto);
        else if (r == 0)
            r = kos_buf_printf(&ports, "%s%" PRId64 "/%s", i ? "," : "", i_at(p, "port"), proto);
    }
    cell_buf(c, &ports, r, "<none>");
    cell_age(c, svc);
    cell_labels(c, obj_path(svc, "spec.selector"));
}

static const struct table_column endpoints_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"Endpoints", "string", "",
     "The set of all endpoints is the union of all subsets. Addresses are placed into subsets "
     "according to the IPs they share. A single address with multiple ports, some of which are "
     "ready and some of which are not (because they come from different containers) will result in "
     "the address being displayed in different subsets for the different ports. No address will "
     "appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and "
     "ports that comprise a service.",
     0},
    {"Age", "string", "", D_AGE, 0},
};

/* One "ip" or "ip:port" entry of formatEndpoints (IPv6 bracketed, as net.JoinHostPort). */
static int append_endpoint(struct kos_buf *b, const char *ip, const json_t *port)
{
    int r = b->len ? kos_buf_append(b, ",", 1) : 0;
    if (r < 0 || !port)
        return r < 0 ? r : kos_buf_append_str(b, ip);
    return kos_buf_printf(b, strchr(ip, ':') ? "[%s]:%" PRId64 : "%s:%" PRId64, ip,
                          i_at(port, "port"));
}

/* formatEndpoints: at most three addresses, then "+ N more...". */
static void endpoints_cells(struct table_cells *c, const json_t *ep)
{
    const size_t max = 3;
    const json_t *subsets = json_object_get(ep, "subsets");
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, TABLE_CELL_MAX);
    int r = 0;
    size_t listed = 0, count = 0, i, j, k;
    const json_t *ss, *port, *addr;
    json_array_foreach(subsets, i, ss)
    {
        const json_t *addrs = json_object_get(ss, "addresses");
        const json_t *ports = json_object_get(ss, "ports");
        if (json_array_size(ports) == 0) {
            /* headless services may have no ports */
            count += json_array_size(addrs);
            json_array_foreach(addrs, k, addr)
            {
                if (listed == max)
                    break;
                if (r == 0)
                    r = append_endpoint(&b, str_or(s_at(addr, "ip"), ""), NULL);
                listed++;
            }
            continue;
        }
        json_array_foreach(ports, j, port)
        {
            count += json_array_size(addrs);
            json_array_foreach(addrs, k, addr)
            {
                if (listed == max)
                    break;
                if (r == 0)
                    r = append_endpoint(&b, str_or(s_at(addr, "ip"), ""), port);
                listed++;
            }
        }
    }
    if (r == 0 && count > max)
        r = kos_buf_printf(&b, " + %zu more...", count - max);
    cell_str(c, obj_str(ep, "metadata.name"));
    if (json_array_size(subsets) == 0)
        cell_str(c, "<none>");
    else
        cell_buf(c, &b, r, "");
    cell_age(c, ep);
}

static const struct table_column endpointslice_columns[] = {
    {"Name", "string", "name", D_NAME, 0},
    {"AddressType", "string", "", "The IP protocol for this slice.", 0},
    {"Ports", "string", "", "The ports for this slice.", 0},
    {"Endpoints", "string", "", "Endpoints in this slice.", 0},
    {"Age", "string", "", D_AGE, 0},
};

/* kube's formatDiscoveryPorts / formatDiscoveryEndpoints: the first three, then a count. */
static void endpointslice_cells(struct table_cells *c, const json_t *slice)
{
    const size_t max = 3;
    _cleanup_buf_ struct kos_buf ports, eps;
    kos_buf_init(&ports, TABLE_CELL_MAX);
    kos_buf_init(&eps, TABLE_CELL_MAX);
    int rp = 0, re = 0;
    size_t i, j, count = 0;
    const json_t *p, *ep, *addr;
    json_array_foreach(json_object_get(slice, "ports"), i, p)
    {
        if (i == max)
            break;
        const json_t *port = json_object_get(p, "port");
        if (rp == 0)
            rp = json_is_integer(port) ? kos_buf_printf(&ports, "%s%lld", i ? "," : "",
                                                        (long long)json_integer_value(port))
                                       : kos_buf_printf(&ports, "%s<unset>", i ? "," : "");
    }
    size_t np = json_array_size(json_object_get(slice, "ports"));
    if (rp == 0 && np > max)
        rp = kos_buf_printf(&ports, " + %zu more...", np - max);
    json_array_foreach(json_object_get(slice, "endpoints"), i, ep)
    {
        json_array_foreach(json_object_get(ep, "addresses"), j, addr)
        {
            if (count < max && re == 0)
                re = kos_buf_printf(&eps, "%s%s", count ? "," : "",
                                    str_or(json_string_value(addr), ""));
            count++;
        }
    }
    if (re == 0 && count > max)
        re = kos_buf_printf(&eps, " + %zu more...", count - max);
    cell_str(c, obj_str(slice, "metadata.name"));
    cell_str(c, s_at(slice, "addressType"));
    cell_buf(c, &ports, rp, "<unset>");
    cell_buf(c, &eps, re, "<unset>");
    cell_age(c, slice);
}

#define PRINTER(g, k, cols, fn)                                                                    \
    {                                                                                              \
        g, k, cols, sizeof(cols) / sizeof(cols[0]), fn                                             \
    }

const struct table_printer table_printers_apps[] = {
    PRINTER("apps", "Deployment", deployment_columns, deployment_cells),
    PRINTER("apps", "ReplicaSet", replicaset_columns, replicaset_cells),
    PRINTER("apps", "StatefulSet", statefulset_columns, statefulset_cells),
    PRINTER("apps", "DaemonSet", daemonset_columns, daemonset_cells),
    PRINTER("batch", "Job", job_columns, job_cells),
    PRINTER("", "Service", service_columns, service_cells),
    PRINTER("", "Endpoints", endpoints_columns, endpoints_cells),
    PRINTER("discovery.k8s.io", "EndpointSlice", endpointslice_columns, endpointslice_cells),
    {NULL, NULL, NULL, 0, NULL},
};
