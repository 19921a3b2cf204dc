/* /etc/hosts, /etc/hostname and /etc/resolv.conf of a pod, as the kubelet (kubelet_pods.go,
 * network/dns/dns.go) and containerd (the resolv.conf text) produce them. */
#include "agent/network/pod_files.h"

#include <errno.h>
#include <string.h>

#include "util/strutil.h"

/* the kubelet's limits (validation.MaxDNSNameservers, MaxDNSSearchPaths) */
#define MAX_SERVERS  3
#define MAX_SEARCHES 32
#define MAX_OPTIONS  32
#define WORD_MAX     256

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool host_network(const json_t *pod)
{
    return json_is_true(json_object_get(json_object_get(pod, "spec"), "hostNetwork"));
}

void kos_pod_hostname(const json_t *pod, const char *node_hostname, char *out, size_t size)
{
    const json_t *spec = json_object_get(pod, "spec");
    const char *h = host_network(pod) ? node_hostname : jstr(spec, "hostname");
    if (!h || !*h)
        h = jstr(json_object_get(pod, "metadata"), "name");
    char buf[64];
    kos_strlcpy(buf, h ? h : "", sizeof(buf)); /* at most 63 */
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '-' || buf[n - 1] == '.'))
        buf[--n] = '\0';
    kos_strlcpy(out, buf, size);
}

static int host_aliases(const json_t *pod, struct kos_buf *out)
{
    const json_t *aliases = json_object_get(json_object_get(pod, "spec"), "hostAliases");
    if (json_array_size(aliases) == 0)
        return 0;
    int r = kos_buf_append_str(out, "\n# Entries added by HostAliases.\n");
    size_t i, j;
    json_t *a, *h;
    json_array_foreach(aliases, i, a)
    {
        if (r == 0)
            r = kos_buf_append_str(out, jstr(a, "ip") ? jstr(a, "ip") : "");
        json_array_foreach(json_object_get(a, "hostnames"), j, h)
        {
            if (r == 0 && json_is_string(h))
                r = kos_buf_printf(out, "\t%s", json_string_value(h));
        }
        if (r == 0)
            r = kos_buf_append_str(out, "\n");
    }
    return r;
}

int kos_pod_hosts_content(const json_t *pod, const char *pod_ip, const char *node_hosts,
                          const char *node_hostname, struct kos_buf *out)
{
    int r;
    if (host_network(pod)) {
        r = kos_buf_append_str(out, "# Kubernetes-managed hosts file (host network).\n");
        if (r == 0 && node_hosts)
            r = kos_buf_append_str(out, node_hosts);
        return r < 0 ? r : host_aliases(pod, out);
    }
    char name[64];
    kos_pod_hostname(pod, node_hostname, name, sizeof(name));
    r = kos_buf_append_str(out, "# Kubernetes-managed hosts file.\n"
                                "127.0.0.1\tlocalhost\n"
                                "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                "fe00::0\tip6-localnet\n"
                                "fe00::0\tip6-mcastprefix\n"
                                "fe00::1\tip6-allnodes\n"
                                "fe00::2\tip6-allrouters\n");
    const json_t *spec = json_object_get(pod, "spec");
    const char *sub = jstr(spec, "subdomain");
    const char *ns = jstr(json_object_get(pod, "metadata"), "namespace");
    if (r == 0 && pod_ip && *pod_ip) {
        if (sub && *sub)
            r = kos_buf_printf(out, "%s\t%s.%s.%s.svc.%s\t%s\n", pod_ip, name, sub,
                               ns ? ns : "default", KOS_CLUSTER_DOMAIN, name);
        else
            r = kos_buf_printf(out, "%s\t%s\n", pod_ip, name);
    }
    return r < 0 ? r : host_aliases(pod, out);
}

struct dns {
    char servers[MAX_SERVERS * 2][WORD_MAX];
    size_t nservers;
    char searches[MAX_SEARCHES * 2][WORD_MAX];
    size_t nsearches;
    char options[MAX_OPTIONS][WORD_MAX]; /* "name" or "name:value" */
    size_t noptions;
};

static bool has(char list[][WORD_MAX], size_t n, const char *w)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], w) == 0)
            return true;
    return false;
}

static void add_word(char list[][WORD_MAX], size_t *n, size_t max, const char *w, size_t len)
{
    if (len == 0 || len >= WORD_MAX || *n >= max)
        return;
    char tmp[WORD_MAX];
    memcpy(tmp, w, len);
    tmp[len] = '\0';
    if (has(list, *n, tmp))
        return; /* omitDuplicates */
    memcpy(list[(*n)++], tmp, len + 1);
}

/* An option replaces one of the same name (the pod's options override the node's). */
static void set_option(struct dns *d, const char *opt, size_t len)
{
    if (len == 0 || len >= WORD_MAX)
        return;
    size_t name_len = strcspn(opt, ":");
    if (name_len > len)
        name_len = len;
    for (size_t i = 0; i < d->noptions; i++) {
        if (strncmp(d->options[i], opt, name_len) == 0 &&
            (d->options[i][name_len] == '\0' || d->options[i][name_len] == ':')) {
            memcpy(d->options[i], opt, len);
            d->options[i][len] = '\0';
            return;
        }
    }
    if (d->noptions < MAX_OPTIONS) {
        memcpy(d->options[d->noptions], opt, len);
        d->options[d->noptions++][len] = '\0';
    }
}

/* The node's resolv.conf: nameserver, search/domain, options lines (the kubelet's
 * parseResolvConf; the last search or domain line wins). */
static void parse_resolv(const char *text, struct dns *d)
{
    const char *p = text ? text : "";
    while (*p) {
        size_t n = strcspn(p, "\n");
        char line[1024];
        size_t ln = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
        memcpy(line, p, ln);
        line[ln] = '\0';
        p += n;
        if (*p == '\n')
            p++;
        line[strcspn(line, "#;")] = '\0';
        char *save = NULL, *words[64];
        size_t nw = 0;
        for (char *w = strtok_r(line, " \t\r", &save); w && nw < 64;
             w = strtok_r(NULL, " \t\r", &save))
            words[nw++] = w;
        if (nw == 0)
            continue;
        if (strcmp(words[0], "nameserver") == 0 && nw > 1) {
            add_word(d->servers, &d->nservers, MAX_SERVERS * 2, words[1], strlen(words[1]));
        } else if (strcmp(words[0], "search") == 0 || strcmp(words[0], "domain") == 0) {
            d->nsearches = 0;
            for (size_t i = 1; i < nw; i++)
                if (strcmp(words[i], ".") != 0)
                    add_word(d->searches, &d->nsearches, MAX_SEARCHES * 2, words[i],
                             strlen(words[i]));
        } else if (strcmp(words[0], "options") == 0) {
            for (size_t i = 1; i < nw; i++)
                set_option(d, words[i], strlen(words[i]));
        }
    }
}

static void apply_dns_config(const json_t *cfg, struct dns *d)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cfg, "nameservers"), i, v)
    {
        if (json_is_string(v))
            add_word(d->servers, &d->nservers, MAX_SERVERS * 2, json_string_value(v),
                     strlen(json_string_value(v)));
    }
    /* the pod's searches come first */
    struct dns pod = {0};
    json_array_foreach(json_object_get(cfg, "searches"), i, v)
    {
        if (json_is_string(v))
            add_word(pod.searches, &pod.nsearches, MAX_SEARCHES * 2, json_string_value(v),
                     strlen(json_string_value(v)));
    }
    for (size_t k = 0; k < d->nsearches; k++)
        add_word(pod.searches, &pod.nsearches, MAX_SEARCHES * 2, d->searches[k],
                 strlen(d->searches[k]));
    memcpy(d->searches, pod.searches, sizeof(d->searches));
    d->nsearches = pod.nsearches;
    json_array_foreach(json_object_get(cfg, "options"), i, v)
    {
        const char *name = jstr(v, "name");
        if (!name || !*name)
            continue;
        char opt[WORD_MAX];
        const char *val = jstr(v, "value");
        int n = val ? snprintf(opt, sizeof(opt), "%s:%s", name, val)
                    : snprintf(opt, sizeof(opt), "%s", name);
        if (n > 0 && (size_t)n < sizeof(opt))
            set_option(d, opt, (size_t)n);
    }
}

int kos_pod_resolv_content(const json_t *pod, const char *node_resolv, bool *fell_back,
                           struct kos_buf *out)
{
    const json_t *spec = json_object_get(pod, "spec");
    const char *policy = jstr(spec, "dnsPolicy");
    if (!policy || !*policy)
        policy = "ClusterFirst";
    *fell_back = false;
    static __thread struct dns d;
    memset(&d, 0, sizeof(d));
    if (strcmp(policy, "None") != 0) {
        /* no cluster DNS exists yet: ClusterFirst (and ClusterFirstWithHostNet) take the
         * node's resolver, as the kubelet without --cluster-dns does; a hostNetwork pod with
         * ClusterFirst gets the node's in any case */
        if ((strcmp(policy, "ClusterFirst") == 0 && !host_network(pod)) ||
            strcmp(policy, "ClusterFirstWithHostNet") == 0)
            *fell_back = true;
        parse_resolv(node_resolv, &d);
    }
    apply_dns_config(json_object_get(spec, "dnsConfig"), &d);
    if (d.nservers > MAX_SERVERS)
        d.nservers = MAX_SERVERS;
    if (d.nsearches > MAX_SEARCHES)
        d.nsearches = MAX_SEARCHES;
    int r = 0;
    if (d.nsearches > 0) {
        r = kos_buf_append_str(out, "search");
        for (size_t i = 0; r == 0 && i < d.nsearches; i++)
            r = kos_buf_printf(out, " %s", d.searches[i]);
        if (r == 0)
            r = kos_buf_append_str(out, "\n");
    }
    for (size_t i = 0; r == 0 && i < d.nservers; i++)
        r = kos_buf_printf(out, "nameserver %s\n", d.servers[i]);
    if (r == 0 && d.noptions > 0) {
        r = kos_buf_append_str(out, "options");
        for (size_t i = 0; r == 0 && i < d.noptions; i++)
            r = kos_buf_printf(out, " %s", d.options[i]);
        if (r == 0)
            r = kos_buf_append_str(out, "\n");
    }
    return r;
}
