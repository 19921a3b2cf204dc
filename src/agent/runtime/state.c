/* state.json: written atomically (rename) so that a reader never sees half a record. */
#include "agent/runtime/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/json_cleanup.h"
#include "util/strutil.h"

static const char *const status_names[] = {"created", "running", "exited", "unknown"};

int64_t kos_cstate_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int kos_cstate_write(const char *dir, const struct kos_container_state *st)
{
    _cleanup_json_ json_t *o =
        json_pack("{sssisisIsIsissssss}", "status", status_names[st->status], "pid", st->pid,
                  "shimPid", st->shim_pid, "startedAt", (json_int_t)st->started_ns, "finishedAt",
                  (json_int_t)st->finished_ns, "exitCode", st->exit_code, "reason", st->reason,
                  "message", st->message, "logPath", st->log_path);
    if (!o)
        return -ENOMEM;
    char tmp[4096], dst[4096];
    snprintf(tmp, sizeof(tmp), "%s/.state.json.tmp", dir);
    snprintf(dst, sizeof(dst), "%s/state.json", dir);
    if (json_dump_file(o, tmp, JSON_COMPACT) < 0)
        return -EIO;
    if (rename(tmp, dst) < 0)
        return -errno;
    return 0;
}

int kos_cstate_read(const char *dir, struct kos_container_state *ret)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/state.json", dir);
    json_error_t jerr;
    _cleanup_json_ json_t *o = json_load_file(path, 0, &jerr);
    if (!o)
        return access(path, F_OK) == 0 ? -EIO : -ENOENT;
    struct kos_container_state st = {0};
    const char *status = json_string_value(json_object_get(o, "status"));
    st.status = KOS_CONTAINER_UNKNOWN;
    for (size_t i = 0; status && i < 4; i++)
        if (strcmp(status, status_names[i]) == 0)
            st.status = (enum kos_container_status)i;
    st.pid = (int)json_integer_value(json_object_get(o, "pid"));
    st.shim_pid = (int)json_integer_value(json_object_get(o, "shimPid"));
    st.started_ns = json_integer_value(json_object_get(o, "startedAt"));
    st.finished_ns = json_integer_value(json_object_get(o, "finishedAt"));
    st.exit_code = (int)json_integer_value(json_object_get(o, "exitCode"));
    const char *s;
    if ((s = json_string_value(json_object_get(o, "reason"))))
        kos_strlcpy(st.reason, s, sizeof(st.reason));
    if ((s = json_string_value(json_object_get(o, "message"))))
        kos_strlcpy(st.message, s, sizeof(st.message));
    if ((s = json_string_value(json_object_get(o, "logPath"))))
        kos_strlcpy(st.log_path, s, sizeof(st.log_path));
    *ret = st;
    return 0;
}
