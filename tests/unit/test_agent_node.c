/* Unit tests for the agent's node side: resource-fit admission (OutOfcpu / OutOfmemory /
 * OutOfpods with the kubelet's message), the Node status JSON (conditions, transition times,
 * nodeInfo) and the Lease object. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent/node/lease.h"
#include "agent/node/node_status.h"
#include "agent/pods/admission.h"

static json_t *pod_req(const char *cpu, const char *mem)
{
    json_t *req = json_object();
    if (cpu)
        json_object_set_new(req, "cpu", json_string(cpu));
    if (mem)
        json_object_set_new(req, "memory", json_string(mem));
    return json_pack("{s:{s:[{s:s, s:{s:o}}]}}", "spec", "containers", "name", "c", "resources",
                     "requests", req);
}

static void test_admission(void **state)
{
    struct node_resources alloc = {.milli_cpu = 1900, .memory = 1000000, .pods = 2};
    struct admit_used used = {0};
    struct admit_result res;

    json_t *p = pod_req("1900m", "1000000");
    assert_int_equal(agent_admit(p, &used, &alloc, &res), 0);
    assert_true(res.admit); /* filling allocatable exactly fits */
    assert_int_equal(agent_admit_account(&used, p, 1), 0);
    assert_int_equal(used.milli_cpu, 1900);
    assert_int_equal(used.pods, 1);
    json_decref(p);

    p = pod_req("1m", NULL);
    assert_int_equal(agent_admit(p, &used, &alloc, &res), 0);
    assert_false(res.admit);
    assert_string_equal(res.reason, "OutOfcpu");
    assert_string_equal(res.message, "Pod was rejected: Node didn't have enough resource: cpu, "
                                     "requested: 1, used: 1900, capacity: 1900");
    json_decref(p);

    p = pod_req(NULL, "1");
    assert_int_equal(agent_admit(p, &used, &alloc, &res), 0);
    assert_string_equal(res.reason, "OutOfmemory");
    assert_string_equal(res.message, "Pod was rejected: Node didn't have enough resource: "
                                     "memory, requested: 1, used: 1000000, capacity: 1000000");
    json_decref(p);

    /* a pod without requests always fits the resources, but not the pod count */
    p = pod_req(NULL, NULL);
    assert_int_equal(agent_admit(p, &used, &alloc, &res), 0);
    assert_true(res.admit);
    assert_int_equal(agent_admit_account(&used, p, 1), 0);
    assert_int_equal(agent_admit(p, &used, &alloc, &res), 0);
    assert_false(res.admit);
    assert_string_equal(res.reason, "OutOfpods");
    assert_string_equal(res.message, "Pod was rejected: Node didn't have enough resource: pods, "
                                     "requested: 1, used: 2, capacity: 2");
    json_decref(p);

    /* init containers: the max rule (init 2 cpu > containers 1 cpu) */
    struct admit_used none = {0};
    alloc.pods = 10;
    p = json_pack("{s:{s:[{s:s, s:{s:{s:s}}}], s:[{s:s, s:{s:{s:s}}}]}}", "spec", "initContainers",
                  "name", "i", "resources", "requests", "cpu", "2", "containers", "name", "c",
                  "resources", "requests", "cpu", "1");
    assert_int_equal(agent_admit(p, &none, &alloc, &res), 0);
    assert_string_equal(res.reason, "OutOfcpu");
    assert_non_null(strstr(res.message, "requested: 2000, used: 0"));
    json_decref(p);

    p = pod_req("lots", NULL);
    assert_int_equal(agent_admit(p, &none, &alloc, &res), -EINVAL);
    json_decref(p);
}

static void test_node_status(void **state)
{
    struct agent_config cfg = {.node_name = "n1", .max_pods = 110};
    struct agent_machine m = {.milli_cpu = 2000,
                              .memory = 8LL << 30,
                              .ephemeral_storage = 100LL << 30,
                              .machine_id = "mid",
                              .boot_id = "bid",
                              .kernel_version = "6.1.0",
                              .os_image = "Debian GNU/Linux 12 (bookworm)",
                              .architecture = "amd64",
                              .hostname = "n1"};
    struct node_status_input in = {.cfg = &cfg,
                                   .machine = &m,
                                   .host_ip = "10.0.0.5",
                                   .runtime_version = "runc://1.1.5",
                                   .kubelet_version = "v1.33.0",
                                   .capacity = {.milli_cpu = 2000,
                                                .memory = 8LL << 30,
                                                .ephemeral_storage = 100LL << 30,
                                                .pods = 110},
                                   .allocatable = {.milli_cpu = 1700,
                                                   .memory = (8LL << 30) - (400LL << 20),
                                                   .ephemeral_storage = 1000,
                                                   .pods = 110}};
    json_t *node = agent_node_object(&in, 1000);
    assert_non_null(node);
    json_t *st = json_object_get(node, "status");
    assert_string_equal(json_string_value(json_object_get(json_object_get(st, "capacity"), "cpu")),
                        "2");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(st, "allocatable"), "cpu")), "1700m");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(st, "allocatable"), "memory")), "7792Mi");
    assert_string_equal(json_string_value(json_object_get(json_object_get(st, "capacity"), "pods")),
                        "110");
    json_t *info = json_object_get(st, "nodeInfo");
    assert_int_equal(json_object_size(info), 10);
    assert_string_equal(json_string_value(json_object_get(info, "operatingSystem")), "linux");
    json_t *conds = json_object_get(st, "conditions");
    assert_int_equal(json_array_size(conds), 4);
    json_t *ready = json_array_get(conds, 3);
    assert_string_equal(json_string_value(json_object_get(ready, "type")), "Ready");
    assert_string_equal(json_string_value(json_object_get(ready, "reason")), "KubeletReady");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(node, "metadata"), "labels"),
                            "kubernetes.io/hostname")),
                        "n1");

    /* same statuses later: transition times kept, heartbeat moves, nothing "changed" */
    json_t *later = agent_node_status(&in, st, 2000);
    json_t *r2 = json_array_get(json_object_get(later, "conditions"), 3);
    assert_string_equal(json_string_value(json_object_get(r2, "lastTransitionTime")),
                        json_string_value(json_object_get(ready, "lastTransitionTime")));
    assert_string_not_equal(json_string_value(json_object_get(r2, "lastHeartbeatTime")),
                            json_string_value(json_object_get(ready, "lastHeartbeatTime")));
    assert_false(agent_node_status_changed(st, later));

    /* memory pressure flips the condition and its transition time */
    in.memory_pressure = true;
    json_t *press = agent_node_status(&in, st, 3000);
    json_t *mp = json_array_get(json_object_get(press, "conditions"), 0);
    assert_string_equal(json_string_value(json_object_get(mp, "status")), "True");
    assert_string_equal(json_string_value(json_object_get(mp, "reason")),
                        "KubeletHasInsufficientMemory");
    assert_string_equal(json_string_value(json_object_get(mp, "lastTransitionTime")),
                        json_string_value(json_object_get(mp, "lastHeartbeatTime")));
    assert_true(agent_node_status_changed(st, press));
    json_decref(press);
    json_decref(later);
    json_decref(node);
}

static void test_lease(void **state)
{
    json_t *l = agent_lease_object("n1", "uid-1", 0, 42);
    assert_non_null(l);
    json_t *spec = json_object_get(l, "spec");
    assert_string_equal(json_string_value(json_object_get(spec, "holderIdentity")), "n1");
    assert_int_equal(json_integer_value(json_object_get(spec, "leaseDurationSeconds")), 40);
    assert_string_equal(json_string_value(json_object_get(spec, "renewTime")),
                        "1970-01-01T00:00:00.000042Z");
    json_t *meta = json_object_get(l, "metadata");
    assert_string_equal(json_string_value(json_object_get(meta, "namespace")), "kube-node-lease");
    json_t *owner = json_array_get(json_object_get(meta, "ownerReferences"), 0);
    assert_string_equal(json_string_value(json_object_get(owner, "kind")), "Node");
    assert_string_equal(json_string_value(json_object_get(owner, "uid")), "uid-1");
    json_decref(l);
    l = agent_lease_object("n1", NULL, 0, 0);
    assert_null(json_object_get(json_object_get(l, "metadata"), "ownerReferences"));
    json_decref(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admission),
        cmocka_unit_test(test_node_status),
        cmocka_unit_test(test_lease),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
