/* Unit tests for src/client/kubeconfig.c: the current context's server and credentials,
 * *-data over files, relative paths, tokens, and clear errors for bad files. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "client/kubeconfig.h"

static char dir[] = "/tmp/kos-kubeconfig-XXXXXX";

static void put(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_data_and_context(void **state)
{
    /* "Q0EK" = "CA\n", "Q0VSVAo=" = "CERT\n", "S0VZCg==" = "KEY\n" */
    put("a.kubeconfig", "apiVersion: v1\n"
                        "kind: Config\n"
                        "current-context: two\n"
                        "clusters:\n"
                        "- name: c1\n"
                        "  cluster: {server: https://one:6443}\n"
                        "- name: c2\n"
                        "  cluster:\n"
                        "    server: https://10.0.0.2:6443\n"
                        "    certificate-authority-data: Q0EK\n"
                        "contexts:\n"
                        "- name: one\n"
                        "  context: {cluster: c1, user: u1}\n"
                        "- name: two\n"
                        "  context: {cluster: c2, user: u2}\n"
                        "users:\n"
                        "- name: u1\n"
                        "  user: {token: abc}\n"
                        "- name: u2\n"
                        "  user:\n"
                        "    client-certificate-data: Q0VSVAo=\n"
                        "    client-key-data: S0VZCg==\n");
    char path[512];
    snprintf(path, sizeof(path), "%s/a.kubeconfig", dir);
    struct kos_kubeconfig k;
    struct kos_error *err = NULL;
    assert_int_equal(kos_kubeconfig_load(path, &k, &err), 0);
    assert_string_equal(k.server, "https://10.0.0.2:6443");
    assert_string_equal(k.ca_pem, "CA\n");
    assert_string_equal(k.cert_pem, "CERT\n");
    assert_string_equal(k.key_pem, "KEY\n");
    assert_null(k.token);
    struct kos_client_config cc;
    kos_kubeconfig_client_config(&k, "ua", &cc);
    assert_string_equal(cc.server, "https://10.0.0.2:6443");
    assert_string_equal(cc.user_agent, "ua");
    assert_ptr_equal(cc.ca_pem, k.ca_pem);
    kos_kubeconfig_clear(&k);
    kos_kubeconfig_clear(&k); /* twice is harmless */
}

static void test_files_and_token_file(void **state)
{
    put("ca.crt", "FILECA\n");
    put("token", "s3cret\n");
    put("b.kubeconfig", "current-context: x\n"
                        "clusters: [{name: c, cluster: {server: 'https://h:1', "
                        "certificate-authority: ca.crt, insecure-skip-tls-verify: true}}]\n"
                        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
                        "users: [{name: u, user: {tokenFile: token}}]\n");
    char path[512];
    snprintf(path, sizeof(path), "%s/b.kubeconfig", dir);
    struct kos_kubeconfig k;
    struct kos_error *err = NULL;
    assert_int_equal(kos_kubeconfig_load(path, &k, &err), 0);
    assert_string_equal(k.ca_pem, "FILECA\n");
    assert_string_equal(k.token, "s3cret");
    assert_true(k.insecure_skip_tls_verify);
    kos_kubeconfig_clear(&k);
}

static void test_errors(void **state)
{
    struct kos_kubeconfig k;
    struct kos_error *err = NULL;
    assert_int_equal(kos_kubeconfig_load("/nonexistent/kubeconfig", &k, &err), -EINVAL);
    assert_non_null(strstr(err->message, "cannot read kubeconfig /nonexistent/kubeconfig"));
    kos_error_free(err);

    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"[1, 2]\n", "is not a Config object"},
        {"current-context: nope\ncontexts: []\n", "context \"nope\" does not exist"},
        {"current-context: x\ncontexts: [{name: x, context: {cluster: gone}}]\n",
         "cluster \"gone\" does not exist"},
        {"current-context: x\nclusters: [{name: c, cluster: {server: s, "
         "certificate-authority-data: '!!!'}}]\ncontexts: [{name: x, context: {cluster: c}}]\n",
         "not valid base64"},
        {"current-context: x\nclusters: [{name: c, cluster: {server: s, "
         "certificate-authority: missing.crt}}]\ncontexts: [{name: x, context: {cluster: c}}]\n",
         "cannot read certificate-authority"},
        {"a: [unclosed\n", ""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put("bad.kubeconfig", bad[i].text);
        char path[512];
        snprintf(path, sizeof(path), "%s/bad.kubeconfig", dir);
        err = NULL;
        int r = kos_kubeconfig_load(path, &k, &err);
        if (r >= 0)
            print_error("accepted: %s\n", bad[i].text);
        assert_true(r < 0);
        assert_non_null(err);
        if (!strstr(err->message, bad[i].msg))
            print_error("message \"%s\" lacks \"%s\"\n", err->message, bad[i].msg);
        assert_non_null(strstr(err->message, bad[i].msg));
        kos_error_free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_and_context),
        cmocka_unit_test(test_files_and_token_file),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
