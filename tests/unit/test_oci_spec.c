/* Unit tests for src/agent/runtime/oci_spec.c: Kubernetes' command/args rules and $(VAR)
 * expansion (expansion_test.go cases), and the config.json shape runc reads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent/runtime/oci_spec.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

static void check_expand(const char *in, const char *want)
{
    _cleanup_json_ json_t *env = json_pack("{ssssss}", "VAR_A", "A", "VAR_B", "B", "VAR_EMPTY", "");
    _cleanup_free_ char *got = kos_oci_expand(in, env);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        print_error("expand(%s) = %s, want %s\n", in, got, want);
    assert_string_equal(got, want);
}

static void test_expand(void **state)
{
    check_expand("$(VAR_A)", "A");
    check_expand("___$(VAR_B)___", "___B___");
    check_expand("$(VAR_A)-$(VAR_B)", "A-B");
    check_expand("$(VAR_EMPTY)", "");
    check_expand("$(UNKNOWN)", "$(UNKNOWN)");
    check_expand("$$(VAR_A)", "$(VAR_A)");
    check_expand("$$$(VAR_A)", "$A");
    check_expand("$$", "$");
    check_expand("$", "$");
    check_expand("foo$", "foo$");
    check_expand("$(VAR_A", "$(VAR_A");
    check_expand("$VAR_A", "$VAR_A");
    check_expand("$()", "$()");
    check_expand("plain", "plain");
    check_expand("", "");
}

static json_t *args_of(const char *cmd, const char *args, const char *ep, const char *icmd)
{
    _cleanup_json_ json_t *c = cmd ? json_loads(cmd, 0, NULL) : NULL;
    _cleanup_json_ json_t *a = args ? json_loads(args, 0, NULL) : NULL;
    _cleanup_json_ json_t *e = ep ? json_loads(ep, 0, NULL) : NULL;
    _cleanup_json_ json_t *i = icmd ? json_loads(icmd, 0, NULL) : NULL;
    _cleanup_json_ json_t *env = json_pack("{ss}", "WHO", "world");
    json_t *out = NULL;
    if (kos_oci_process_args(c, a, e, i, env, &out) < 0)
        return NULL;
    return out;
}

static void check_args(const char *cmd, const char *args, const char *ep, const char *icmd,
                       const char *want)
{
    _cleanup_json_ json_t *got = args_of(cmd, args, ep, icmd);
    _cleanup_json_ json_t *w = json_loads(want, 0, NULL);
    assert_non_null(got);
    if (!json_equal(got, w)) {
        _cleanup_free_ char *s = json_dumps(got, JSON_COMPACT);
        print_error("got %s want %s\n", s, want);
    }
    assert_true(json_equal(got, w));
}

static void test_command_args(void **state)
{
    /* neither: Entrypoint + Cmd */
    check_args(NULL, NULL, "[\"/ep\"]", "[\"c1\",\"c2\"]", "[\"/ep\",\"c1\",\"c2\"]");
    /* command only: replaces Entrypoint, the image's Cmd is dropped */
    check_args("[\"/bin/sh\"]", NULL, "[\"/ep\"]", "[\"c1\"]", "[\"/bin/sh\"]");
    /* args only: Entrypoint + args */
    check_args(NULL, "[\"x\",\"$(WHO)\"]", "[\"/ep\"]", "[\"c1\"]", "[\"/ep\",\"x\",\"world\"]");
    /* both */
    check_args("[\"echo\"]", "[\"hi $(WHO)\"]", "[\"/ep\"]", "[\"c1\"]", "[\"echo\",\"hi world\"]");
    /* the image's strings are not expanded */
    check_args(NULL, NULL, "[\"$(WHO)\"]", NULL, "[\"$(WHO)\"]");
    /* empty lists count as unset */
    check_args("[]", "[]", NULL, "[\"sh\"]", "[\"sh\"]");
    /* nothing to run at all */
    assert_null(args_of(NULL, NULL, NULL, NULL));
    assert_null(args_of("[1]", NULL, NULL, NULL));
}

static json_t *build(struct kos_oci_params *p)
{
    json_t *spec = NULL;
    struct kos_error *err = NULL;
    int r = kos_oci_spec_build(p, &spec, &err);
    if (r < 0) {
        kos_error_free(err);
        return NULL;
    }
    return spec;
}

static bool has_str(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) == 0) return true;
    return false;
}

static const json_t *mount_at(const json_t *spec, const char *dest)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(spec, "mounts"), i,
                       m) if (strcmp(json_string_value(json_object_get(m, "destination")), dest) ==
                              0) return m;
    return NULL;
}

static void test_spec_shape(void **state)
{
    _cleanup_json_ json_t *args = json_pack("[ss]", "sleep", "1");
    _cleanup_json_ json_t *env = json_pack("[s]", "A=1");
    _cleanup_json_ json_t *drop = json_pack("[s]", "NET_RAW");
    _cleanup_json_ json_t *add = json_pack("[s]", "NET_ADMIN");
    struct kos_oci_mount mounts[] = {
        {"/data", "/var/lib/kos/pods/u/volumes/data", false},
        {"/etc/hosts", "/var/lib/kos/pods/u/etc-hosts", false},
        {"/cfg", "/var/lib/kos/pods/u/volumes/cfg", true},
        {"/dev/shm", "/var/lib/kos/pods/u/shm", false},
    };
    struct kos_oci_params p = {
        .rootfs = "/var/lib/kos/rootfs/x",
        .hostname = "web-0",
        .args = args,
        .env = env,
        .cwd = "/work",
        .uid = 1000,
        .gid = 2000,
        .cap_add = add,
        .cap_drop = drop,
        .host_network = true,
        .cgroups_path = "/kubepods/pod123/abc",
        .oom_score_adj = -997,
        .resources = {.cpu_shares = 1024,
                      .cpu_quota = 100000,
                      .cpu_period = 100000,
                      .memory_limit = 209715200},
        .mounts = mounts,
        .n_mounts = ARRAY_SIZE(mounts),
    };
    _cleanup_json_ json_t *spec = build(&p);
    assert_non_null(spec);
    json_t *proc = json_object_get(spec, "process");
    assert_true(json_equal(json_object_get(proc, "args"), args));
    assert_string_equal(json_string_value(json_object_get(proc, "cwd")), "/work");
    assert_int_equal(json_integer_value(json_object_get(proc, "oomScoreAdj")), -997);
    assert_false(json_boolean_value(json_object_get(proc, "noNewPrivileges")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(proc, "user"), "uid")),
                     1000);
    json_t *bounding = json_object_get(json_object_get(proc, "capabilities"), "bounding");
    assert_true(has_str(bounding, "CAP_CHOWN"));
    assert_true(has_str(bounding, "CAP_NET_ADMIN"));
    assert_false(has_str(bounding, "CAP_NET_RAW"));
    assert_false(has_str(bounding, "CAP_SYS_ADMIN"));
    assert_string_equal(json_string_value(json_object_get(spec, "hostname")), "web-0");

    json_t *lnx = json_object_get(spec, "linux");
    assert_string_equal(json_string_value(json_object_get(lnx, "cgroupsPath")),
                        "/kubepods/pod123/abc");
    json_t *res = json_object_get(lnx, "resources");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "cpu"), "shares")),
                     1024);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "cpu"), "quota")),
                     100000);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "memory"), "limit")),
                     209715200);
    /* host network: pid, ipc, uts, mount but no network namespace */
    json_t *ns = json_object_get(lnx, "namespaces");
    assert_int_equal(json_array_size(ns), 4);
    assert_true(has_str(json_object_get(lnx, "maskedPaths"), "/proc/kcore"));
    assert_true(has_str(json_object_get(lnx, "readonlyPaths"), "/proc/sys"));

    assert_non_null(mount_at(spec, "/proc"));
    assert_non_null(mount_at(spec, "/sys"));
    const json_t *cfg = mount_at(spec, "/cfg");
    assert_non_null(cfg);
    assert_true(has_str(json_object_get(cfg, "options"), "ro"));
    assert_true(has_str(json_object_get(mount_at(spec, "/data"), "options"), "rw"));
    /* the pod's /dev/shm replaces the default tmpfs, not a second mount on top */
    const json_t *shm = mount_at(spec, "/dev/shm");
    assert_string_equal(json_string_value(json_object_get(shm, "type")), "bind");
    size_t i, n_shm = 0;
    json_t *m;
    json_array_foreach(json_object_get(spec, "mounts"), i,
                       m) if (strcmp(json_string_value(json_object_get(m, "destination")),
                                     "/dev/shm") == 0) n_shm++;
    assert_int_equal(n_shm, 1);

    /* the pod's own network: every container joins the namespace the agent made for it */
    p.host_network = false;
    p.netns_path = "/var/lib/kos/agent/netns/uid-1";
    _cleanup_json_ json_t *podnet = build(&p);
    assert_non_null(podnet);
    ns = json_object_get(json_object_get(podnet, "linux"), "namespaces");
    assert_int_equal(json_array_size(ns), 5);
    json_t *net = json_array_get(ns, 4);
    assert_string_equal(json_string_value(json_object_get(net, "type")), "network");
    assert_string_equal(json_string_value(json_object_get(net, "path")),
                        "/var/lib/kos/agent/netns/uid-1");
}

static void test_spec_variants(void **state)
{
    _cleanup_json_ json_t *args = json_pack("[s]", "sh");
    struct kos_oci_params p = {.rootfs = "/r", .args = args};
    _cleanup_json_ json_t *spec = build(&p);
    assert_non_null(spec);
    json_t *lnx = json_object_get(spec, "linux");
    assert_int_equal(json_array_size(json_object_get(lnx, "namespaces")), 5);
    assert_null(json_object_get(lnx, "cgroupsPath"));
    assert_null(json_object_get(json_object_get(lnx, "resources"), "memory"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(spec, "process"), "cwd")),
                        "/");

    /* privileged: every capability, no masked paths */
    p.privileged = true;
    _cleanup_json_ json_t *priv = build(&p);
    json_t *caps = json_object_get(
        json_object_get(json_object_get(priv, "process"), "capabilities"), "bounding");
    assert_true(has_str(caps, "CAP_SYS_ADMIN"));
    assert_null(json_object_get(json_object_get(priv, "linux"), "maskedPaths"));

    /* drop ALL then add one */
    p.privileged = false;
    _cleanup_json_ json_t *drop = json_pack("[s]", "ALL");
    _cleanup_json_ json_t *add = json_pack("[s]", "CAP_KILL");
    p.cap_drop = drop;
    p.cap_add = add;
    _cleanup_json_ json_t *minimal = build(&p);
    caps = json_object_get(json_object_get(json_object_get(minimal, "process"), "capabilities"),
                           "bounding");
    assert_int_equal(json_array_size(caps), 1);
    assert_true(has_str(caps, "CAP_KILL"));

    /* bad input: an unknown capability, relative paths, no args */
    _cleanup_json_ json_t *bogus = json_pack("[s]", "NOT_A_CAP");
    p.cap_add = bogus;
    struct kos_error *err = NULL;
    json_t *out = NULL;
    assert_true(kos_oci_spec_build(&p, &out, &err) < 0);
    assert_non_null(err);
    assert_non_null(strstr(err->message, "NOT_A_CAP"));
    kos_error_free(err);
    p.cap_add = NULL;
    struct kos_oci_mount rel = {"data", "/x", false};
    p.mounts = &rel;
    p.n_mounts = 1;
    assert_null(build(&p));
    p.n_mounts = 0;
    p.rootfs = "relative";
    assert_null(build(&p));
    p.rootfs = "/r";
    _cleanup_json_ json_t *empty = json_array();
    p.args = empty;
    assert_null(build(&p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_command_args),
        cmocka_unit_test(test_spec_shape),
        cmocka_unit_test(test_spec_variants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
