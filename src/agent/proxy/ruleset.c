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
static int add_endpoints(struct proxy_port *pp, const char *port_name, const char *proto,
                         const json_t *slices)
{
    size_t i, j, k;
    const json_t *s, *p, *ep;
    json_array_foreach(slices, i, s)
    {
        if (!kos_streq_null(str(s, "addressType", NULL), "IPv4"))
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

static int cmp_ep(const void *a, const void *b)
{
    const struct proxy_endpoint *x = a, *y = b;
    int c = strcmp(x->ip, y->ip);
    return c ? c : (int)x->port - (int)y->port;
}

static int cmp_port(const void *a, const void *b)
{
    return strcmp(((const struct proxy_port *)a)->id, ((const struct proxy_port *)b)->id);
}

int proxy_model_build(const json_t *services, const json_t *slices, struct proxy_model *ret)
{
    struct proxy_model m = {0};
    size_t i, j;
    const json_t *svc, *sp;
    int r = 0;
    /* the slices by "namespace/service" (a jansson object as the hash) */
    json_t *by_svc = json_object();
    if (!by_svc)
        return -ENOMEM;
    json_array_foreach(slices, i, svc)
    {
        const json_t *labels = json_object_get(json_object_get(svc, "metadata"), "labels");
        const char *owner =
            json_string_value(json_object_get(labels, "kubernetes.io/service-name"));
        const char *ns = str(svc, "metadata", "namespace");
        char key[512];
        if (!owner || !ns || snprintf(key, sizeof(key), "%s/%s", ns, owner) >= (int)sizeof(key))
            continue;
        json_t *list = json_object_get(by_svc, key);
        if (!list && (!(list = json_array()) || json_object_set_new(by_svc, key, list) < 0)) {
            json_decref(by_svc);
            return -ENOMEM;
        }
        json_array_append(list, (json_t *)svc);
    }
    json_array_foreach(services, i, svc)
    {
        const char *cip = str(svc, "spec", "clusterIP");
        const char *type = str(svc, "spec", "type");
        if (!ipv4(cip) || kos_streq_null(type, "ExternalName"))
            continue;
        const char *ns = str(svc, "metadata", "namespace"), *name = str(svc, "metadata", "name");
        char key[512];
        if (!ns || !name || snprintf(key, sizeof(key), "%s/%s", ns, name) >= (int)sizeof(key))
            continue;
        const json_t *mine = json_object_get(by_svc, key);
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
            r = add_endpoints(pp, pname ? pname : "", proto ? proto : "TCP", mine);
            if (r < 0)
                break;
        }
        if (r < 0)
            break;
    }
    json_decref(by_svc);
    if (r < 0) {
        proxy_model_clear(&m);
        return r;
    }
    /* a stable order: the diff walks two models side by side, endpoint i keeps its chain */
    for (size_t k = 0; k < m.nports; k++)
        if (m.ports[k].neps > 1)
            qsort(m.ports[k].eps, m.ports[k].neps, sizeof(*m.ports[k].eps), cmp_ep);
    if (m.nports > 1)
        qsort(m.ports, m.nports, sizeof(*m.ports), cmp_port);
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

/* ---- incremental ---------------------------------------------------------------------- */

#define T "ip " KOS_PROXY_TABLE

static bool same_port(const struct proxy_port *a, const struct proxy_port *b)
{
    if (strcmp(a->cluster_ip, b->cluster_ip) != 0 || strcmp(a->proto, b->proto) != 0 ||
        a->port != b->port || a->node_port != b->node_port || a->neps != b->neps)
        return false;
    for (size_t i = 0; i < a->neps; i++)
        if (strcmp(a->eps[i].ip, b->eps[i].ip) != 0 || a->eps[i].port != b->eps[i].port)
            return false;
    return true;
}

/* Drops the map elements of o (what nft holds for it). */
static int diff_remove_elements(const struct proxy_port *o, struct kos_buf *out)
{
    int r = kos_buf_printf(out, "delete element " T " %s { %s . %s . %u }\n",
                           o->neps ? "service-ips" : "no-endpoint-services", o->cluster_ip,
                           o->proto, (unsigned)o->port);
    if (r == 0 && o->node_port)
        r = kos_buf_printf(out, "delete element " T " %s { %s . %u }\n",
                           o->neps ? "service-nodeports" : "no-endpoint-nodeports", o->proto,
                           (unsigned)o->node_port);
    return r;
}

/* Chains and map elements of n. */
static int diff_add(const struct proxy_port *n, const char *cidr, struct kos_buf *out)
{
    char id[20];
    chain_id(n, id, sizeof(id));
    int r = 0;
#define P(...)                                                                                     \
    do {                                                                                           \
        if (r == 0)                                                                                \
            r = kos_buf_printf(out, __VA_ARGS__);                                                  \
    } while (0)
    if (n->neps == 0) {
        P("add element " T " no-endpoint-services { %s . %s . %u : goto reject-chain }\n",
          n->cluster_ip, n->proto, (unsigned)n->port);
        if (n->node_port)
            P("add element " T " no-endpoint-nodeports { %s . %u : goto reject-chain }\n", n->proto,
              (unsigned)n->node_port);
        return r;
    }
    for (size_t e = 0; e < n->neps; e++) {
        P("add chain " T " sep-%s-%zu\nflush chain " T " sep-%s-%zu\n", id, e, id, e);
        P("add rule " T " sep-%s-%zu ip saddr %s jump mark-for-masquerade\n", id, e, n->eps[e].ip);
        P("add rule " T " sep-%s-%zu meta l4proto %s dnat to %s:%u\n", id, e, n->proto,
          n->eps[e].ip, (unsigned)n->eps[e].port);
    }
    P("add chain " T " svc-%s { comment \"%s\"; }\nflush chain " T " svc-%s\n", id, n->id, id);
    if (cidr)
        P("add rule " T " svc-%s ip daddr %s %s dport %u ip saddr != %s jump "
          "mark-for-masquerade\n",
          id, n->cluster_ip, n->proto, (unsigned)n->port, cidr);
    if (n->neps == 1) {
        P("add rule " T " svc-%s goto sep-%s-0\n", id, id);
    } else {
        P("add rule " T " svc-%s numgen random mod %zu vmap {", id, n->neps);
        for (size_t e = 0; e < n->neps; e++)
            P("%s %zu : goto sep-%s-%zu", e ? "," : "", e, id, e);
        P(" }\n");
    }
    if (n->node_port) {
        P("add chain " T " ext-%s\nflush chain " T " ext-%s\n", id, id);
        P("add rule " T " ext-%s jump mark-for-masquerade\nadd rule " T " ext-%s goto svc-%s\n", id,
          id, id);
    }
    P("add element " T " service-ips { %s . %s . %u : goto svc-%s }\n", n->cluster_ip, n->proto,
      (unsigned)n->port, id);
    if (n->node_port)
        P("add element " T " service-nodeports { %s . %u : goto ext-%s }\n", n->proto,
          (unsigned)n->node_port, id);
    return r;
}

/* The chains o had that n (NULL: gone) does not use any more: emptied first, then deleted
 * (nft deletes only empty, unreferenced chains). */
static int diff_drop_chains(const struct proxy_port *o, const struct proxy_port *n,
                            struct kos_buf *out)
{
    if (o->neps == 0)
        return 0;
    char id[20];
    chain_id(o, id, sizeof(id));
    size_t keep = n ? n->neps : 0;
    bool drop_svc = keep == 0;
    bool drop_ext = o->node_port && (drop_svc || !n->node_port);
    int r = 0;
    if (drop_ext)
        P("flush chain " T " ext-%s\n", id);
    if (drop_svc)
        P("flush chain " T " svc-%s\n", id);
    for (size_t e = keep; e < o->neps; e++)
        P("flush chain " T " sep-%s-%zu\n", id, e);
    if (drop_ext)
        P("delete chain " T " ext-%s\n", id);
    if (drop_svc)
        P("delete chain " T " svc-%s\n", id);
    for (size_t e = keep; e < o->neps; e++)
        P("delete chain " T " sep-%s-%zu\n", id, e);
#undef P
    return r;
}

int proxy_render_diff(const struct proxy_model *old, const struct proxy_model *m,
                      const char *cluster_cidr, struct kos_buf *out, size_t *ret_changed)
{
    size_t i = 0, j = 0, changed = 0;
    int r = 0;
    while (r == 0 && (i < old->nports || j < m->nports)) {
        const struct proxy_port *o = i < old->nports ? &old->ports[i] : NULL;
        const struct proxy_port *n = j < m->nports ? &m->ports[j] : NULL;
        int c = !o ? 1 : !n ? -1 : strcmp(o->id, n->id);
        if (c == 0 && same_port(o, n)) {
            i++, j++;
            continue;
        }
        changed++;
        if (c < 0) { /* gone */
            r = diff_remove_elements(o, out);
            if (r == 0)
                r = diff_drop_chains(o, NULL, out);
            i++;
        } else if (c > 0) { /* new */
            r = diff_add(n, cluster_cidr, out);
            j++;
        } else {
            r = diff_remove_elements(o, out);
            if (r == 0)
                r = diff_add(n, cluster_cidr, out);
            if (r == 0)
                r = diff_drop_chains(o, n, out);
            i++, j++;
        }
    }
    if (ret_changed)
        *ret_changed = changed;
    return r;
}

int proxy_render_flush(struct kos_buf *out)
{
    return kos_buf_printf(out, "add table ip " KOS_PROXY_TABLE "\ndelete table ip " KOS_PROXY_TABLE
                               "\n");
}
