/* config.json for runc/crun. The defaults follow containerd's CRI plugin (what a kubelet
 * pod gets on a containerd node) and runc's `runc spec` for masked and read-only paths. */
#include "agent/runtime/oci_spec.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

/* containerd's default capability set for unprivileged containers. */
static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

/* Every capability Linux 5.9+ knows, in kernel order (privileged and "ALL"). */
static const char *const all_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

/* runc's defaults (`runc spec`). */
static const char *const masked_paths[] = {
    "/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/sys/firmware",       "/proc/scsi",
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

char *kos_oci_expand(const char *in, const json_t *env_map)
{
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    if (!in)
        in = "";
    size_t n = strlen(in), checkpoint = 0;
    for (size_t cur = 0; cur < n; cur++) {
        if (in[cur] != '$' || cur + 1 >= n)
            continue;
        if (kos_buf_append(&b, in + checkpoint, cur - checkpoint) < 0)
            return NULL;
        const char *rest = in + cur + 1;
        size_t advance = 1;
        int r = 0;
        if (rest[0] == '$') {
            r = kos_buf_append(&b, "$", 1);
        } else if (rest[0] == '(') {
            const char *close = strchr(rest + 1, ')');
            if (close) {
                size_t len = (size_t)(close - rest - 1);
                _cleanup_free_ char *name = strndup(rest + 1, len);
                if (!name)
                    return NULL;
                const char *val = json_string_value(json_object_get(env_map, name));
                if (val)
                    r = kos_buf_append_str(&b, val);
                else
                    r = kos_buf_printf(&b, "$(%s)", name);
                advance = len + 2;
            } else {
                r = kos_buf_append(&b, "$(", 2);
            }
        } else {
            r = kos_buf_append(&b, in + cur, 2);
        }
        if (r < 0)
            return NULL;
        cur += advance;
        checkpoint = cur + 1;
    }
    if (checkpoint < n && kos_buf_append(&b, in + checkpoint, n - checkpoint) < 0)
        return NULL;
    if (kos_buf_append(&b, "", 0) < 0)
        return NULL;
    return kos_buf_steal(&b, NULL);
}

static int append_expanded(json_t *out, const json_t *list, const json_t *env_map)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v))
            return -EINVAL;
        char *s = kos_oci_expand(json_string_value(v), env_map);
        if (!s || json_array_append_new(out, json_string(s)) < 0) {
            free(s);
            return -ENOMEM;
        }
        free(s);
    }
    return 0;
}

static int append_plain(json_t *out, const json_t *list)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v))
            return -EINVAL;
        if (json_array_append(out, v) < 0)
            return -ENOMEM;
    }
    return 0;
}

int kos_oci_process_args(const json_t *command, const json_t *args, const json_t *image_entrypoint,
                         const json_t *image_cmd, const json_t *env_map, json_t **ret)
{
    _cleanup_json_ json_t *out = json_array();
    if (!out)
        return -ENOMEM;
    bool has_cmd = json_array_size(command) > 0, has_args = json_array_size(args) > 0;
    int r;
    /* kubelet: the container's command replaces Entrypoint and drops the image's Cmd;
     * args alone replace Cmd and keep Entrypoint. Only the pod's strings expand. */
    if (has_cmd)
        r = append_expanded(out, command, env_map);
    else
        r = append_plain(out, image_entrypoint);
    if (r < 0)
        return r;
    if (has_args)
        r = append_expanded(out, args, env_map);
    else if (!has_cmd)
        r = append_plain(out, image_cmd);
    if (r < 0)
        return r;
    if (json_array_size(out) == 0)
        return -EINVAL;
    *ret = TAKE_PTR(out);
    return 0;
}

static json_t *str_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static int cap_index(const char *name)
{
    char full[64];
    if (strncasecmp(name, "CAP_", 4) == 0)
        snprintf(full, sizeof(full), "%s", name);
    else
        snprintf(full, sizeof(full), "CAP_%s", name);
    for (size_t i = 0; i < ARRAY_SIZE(all_caps); i++)
        if (strcasecmp(all_caps[i], full) == 0)
            return (int)i;
    return -1;
}

/* Applies add/drop as containerd does: "ALL" in drop empties the set first, then adds. */
static int capabilities(const struct kos_oci_params *p, json_t **ret, struct kos_error **err)
{
    bool set[ARRAY_SIZE(all_caps)] = {0};
    if (p->privileged) {
        for (size_t i = 0; i < ARRAY_SIZE(all_caps); i++)
            set[i] = true;
    } else {
        for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
            set[cap_index(default_caps[i])] = true;
        size_t i;
        json_t *v;
        json_array_foreach(p->cap_drop, i, v)
        {
            const char *n = json_string_value(v);
            if (n && strcasecmp(n, "ALL") == 0) {
                memset(set, 0, sizeof(set));
                continue;
            }
            int k = n ? cap_index(n) : -1;
            if (k < 0)
                return kos_error_set(err, 422, "Invalid", "unknown capability \"%s\" to drop",
                                     n ? n : "");
            set[k] = false;
        }
        json_array_foreach(p->cap_add, i, v)
        {
            const char *n = json_string_value(v);
            if (n && strcasecmp(n, "ALL") == 0) {
                for (size_t j = 0; j < ARRAY_SIZE(all_caps); j++)
                    set[j] = true;
                continue;
            }
            int k = n ? cap_index(n) : -1;
            if (k < 0)
                return kos_error_set(err, 422, "Invalid", "unknown capability \"%s\" to add",
                                     n ? n : "");
            set[k] = true;
        }
    }
    _cleanup_json_ json_t *list = json_array();
    if (!list)
        return -ENOMEM;
    for (size_t i = 0; i < ARRAY_SIZE(all_caps); i++)
        if (set[i])
            json_array_append_new(list, json_string(all_caps[i]));
    json_t *caps = json_pack("{sOsOsO}", "bounding", list, "effective", list, "permitted", list);
    if (!caps)
        return -ENOMEM;
    *ret = caps;
    return 0;
}

static json_t *mount_obj(const char *dest, const char *type, const char *source,
                         const char *const *opts, size_t n_opts)
{
    return json_pack("{ssssssso}", "destination", dest, "type", type, "source", source, "options",
                     str_array(opts, n_opts));
}

static int default_mounts(json_t *mounts, bool privileged)
{
    static const char *const dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
    static const char *const pts_opts[] = {"nosuid",        "noexec",    "newinstance",
                                           "ptmxmode=0666", "mode=0620", "gid=5"};
    static const char *const shm_opts[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"};
    static const char *const mq_opts[] = {"nosuid", "noexec", "nodev"};
    static const char *const sys_ro[] = {"nosuid", "noexec", "nodev", "ro"};
    static const char *const sys_rw[] = {"nosuid", "noexec", "nodev", "rw"};
    static const char *const cg_ro[] = {"nosuid", "noexec", "nodev", "relatime", "ro"};
    static const char *const cg_rw[] = {"nosuid", "noexec", "nodev", "relatime", "rw"};
    json_t *m[] = {
        json_pack("{ssssss}", "destination", "/proc", "type", "proc", "source", "proc"),
        mount_obj("/dev", "tmpfs", "tmpfs", dev_opts, ARRAY_SIZE(dev_opts)),
        mount_obj("/dev/pts", "devpts", "devpts", pts_opts, ARRAY_SIZE(pts_opts)),
        mount_obj("/dev/shm", "tmpfs", "shm", shm_opts, ARRAY_SIZE(shm_opts)),
        mount_obj("/dev/mqueue", "mqueue", "mqueue", mq_opts, ARRAY_SIZE(mq_opts)),
        privileged ? mount_obj("/sys", "sysfs", "sysfs", sys_rw, ARRAY_SIZE(sys_rw))
                   : mount_obj("/sys", "sysfs", "sysfs", sys_ro, ARRAY_SIZE(sys_ro)),
        privileged ? mount_obj("/sys/fs/cgroup", "cgroup", "cgroup", cg_rw, ARRAY_SIZE(cg_rw))
                   : mount_obj("/sys/fs/cgroup", "cgroup", "cgroup", cg_ro, ARRAY_SIZE(cg_ro)),
    };
    int r = 0;
    for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
        if (!m[i] || json_array_append_new(mounts, m[i]) < 0)
            r = -ENOMEM;
    }
    return r;
}

static int user_mounts(json_t *mounts, const struct kos_oci_params *p, struct kos_error **err)
{
    for (size_t i = 0; i < p->n_mounts; i++) {
        const struct kos_oci_mount *m = &p->mounts[i];
        if (!m->destination || m->destination[0] != '/' || !m->source || m->source[0] != '/')
            return kos_error_set(err, 422, "Invalid", "mount %zu: paths must be absolute", i);
        /* rbind + rprivate as containerd does for volumes; a later mount on the same
         * destination as a default one (/dev/shm) replaces it. */
        size_t j;
        json_t *old;
        json_array_foreach(mounts, j, old)
        {
            if (strcmp(json_string_value(json_object_get(old, "destination")), m->destination) ==
                0) {
                json_array_remove(mounts, j);
                break;
            }
        }
        json_t *o =
            json_pack("{sssssss[sss]}", "destination", m->destination, "type", "bind", "source",
                      m->source, "options", "rbind", "rprivate", m->readonly ? "ro" : "rw");
        if (!o || json_array_append_new(mounts, o) < 0)
            return -ENOMEM;
    }
    return 0;
}

static json_t *resources(const struct kos_oci_resources *res, bool privileged)
{
    json_t *r = json_object();
    if (!r)
        return NULL;
    /* Deny every device, then runc adds its default allow list (null, zero, tty, ...). */
    json_object_set_new(r, "devices", json_pack("[{sbss}]", "allow", privileged, "access", "rwm"));
    json_t *cpu = json_object();
    if (res->cpu_shares > 0)
        json_object_set_new(cpu, "shares", json_integer(res->cpu_shares));
    if (res->cpu_quota > 0) {
        json_object_set_new(cpu, "quota", json_integer(res->cpu_quota));
        json_object_set_new(cpu, "period",
                            json_integer(res->cpu_period > 0 ? res->cpu_period : 100000));
    }
    if (json_object_size(cpu) > 0)
        json_object_set_new(r, "cpu", cpu);
    else
        json_decref(cpu);
    if (res->memory_limit > 0)
        json_object_set_new(r, "memory", json_pack("{sI}", "limit", (json_int_t)res->memory_limit));
    if (res->pids_limit > 0)
        json_object_set_new(r, "pids", json_pack("{sI}", "limit", (json_int_t)res->pids_limit));
    return r;
}

int kos_oci_spec_build(const struct kos_oci_params *p, json_t **ret, struct kos_error **err)
{
    if (!p->rootfs || p->rootfs[0] != '/')
        return kos_error_set(err, 422, "Invalid", "root filesystem path must be absolute");
    if (json_array_size(p->args) == 0)
        return kos_error_set(err, 422, "Invalid",
                             "no command specified: the container has no command or args and "
                             "the image no Entrypoint or Cmd");
    json_t *caps = NULL;
    int r = capabilities(p, &caps, err);
    if (r < 0)
        return r;
    json_t *user = json_pack("{sIsI}", "uid", (json_int_t)p->uid, "gid", (json_int_t)p->gid);
    if (user && json_array_size(p->additional_gids) > 0)
        json_object_set(user, "additionalGids", (json_t *)p->additional_gids);
    json_t *env = p->env ? json_deep_copy(p->env) : json_array();
    json_t *process =
        json_pack("{sbsososOsssosbsi}", "terminal", 0, "user", user, "env", env, "args",
                  (json_t *)p->args, "cwd", p->cwd && p->cwd[0] ? p->cwd : "/", "capabilities",
                  caps, "noNewPrivileges", p->no_new_privileges, "oomScoreAdj", p->oom_score_adj);
    if (!process)
        return -ENOMEM;

    _cleanup_json_ json_t *mounts = json_array();
    if (!mounts || default_mounts(mounts, p->privileged) < 0) {
        json_decref(process);
        return -ENOMEM;
    }
    r = user_mounts(mounts, p, err);
    if (r < 0) {
        json_decref(process);
        return r;
    }

    json_t *ns = p->host_uts
                     ? json_pack("[{ss}{ss}{ss}]", "type", "pid", "type", "ipc", "type", "mount")
                     : json_pack("[{ss}{ss}{ss}{ss}]", "type", "pid", "type", "ipc", "type", "uts",
                                 "type", "mount");
    if (ns && !p->host_network && p->netns_path && *p->netns_path)
        json_array_append_new(ns, json_pack("{ssss}", "type", "network", "path", p->netns_path));
    else if (ns && !p->host_network)
        json_array_append_new(ns, json_pack("{ss}", "type", "network"));
    json_t *linux_ =
        json_pack("{sososs}", "resources", resources(&p->resources, p->privileged), "namespaces",
                  ns, "cgroupsPath", p->cgroups_path ? p->cgroups_path : "");
    if (linux_ && !p->privileged) {
        json_object_set_new(linux_, "maskedPaths",
                            str_array(masked_paths, ARRAY_SIZE(masked_paths)));
        json_object_set_new(linux_, "readonlyPaths",
                            str_array(readonly_paths, ARRAY_SIZE(readonly_paths)));
    }
    if (linux_ && (!p->cgroups_path || !p->cgroups_path[0]))
        json_object_del(linux_, "cgroupsPath");
    json_t *spec = json_pack("{sssosssOso}", "ociVersion", "1.0.2", "process", process, "hostname",
                             p->hostname ? p->hostname : "", "mounts", mounts, "linux", linux_);
    if (!spec)
        return -ENOMEM;
    if (p->host_uts) /* runc cannot set a hostname without a UTS namespace of its own */
        json_object_del(spec, "hostname");
    json_object_set_new(spec, "root",
                        json_pack("{sssb}", "path", p->rootfs, "readonly", p->readonly_rootfs));
    *ret = spec;
    return 0;
}
