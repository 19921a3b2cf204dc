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
    /* sorted by id: empty, web:dns, web:http */
    assert_string_equal(m.ports[0].id, "default/empty:/tcp");
    struct proxy_port *http = &m.ports[2];
    assert_string_equal(http->id, "default/web:http/tcp");
    assert_string_equal(http->cluster_ip, "10.43.0.10");
    assert_int_equal(http->node_port, 30080);
    /* ready and unset-ready endpoints of this Service's namespace only */
    assert_int_equal(http->neps, 2);
    assert_string_equal(http->eps[0].ip, "10.42.0.5");
    assert_int_equal(http->eps[0].port, 8080);
    assert_string_equal(http->eps[1].ip, "10.42.0.7");
    assert_string_equal(m.ports[1].proto, "udp");
    assert_string_equal(m.ports[1].id, "default/web:dns/udp");
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

/* `nft list table` output, normalized so that element order and line breaks do not matter:
 * trimmed lines, map element lists split one element a line, sorted. */
static char *normalized_listing(const char *scripts[], size_t n)
{
    char dir[] = "/tmp/kos-proxy-diff-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[4096];
    size_t used = (size_t)snprintf(cmd, sizeof(cmd), "unshare -n sh -c '");
    for (size_t i = 0; i < n; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%zu.nft", dir, i);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(scripts[i], f);
        fclose(f);
        used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, "nft -f %s && ", path);
    }
    snprintf(cmd + used, sizeof(cmd) - used,
             "nft list table ip kos-proxy' | tr -d '\\t' | sed -e 's/^elements = { //' "
             "-e 's/ }$//' -e 's/,$//' | tr ',' '\\n' | sed -e 's/^ *//' | sort");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = calloc(1, 1 << 20);
    size_t len = fread(out, 1, (1 << 20) - 1, p);
    assert_int_equal(pclose(p), 0);
    out[len] = '\0';
    char rm[160];
    snprintf(rm, sizeof(rm), "rm -rf %s", dir);
    assert_int_equal(system(rm), 0);
    return out;
}

static const char *services2_json =
    "[{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{\"type\":\"ClusterIP\","
    "\"clusterIP\":\"10.43.0.10\",\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}"
    "},"
    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"empty\"},\"spec\":{\"type\":"
    "\"NodePort\",\"clusterIP\":\"10.43.0.11\",\"ports\":[{\"name\":\"\",\"port\":81,"
    "\"protocol\":\"TCP\",\"nodePort\":30081}]}},"
    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"new\"},\"spec\":{\"type\":"
    "\"NodePort\",\"clusterIP\":\"10.43.0.12\",\"ports\":[{\"name\":\"x\",\"port\":82,"
    "\"protocol\":\"TCP\",\"nodePort\":30082}]}}]";

static const char *slices2_json =
    "[{\"metadata\":{\"namespace\":\"default\",\"name\":\"web-a\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"web\"}},\"addressType\":\"IPv4\","
    "\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}],"
    "\"endpoints\":[{\"addresses\":[\"10.42.0.8\"]}]},"
    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"empty-a\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"empty\"}},\"addressType\":\"IPv4\","
    "\"ports\":[{\"name\":\"\",\"port\":81,\"protocol\":\"TCP\"}],"
    "\"endpoints\":[{\"addresses\":[\"10.42.0.1\"]},{\"addresses\":[\"10.42.0.2\"]}]},"
    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"new-a\",\"labels\":{"
    "\"kubernetes.io/service-name\":\"new\"}},\"addressType\":\"IPv4\","
    "\"ports\":[{\"name\":\"x\",\"port\":82,\"protocol\":\"TCP\"}],"
    "\"endpoints\":[{\"addresses\":[\"10.42.0.3\"]}]}]";

/* Applying the diff to the old table gives what a full render of the new model gives: ports
 * that change endpoints, lose their node port, gain endpoints, appear and disappear. */
static void test_diff_matches_full(void **state)
{
    struct proxy_model a, b;
    build(&a);
    _cleanup_json_ json_t *svcs = json_loads(services2_json, 0, NULL);
    _cleanup_json_ json_t *slices = json_loads(slices2_json, 0, NULL);
    assert_non_null(svcs);
    assert_non_null(slices);
    assert_int_equal(proxy_model_build(svcs, slices, &b), 0);
    _cleanup_buf_ struct kos_buf fa, fb, d, none;
    kos_buf_init(&fa, 1 << 20);
    kos_buf_init(&fb, 1 << 20);
    kos_buf_init(&d, 1 << 20);
    kos_buf_init(&none, 1 << 20);
    assert_int_equal(proxy_render(&a, "10.42.0.0/16", &fa), 0);
    assert_int_equal(proxy_render(&b, "10.42.0.0/16", &fb), 0);
    size_t changed = 0;
    assert_int_equal(proxy_render_diff(&a, &b, "10.42.0.0/16", &d, &changed), 0);
    assert_int_equal(changed, 4); /* web:http, web:dns gone, empty, new */
    assert_non_null(strstr(d.data, "delete chain ip kos-proxy sep-"));
    assert_null(strstr(d.data, "delete table"));
    /* nothing changed: nothing to load */
    assert_int_equal(proxy_render_diff(&b, &b, "10.42.0.0/16", &none, &changed), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(none.len, 0);
    if (geteuid() == 0 && access("/usr/sbin/nft", X_OK) == 0) {
        const char *via_diff[] = {fa.data, d.data};
        const char *direct[] = {fb.data};
        char *x = normalized_listing(via_diff, 2);
        char *y = normalized_listing(direct, 1);
        assert_string_equal(x, y);
        free(x);
        free(y);
    }
    proxy_model_clear(&a);
    proxy_model_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_diff_matches_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
