/* Unit tests for src/agent/network/pod_files.c: the kubelet's managed /etc/hosts (pod IP,
 * hostname and subdomain, HostAliases, the host-network variant), the hostname rules and
 * resolv.conf for each dnsPolicy with dnsConfig merged as the kubelet merges it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "agent/network/pod_files.h"

#define LOCAL_LINES                                                                                \
    "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"                                     \
    "::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"                           \
    "fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"

static json_t *pod(const char *spec_json)
{
    json_error_t e;
    json_t *spec = json_loads(spec_json, 0, &e);
    assert_non_null(spec);
    return json_pack("{s:{s:s,s:s},s:o}", "metadata", "name", "web-1", "namespace", "shop", "spec",
                     spec);
}

static void hosts_eq(const char *spec, const char *ip, const char *want)
{
    json_t *p = pod(spec);
    struct kos_buf b;
    kos_buf_init(&b, 1 << 16);
    assert_int_equal(kos_pod_hosts_content(p, ip, "127.0.0.1 node-hosts\n", "node1", &b), 0);
    assert_string_equal(b.data, want);
    kos_buf_free(&b);
    json_decref(p);
}

static void test_hosts(void **state)
{
    hosts_eq("{}", "10.42.0.5", LOCAL_LINES "10.42.0.5\tweb-1\n");
    hosts_eq("{\"hostname\":\"h\",\"subdomain\":\"s\"}", "10.42.0.5",
             LOCAL_LINES "10.42.0.5\th.s.shop.svc.cluster.local\th\n");
    hosts_eq("{\"hostAliases\":[{\"ip\":\"1.2.3.4\",\"hostnames\":[\"a\",\"b\"]},"
             "{\"ip\":\"5.6.7.8\",\"hostnames\":[\"c\"]}]}",
             "10.42.0.5",
             LOCAL_LINES "10.42.0.5\tweb-1\n\n# Entries added by HostAliases.\n1.2.3.4\ta\tb\n"
                         "5.6.7.8\tc\n");
    hosts_eq("{\"hostNetwork\":true,\"hostAliases\":[{\"ip\":\"1.2.3.4\",\"hostnames\":[\"a\"]}]}",
             "192.168.1.2",
             "# Kubernetes-managed hosts file (host network).\n127.0.0.1 node-hosts\n"
             "\n# Entries added by HostAliases.\n1.2.3.4\ta\n");
}

static void test_hostname(void **state)
{
    char out[64];
    json_t *p = pod("{\"hostname\":\"custom\"}");
    kos_pod_hostname(p, "node1", out, sizeof(out));
    assert_string_equal(out, "custom");
    json_decref(p);
    p = pod("{\"hostNetwork\":true,\"hostname\":\"custom\"}");
    kos_pod_hostname(p, "node1", out, sizeof(out));
    assert_string_equal(out, "node1");
    json_decref(p);
    /* longer than 63: cut, without a trailing '-' or '.' */
    p = json_pack("{s:{s:s},s:{}}", "metadata", "name",
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbb", "spec");
    kos_pod_hostname(p, "node1", out, sizeof(out));
    assert_string_equal(out, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    json_decref(p);
}

static const char node_resolv[] = "# from the host\n"
                                  "nameserver 10.0.0.2\n"
                                  "nameserver 10.0.0.3 ; comment\n"
                                  "domain old.example\n"
                                  "search corp.example lab.example\n"
                                  "options ndots:1 timeout:2\n";

static void resolv_eq(const char *spec, const char *want, bool want_fallback)
{
    json_t *p = pod(spec);
    struct kos_buf b;
    kos_buf_init(&b, 1 << 16);
    bool fell = !want_fallback;
    assert_int_equal(kos_pod_resolv_content(p, node_resolv, &fell, &b), 0);
    assert_string_equal(b.data ? b.data : "", want);
    assert_int_equal(fell, want_fallback);
    kos_buf_free(&b);
    json_decref(p);
}

static void test_resolv(void **state)
{
    const char *node = "search corp.example lab.example\nnameserver 10.0.0.2\n"
                       "nameserver 10.0.0.3\noptions ndots:1 timeout:2\n";
    /* ClusterFirst (the default) without cluster DNS: the node's, with the warning */
    resolv_eq("{}", node, true);
    resolv_eq("{\"dnsPolicy\":\"ClusterFirst\"}", node, true);
    resolv_eq("{\"dnsPolicy\":\"Default\"}", node, false);
    /* a hostNetwork pod with ClusterFirst gets the node's without a warning */
    resolv_eq("{\"dnsPolicy\":\"ClusterFirst\",\"hostNetwork\":true}", node, false);
    resolv_eq("{\"dnsPolicy\":\"ClusterFirstWithHostNet\",\"hostNetwork\":true}", node, true);
    /* None: only dnsConfig */
    resolv_eq("{\"dnsPolicy\":\"None\",\"dnsConfig\":{\"nameservers\":[\"1.1.1.1\"],"
              "\"searches\":[\"a.example\"],\"options\":[{\"name\":\"ndots\",\"value\":\"5\"},"
              "{\"name\":\"edns0\"}]}}",
              "search a.example\nnameserver 1.1.1.1\noptions ndots:5 edns0\n", false);
    resolv_eq("{\"dnsPolicy\":\"None\"}", "", false);
    /* Default + dnsConfig: servers appended (3 at most), the pod's searches first, options
     * by name replaced */
    resolv_eq("{\"dnsPolicy\":\"Default\",\"dnsConfig\":{\"nameservers\":[\"1.1.1.1\","
              "\"10.0.0.2\",\"9.9.9.9\"],\"searches\":[\"pod.example\",\"lab.example\"],"
              "\"options\":[{\"name\":\"ndots\",\"value\":\"3\"}]}}",
              "search pod.example lab.example corp.example\nnameserver 10.0.0.2\n"
              "nameserver 10.0.0.3\nnameserver 1.1.1.1\noptions ndots:3 timeout:2\n",
              false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_hostname),
        cmocka_unit_test(test_resolv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
