/* `kos ctr pod-sync` / `kos ctr pod-kill`: drive the pod runtime (pod_runtime.h) for one pod
 * read from a JSON file, as the node agent would, without an API server. For debugging and
 * the runtime's end-to-end tests; ConfigMaps, Secrets and PVCs need the agent's API client
 * and are not found here. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/cgroups/cgroups.h"
#include "agent/cgroups/qos.h"
#include "agent/pods/pod_runtime.h"
#include "cmd/commands.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

struct requeue_box {
    int64_t delay_ms;
};

static void requeue(void *agent, const char *ns, const char *name, int64_t delay_ms)
{
    struct requeue_box *b = agent;
    if (b->delay_ms < 0 || delay_ms < b->delay_ms)
        b->delay_ms = delay_ms;
}

int cmd_ctr_pod(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root-dir", required_argument, NULL, 'r'},
        {"pod-log-dir", required_argument, NULL, 'l'},
        {"pod", required_argument, NULL, 'p'},
        {"cgroup-root", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 's'},
        {"until-phase", required_argument, NULL, 'u'},
        {"grace", required_argument, NULL, 'g'},
        {"until-restarts", required_argument, NULL, 'R'},
        {"host-ip", required_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *root = NULL, *logs = NULL, *pod_file = NULL, *cg_root = "/", *until = NULL;
    const char *host_ip = "127.0.0.1";
    int64_t seconds = 30, grace = 30, until_restarts = -1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root = optarg;
            break;
        case 'l':
            logs = optarg;
            break;
        case 'p':
            pod_file = optarg;
            break;
        case 'c':
            cg_root = optarg;
            break;
        case 'u':
            until = optarg;
            break;
        case 'h':
            host_ip = optarg;
            break;
        case 's':
            if (kos_parse_int64(optarg, &seconds) < 0)
                return 2;
            break;
        case 'g':
            if (kos_parse_int64(optarg, &grace) < 0)
                return 2;
            break;
        case 'R':
            if (kos_parse_int64(optarg, &until_restarts) < 0)
                return 2;
            break;
        default:
            return 2;
        }
    }
    bool kill_mode = strcmp(argv[0], "pod-kill") == 0;
    if (!root || !logs || !pod_file) {
        fputs("Usage: kos ctr pod-sync|pod-kill --root-dir DIR --pod-log-dir DIR --pod FILE\n"
              "       [--cgroup-root /x] [--seconds N] [--until-phase P] [--until-restarts N]\n"
              "       [--grace SECONDS]\n",
              stderr);
        return 2;
    }
    json_error_t jerr;
    _cleanup_json_ json_t *pod = json_load_file(pod_file, 0, &jerr);
    const char *uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
    if (!pod || !uid) {
        fprintf(stderr, "kos ctr: %s: not a pod with metadata.uid\n", pod_file);
        return 1;
    }
    struct cg_host host;
    struct cg_manager *cgm = NULL;
    if (cg_host_detect(&host) < 0 || cg_manager_new(&host, cg_root, &cgm) < 0) {
        fputs("kos ctr: cannot set up cgroups\n", stderr);
        return 1;
    }
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    struct requeue_box box = {-1};
    struct pod_runtime_env env = {
        .node_name = "local",
        .host_ip = host_ip,
        .root_dir = root,
        .pod_log_dir = logs,
        .container_runtime = "runc",
        .cgroups = cgm,
        .memory_capacity = (int64_t)pages * psize,
        .requeue = requeue,
        .agent = &box,
    };
    const struct pod_runtime_ops *ops = NULL;
    void *rt = NULL;
    int r = pod_runtime_new ? pod_runtime_new(&env, &ops, &rt) : -ENOSYS;
    if (r < 0) {
        fprintf(stderr, "kos ctr: runtime: %s\n", strerror(-r));
        cg_manager_free(cgm);
        return 1;
    }
    int rc = 0;
    if (kill_mode) {
        r = ops->kill(rt, uid, pod, grace);
        if (r == 0)
            r = cg_manager_remove_pod(cgm, uid);
        if (r < 0) {
            fprintf(stderr, "kos ctr: kill: %s\n", strerror(-r));
            rc = 1;
        }
    } else {
        cg_manager_ensure_pod(cgm, pod);
        struct pod_runtime_pod p = {.pod = pod, .qos = agent_qos_of_pod(pod), .uid = uid};
        int64_t deadline = kos_now_ms_monotonic() + seconds * 1000;
        json_t *status = NULL;
        for (;;) {
            box.delay_ms = -1;
            json_decref(status);
            status = NULL;
            r = ops->sync(rt, &p, &status);
            if (r < 0) {
                fprintf(stderr, "kos ctr: sync: %s\n", strerror(-r));
                rc = 1;
                break;
            }
            /* the agent writes the status back; so do we, for conditions' times */
            json_object_set(pod, "status", status);
            const char *phase = json_string_value(json_object_get(status, "phase"));
            if (until && phase && strcmp(phase, until) == 0)
                break;
            if (until_restarts >= 0) {
                json_t *cs = json_array_get(json_object_get(status, "containerStatuses"), 0);
                if (json_integer_value(json_object_get(cs, "restartCount")) >= until_restarts)
                    break;
            }
            if (kos_now_ms_monotonic() >= deadline)
                break;
            int64_t d = box.delay_ms < 0 ? 1000 : box.delay_ms;
            if (d > 200)
                d = 200;
            usleep((useconds_t)d * 1000);
        }
        char *s = status ? json_dumps(status, JSON_COMPACT) : NULL;
        if (s)
            puts(s);
        free(s);
        json_decref(status);
    }
    ops->free(rt);
    cg_manager_free(cgm);
    return rc;
}
