/* Unit tests for src/agent/pods/volumes.c: emptyDir, hostPath type checks, configMap/secret
 * items and modes, downwardAPI, projected, PVC resolution, subPath (and its escapes), and
 * the kubelet's FailedMount messages. Works in a temp dir; no mounts. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/pods/volumes.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "tmpdir_helpers.h"

static char tmp[64];

static int setup(void **state)
{
    snprintf(tmp, sizeof(tmp), "/tmp/kos-vol-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    return 0;
}

static int teardown(void **state)
{
    tmpdir_remove(tmp);
    return 0;
}

static int lookup(void *ud, const char *kind, const char *ns, const char *name, json_t **ret)
{
    char key[256];
    snprintf(key, sizeof(key), "%s/%s", kind, name);
    json_t *o = json_object_get(ud, key);
    if (!o)
        return -ENOENT;
    *ret = json_incref(o);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int setup_pod(const char *volumes_json, json_t *objs, json_t **paths, struct kos_error **err)
{
    char buf[8192];
    snprintf(buf, sizeof(buf),
             "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u\"},"
             "\"spec\":{\"volumes\":%s,\"containers\":[{\"name\":\"c\",\"resources\":{"
             "\"limits\":{\"memory\":\"32Mi\"}}}]}}",
             volumes_json);
    _cleanup_json_ json_t *pod = json_loads(buf, 0, NULL);
    assert_non_null(pod);
    struct kos_env_ctx ctx = {
        .pod = pod, .host_ip = "10.1.1.1", .pod_ip = "10.1.1.1", .lookup = lookup, .ud = objs};
    char pod_dir[128];
    snprintf(pod_dir, sizeof(pod_dir), "%s/pod", tmp);
    mkdir(pod_dir, 0755);
    return kos_pod_volumes_setup(&ctx, pod_dir, paths, err);
}

static void check_file(const char *rel, const char *want, int mode)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/pod/volumes/%s", tmp, rel);
    _cleanup_free_ char *got = slurp(p);
    if (!got)
        print_error("missing %s\n", p);
    assert_non_null(got);
    assert_string_equal(got, want);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, mode);
}

static void test_content_volumes(void **state)
{
    _cleanup_json_ json_t *objs =
        json_pack("{s{s{ssss}s{ss}}s{s{ss}}}", "ConfigMap/cm", "data", "a.conf", "A", "b", "B",
                  "binaryData", "bin", "AAEC", "Secret/sec", "data", "pw", "czNjcjN0");
    json_t *paths = NULL;
    struct kos_error *err = NULL;
    int r = setup_pod(
        "[{\"name\":\"all\",\"configMap\":{\"name\":\"cm\"}},"
        "{\"name\":\"some\",\"configMap\":{\"name\":\"cm\",\"defaultMode\":384,"
        "\"items\":[{\"key\":\"b\",\"path\":\"sub/dir/b.txt\",\"mode\":256}]}},"
        "{\"name\":\"sec\",\"secret\":{\"secretName\":\"sec\"}},"
        "{\"name\":\"opt\",\"secret\":{\"secretName\":\"absent\",\"optional\":true}},"
        "{\"name\":\"dw\",\"downwardAPI\":{\"items\":["
        "{\"path\":\"name\",\"fieldRef\":{\"fieldPath\":\"metadata.name\"}},"
        "{\"path\":\"mem\",\"resourceFieldRef\":{\"containerName\":\"c\",\"resource\":"
        "\"limits.memory\",\"divisor\":\"1Mi\"}}]}},"
        "{\"name\":\"proj\",\"projected\":{\"sources\":[{\"configMap\":{\"name\":\"cm\","
        "\"items\":[{\"key\":\"a.conf\",\"path\":\"a\"}]}},{\"secret\":{\"name\":\"sec\"}}]}},"
        "{\"name\":\"scratch\",\"emptyDir\":{}}]",
        objs, &paths, &err);
    if (r < 0)
        print_error("%s\n", err ? err->message : "?");
    assert_int_equal(r, 0);
    check_file("all/a.conf", "A", 0644);
    check_file("all/b", "B", 0644);
    check_file("some/sub/dir/b.txt", "B", 0400);
    check_file("sec/pw", "s3cr3t", 0644);
    check_file("dw/name", "p", 0644);
    check_file("dw/mem", "32", 0644);
    check_file("proj/a", "A", 0644);
    check_file("proj/pw", "s3cr3t", 0644);
    char p[256];
    snprintf(p, sizeof(p), "%s/pod/volumes/some/a.conf", tmp);
    assert_int_equal(access(p, F_OK), -1); /* items: only the listed keys */
    struct stat st;
    snprintf(p, sizeof(p), "%s/pod/volumes/all/bin", tmp); /* binaryData, decoded */
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 3);
    snprintf(p, sizeof(p), "%s/pod/volumes/scratch", tmp);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0777);
    assert_string_equal(json_string_value(json_object_get(paths, "scratch")), p);
    json_decref(paths);
    kos_error_free(err);

    /* a second setup (every sync) rewrites the files in the same directory: running
     * containers have that directory bind-mounted */
    snprintf(p, sizeof(p), "%s/pod/volumes/all", tmp);
    struct stat before, after;
    assert_int_equal(stat(p, &before), 0);
    paths = NULL;
    assert_int_equal(
        setup_pod("[{\"name\":\"all\",\"configMap\":{\"name\":\"cm\"}}]", objs, &paths, &err), 0);
    json_decref(paths);
    assert_int_equal(stat(p, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino);
    check_file("all/a.conf", "A", 0644);

    /* teardown removes what setup made */
    snprintf(p, sizeof(p), "%s/pod", tmp);
    assert_int_equal(kos_pod_volumes_teardown(p), 0);
    snprintf(p, sizeof(p), "%s/pod/volumes", tmp);
    assert_int_equal(access(p, F_OK), -1);
}

static void expect_mount_error(const char *volumes, json_t *objs, const char *message)
{
    json_t *paths = NULL;
    struct kos_error *err = NULL;
    assert_true(setup_pod(volumes, objs, &paths, &err) < 0);
    assert_non_null(err);
    assert_string_equal(err->reason, "FailedMount");
    if (strcmp(err->message, message) != 0)
        print_error("got: %s\n", err->message);
    assert_string_equal(err->message, message);
    kos_error_free(err);
}

static void test_errors_and_host_paths(void **state)
{
    _cleanup_json_ json_t *objs =
        json_pack("{s{s{ss}}s{s{ss}}s{s{ss}}}", "PersistentVolumeClaim/bound", "spec", "volumeName",
                  "pv1", "PersistentVolumeClaim/unbound", "spec", "storageClassName", "x",
                  "PersistentVolume/pv1", "spec", "storageClassName", "manual");
    expect_mount_error("[{\"name\":\"v\",\"configMap\":{\"name\":\"nope\"}}]", objs,
                       "MountVolume.SetUp failed for volume \"v\" : configmap \"nope\" not found");
    expect_mount_error("[{\"name\":\"v\",\"secret\":{\"secretName\":\"nope\"}}]", objs,
                       "MountVolume.SetUp failed for volume \"v\" : secret \"nope\" not found");
    char vol[512];
    snprintf(vol, sizeof(vol),
             "[{\"name\":\"h\",\"hostPath\":{\"path\":\"%s/missing\",\"type\":\"Directory\"}}]",
             tmp);
    char msg[512];
    snprintf(msg, sizeof(msg),
             "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: "
             "%s/missing is not a directory",
             tmp);
    expect_mount_error(vol, objs, msg);
    expect_mount_error("[{\"name\":\"c\",\"persistentVolumeClaim\":{\"claimName\":\"none\"}}]",
                       objs,
                       "MountVolume.SetUp failed for volume \"c\" : persistentvolumeclaim "
                       "\"none\" not found");
    expect_mount_error("[{\"name\":\"c\",\"persistentVolumeClaim\":{\"claimName\":"
                       "\"unbound\"}}]",
                       objs,
                       "MountVolume.SetUp failed for volume \"c\" : persistentvolumeclaim "
                       "\"unbound\" is not bound");
    expect_mount_error("[{\"name\":\"g\",\"gitRepo\":{\"repository\":\"x\"}}]", objs,
                       "MountVolume.SetUp failed for volume \"g\" : this node supports "
                       "emptyDir, hostPath, configMap, secret, downwardAPI, projected and "
                       "persistentVolumeClaim volumes");

    /* DirectoryOrCreate and FileOrCreate make what is missing */
    snprintf(vol, sizeof(vol),
             "[{\"name\":\"d\",\"hostPath\":{\"path\":\"%s/made/dir\",\"type\":"
             "\"DirectoryOrCreate\"}},{\"name\":\"f\",\"hostPath\":{\"path\":\"%s/file\","
             "\"type\":\"FileOrCreate\"}}]",
             tmp, tmp);
    json_t *paths = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(setup_pod(vol, objs, &paths, &err), 0);
    struct stat st;
    char p[256];
    snprintf(p, sizeof(p), "%s/made/dir", tmp);
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    snprintf(p, sizeof(p), "%s/file", tmp);
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    json_decref(paths);

    /* a PV that is neither hostPath nor local */
    expect_mount_error("[{\"name\":\"c\",\"persistentVolumeClaim\":{\"claimName\":"
                       "\"bound\"}}]",
                       objs,
                       "MountVolume.SetUp failed for volume \"c\" : persistentvolume \"pv1\" "
                       "is neither hostPath nor local, which this node cannot mount");
}

static void test_container_mounts_and_subpath(void **state)
{
    char base[128], outside[128];
    snprintf(base, sizeof(base), "%s/vol", tmp);
    snprintf(outside, sizeof(outside), "%s/outside", tmp);
    mkdir(base, 0755);
    mkdir(outside, 0755);
    char link[160];
    snprintf(link, sizeof(link), "%s/escape", base);
    assert_int_equal(symlink(outside, link), 0);
    _cleanup_json_ json_t *paths = json_pack("{ss}", "v", base);
    _cleanup_json_ json_t *c = json_loads(
        "{\"name\":\"c\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/data\"},"
        "{\"name\":\"v\",\"mountPath\":\"/sub\",\"subPath\":\"a/b\",\"readOnly\":true}]}",
        0, NULL);
    struct kos_pod_mounts m = {0};
    struct kos_error *err = NULL;
    assert_int_equal(kos_pod_container_mounts(c, paths, &m, &err), 0);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.m[0].destination, "/data");
    assert_string_equal(m.m[0].source, base);
    assert_false(m.m[0].readonly);
    char want[200];
    snprintf(want, sizeof(want), "%s/a/b", base);
    assert_string_equal(m.m[1].source, want);
    assert_true(m.m[1].readonly);
    kos_pod_mounts_free(&m);

    const char *bad[] = {
        "{\"name\":\"c\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/x\","
        "\"subPath\":\"../up\"}]}",
        "{\"name\":\"c\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/x\","
        "\"subPath\":\"escape\"}]}",
        "{\"name\":\"c\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/x\","
        "\"subPath\":\"/abs\"}]}",
        "{\"name\":\"c\",\"volumeMounts\":[{\"name\":\"nope\",\"mountPath\":\"/x\"}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_json_ json_t *bc = json_loads(bad[i], 0, NULL);
        err = NULL;
        assert_true(kos_pod_container_mounts(bc, paths, &m, &err) < 0);
        assert_non_null(err);
        assert_string_equal(err->reason, "CreateContainerConfigError");
        kos_error_free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_content_volumes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_and_host_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_mounts_and_subpath, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
