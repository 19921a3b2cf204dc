#include "apiserver/services/service_alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/services/range_alloc.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define MAX_PORTS 256 /* node ports one Service may hold (validation bounds ports far lower) */

struct kos_svc_alloc {
    pthread_mutex_t lock;
    struct kos_range_alloc ips;   /* host-order IPv4 addresses */
    struct kos_range_alloc ports; /* node ports */
    char cidr[64];
    uint32_t port_lo, port_hi;
};

static int parse_cidr(const char *s, uint32_t *net, uint32_t *prefix)
{
    char addr[INET_ADDRSTRLEN];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof(addr))
        return -EINVAL;
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    struct in_addr in;
    int64_t p;
    if (inet_pton(AF_INET, addr, &in) != 1 || kos_parse_int64(slash + 1, &p) < 0 || p < 0 || p > 32)
        return -EINVAL;
    uint32_t mask = p == 0 ? 0 : ~0u << (32 - p);
    *net = ntohl(in.s_addr) & mask;
    *prefix = (uint32_t)p;
    return 0;
}

static int parse_port_range(const char *s, uint32_t *lo, uint32_t *hi)
{
    const char *sep = strpbrk(s, "-+");
    char first[16];
    int64_t a, b;
    if (!sep || (size_t)(sep - s) >= sizeof(first))
        return -EINVAL;
    memcpy(first, s, (size_t)(sep - s));
    first[sep - s] = '\0';
    if (kos_parse_int64(first, &a) < 0 || kos_parse_int64(sep + 1, &b) < 0)
        return -EINVAL;
    if (*sep == '+')
        b = a + b;
    if (a < 1 || b > 65535 || b < a)
        return -EINVAL;
    *lo = (uint32_t)a;
    *hi = (uint32_t)b;
    return 0;
}

int kos_svc_alloc_new(const char *cidr, const char *ports, struct kos_svc_alloc **ret,
                      struct kos_error **err)
{
    uint32_t net, prefix, lo, hi;
    if (parse_cidr(cidr, &net, &prefix) < 0)
        return kos_error_set(err, 400, "BadRequest",
                             "invalid --service-cluster-ip-range \"%s\": want an IPv4 CIDR", cidr);
    if (prefix < 12 || prefix > 30)
        return kos_error_set(err, 400, "BadRequest",
                             "--service-cluster-ip-range \"%s\": the prefix must be 12..30 (kube: "
                             "the range may not be larger than a /12)",
                             cidr);
    if (parse_port_range(ports, &lo, &hi) < 0)
        return kos_error_set(err, 400, "BadRequest",
                             "invalid --service-node-port-range \"%s\": want LOW-HIGH", ports);
    struct kos_svc_alloc *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    pthread_mutex_init(&a->lock, NULL);
    /* the network and broadcast addresses are never handed out */
    uint32_t size = (1u << (32 - prefix)) - 2;
    int r = kos_range_alloc_init(&a->ips, net + 1, size, kos_range_alloc_ip_band(size));
    if (r == 0)
        r = kos_range_alloc_init(&a->ports, lo, hi - lo + 1,
                                 kos_range_alloc_port_band(hi - lo + 1));
    if (r < 0) {
        kos_svc_alloc_free(a);
        return kos_error_set(err, 400, "BadRequest", "service ranges %s, %s: %s", cidr, ports,
                             strerror(-r));
    }
    snprintf(a->cidr, sizeof(a->cidr), "%s", cidr);
    a->port_lo = lo;
    a->port_hi = hi;
    *ret = a;
    return 0;
}

void kos_svc_alloc_free(struct kos_svc_alloc *a)
{
    if (!a)
        return;
    kos_range_alloc_free(&a->ips);
    kos_range_alloc_free(&a->ports);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

static void ip_string(uint32_t ip, char *out, size_t size)
{
    struct in_addr in = {.s_addr = htonl(ip)};
    if (!inet_ntop(AF_INET, &in, out, (socklen_t)size) && size)
        out[0] = '\0';
}

void kos_svc_alloc_first_ip(const struct kos_svc_alloc *a, char *out, size_t size)
{
    ip_string(a->ips.base, out, size);
}

/* ---- reading a Service -------------------------------------------------------------- */

static const char *spec_str(const json_t *svc, const char *key)
{
    return json_string_value(json_object_get(json_object_get(svc, "spec"), key));
}

static bool is_type(const json_t *svc, const char *type)
{
    const char *t = spec_str(svc, "type");
    return t && strcmp(t, type) == 0;
}

static bool needs_node_ports(const json_t *svc)
{
    if (is_type(svc, "NodePort"))
        return true;
    if (!is_type(svc, "LoadBalancer"))
        return false;
    const json_t *alloc =
        json_object_get(json_object_get(svc, "spec"), "allocateLoadBalancerNodePorts");
    return !json_is_false(alloc);
}

static bool parse_ip4(const char *s, uint32_t *ret)
{
    struct in_addr in;
    if (!s || inet_pton(AF_INET, s, &in) != 1)
        return false;
    *ret = ntohl(in.s_addr);
    return true;
}

/* The IPv4 cluster IPs a Service names (clusterIPs, else clusterIP). */
static size_t held_ips(const json_t *svc, uint32_t *out, size_t max)
{
    if (!svc || is_type(svc, "ExternalName"))
        return 0;
    const json_t *spec = json_object_get(svc, "spec");
    const json_t *ips = json_object_get(spec, "clusterIPs");
    size_t n = 0;
    if (json_array_size(ips) > 0) {
        for (size_t i = 0; i < json_array_size(ips) && n < max; i++)
            if (parse_ip4(json_string_value(json_array_get(ips, i)), &out[n]))
                n++;
    } else if (max > 0 &&
               parse_ip4(json_string_value(json_object_get(spec, "clusterIP")), &out[0])) {
        n = 1;
    }
    return n;
}

static size_t held_ports(const json_t *svc, uint32_t *out, size_t max)
{
    if (!svc)
        return 0;
    const json_t *ports = json_object_get(json_object_get(svc, "spec"), "ports");
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(ports) && n < max; i++) {
        json_int_t np = json_integer_value(json_object_get(json_array_get(ports, i), "nodePort"));
        if (np > 0 && np <= 65535)
            out[n++] = (uint32_t)np;
    }
    return n;
}

static bool contains(const uint32_t *v, size_t n, uint32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

void kos_svc_alloc_mark(struct kos_svc_alloc *a, const json_t *svc)
{
    uint32_t ips[4], ports[MAX_PORTS];
    size_t ni = held_ips(svc, ips, 4), np = held_ports(svc, ports, MAX_PORTS);
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < ni; i++)
        (void)kos_range_alloc_take(&a->ips, ips[i]);
    for (size_t i = 0; i < np; i++)
        (void)kos_range_alloc_take(&a->ports, ports[i]);
    pthread_mutex_unlock(&a->lock);
}

void kos_svc_alloc_release_diff(struct kos_svc_alloc *a, const json_t *held, const json_t *keep)
{
    uint32_t hi[4], ki[4], hp[MAX_PORTS], kp[MAX_PORTS];
    size_t nhi = held_ips(held, hi, 4), nki = held_ips(keep, ki, 4);
    size_t nhp = held_ports(held, hp, MAX_PORTS), nkp = held_ports(keep, kp, MAX_PORTS);
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < nhi; i++)
        if (!contains(ki, nki, hi[i]))
            kos_range_alloc_release(&a->ips, hi[i]);
    for (size_t i = 0; i < nhp; i++)
        if (!contains(kp, nkp, hp[i]))
            kos_range_alloc_release(&a->ports, hp[i]);
    pthread_mutex_unlock(&a->lock);
}

/* ---- errors --------------------------------------------------------------------------- */

/* kube's field.Invalid wrapped in a 422 for Service <name>. */
static int invalid(struct kos_error **err, const json_t *svc, const char *field, const char *value,
                   const char *detail)
{
    const char *name = json_string_value(json_object_get(json_object_get(svc, "metadata"), "name"));
    char msg[1024];
    snprintf(msg, sizeof(msg), "Invalid value: %s: %s", value, detail);
    int r = kos_error_set(err, 422, "Invalid", "Service \"%s\" is invalid: %s: %s",
                          name ? name : "", field, msg);
    if (err && *err) {
        kos_error_set_details(*err, name, NULL, "Service");
        kos_error_add_cause(*err, "FieldValueInvalid", msg, field);
    }
    return r;
}

static int internal(struct kos_error **err, const char *what)
{
    return kos_error_set(err, 500, "InternalError", "Internal error occurred: %s", what);
}

/* %#v of the clusterIPs ([]string{"10.43.0.10"}); IPs need no escaping. */
static void ips_repr(const json_t *spec, char *out, size_t size)
{
    const json_t *ips = json_object_get(spec, "clusterIPs");
    size_t used = (size_t)snprintf(out, size, "[]string{");
    for (size_t i = 0; i < json_array_size(ips) && used < size; i++) {
        const char *s = json_string_value(json_array_get(ips, i));
        used += (size_t)snprintf(out + used, size - used, "%s\"%.64s\"", i ? ", " : "", s ? s : "");
    }
    if (used < size)
        snprintf(out + used, size - used, "}");
}

/* ---- allocation ------------------------------------------------------------------------ */

/* clusterIP and clusterIPs agree, the families are ones this cluster serves. */
static int check_families(const json_t *svc, json_t *spec, struct kos_error **err)
{
    const char *cip = json_string_value(json_object_get(spec, "clusterIP"));
    json_t *ips = json_object_get(spec, "clusterIPs");
    const char *first = json_string_value(json_array_get(ips, 0));
    if ((!cip || !*cip) && first && *first)
        json_object_set_new(spec, "clusterIP", json_string(first));
    else if (cip && *cip && json_array_size(ips) == 0)
        json_object_set_new(spec, "clusterIPs", json_pack("[s]", cip));
    else if (cip && *cip && first && strcmp(cip, first) != 0) {
        char v[160];
        snprintf(v, sizeof(v), "\"%.64s\"", first);
        return invalid(err, svc, "spec.clusterIPs[0]", v,
                       "must match `clusterIP` when both are specified");
    }
    const char *policy = json_string_value(json_object_get(spec, "ipFamilyPolicy"));
    if (policy && strcmp(policy, "RequireDualStack") == 0) {
        const char *c = json_string_value(json_object_get(spec, "clusterIP"));
        if (!c || strcmp(c, "None") != 0)
            return invalid(err, svc, "spec.ipFamilyPolicy", "\"RequireDualStack\"",
                           "this cluster is not configured for dual-stack services");
    }
    const json_t *fams = json_object_get(spec, "ipFamilies");
    for (size_t i = 0; i < json_array_size(fams); i++) {
        const char *f = json_string_value(json_array_get(fams, i));
        if (f && strcmp(f, "IPv4") != 0) {
            char field[64], v[80];
            snprintf(field, sizeof(field), "spec.ipFamilies[%zu]", i);
            snprintf(v, sizeof(v), "\"%.32s\"", f);
            return invalid(err, svc, field, v, "not configured on this cluster");
        }
    }
    ips = json_object_get(spec, "clusterIPs");
    for (size_t i = 0; i < json_array_size(ips); i++) {
        const char *s = json_string_value(json_array_get(ips, i));
        unsigned char buf[16];
        if (s && inet_pton(AF_INET6, s, buf) == 1) {
            char field[64], v[256];
            snprintf(field, sizeof(field), "spec.clusterIPs[%zu]", i);
            ips_repr(spec, v, sizeof(v));
            return invalid(err, svc, field, v, "IPv6 is not configured on this cluster");
        }
    }
    if (json_array_size(fams) == 0)
        json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
    return 0;
}

/* The cluster IP, under a->lock. *taken is the IP this call now holds (0: none). */
static int alloc_ip_locked(struct kos_svc_alloc *a, const json_t *svc, json_t *spec,
                           uint32_t *taken, struct kos_error **err)
{
    *taken = 0;
    const char *cip = json_string_value(json_object_get(spec, "clusterIP"));
    if (cip && strcmp(cip, "None") == 0) {
        json_object_set_new(spec, "clusterIPs", json_pack("[s]", "None"));
        return 0;
    }
    uint32_t ip;
    if (cip && *cip) {
        char v[256], detail[512];
        ips_repr(spec, v, sizeof(v));
        if (!parse_ip4(cip, &ip))
            return invalid(err, svc, "spec.clusterIPs", v,
                           "failed to allocate IP: not an IPv4 address");
        int r = kos_range_alloc_take(&a->ips, ip);
        if (r == -ERANGE) {
            snprintf(detail, sizeof(detail),
                     "failed to allocate IP %s: the provided IP (%s) is not in the valid range. "
                     "The range of valid IPs is %s",
                     cip, cip, a->cidr);
            return invalid(err, svc, "spec.clusterIPs", v, detail);
        }
        if (r == -EEXIST) {
            snprintf(detail, sizeof(detail),
                     "failed to allocate IP %s: provided IP is already allocated", cip);
            return invalid(err, svc, "spec.clusterIPs", v, detail);
        }
        if (r < 0)
            return internal(err, "failed to allocate a serviceIP");
    } else {
        if (kos_range_alloc_next(&a->ips, &ip) < 0)
            return internal(err, "failed to allocate a serviceIP: range is full");
        char s[INET_ADDRSTRLEN];
        ip_string(ip, s, sizeof(s));
        if (json_object_set_new(spec, "clusterIP", json_string(s)) < 0 ||
            json_object_set_new(spec, "clusterIPs", json_pack("[s]", s)) < 0) {
            kos_range_alloc_release(&a->ips, ip);
            return -ENOMEM;
        }
    }
    *taken = ip;
    return 0;
}

/* Node ports of every port that needs one, under a->lock; ports in `have` are held already.
 * On failure whatever this call took is released. */
static int alloc_ports_locked(struct kos_svc_alloc *a, const json_t *svc, json_t *spec,
                              const uint32_t *have, size_t nhave, struct kos_error **err)
{
    json_t *ports = json_object_get(spec, "ports");
    uint32_t took[MAX_PORTS];
    size_t ntook = 0;
    int r = 0;
    size_t n = json_array_size(ports);
    if (n > MAX_PORTS)
        return kos_error_set(err, 422, "Invalid", "too many ports");
    /* ports asked for by number first, so that an automatic pick never takes one of them */
    for (int pass = 0; pass < 2 && r == 0; pass++) {
        for (size_t i = 0; i < n && r == 0; i++) {
            json_t *p = json_array_get(ports, i);
            json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
            if (pass == 0 && np != 0) {
                if (np > 0 &&
                    (contains(have, nhave, (uint32_t)np) || contains(took, ntook, (uint32_t)np)))
                    continue; /* held already, or the same port for another protocol */
                char field[64], v[32], detail[160];
                snprintf(field, sizeof(field), "spec.ports[%zu].nodePort", i);
                snprintf(v, sizeof(v), "%lld", (long long)np);
                int t =
                    np > 0 && np <= 65535 ? kos_range_alloc_take(&a->ports, (uint32_t)np) : -ERANGE;
                if (t == -ERANGE) {
                    snprintf(detail, sizeof(detail),
                             "provided port is not in the valid range. The range of valid ports "
                             "is %u-%u",
                             a->port_lo, a->port_hi);
                    r = invalid(err, svc, field, v, detail);
                } else if (t == -EEXIST) {
                    r = invalid(err, svc, field, v, "provided port is already allocated");
                } else {
                    took[ntook++] = (uint32_t)np;
                }
            } else if (pass == 1 && np == 0) {
                uint32_t port;
                if (kos_range_alloc_next(&a->ports, &port) < 0) {
                    r = internal(err, "failed to allocate a nodePort: range is full");
                } else {
                    took[ntook++] = port;
                    if (json_object_set_new(p, "nodePort", json_integer(port)) < 0)
                        r = -ENOMEM;
                }
            }
        }
    }
    if (r < 0)
        for (size_t i = 0; i < ntook; i++)
            kos_range_alloc_release(&a->ports, took[i]);
    return r;
}

int kos_svc_alloc_create(struct kos_svc_alloc *a, json_t *svc, struct kos_error **err)
{
    json_t *spec = json_object_get(svc, "spec");
    if (!json_is_object(spec) || is_type(svc, "ExternalName"))
        return 0;
    int r = check_families(svc, spec, err);
    if (r < 0)
        return r;
    const char *asked = json_string_value(json_object_get(spec, "clusterIP"));
    bool automatic = !asked || !*asked;
    pthread_mutex_lock(&a->lock);
    uint32_t ip = 0;
    r = alloc_ip_locked(a, svc, spec, &ip, err);
    if (r == 0 && needs_node_ports(svc)) {
        r = alloc_ports_locked(a, svc, spec, NULL, 0, err);
        if (r < 0 && ip)
            kos_range_alloc_release(&a->ips, ip);
        if (r < 0 && ip && automatic) { /* the object says nothing it does not hold */
            json_object_del(spec, "clusterIP");
            json_object_del(spec, "clusterIPs");
        }
    }
    pthread_mutex_unlock(&a->lock);
    return r;
}

int kos_svc_alloc_update(struct kos_svc_alloc *a, json_t *next, const json_t *cur,
                         struct kos_error **err)
{
    json_t *spec = json_object_get(next, "spec");
    if (!json_is_object(spec) || is_type(next, "ExternalName"))
        return 0;
    uint32_t cur_ips[4], cur_ports[MAX_PORTS];
    size_t ncur_ips = held_ips(cur, cur_ips, 4);
    size_t ncur_ports = held_ports(cur, cur_ports, MAX_PORTS);
    bool had_ip = ncur_ips > 0 ||
                  (!is_type(cur, "ExternalName") &&
                   json_string_value(json_object_get(json_object_get(cur, "spec"), "clusterIP")));
    int r = 0;
    if (!had_ip) {
        r = check_families(next, spec, err);
        if (r < 0)
            return r;
    }
    pthread_mutex_lock(&a->lock);
    uint32_t ip = 0;
    if (!had_ip)
        r = alloc_ip_locked(a, next, spec, &ip, err);
    if (r == 0 && needs_node_ports(next)) {
        r = alloc_ports_locked(a, next, spec, cur_ports, ncur_ports, err);
        if (r < 0 && ip)
            kos_range_alloc_release(&a->ips, ip);
    }
    pthread_mutex_unlock(&a->lock);
    return r;
}

static const json_t *port_named(const json_t *ports, const char *name)
{
    for (size_t i = 0; i < json_array_size(ports); i++) {
        const json_t *p = json_array_get(ports, i);
        const char *n = json_string_value(json_object_get(p, "name"));
        if (kos_streq_null(n ? n : "", name ? name : ""))
            return p;
    }
    return NULL;
}

int kos_svc_alloc_patch_update(json_t *next, const json_t *cur)
{
    json_t *spec = json_object_get(next, "spec");
    const json_t *ospec = json_object_get(cur, "spec");
    if (!json_is_object(spec) || !json_is_object(ospec))
        return 0;
    bool ext = is_type(next, "ExternalName"), oext = is_type(cur, "ExternalName");
    const char *cip = json_string_value(json_object_get(spec, "clusterIP"));
    const char *ocip = json_string_value(json_object_get(ospec, "clusterIP"));
    static const char *const ipfields[] = {"clusterIP", "clusterIPs", "ipFamilies",
                                           "ipFamilyPolicy"};
    if (!ext && !oext) {
        /* the allocated IP stays when the user leaves it out */
        bool same = !cip || !*cip || (ocip && strcmp(cip, ocip) == 0);
        for (size_t i = 0; same && i < sizeof(ipfields) / sizeof(ipfields[0]); i++) {
            const json_t *v = json_object_get(spec, ipfields[i]);
            const json_t *ov = json_object_get(ospec, ipfields[i]);
            bool empty = !v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)) ||
                         (json_is_array(v) && json_array_size(v) == 0);
            if (empty && ov && json_object_set(spec, ipfields[i], (json_t *)ov) < 0)
                return -ENOMEM;
        }
    } else if (ext && !oext && (!cip || !*cip || (ocip && strcmp(cip, ocip) == 0))) {
        for (size_t i = 0; i < sizeof(ipfields) / sizeof(ipfields[0]); i++)
            json_object_del(spec, ipfields[i]);
    }
    json_t *ports = json_object_get(spec, "ports");
    const json_t *oports = json_object_get(ospec, "ports");
    if (needs_node_ports(next) && needs_node_ports(cur)) {
        uint32_t used[MAX_PORTS];
        size_t nused = held_ports(next, used, MAX_PORTS);
        for (size_t i = 0; i < json_array_size(ports); i++) {
            json_t *p = json_array_get(ports, i);
            if (!json_is_object(p) || json_integer_value(json_object_get(p, "nodePort")) != 0)
                continue;
            const json_t *op = port_named(oports, json_string_value(json_object_get(p, "name")));
            json_int_t np = json_integer_value(json_object_get(op, "nodePort"));
            if (np > 0 && !contains(used, nused, (uint32_t)np) &&
                json_object_set_new(p, "nodePort", json_integer(np)) < 0)
                return -ENOMEM;
        }
    } else if (!needs_node_ports(next) && needs_node_ports(cur)) {
        /* kube drops what only an external type uses when the type changes away from it */
        if (!is_type(next, "LoadBalancer"))
            json_object_del(spec, "externalTrafficPolicy");
        /* node ports the user did not change go with the type that needed them */
        for (size_t i = 0; i < json_array_size(ports); i++) {
            json_t *p = json_array_get(ports, i);
            const json_t *op = port_named(oports, json_string_value(json_object_get(p, "name")));
            json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
            if (np && np == json_integer_value(json_object_get(op, "nodePort")))
                json_object_del(p, "nodePort");
        }
    }
    return 0;
}
