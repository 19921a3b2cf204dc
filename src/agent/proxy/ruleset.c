#include "agent/proxy/ruleset.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strutil.h"

#define MASQ_MARK "0x4000"

static const char *str(const json_t *o, const char *a, const char *b)
{
    const json_t *x = json_object_get(o, a);
    return json_string_value(b ? json_object_get(x, b) : x);
}

static bool ipv4(const char *s)
{
    struct in_addr in;
    return s && inet_pton(AF_INET, s, &in) == 1;
}

static void lower(char *out, size_t size, const char *proto)
{
    size_t i = 0;
    for (; proto && proto[i] && i + 1 < size; i++)
        out[i] = (char)(proto[i] >= 'A' && proto[i] <= 'Z' ? proto[i] + 32 : proto[i]);
    out[i] = '\0';
}

/* The ready endpoints of (ns, svc, port name, protocol) from every slice of the Service. */
static int add_endpoints(struct proxy_port *pp, const char *ns, const char *svc,
                         const char *port_name, const char *proto, const json_t *slices)
{
    size_t i, j, k;
    const json_t *s, *p, *ep;
    json_array_foreach(slices, i, s)
    {
        const json_t *labels = json_object_get(json_object_get(s, "metadata"), "labels");
        if (!kos_streq_null(str(s, "metadata", "namespace"), ns) ||
            !kos_streq_null(
                json_string_value(json_object_get(labels, "kubernetes.io/service-name")), svc) ||
            !kos_streq_null(str(s, "addressType", NULL), "IPv4"))
            continue;
        json_int_t port = 0;
        json_array_foreach(json_object_get(s, "ports"), j, p)
        {
            const char *n = str(p, "name", NULL), *pr = str(p, "protocol", NULL);
            if (strcmp(n ? n : "", port_name) == 0 && strcmp(pr ? pr : "TCP", proto) == 0)
                port = json_integer_value(json_object_get(p, "port"));
        }
        if (port <= 0 || port > 65535)
            continue;
        json_array_foreach(json_object_get(s, "endpoints"), j, ep)
        {
            /* kube-proxy: ready unset counts as ready */
            if (json_is_false(json_object_get(json_object_get(ep, "conditions"), "ready")))
                continue;
            json_array_foreach(json_object_get(ep, "addresses"), k, p)
            {
                const char *ip = json_string_value(p);
                if (!ipv4(ip))
                    continue;
                struct proxy_endpoint *n = realloc(pp->eps, (pp->neps + 1) * sizeof(*pp->eps));
                if (!n)
                    return -ENOMEM;
                pp->eps = n;
                kos_strlcpy(n[pp->neps].ip, ip, sizeof(n[pp->neps].ip));
                n[pp->neps].port = (uint16_t)port;
                pp->neps++;
                break; /* one address per endpoint, as kube-proxy takes it */
            }
        }
    }
    return 0;
}

int proxy_model_build(const json_t *services, const json_t *slices, struct proxy_model *ret)
{
    struct proxy_model m = {0};
    size_t i, j;
    const json_t *svc, *sp;
    int r = 0;
    json_array_foreach(services, i, svc)
    {
        const char *cip = str(svc, "spec", "clusterIP");
        const char *type = str(svc, "spec", "type");
        if (!ipv4(cip) || kos_streq_null(type, "ExternalName"))
            continue;
        const char *ns = str(svc, "metadata", "namespace"), *name = str(svc, "metadata", "name");
        if (!ns || !name)
            continue;
        json_array_foreach(json_object_get(json_object_get(svc, "spec"), "ports"), j, sp)
        {
            const char *pname = str(sp, "name", NULL), *proto = str(sp, "protocol", NULL);
            json_int_t port = json_integer_value(json_object_get(sp, "port"));
            json_int_t np = json_integer_value(json_object_get(sp, "nodePort"));
            if (port <= 0 || port > 65535)
                continue;
            struct proxy_port *n = realloc(m.ports, (m.nports + 1) * sizeof(*m.ports));
            if (!n) {
                r = -ENOMEM;
                break;
            }
            m.ports = n;
            struct proxy_port *pp = &m.ports[m.nports++];
            *pp = (struct proxy_port){.port = (uint16_t)port,
                                      .node_port = np > 0 && np <= 65535 ? (uint16_t)np : 0};
            kos_strlcpy(pp->cluster_ip, cip, sizeof(pp->cluster_ip));
            lower(pp->proto, sizeof(pp->proto), proto ? proto : "TCP");
            snprintf(pp->id, sizeof(pp->id), "%s/%s:%s/%s", ns, name, pname ? pname : "",
                     pp->proto);
            r = add_endpoints(pp, ns, name, pname ? pname : "", proto ? proto : "TCP", slices);
            if (r < 0)
                break;
        }
        if (r < 0)
            break;
    }
    if (r < 0) {
        proxy_model_clear(&m);
        return r;
    }
    *ret = m;
    return 0;
}

void proxy_model_clear(struct proxy_model *m)
{
    for (size_t i = 0; i < m->nports; i++)
        free(m->ports[i].eps);
    free(m->ports);
    *m = (struct proxy_model){0};
}

/* A short stable chain name for a service port: FNV-1a of its id, as kube-proxy hashes its
 * chain names (nft identifiers are limited and ids hold characters chains cannot). */
static void chain_id(const struct proxy_port *pp, char *out, size_t size)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *s = pp->id; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    snprintf(out, size, "%016llx", (unsigned long long)h);
}

int proxy_render(const struct proxy_model *m, const char *cluster_cidr, struct kos_buf *out)
{
    int r = 0;
#define P(...)                                                                                     \
    do {                                                                                           \
        if (r == 0)                                                                                \
            r = kos_buf_printf(out, __VA_ARGS__);                                                  \
    } while (0)
    /* add then delete: the delete never fails, and the whole file is one transaction */
    P("add table ip " KOS_PROXY_TABLE "\ndelete table ip " KOS_PROXY_TABLE "\n");
    P("table ip " KOS_PROXY_TABLE " {\n");
    P("  comment \"kos node proxy: Services\"\n");
    P("  chain mark-for-masquerade {\n    meta mark set meta mark | " MASQ_MARK "\n  }\n");
    P("  chain masquerading {\n    type nat hook postrouting priority srcnat; policy accept;\n"
      "    meta mark & " MASQ_MARK " == 0 return\n"
      "    meta mark set meta mark ^ " MASQ_MARK "\n    masquerade fully-random\n  }\n");
    P("  chain reject-chain {\n    reject\n  }\n");
    /* service and endpoint chains */
    for (size_t i = 0; i < m->nports; i++) {
        const struct proxy_port *pp = &m->ports[i];
        if (pp->neps == 0)
            continue;
        char id[20];
        chain_id(pp, id, sizeof(id));
        for (size_t e = 0; e < pp->neps; e++) {
            P("  chain sep-%s-%zu {\n", id, e);
            P("    ip saddr %s jump mark-for-masquerade\n", pp->eps[e].ip);
            P("    meta l4proto %s dnat to %s:%u\n  }\n", pp->proto, pp->eps[e].ip,
              (unsigned)pp->eps[e].port);
        }
        P("  chain svc-%s {\n    comment \"%s\"\n", id, pp->id);
        if (cluster_cidr)
            P("    ip daddr %s %s dport %u ip saddr != %s jump mark-for-masquerade\n",
              pp->cluster_ip, pp->proto, (unsigned)pp->port, cluster_cidr);
        if (pp->neps == 1) {
            P("    goto sep-%s-0\n  }\n", id);
        } else {
            P("    numgen random mod %zu vmap {", pp->neps);
            for (size_t e = 0; e < pp->neps; e++)
                P("%s %zu : goto sep-%s-%zu", e ? "," : "", e, id, e);
            P(" }\n  }\n");
        }
        if (pp->node_port)
            P("  chain ext-%s {\n    jump mark-for-masquerade\n    goto svc-%s\n  }\n", id, id);
    }
    /* the maps */
    P("  map service-ips {\n    type ipv4_addr . inet_proto . inet_service : verdict\n");
    size_t n = 0;
    for (size_t i = 0; i < m->nports; i++) {
        const struct proxy_port *pp = &m->ports[i];
        if (pp->neps == 0)
            continue;
        char id[20];
        chain_id(pp, id, sizeof(id));
        P("%s %s . %s . %u : goto svc-%s", n++ ? "," : "    elements = {", pp->cluster_ip,
          pp->proto, (unsigned)pp->port, id);
    }
    P("%s  }\n", n ? " }\n" : "");
    P("  map service-nodeports {\n    type inet_proto . inet_service : verdict\n");
    n = 0;
    for (size_t i = 0; i < m->nports; i++) {
        const struct proxy_port *pp = &m->ports[i];
        if (pp->neps == 0 || !pp->node_port)
            continue;
        char id[20];
        chain_id(pp, id, sizeof(id));
        P("%s %s . %u : goto ext-%s", n++ ? "," : "    elements = {", pp->proto,
          (unsigned)pp->node_port, id);
    }
    P("%s  }\n", n ? " }\n" : "");
    P("  map no-endpoint-services {\n    type ipv4_addr . inet_proto . inet_service : verdict\n");
    n = 0;
    for (size_t i = 0; i < m->nports; i++) {
        const struct proxy_port *pp = &m->ports[i];
        if (pp->neps == 0)
            P("%s %s . %s . %u : goto reject-chain", n++ ? "," : "    elements = {", pp->cluster_ip,
              pp->proto, (unsigned)pp->port);
    }
    P("%s  }\n", n ? " }\n" : "");
    P("  map no-endpoint-nodeports {\n    type inet_proto . inet_service : verdict\n");
    n = 0;
    for (size_t i = 0; i < m->nports; i++) {
        const struct proxy_port *pp = &m->ports[i];
        if (pp->neps == 0 && pp->node_port)
            P("%s %s . %u : goto reject-chain", n++ ? "," : "    elements = {", pp->proto,
              (unsigned)pp->node_port);
    }
    P("%s  }\n", n ? " }\n" : "");
    /* dispatch */
    P("  chain services {\n"
      "    ip daddr . meta l4proto . th dport vmap @service-ips\n"
      "    fib daddr type local meta l4proto . th dport vmap @service-nodeports\n  }\n");
    P("  chain nat-prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
      "    jump services\n  }\n");
    P("  chain nat-output {\n    type nat hook output priority -100; policy accept;\n"
      "    jump services\n  }\n");
    P("  chain filter-endpoints {\n"
      "    ip daddr . meta l4proto . th dport vmap @no-endpoint-services\n"
      "    fib daddr type local meta l4proto . th dport vmap @no-endpoint-nodeports\n  }\n");
    P("  chain filter-output {\n    type filter hook output priority -110; policy accept;\n"
      "    ct state new jump filter-endpoints\n  }\n");
    P("  chain filter-forward {\n    type filter hook forward priority -110; policy accept;\n"
      "    ct state new jump filter-endpoints\n  }\n");
    P("  chain filter-input {\n    type filter hook input priority -110; policy accept;\n"
      "    ct state new jump filter-endpoints\n  }\n");
    P("}\n");
#undef P
    return r;
}

int proxy_render_flush(struct kos_buf *out)
{
    return kos_buf_printf(out, "add table ip " KOS_PROXY_TABLE "\ndelete table ip " KOS_PROXY_TABLE
                               "\n");
}
