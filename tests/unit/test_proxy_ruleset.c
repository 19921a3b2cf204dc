/* The node proxy's model (Services + EndpointSlices) and the nftables script it renders. When
 * nft can check a script here (`nft -c`, root in a fresh network namespace), the rendered one
 * is checked too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/proxy/ruleset.h"
#include "util/json_cleanup.h"

static const char *services_json =
    "[{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{\"type\":\"NodePort\","
    "\"clusterIP\":\"10.43.0.10\",\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\","
    "\"nodePort\":30080},{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"}]}},"
    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"empty\"},\"spec\":{\"type\":"
    "\"NodePort\",\"clusterIP\":\"10.43.0.11\",\"ports\":[{\"name\":\"\",\"port\":81,"
    "\"protocol\":\"TCP\",\"nodePort\":30081}]}},"
    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"headless\"},\"spec\":{\"clusterIP\":"
    "\"None\",\"ports\":[{\"port\":80}]}},"
    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"ext\"},\"spec\":{\"type\":"
    "\"ExternalName\",\"externalName\":\"example.com\"}}]";

static const char *slices_json =
    "[{\"metadata\":{\"namespace\":\"default\",\"name\":\"web-a\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"web\"}},\"addressType\":\"IPv4\","
    "\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}],"
    "\"endpoints\":[{\"addresses\":[\"10.42.0.5\"],\"conditions\":{\"ready\":true}},"
    "{\"addresses\":[\"10.42.0.6\"],\"conditions\":{\"ready\":false}},"
    "{\"addresses\":[\"10.42.0.7\"],\"conditions\":{}}]},"
    "{\"metadata\":{\"namespace\":\"other\",\"name\":\"web-b\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"web\"}},\"addressType\":\"IPv4\","
    "\"ports\":[{\"name\":\"http\",\"port\":9999,\"protocol\":\"TCP\"}],"
    "\"endpoints\":[{\"addresses\":[\"10.42.9.9\"]}]}]";

static void build(struct proxy_model *m)
{
    _cleanup_json_ json_t *svcs = json_loads(services_json, 0, NULL);
    _cleanup_json_ json_t *slices = json_loads(slices_json, 0, NULL);
    assert_non_null(svcs);
    assert_non_null(slices);
    assert_int_equal(proxy_model_build(svcs, slices, m), 0);
}

static void test_model(void **state)
{
    struct proxy_model m;
    build(&m);
    assert_int_equal(m.nports, 3); /* web:http, web:dns, empty: headless and ExternalName skipped */
    struct proxy_port *http = &m.ports[0];
    assert_string_equal(http->id, "default/web:http/tcp");
    assert_string_equal(http->cluster_ip, "10.43.0.10");
    assert_int_equal(http->node_port, 30080);
    /* ready and unset-ready endpoints of this Service's namespace only */
    assert_int_equal(http->neps, 2);
    assert_string_equal(http->eps[0].ip, "10.42.0.5");
    assert_int_equal(http->eps[0].port, 8080);
    assert_string_equal(http->eps[1].ip, "10.42.0.7");
    assert_string_equal(m.ports[1].proto, "udp");
    assert_int_equal(m.ports[1].neps, 0); /* no slice port named dns */
    proxy_model_clear(&m);
}

static void test_render(void **state)
{
    struct proxy_model m;
    build(&m);
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    assert_int_equal(proxy_render(&m, "10.42.0.0/16", &b), 0);
    const char *s = b.data;
    /* one transaction replacing the table */
    assert_non_null(strstr(s, "add table ip kos-proxy\ndelete table ip kos-proxy\n"));
    assert_non_null(strstr(s, "10.43.0.10 . tcp . 80 : goto svc-"));
    assert_non_null(strstr(s, "tcp . 30080 : goto ext-"));
    assert_non_null(strstr(s, "numgen random mod 2 vmap {"));
    assert_non_null(strstr(s, "dnat to 10.42.0.5:8080"));
    assert_non_null(strstr(s, "dnat to 10.42.0.7:8080"));
    assert_null(strstr(s, "10.42.0.6"));
    /* hairpin and from-outside masquerade */
    assert_non_null(strstr(s, "ip saddr 10.42.0.5 jump mark-for-masquerade"));
    assert_non_null(strstr(s, "ip saddr != 10.42.0.0/16 jump mark-for-masquerade"));
    /* ports without endpoints are rejected */
    assert_non_null(strstr(s, "10.43.0.11 . tcp . 81 : goto reject-chain"));
    assert_non_null(strstr(s, "10.43.0.10 . udp . 53 : goto reject-chain"));
    assert_non_null(strstr(s, "tcp . 30081 : goto reject-chain"));
    assert_non_null(
        strstr(s, "fib daddr type local meta l4proto . th dport vmap @service-nodeports"));

    /* nft itself accepts it, when it can be asked (root, nft installed) */
    if (geteuid() == 0 && access("/usr/sbin/nft", X_OK) == 0) {
        char path[] = "/tmp/kos-proxy-test-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
        close(fd);
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "unshare -n /usr/sbin/nft -c -f %s", path);
        int rc = system(cmd);
        unlink(path);
        assert_int_equal(rc, 0);
    }
    /* an empty model renders too */
    struct proxy_model none = {0};
    kos_buf_reset(&b);
    assert_int_equal(proxy_render(&none, NULL, &b), 0);
    assert_non_null(strstr(b.data, "map service-ips {"));
    proxy_model_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
