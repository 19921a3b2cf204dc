/* `kos ctr`: a hidden, crictl-like debugging command over the agent's container runtime
 * library (spec builder, shim, logs), used by the end-to-end tests and by people looking at
 * a node. Not a stable interface. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/image/image.h"
#include "agent/runtime/container.h"
#include "agent/runtime/crilog.h"
#include "agent/runtime/oci_spec.h"
#include "cmd/commands.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define MAX_MOUNTS 16

struct ctr_flags {
    struct kos_runtime rt;
    const char *id, *rootfs, *log_path, *cgroups_path, *cwd, *hostname;
    int64_t memory, cpu_shares, cpu_quota, timeout, tail;
    bool timestamps, readonly;
    json_t *env;
    struct kos_oci_mount mounts[MAX_MOUNTS];
    size_t n_mounts;
    char *mount_specs[MAX_MOUNTS];
};

static void usage(void)
{
    fputs("Usage: kos ctr run|state|stop|rm|list|logs|pod-sync|pod-kill [flags] [-- cmd...]\n"
          "  --state-root DIR --runtime-root DIR [--runtime runc] --id ID\n"
          "  run:  --rootfs DIR --log-path FILE [--cgroups-path P] [--memory BYTES]\n"
          "        [--cpu-shares N] [--cpu-quota US] [--env K=V]... [--cwd DIR]\n"
          "        [--mount SRC:DST[:ro]]... [--log-max-size BYTES] [--log-max-files N]\n"
          "  stop: [--timeout SECONDS]\n"
          "  logs: --log-path FILE [--tail N] [--timestamps]\n",
          stderr);
}

static int num(const char *s, int64_t *v)
{
    if (kos_parse_int64(s, v) < 0) {
        fprintf(stderr, "kos ctr: invalid number \"%s\"\n", s);
        return -EINVAL;
    }
    return 0;
}

static int parse(int argc, char **argv, struct ctr_flags *f)
{
    static const struct option opts[] = {
        {"state-root", required_argument, NULL, 'S'},
        {"runtime-root", required_argument, NULL, 'R'},
        {"runtime", required_argument, NULL, 'r'},
        {"id", required_argument, NULL, 'i'},
        {"rootfs", required_argument, NULL, 'f'},
        {"log-path", required_argument, NULL, 'l'},
        {"cgroups-path", required_argument, NULL, 'c'},
        {"memory", required_argument, NULL, 'm'},
        {"cpu-shares", required_argument, NULL, 's'},
        {"cpu-quota", required_argument, NULL, 'q'},
        {"env", required_argument, NULL, 'e'},
        {"cwd", required_argument, NULL, 'w'},
        {"mount", required_argument, NULL, 'M'},
        {"timeout", required_argument, NULL, 't'},
        {"tail", required_argument, NULL, 'T'},
        {"timestamps", no_argument, NULL, 'Z'},
        {"log-max-size", required_argument, NULL, 'x'},
        {"log-max-files", required_argument, NULL, 'X'},
        {"hostname", required_argument, NULL, 'h'},
        {"read-only", no_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    f->rt.runtime = "runc";
    f->rt.log_max_files = 5;
    f->tail = -1;
    f->timeout = 30;
    f->env = json_array();
    int c;
    int64_t v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'S':
            f->rt.state_root = optarg;
            break;
        case 'R':
            f->rt.runtime_root = optarg;
            break;
        case 'r':
            f->rt.runtime = optarg;
            break;
        case 'i':
            f->id = optarg;
            break;
        case 'f':
            f->rootfs = optarg;
            break;
        case 'l':
            f->log_path = optarg;
            break;
        case 'c':
            f->cgroups_path = optarg;
            break;
        case 'w':
            f->cwd = optarg;
            break;
        case 'h':
            f->hostname = optarg;
            break;
        case 'o':
            f->readonly = true;
            break;
        case 'Z':
            f->timestamps = true;
            break;
        case 'e':
            json_array_append_new(f->env, json_string(optarg));
            break;
        case 'm':
            if (num(optarg, &f->memory) < 0)
                return -EINVAL;
            break;
        case 's':
            if (num(optarg, &f->cpu_shares) < 0)
                return -EINVAL;
            break;
        case 'q':
            if (num(optarg, &f->cpu_quota) < 0)
                return -EINVAL;
            break;
        case 't':
            if (num(optarg, &f->timeout) < 0)
                return -EINVAL;
            break;
        case 'T':
            if (num(optarg, &f->tail) < 0)
                return -EINVAL;
            break;
        case 'x':
            if (num(optarg, &f->rt.log_max_size) < 0)
                return -EINVAL;
            break;
        case 'X':
            if (num(optarg, &v) < 0 || v < 1 || v > 100)
                return -EINVAL;
            f->rt.log_max_files = (int)v;
            break;
        case 'M': {
            if (f->n_mounts == MAX_MOUNTS)
                return -E2BIG;
            char *s = strdup(optarg);
            if (!s)
                return -ENOMEM;
            f->mount_specs[f->n_mounts] = s;
            char *dst = strchr(s, ':');
            if (!dst)
                return -EINVAL;
            *dst++ = '\0';
            char *ro = strchr(dst, ':');
            if (ro)
                *ro++ = '\0';
            f->mounts[f->n_mounts++] = (struct kos_oci_mount){
                .destination = dst, .source = s, .readonly = ro && strcmp(ro, "ro") == 0};
            break;
        }
        default:
            return -EINVAL;
        }
    }
    return 0;
}

static int ctr_run(struct ctr_flags *f, int argc, char **argv)
{
    if (!f->id || !f->rootfs || !f->log_path || optind >= argc) {
        usage();
        return 2;
    }
    _cleanup_json_ json_t *args = json_array();
    for (int i = optind; i < argc; i++)
        json_array_append_new(args, json_string(argv[i]));
    if (json_array_size(f->env) == 0)
        json_array_append_new(
            f->env,
            json_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
    struct kos_oci_params p = {
        .rootfs = f->rootfs,
        .readonly_rootfs = f->readonly,
        .hostname = f->hostname ? f->hostname : f->id,
        .args = args,
        .env = f->env,
        .cwd = f->cwd,
        .host_network = true,
        .cgroups_path = f->cgroups_path,
        .resources = {.cpu_shares = f->cpu_shares,
                      .cpu_quota = f->cpu_quota,
                      .cpu_period = 100000,
                      .memory_limit = f->memory},
        .mounts = f->mounts,
        .n_mounts = f->n_mounts,
    };
    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_json_ json_t *spec = NULL;
    if (kos_oci_spec_build(&p, &spec, &err) < 0) {
        fprintf(stderr, "kos ctr: %s\n", err ? err->message : "cannot build the spec");
        return 1;
    }
    char dir[4096];
    if (kos_container_dir(&f->rt, f->id, dir, sizeof(dir)) < 0) {
        fprintf(stderr, "kos ctr: invalid id\n");
        return 1;
    }
    mkdir(f->rt.state_root, 0700);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        perror("kos ctr: mkdir");
        return 1;
    }
    char cfg[4200];
    snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
    if (json_dump_file(spec, cfg, JSON_INDENT(2)) < 0) {
        fprintf(stderr, "kos ctr: cannot write %s\n", cfg);
        return 1;
    }
    if (kos_container_start(&f->rt, f->id, f->log_path, NULL, &err) < 0) {
        fprintf(stderr, "kos ctr: %s: %s\n", err ? err->reason : "Error",
                err ? err->message : "start failed");
        return 1;
    }
    return 0;
}

static int ctr_state(struct ctr_flags *f)
{
    static const char *const names[] = {"created", "running", "exited", "unknown"};
    struct kos_container_state st;
    int r = kos_container_state(&f->rt, f->id, &st);
    if (r < 0) {
        fprintf(stderr, "kos ctr: %s: %s\n", f->id, strerror(-r));
        return 1;
    }
    _cleanup_json_ json_t *o =
        json_pack("{sssssisisIsIsissss}", "id", f->id, "status", names[st.status], "pid", st.pid,
                  "shimPid", st.shim_pid, "startedAt", (json_int_t)st.started_ns, "finishedAt",
                  (json_int_t)st.finished_ns, "exitCode", st.exit_code, "reason", st.reason,
                  "message", st.message);
    char *s = json_dumps(o, JSON_COMPACT);
    if (s)
        puts(s);
    free(s);
    return 0;
}

int cmd_ctr(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "pod-sync") == 0 || strcmp(sub, "pod-kill") == 0)
        return cmd_ctr_pod(argc - 1, argv + 1);
    struct ctr_flags f = {0};
    int rc = 2;
    if (parse(argc - 1, argv + 1, &f) < 0) {
        usage();
        goto out;
    }
    if (strcmp(sub, "logs") == 0) {
        if (!f.log_path) {
            usage();
            goto out;
        }
        struct kos_log_options o = {.tail_lines = f.tail, .timestamps = f.timestamps};
        _cleanup_buf_ struct kos_buf b;
        kos_buf_init(&b, 1 << 30);
        int r = kos_crilog_read(f.log_path, &o, &b, NULL);
        if (r < 0) {
            fprintf(stderr, "kos ctr: %s: %s\n", f.log_path, strerror(-r));
            rc = 1;
            goto out;
        }
        fwrite(b.data ? b.data : "", 1, b.len, stdout);
        rc = 0;
        goto out;
    }
    if (!f.rt.state_root || !f.rt.runtime_root) {
        usage();
        goto out;
    }
    if (strcmp(sub, "list") == 0) {
        char **ids = NULL;
        size_t n = 0;
        if (kos_container_list(&f.rt, &ids, &n) < 0) {
            rc = 1;
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            puts(ids[i]);
            free(ids[i]);
        }
        free(ids);
        rc = 0;
        goto out;
    }
    if (!f.id) {
        usage();
        goto out;
    }
    if (strcmp(sub, "run") == 0) {
        rc = ctr_run(&f, argc - 1, argv + 1);
    } else if (strcmp(sub, "state") == 0) {
        rc = ctr_state(&f);
    } else if (strcmp(sub, "stop") == 0) {
        int r = kos_container_stop(&f.rt, f.id, f.timeout);
        rc = r < 0 ? 1 : 0;
        if (r < 0)
            fprintf(stderr, "kos ctr: stop %s: %s\n", f.id, strerror(-r));
    } else if (strcmp(sub, "rm") == 0) {
        char dir[4096];
        /* an image root filesystem may be an overlay mount in the container's directory */
        if (kos_container_dir(&f.rt, f.id, dir, sizeof(dir)) == 0)
            image_rootfs_remove(dir);
        int r = kos_container_remove(&f.rt, f.id);
        rc = r < 0 ? 1 : 0;
        if (r < 0)
            fprintf(stderr, "kos ctr: rm %s: %s\n", f.id, strerror(-r));
    } else {
        usage();
    }
out:
    json_decref(f.env);
    for (size_t i = 0; i < f.n_mounts; i++)
        free(f.mount_specs[i]);
    return rc;
}
