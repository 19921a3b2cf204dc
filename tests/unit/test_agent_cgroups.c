/* Unit tests for src/agent/cgroups: QoS classes, the kubelet's cgroup formulas (v1 and v2),
 * oom_score_adj, mountinfo detection and the pod cgroup names
 * (spec/resource-semantics.md §1, §2). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>
#include <sys/stat.h>

#include "agent/cgroups/cgroups.h"
#include "agent/cgroups/qos.h"

static json_t *pod_of(const char *js)
{
    json_error_t e;
    json_t *p = json_loads(js, 0, &e);
    if (!p)
        print_error("bad test JSON: %s\n", e.text);
    assert_non_null(p);
    return p;
}

#define GUARANTEED_POD                                                                             \
    "{\"metadata\":{\"uid\":\"u-1\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{"    \
    "\"limits\":{\"cpu\":\"1\",\"memory\":\"200Mi\"},"                                             \
    "\"requests\":{\"cpu\":\"1\",\"memory\":\"200Mi\"}}}]}}"

static void test_qos(void **state)
{
    json_t *p = pod_of(GUARANTEED_POD);
    assert_int_equal(agent_qos_of_pod(p), AGENT_QOS_GUARANTEED);
    json_decref(p);

    p = pod_of("{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    assert_int_equal(agent_qos_of_pod(p), AGENT_QOS_BEST_EFFORT);
    json_decref(p);

    /* only a cpu limit: Burstable */
    p = pod_of("{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"cpu\":"
               "\"1\"},\"requests\":{\"cpu\":\"1\"}}}]}}");
    assert_int_equal(agent_qos_of_pod(p), AGENT_QOS_BURSTABLE);
    json_decref(p);

    /* an init container without limits breaks Guaranteed */
    p = pod_of("{\"spec\":{\"initContainers\":[{\"name\":\"i\"}],\"containers\":[{\"name\":\"c\","
               "\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":{"
               "\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]}}");
    assert_int_equal(agent_qos_of_pod(p), AGENT_QOS_BURSTABLE);
    json_decref(p);

    /* cpu: 0 counts as unset */
    p = pod_of("{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":"
               "\"0\"}}}]}}");
    assert_int_equal(agent_qos_of_pod(p), AGENT_QOS_BEST_EFFORT);
    json_decref(p);

    /* status.qosClass wins (GetPodQOS) */
    p = pod_of("{\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"qosClass\":"
               "\"Burstable\"}}");
    assert_int_equal(agent_qos_of_pod(p), AGENT_QOS_BURSTABLE);
    assert_int_equal(agent_qos_compute(p), AGENT_QOS_BEST_EFFORT);
    json_decref(p);

    assert_string_equal(agent_qos_name(AGENT_QOS_BEST_EFFORT), "BestEffort");
    enum agent_qos q;
    assert_int_equal(agent_qos_from_name("guaranteed", &q), -EINVAL);
}

static void test_shares_quota(void **state)
{
    assert_int_equal(cg_milli_cpu_to_shares(0), 2);
    assert_int_equal(cg_milli_cpu_to_shares(1), 2);
    assert_int_equal(cg_milli_cpu_to_shares(10), 10);
    assert_int_equal(cg_milli_cpu_to_shares(100), 102);
    assert_int_equal(cg_milli_cpu_to_shares(250), 256);
    assert_int_equal(cg_milli_cpu_to_shares(1000), 1024);
    assert_int_equal(cg_milli_cpu_to_shares(14500), 14848);
    assert_int_equal(cg_milli_cpu_to_shares(256000), 262144);
    assert_int_equal(cg_milli_cpu_to_shares(10000000), 262144);
    assert_int_equal(cg_milli_cpu_to_shares(INT64_MAX), 262144);

    assert_int_equal(cg_milli_cpu_to_quota(0, 100000), 0);
    assert_int_equal(cg_milli_cpu_to_quota(1, 100000), 1000);
    assert_int_equal(cg_milli_cpu_to_quota(10, 100000), 1000);
    assert_int_equal(cg_milli_cpu_to_quota(100, 100000), 10000);
    assert_int_equal(cg_milli_cpu_to_quota(250, 100000), 25000);
    assert_int_equal(cg_milli_cpu_to_quota(1000, 100000), 100000);
    assert_int_equal(cg_milli_cpu_to_quota(4000, 100000), 400000);
}

static void test_weight(void **state)
{
    /* the table of §2.6, linear column */
    assert_int_equal(cg_shares_to_weight(0), 0);
    assert_int_equal(cg_shares_to_weight(2), 1);
    assert_int_equal(cg_shares_to_weight(10), 1);
    assert_int_equal(cg_shares_to_weight(102), 4);
    assert_int_equal(cg_shares_to_weight(256), 10);
    assert_int_equal(cg_shares_to_weight(512), 20);
    assert_int_equal(cg_shares_to_weight(1024), 39);
    assert_int_equal(cg_shares_to_weight(2048), 79);
    assert_int_equal(cg_shares_to_weight(4096), 157);
    assert_int_equal(cg_shares_to_weight(262144), 10000);
    assert_int_equal(cg_weight_to_shares(1), 2);
    assert_int_equal(cg_weight_to_shares(10000), 262144);
    assert_int_equal(cg_weight_to_shares(39), 998);
}

static void test_pod_values(void **state)
{
    struct cg_resources r;
    json_t *p = pod_of(GUARANTEED_POD);
    assert_int_equal(cg_pod_resources(p, &r), 0);
    assert_int_equal(r.cpu_shares, 1024);
    assert_int_equal(r.cpu_period, 100000);
    assert_int_equal(r.cpu_quota, 100000);
    assert_int_equal(r.memory_limit, 209715200);
    assert_int_equal(cg_shares_to_weight(r.cpu_shares), 39);
    json_decref(p);

    /* Burstable with a request only: shares, no quota, no memory */
    p = pod_of("{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{"
               "\"cpu\":\"250m\",\"memory\":\"64Mi\"}}}]}}");
    assert_int_equal(cg_pod_resources(p, &r), 0);
    assert_int_equal(r.cpu_shares, 256);
    assert_int_equal(r.cpu_quota, 0);
    assert_int_equal(r.cpu_period, 0);
    assert_int_equal(r.memory_limit, 0);
    json_decref(p);

    /* Burstable, two containers, both limit memory but only one limits cpu */
    p = pod_of("{\"spec\":{\"containers\":["
               "{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"10Mi\"},"
               "\"limits\":{\"cpu\":\"500m\",\"memory\":\"100Mi\"}}},"
               "{\"name\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"100m\"},"
               "\"limits\":{\"memory\":\"50Mi\"}}}]}}");
    assert_int_equal(cg_pod_resources(p, &r), 0);
    assert_int_equal(r.cpu_shares, 204);
    assert_int_equal(r.cpu_quota, 0);
    assert_int_equal(r.memory_limit, 150 * 1024 * 1024);
    json_decref(p);

    /* Burstable with every limit: quota from the summed limits; init container max rule */
    p = pod_of("{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"resources\":{\"requests\":{"
               "\"cpu\":\"2\"},\"limits\":{\"cpu\":\"3\",\"memory\":\"1Gi\"}}}],"
               "\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"100m\"},"
               "\"limits\":{\"cpu\":\"1\",\"memory\":\"100Mi\"}}}]}}");
    assert_int_equal(cg_pod_resources(p, &r), 0);
    assert_int_equal(r.cpu_shares, 2048);
    assert_int_equal(r.cpu_quota, 300000);
    assert_int_equal(r.cpu_period, 100000);
    assert_int_equal(r.memory_limit, 1024 * 1024 * 1024);
    json_decref(p);

    /* BestEffort: shares 2 only */
    p = pod_of("{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    assert_int_equal(cg_pod_resources(p, &r), 0);
    assert_int_equal(r.cpu_shares, 2);
    assert_int_equal(r.cpu_quota, 0);
    assert_int_equal(r.memory_limit, 0);
    json_decref(p);

    /* overhead is added to requests and non-zero limits */
    p = pod_of("{\"spec\":{\"overhead\":{\"cpu\":\"250m\",\"memory\":\"120Mi\"},\"containers\":["
               "{\"name\":\"c\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"200Mi\"},"
               "\"requests\":{\"cpu\":\"1\",\"memory\":\"200Mi\"}}}]}}");
    assert_int_equal(cg_pod_resources(p, &r), 0);
    assert_int_equal(r.cpu_shares, 1280);
    assert_int_equal(r.cpu_quota, 125000);
    assert_int_equal(r.memory_limit, 320 * 1024 * 1024);
    json_decref(p);

    /* bad quantity: an error, not a crash */
    p = pod_of("{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"cpu\":"
               "\"lots\"}}}]}}");
    assert_int_equal(cg_pod_resources(p, &r), -EINVAL);
    json_decref(p);
    p = pod_of("{\"spec\":{\"containers\":7}}");
    assert_int_equal(cg_pod_resources(p, &r), -EINVAL);
    json_decref(p);
}

static void test_container_values(void **state)
{
    struct cg_resources r;
    json_t *c = pod_of("{\"name\":\"c\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":"
                       "\"200Mi\"},\"requests\":{\"cpu\":\"1\",\"memory\":\"200Mi\"}}}");
    assert_int_equal(cg_container_resources(c, &r), 0);
    assert_int_equal(r.cpu_shares, 1024);
    assert_int_equal(r.cpu_quota, 100000);
    assert_int_equal(r.cpu_period, 100000);
    assert_int_equal(r.memory_limit, 209715200);
    json_decref(c);

    /* limit only (no defaulting happened): shares from the limit */
    c = pod_of("{\"name\":\"c\",\"resources\":{\"limits\":{\"cpu\":\"500m\"}}}");
    assert_int_equal(cg_container_resources(c, &r), 0);
    assert_int_equal(r.cpu_shares, 512);
    assert_int_equal(r.cpu_quota, 50000);
    assert_int_equal(r.memory_limit, 0);
    json_decref(c);

    c = pod_of("{\"name\":\"c\"}");
    assert_int_equal(cg_container_resources(c, &r), 0);
    assert_int_equal(r.cpu_shares, 2);
    assert_int_equal(r.cpu_quota, 0);
    assert_int_equal(r.cpu_period, 100000);
    json_decref(c);
}

static void test_oom_score_adj(void **state)
{
    const int64_t cap16 = 16LL << 30;
    json_t *p = pod_of(GUARANTEED_POD);
    json_t *c = json_array_get(json_object_get(json_object_get(p, "spec"), "containers"), 0);
    assert_int_equal(cg_oom_score_adj(p, c, cap16), -997);
    json_decref(p);

    p = pod_of("{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    c = json_array_get(json_object_get(json_object_get(p, "spec"), "containers"), 0);
    assert_int_equal(cg_oom_score_adj(p, c, cap16), 1000);
    json_decref(p);

    p = pod_of("{\"spec\":{\"priorityClassName\":\"system-node-critical\",\"containers\":[{"
               "\"name\":\"c\"}]}}");
    c = json_array_get(json_object_get(json_object_get(p, "spec"), "containers"), 0);
    assert_int_equal(cg_oom_score_adj(p, c, cap16), -997);
    json_decref(p);

    static const struct {
        const char *req;
        int adj;
    } cases[] = {{NULL, 999}, {"100Mi", 994}, {"1Gi", 938}, {"8Gi", 500}, {"16Gi", 3}, {"64Gi", 3}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char js[512];
        if (cases[i].req)
            snprintf(js, sizeof(js),
                     "{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{"
                     "\"memory\":\"%s\"}}}]}}",
                     cases[i].req);
        else
            snprintf(js, sizeof(js),
                     "{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{"
                     "\"cpu\":\"1\"}}}]}}");
        p = pod_of(js);
        c = json_array_get(json_object_get(json_object_get(p, "spec"), "containers"), 0);
        assert_int_equal(cg_oom_score_adj(p, c, cap16), cases[i].adj);
        json_decref(p);
    }
}

static void test_node_values(void **state)
{
    struct cg_resources r;
    /* §2.5: 16 CPUs, 32Gi, kube-reserved cpu=1,mem=2Gi, system-reserved cpu=500m,mem=1Gi */
    cg_node_resources(14500, 29LL << 30, 0, &r);
    assert_int_equal(r.cpu_shares, 14848);
    assert_int_equal(r.memory_limit, 29LL << 30);
    assert_int_equal(r.cpu_quota, 0);
    assert_int_equal(r.pids_max, 0);
}

static const char hybrid_mountinfo[] =
    "23 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static void test_detect(void **state)
{
    struct cg_host h;
    assert_int_equal(cg_host_parse_mountinfo(hybrid_mountinfo, &h), 0);
    assert_int_equal(h.mode, CG_MODE_HYBRID);
    assert_string_equal(cg_mode_name(h.mode), "hybrid");
    assert_int_equal(h.n, 6);
    assert_string_equal(cg_host_controller(&h, "cpu")->mount, "/sys/fs/cgroup/cpu");
    assert_string_equal(cg_host_controller(&h, "memory")->mount, "/sys/fs/cgroup/memory");
    assert_string_equal(cg_host_controller(&h, "")->mount, "/sys/fs/cgroup/unified");
    assert_null(cg_host_controller(&h, "cpuset"));

    assert_int_equal(cg_host_parse_mountinfo("30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 "
                                             "cgroup2 rw,nsdelegate,memory_recursiveprot\n",
                                             &h),
                     0);
    assert_int_equal(h.mode, CG_MODE_UNIFIED);
    assert_string_equal(cg_host_controller(&h, "memory")->mount, "/sys/fs/cgroup");

    assert_int_equal(cg_host_parse_mountinfo("32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup "
                                             "cgroup rw,cpu,cpuacct\n",
                                             &h),
                     0);
    assert_int_equal(h.mode, CG_MODE_V1);
    assert_string_equal(cg_host_controller(&h, "cpuacct")->mount, "/sys/fs/cgroup/cpu,cpuacct");
    assert_null(cg_host_controller(&h, ""));

    assert_int_equal(cg_host_parse_mountinfo("23 1 8:1 / / rw - ext4 /dev/sda1 rw\n", &h), -ENOENT);
    assert_int_equal(cg_host_parse_mountinfo("garbage\n- -\n\n", &h), -ENOENT);
}

static void test_names(void **state)
{
    struct cg_host h;
    assert_int_equal(cg_host_parse_mountinfo(hybrid_mountinfo, &h), 0);
    struct cg_manager *m = NULL;
    char out[512];
    assert_int_equal(cg_manager_new(&h, "/", &m), 0);
    assert_int_equal(cg_manager_pod_name(m, AGENT_QOS_GUARANTEED, "abc", out, sizeof(out)), 0);
    assert_string_equal(out, "/kubepods/podabc");
    assert_int_equal(cg_manager_pod_name(m, AGENT_QOS_BURSTABLE, "abc", out, sizeof(out)), 0);
    assert_string_equal(out, "/kubepods/burstable/podabc");
    assert_int_equal(cg_manager_pod_name(m, AGENT_QOS_BEST_EFFORT, "abc", out, sizeof(out)), 0);
    assert_string_equal(out, "/kubepods/besteffort/podabc");
    assert_int_equal(cg_manager_pod_name(m, AGENT_QOS_BEST_EFFORT, "../x", out, sizeof(out)),
                     -EINVAL);
    assert_int_equal(cg_manager_pod_name(m, AGENT_QOS_BEST_EFFORT, "..", out, sizeof(out)),
                     -EINVAL);
    assert_int_equal(cg_manager_pod_dir(m, AGENT_QOS_BURSTABLE, "abc", "memory", out, sizeof(out)),
                     0);
    assert_string_equal(out, "/sys/fs/cgroup/memory/kubepods/burstable/podabc");
    assert_int_equal(cg_manager_pod_dir(m, AGENT_QOS_BURSTABLE, "abc", "rdma", out, sizeof(out)),
                     -ENOENT);
    cg_manager_free(m);

    assert_int_equal(cg_manager_new(&h, "//kos-test-1//a/", &m), 0);
    assert_int_equal(
        cg_manager_container_path(m, AGENT_QOS_GUARANTEED, "u", "ctr1", out, sizeof(out)), 0);
    assert_string_equal(out, "/kos-test-1/a/kubepods/podu/ctr1");
    assert_int_equal(
        cg_manager_container_path(m, AGENT_QOS_GUARANTEED, "u", "a/b", out, sizeof(out)), -EINVAL);
    assert_int_equal(cg_manager_pod_name(m, AGENT_QOS_GUARANTEED, "u", out, 8), -ENAMETOOLONG);
    cg_manager_free(m);

    assert_int_equal(cg_manager_new(&h, "relative", &m), -EINVAL);
    assert_int_equal(cg_manager_new(&h, "/a/../b", &m), -EINVAL);
    cg_manager_free(NULL);
}

/* ---- the manager on fake hierarchies: plain directories named as cgroup mounts ---- */

static char *slurp(const char *dir, const char *file)
{
    static char buf[256];
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_manager_writes_v1(void **state)
{
    char tmp[] = "/tmp/kos-cg-v1-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char mi[2048];
    snprintf(mi, sizeof(mi),
             "32 31 0:29 / %s/cpu rw - cgroup cgroup rw,cpu\n"
             "35 31 0:32 / %s/memory rw - cgroup cgroup rw,memory\n"
             "39 31 0:36 / %s/pids rw - cgroup cgroup rw,pids\n",
             tmp, tmp, tmp);
    static const char *const mounts[] = {"cpu", "memory", "pids"};
    for (size_t i = 0; i < 3; i++) {
        char dir[600];
        snprintf(dir, sizeof(dir), "%s/%s", tmp, mounts[i]);
        assert_int_equal(mkdir(dir, 0755), 0);
    }
    struct cg_host h;
    assert_int_equal(cg_host_parse_mountinfo(mi, &h), 0);
    struct cg_manager *m = NULL;
    assert_int_equal(cg_manager_new(&h, "/kos-unit", &m), 0);
    struct cg_resources kp;
    cg_node_resources(1900, 1 << 30, 1000, &kp);
    assert_int_equal(cg_manager_ensure_node(m, &kp), 0);
    char d[1024];
    snprintf(d, sizeof(d), "%s/cpu/kos-unit/kubepods", tmp);
    assert_string_equal(slurp(d, "cpu.shares"), "1945");
    assert_null(slurp(d, "cpu.cfs_quota_us")); /* the kubelet sets no quota on kubepods */
    snprintf(d, sizeof(d), "%s/memory/kos-unit/kubepods", tmp);
    assert_string_equal(slurp(d, "memory.limit_in_bytes"), "1073741824");
    snprintf(d, sizeof(d), "%s/pids/kos-unit/kubepods", tmp);
    assert_string_equal(slurp(d, "pids.max"), "1000");
    snprintf(d, sizeof(d), "%s/cpu/kos-unit/kubepods/besteffort", tmp);
    assert_string_equal(slurp(d, "cpu.shares"), "2");
    assert_int_equal(cg_manager_set_burstable_cpu(m, 500), 0);
    snprintf(d, sizeof(d), "%s/cpu/kos-unit/kubepods/burstable", tmp);
    assert_string_equal(slurp(d, "cpu.shares"), "512");

    json_t *p = pod_of(GUARANTEED_POD);
    assert_int_equal(cg_manager_ensure_pod(m, p), 0);
    snprintf(d, sizeof(d), "%s/cpu/kos-unit/kubepods/podu-1", tmp);
    assert_string_equal(slurp(d, "cpu.shares"), "1024");
    assert_string_equal(slurp(d, "cpu.cfs_period_us"), "100000");
    assert_string_equal(slurp(d, "cpu.cfs_quota_us"), "100000");
    snprintf(d, sizeof(d), "%s/memory/kos-unit/kubepods/podu-1", tmp);
    assert_string_equal(slurp(d, "memory.limit_in_bytes"), "209715200");
    assert_true(cg_manager_pod_exists(m, "u-1"));
    assert_false(cg_manager_pod_exists(m, "u-2"));
    json_decref(p);

    /* a pod without a uid gets no cgroup */
    p = pod_of("{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    assert_int_equal(cg_manager_ensure_pod(m, p), -EINVAL);
    json_decref(p);
    cg_manager_free(m);
    rm_rf(tmp);
}

static void test_manager_writes_v2(void **state)
{
    char tmp[] = "/tmp/kos-cg-v2-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char mi[1024];
    snprintf(mi, sizeof(mi), "30 23 0:26 / %s rw - cgroup2 cgroup2 rw,nsdelegate\n", tmp);
    struct cg_host h;
    assert_int_equal(cg_host_parse_mountinfo(mi, &h), 0);
    assert_int_equal(h.mode, CG_MODE_UNIFIED);
    struct cg_manager *m = NULL;
    assert_int_equal(cg_manager_new(&h, "/", &m), 0);
    struct cg_resources kp;
    cg_node_resources(14500, 29LL << 30, 0, &kp);
    assert_int_equal(cg_manager_ensure_node(m, &kp), 0);
    char d[1024];
    snprintf(d, sizeof(d), "%s/kubepods", tmp);
    assert_string_equal(slurp(d, "cpu.weight"), "567"); /* 1 + (14848-2)*9999/262142 */
    assert_string_equal(slurp(d, "memory.max"), "31138512896");
    /* controllers are delegated down the tree */
    assert_non_null(slurp(tmp, "cgroup.subtree_control"));

    json_t *p = pod_of(GUARANTEED_POD);
    assert_int_equal(cg_manager_ensure_pod(m, p), 0);
    snprintf(d, sizeof(d), "%s/kubepods/podu-1", tmp);
    assert_string_equal(slurp(d, "cpu.weight"), "39");
    assert_string_equal(slurp(d, "cpu.max"), "100000 100000");
    assert_string_equal(slurp(d, "memory.max"), "209715200");
    json_decref(p);

    /* Burstable without a cpu limit: weight only, no cpu.max or memory.max */
    p = pod_of("{\"metadata\":{\"uid\":\"u-2\"},\"spec\":{\"containers\":[{\"name\":\"c\","
               "\"resources\":{\"requests\":{\"cpu\":\"250m\"}}}]}}");
    assert_int_equal(cg_manager_ensure_pod(m, p), 0);
    snprintf(d, sizeof(d), "%s/kubepods/burstable/podu-2", tmp);
    assert_string_equal(slurp(d, "cpu.weight"), "10");
    assert_null(slurp(d, "cpu.max"));
    assert_null(slurp(d, "memory.max"));
    json_decref(p);
    char out[512];
    assert_int_equal(cg_manager_pod_dir(m, AGENT_QOS_BURSTABLE, "u-2", "memory", out, sizeof(out)),
                     0);
    assert_string_equal(out, d);
    cg_manager_free(m);
    rm_rf(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qos),
        cmocka_unit_test(test_shares_quota),
        cmocka_unit_test(test_weight),
        cmocka_unit_test(test_pod_values),
        cmocka_unit_test(test_container_values),
        cmocka_unit_test(test_oom_score_adj),
        cmocka_unit_test(test_node_values),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_manager_writes_v1),
        cmocka_unit_test(test_manager_writes_v2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
