/* What a pod's containers share, set up before they start: the pod's network, its
 * /etc/hosts, /etc/hostname and /etc/resolv.conf, and the API lookups its environment,
 * volumes and service-account token need. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/pods/runc_internal.h"
#include "agent/pods/sa_token.h"
#include "agent/network/pod_files.h"
#include "agent/network/podnet.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

int runc_api_lookup(void *ud, const char *kind, const char *ns, const char *name, json_t **ret)
{
    struct rt *rt = ud;
    if (!rt->env.client)
        return -ENOENT;
    const struct kos_kind *k = kos_client_kind_of("v1", kind);
    if (!k)
        return -EINVAL;
    struct kos_ref ref = {.kind = k, .ns = ns, .name = name};
    return kos_client_get(rt->env.client, &ref, ret, NULL);
}

static int token_fetch(void *ud, const char *ns, const char *name, const json_t *body, json_t **ret,
                       struct kos_error **err)
{
    struct rt *rt = ud;
    if (!rt->env.client)
        return -ENOENT;
    struct kos_ref ref = {
        .kind = kos_client_kind_of("v1", "ServiceAccount"), .ns = ns, .name = name, .sub = "token"};
    if (!ref.kind)
        return -EINVAL;
    return kos_client_create(rt->env.client, &ref, body, ret, err);
}

int runc_project_token(void *ud, const json_t *pod, const char *pod_dir, const char *vol,
                       const json_t *src, const char *dir, int mode, struct kos_error **err)
{
    return kos_sa_token_project(pod, pod_dir, vol, src, dir, mode, token_fetch, ud, err);
}

/* Writes a file that containers have bind-mounted: in place (a rename would leave their
 * mounts on the old inode), and only when its content changed (every sync writes it). */
static int write_shared_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (kos_file_has(path, data, len, 0644))
        return 0;
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || fchmod(fd, 0644) < 0 || ftruncate(fd, 0) < 0)
        return -errno;
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Files every container of the pod shares: /etc/hosts, /etc/hostname, /etc/resolv.conf
 * (agent/network/pod_files.h has their texts). *missing_dns tells the kubelet's
 * MissingClusterDNS fallback. */
int runc_pod_files(const json_t *pod, const char *pod_dir, const char *pod_ip, bool *missing_dns)
{
    char node_name[256] = "";
    gethostname(node_name, sizeof(node_name) - 1);
    char hostname[64];
    kos_pod_hostname(pod, node_name, hostname, sizeof(hostname));
    char hostname_line[sizeof(hostname) + 1];
    snprintf(hostname_line, sizeof(hostname_line), "%s\n", hostname);
    _cleanup_free_ char *node_hosts = NULL, *node_resolv = NULL;
    size_t len;
    (void)kos_read_file("/etc/hosts", 1 << 20, &node_hosts, &len);
    (void)kos_read_file("/etc/resolv.conf", 1 << 20, &node_resolv, &len);
    _cleanup_buf_ struct kos_buf hosts, resolv;
    kos_buf_init(&hosts, 2 << 20);
    kos_buf_init(&resolv, 1 << 20);
    int r = kos_pod_hosts_content(pod, pod_ip, node_hosts, node_name, &hosts);
    if (r == 0)
        r = kos_pod_resolv_content(pod, node_resolv, missing_dns, &resolv);
    if (r < 0)
        return r;
    const struct {
        const char *name;
        const char *text;
        size_t len;
    } files[] = {
        {"etc-hosts", hosts.data ? hosts.data : "", hosts.len},
        {"etc-hostname", hostname_line, strlen(hostname_line)},
        {"resolv.conf", resolv.data ? resolv.data : "", resolv.len},
    };
    for (size_t i = 0; i < ARRAY_SIZE(files); i++)
        if ((r = write_shared_file(pod_dir, files[i].name, files[i].text, files[i].len)) < 0)
            return r;
    return 0;
}

/* The pod's own network (unless hostNetwork or the node has no pod network): 0 when the
 * containers may start. A failure leaves the containers waiting in ContainerCreating with
 * the reason, and an event the first time each reason shows (the kubelet's
 * FailedCreatePodSandBox / NetworkNotReady). */
int runc_pod_network(struct rt *rt, struct pod_entry *e, const json_t *pod)
{
    const json_t *spec = json_object_get(pod, "spec");
    if (!rt->env.network || json_is_true(json_object_get(spec, "hostNetwork"))) {
        e->pod_ip[0] = e->netns[0] = '\0';
        return 0;
    }
    _cleanup_error_ struct kos_error *err = NULL;
    int r = kos_podnet_setup(rt->env.network, e->uid, e->netns, sizeof(e->netns), e->pod_ip,
                             sizeof(e->pod_ip), &err);
    if (r == 0) {
        if (e->net_err[0]) {
            /* the network is there now (e.g. the podCIDR came after an agent restart):
             * containers that kept running were marked waiting for it; they are not */
            const char *key;
            json_t *w, *tmp;
            json_object_foreach_safe(e->waiting, tmp, key, w)
            {
                const char *msg = jstr(w, "message");
                if (msg && strcmp(msg, e->net_err) == 0)
                    json_object_del(e->waiting, key);
            }
        }
        e->net_err[0] = '\0';
        return 0;
    }
    const char *msg = err && err->message ? err->message : strerror(-r);
    const char *reason = err ? err->reason : "FailedCreatePodSandBox";
    if (strcmp(e->net_err, msg) != 0) {
        kos_strlcpy(e->net_err, msg, sizeof(e->net_err));
        if (rt->events)
            (void)kos_event_record(rt->events, pod, KOS_EVENT_WARNING, reason, "%s", msg);
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, "initContainers"), i, c)
        runc_set_waiting(e, jstr(c, "name"), "ContainerCreating", msg);
    json_array_foreach(json_object_get(spec, "containers"), i, c)
        runc_set_waiting(e, jstr(c, "name"), "ContainerCreating", msg);
    return r;
}

/* status.podIP(s): the pod's own address once it has one (the status builder puts the
 * node's there, right for hostNetwork pods). */
void runc_set_pod_ip(json_t *st, const struct pod_entry *e)
{
    if (!st)
        return;
    if (e->pod_ip[0]) {
        json_object_set_new(st, "podIP", json_string(e->pod_ip));
        json_object_set_new(st, "podIPs", json_pack("[{ss}]", "ip", e->pod_ip));
    } else if (e->net_err[0]) {
        json_object_del(st, "podIP");
        json_object_del(st, "podIPs");
    }
}
