/* Unit tests for local ephemeral storage limit evictions (src/agent/eviction/local_storage.c):
 * the three rules in the kubelet's order with its texts, PodLimits over init containers and
 * sidecars, the du-like walk (allocated blocks, hard links once), and measuring a pod laid out
 * as the agent lays it out in a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/eviction/local_storage.h"

#define MI (1024LL * 1024)

static json_t *pod(const char *spec)
{
    char buf[4096];
    snprintf(buf, sizeof(buf),
             "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u-1\"},\"spec\":%s}",
             spec);
    json_error_t je;
    json_t *p = json_loads(buf, 0, &je);
    if (!p)
        fail_msg("bad test json: %s", je.text);
    return p;
}

static int check(const json_t *p, int64_t *vols, size_t nv, int64_t *ctrs, size_t nc, int64_t total,
                 char **msg)
{
    struct evict_storage_usage u = {.n_volumes = nv,
                                    .volume_bytes = vols,
                                    .n_containers = nc,
                                    .container_bytes = ctrs,
                                    .pod_bytes = total};
    *msg = NULL;
    return evict_local_storage_check(p, &u, msg);
}

static void test_empty_dir_limit(void **state)
{
    (void)state;
    json_t *p = pod("{\"containers\":[{\"name\":\"app\"}],\"volumes\":["
                    "{\"name\":\"cache\",\"emptyDir\":{}},"
                    "{\"name\":\"data\",\"emptyDir\":{\"sizeLimit\":\"4Mi\"}},"
                    "{\"name\":\"zero\",\"emptyDir\":{\"sizeLimit\":\"0\"}}]}");
    assert_true(evict_local_storage_limited(p));
    int64_t vols[3] = {100 * MI, 4 * MI, 50 * MI}, ctrs[1] = {0};
    char *msg;
    /* exactly at the limit is fine; a zero limit is no limit; no sizeLimit is no limit */
    assert_int_equal(check(p, vols, 3, ctrs, 1, 200 * MI, &msg), 0);
    assert_null(msg);
    vols[1] = 4 * MI + 4096;
    assert_int_equal(check(p, vols, 3, ctrs, 1, 200 * MI, &msg), 1);
    assert_string_equal(msg, "Usage of EmptyDir volume \"data\" exceeds the limit \"4Mi\". ");
    free(msg);
    /* not measured: not judged */
    vols[1] = -1;
    assert_int_equal(check(p, vols, 3, ctrs, 1, 200 * MI, &msg), 0);
    json_decref(p);

    /* canonical quantity text: 4096Ki prints as 4Mi, decimal stays decimal */
    p = pod("{\"containers\":[{\"name\":\"app\"}],\"volumes\":["
            "{\"name\":\"a\",\"emptyDir\":{\"sizeLimit\":\"4096Ki\"}},"
            "{\"name\":\"b\",\"emptyDir\":{\"sizeLimit\":\"5M\"}}]}");
    int64_t v2[2] = {5 * MI, 0};
    assert_int_equal(check(p, v2, 2, ctrs, 1, 0, &msg), 1);
    assert_string_equal(msg, "Usage of EmptyDir volume \"a\" exceeds the limit \"4Mi\". ");
    free(msg);
    v2[0] = 0;
    v2[1] = 5000001;
    assert_int_equal(check(p, v2, 2, ctrs, 1, 0, &msg), 1);
    assert_string_equal(msg, "Usage of EmptyDir volume \"b\" exceeds the limit \"5M\". ");
    free(msg);
    json_decref(p);
}

static void test_pod_and_container_limits(void **state)
{
    (void)state;
    json_t *p = pod("{\"containers\":["
                    "{\"name\":\"a\",\"resources\":{\"limits\":{\"ephemeral-storage\":\"4Mi\"}}},"
                    "{\"name\":\"b\",\"resources\":{\"limits\":{\"ephemeral-storage\":\"8Mi\"}}},"
                    "{\"name\":\"c\"}]}");
    assert_true(evict_local_storage_limited(p));
    int64_t ctrs[3] = {1 * MI, 1 * MI, 100 * MI};
    char *msg;
    /* c has no limit of its own: only the pod total (12Mi) can catch it */
    assert_int_equal(check(p, NULL, 0, ctrs, 3, 12 * MI, &msg), 0);
    assert_int_equal(check(p, NULL, 0, ctrs, 3, 12 * MI + 1, &msg), 1);
    assert_string_equal(msg,
                        "Pod ephemeral local storage usage exceeds the total limit of containers "
                        "12Mi. ");
    free(msg);
    /* a container over its own limit while the pod is under the total */
    ctrs[0] = 5 * MI;
    ctrs[2] = 0;
    assert_int_equal(check(p, NULL, 0, ctrs, 3, 6 * MI, &msg), 1);
    assert_string_equal(msg, "Container a exceeded its local ephemeral storage limit \"4Mi\". ");
    free(msg);
    /* the pod rule comes before the container rule */
    assert_int_equal(check(p, NULL, 0, ctrs, 3, 20 * MI, &msg), 1);
    assert_non_null(strstr(msg, "Pod ephemeral local storage usage"));
    free(msg);
    json_decref(p);

    /* PodLimits: max(Σ app + Σ sidecars, each init + the sidecars before it) + overhead */
    p = pod("{\"initContainers\":["
            "{\"name\":\"side\",\"restartPolicy\":\"Always\","
            "\"resources\":{\"limits\":{\"ephemeral-storage\":\"2Mi\"}}},"
            "{\"name\":\"big\",\"resources\":{\"limits\":{\"ephemeral-storage\":\"30Mi\"}}}],"
            "\"containers\":["
            "{\"name\":\"a\",\"resources\":{\"limits\":{\"ephemeral-storage\":\"4Mi\"}}}],"
            "\"overhead\":{\"ephemeral-storage\":\"1Mi\"}}");
    int64_t one[1] = {0};
    assert_int_equal(check(p, NULL, 0, one, 1, 33 * MI, &msg), 0);
    assert_int_equal(check(p, NULL, 0, one, 1, 33 * MI + 1, &msg), 1);
    assert_string_equal(msg,
                        "Pod ephemeral local storage usage exceeds the total limit of containers "
                        "33Mi. ");
    free(msg);
    json_decref(p);

    /* nothing limited: never walked */
    p = pod("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"memory\":\"1Gi\"}}}],"
            "\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}");
    assert_false(evict_local_storage_limited(p));
    assert_int_equal(check(p, NULL, 0, one, 1, 1LL << 40, &msg), 0);
    json_decref(p);
}

static void write_file(const char *path, size_t bytes)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    char block[65536];
    memset(block, 'x', sizeof(block));
    while (bytes > 0) {
        size_t n = bytes < sizeof(block) ? bytes : sizeof(block);
        assert_int_equal(write(fd, block, n), (ssize_t)n);
        bytes -= n;
    }
    assert_int_equal(fsync(fd), 0);
    close(fd);
}

static void mkdirs(const char *root, const char *rel)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *s = path + strlen(root) + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        (void)mkdir(path, 0755);
        *s = '/';
    }
    (void)mkdir(path, 0755);
}

static void rm_rf(const char *root)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void test_du_and_pod_layout(void **state)
{
    (void)state;
    char root[] = "/tmp/kos-ls-XXXXXX";
    assert_non_null(mkdtemp(root));
    char path[4200], lnk[4200];
    assert_true(strlen(root) < 64);

    /* du: allocated blocks; a sparse file counts what it holds; hard links once */
    mkdirs(root, "du/sub");
    snprintf(path, sizeof(path), "%s/du/sub/f", root);
    write_file(path, 1 * MI);
    snprintf(lnk, sizeof(lnk), "%s/du/f-link", root);
    assert_int_equal(link(path, lnk), 0);
    snprintf(path, sizeof(path), "%s/du/sparse", root);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 512 * MI), 0);
    close(fd);
    snprintf(path, sizeof(path), "%s/du", root);
    int64_t bytes = 0, inodes = 0;
    assert_int_equal(evict_du(path, &bytes, &inodes), 0);
    assert_true(bytes >= 1 * MI);
    assert_true(bytes < 2 * MI); /* the link and the sparse file add (almost) nothing */
    assert_int_equal(inodes, 4); /* du, sub, f, sparse */
    snprintf(path, sizeof(path), "%s/missing", root);
    assert_int_equal(evict_du(path, &bytes, NULL), 0);
    assert_int_equal(bytes, 0);

    /* the agent's layout */
    char rootdir[256], logdir[256];
    snprintf(rootdir, sizeof(rootdir), "%s/agent", root);
    snprintf(logdir, sizeof(logdir), "%s/logs", root);
    mkdirs(root, "agent/pods/u-1/volumes/data");
    mkdirs(root, "agent/pods/u-1/volumes/cm");
    mkdirs(root, "agent/pods/u-1/volumes/mem");
    mkdirs(root, "agent/containers/u-1_app_0/upper/tmp");
    mkdirs(root, "agent/containers/u-1_app_1/upper");
    mkdirs(root, "agent/containers/u-1_init_0/rootfs");
    mkdirs(root, "agent/containers/u-2_app_0/upper");
    mkdirs(root, "logs/ns_p_u-1/app");
    snprintf(path, sizeof(path), "%s/pods/u-1/volumes/data/blob", rootdir);
    write_file(path, 3 * MI);
    snprintf(path, sizeof(path), "%s/pods/u-1/volumes/cm/key", rootdir);
    write_file(path, 1 * MI);
    snprintf(path, sizeof(path), "%s/pods/u-1/volumes/mem/blob", rootdir);
    write_file(path, 2 * MI);
    snprintf(path, sizeof(path), "%s/containers/u-1_app_0/upper/tmp/x", rootdir);
    write_file(path, 2 * MI);
    snprintf(path, sizeof(path), "%s/containers/u-1_app_1/upper/y", rootdir);
    write_file(path, 1 * MI);
    snprintf(path, sizeof(path), "%s/containers/u-1_init_0/rootfs/z", rootdir);
    write_file(path, 1 * MI);
    snprintf(path, sizeof(path), "%s/containers/u-2_app_0/upper/other", rootdir);
    write_file(path, 8 * MI); /* another pod's */
    snprintf(path, sizeof(path), "%s/ns_p_u-1/app/0.log", logdir);
    write_file(path, 1 * MI);

    json_t *p =
        pod("{\"initContainers\":[{\"name\":\"init\"}],\"containers\":["
            "{\"name\":\"app\",\"resources\":{\"limits\":{\"ephemeral-storage\":\"5Mi\"}}}],"
            "\"volumes\":[{\"name\":\"data\",\"emptyDir\":{\"sizeLimit\":\"2Mi\"}},"
            "{\"name\":\"cm\",\"configMap\":{\"name\":\"x\"}},"
            "{\"name\":\"mem\",\"emptyDir\":{\"medium\":\"Memory\"}},"
            "{\"name\":\"host\",\"hostPath\":{\"path\":\"/\"}}]}");
    struct evict_storage_usage u;
    assert_int_equal(evict_storage_usage_read(p, rootdir, logdir, &u), 0);
    assert_int_equal(u.n_volumes, 4);
    assert_int_equal(u.n_containers, 1);
    assert_true(u.volume_bytes[0] >= 3 * MI && u.volume_bytes[0] < 3 * MI + 64 * 1024);
    assert_true(u.volume_bytes[1] >= 1 * MI && u.volume_bytes[1] < 1 * MI + 64 * 1024);
    assert_true(u.volume_bytes[2] >= 2 * MI);
    assert_int_equal(u.volume_bytes[3], -1); /* a hostPath is not the pod's */
    /* app: both attempts' upper dirs + its logs */
    assert_true(u.container_bytes[0] >= 4 * MI && u.container_bytes[0] < 4 * MI + 64 * 1024);
    /* total: data + cm + app + init; not the memory emptyDir, not the other pod */
    assert_true(u.pod_bytes >= 9 * MI && u.pod_bytes < 9 * MI + 128 * 1024);
    char *msg = NULL;
    assert_int_equal(evict_local_storage_check(p, &u, &msg), 1);
    assert_string_equal(msg, "Usage of EmptyDir volume \"data\" exceeds the limit \"2Mi\". ");
    free(msg);
    evict_storage_usage_clear(&u);
    evict_storage_usage_clear(NULL);
    json_decref(p);

    /* a pod without a uid, or a uid that would leave the directory, is not measured */
    p = json_loads("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"../x\"},"
                   "\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
                   0, NULL);
    assert_int_equal(evict_storage_usage_read(p, rootdir, logdir, &u), -EINVAL);
    json_decref(p);
    rm_rf(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_dir_limit),
        cmocka_unit_test(test_pod_and_container_limits),
        cmocka_unit_test(test_du_and_pod_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
