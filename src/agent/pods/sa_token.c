/* Projected service-account tokens: see sa_token.h. Semantics of the kubelet's projected
 * volume (serviceAccountToken source) and its pkg/kubelet/token manager (renewal). */
#include "agent/pods/sa_token.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define MOUNT_ERR "FailedMount"
/* the kubelet renews a token older than this whatever its lifetime */
#define MAX_TTL_SECONDS (24 * 3600)

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

const char *kos_sa_token_account(const json_t *pod)
{
    const char *sa = jstr(json_object_get(pod, "spec"), "serviceAccountName");
    return sa && *sa ? sa : "default";
}

json_t *kos_sa_token_request(const json_t *pod, const char *audience, int64_t expiration_seconds)
{
    const json_t *meta = json_object_get(pod, "metadata");
    const char *name = jstr(meta, "name"), *uid = jstr(meta, "uid");
    json_t *tr = json_pack("{ss ss s{sI s{ss ss ss ss}}}", "apiVersion", "authentication.k8s.io/v1",
                           "kind", "TokenRequest", "spec", "expirationSeconds",
                           (json_int_t)expiration_seconds, "boundObjectRef", "apiVersion", "v1",
                           "kind", "Pod", "name", name ? name : "", "uid", uid ? uid : "");
    if (tr && audience &&
        json_object_set_new(json_object_get(tr, "spec"), "audiences", json_pack("[s]", audience)) <
            0) {
        json_decref(tr);
        return NULL;
    }
    return tr;
}

bool kos_sa_token_needs_refresh(time_t issued, time_t expiry, time_t now)
{
    if (expiry <= issued || now >= expiry)
        return true;
    if (now - issued > MAX_TTL_SECONDS)
        return true;
    /* past 80% of the lifetime */
    return (int64_t)(now - issued) * 5 >= (int64_t)(expiry - issued) * 4;
}

static int write_file(const char *dir, const char *name, const char *data, size_t len, int mode)
{
    char path[4200];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return -ENAMETOOLONG;
    /* a reader sees the old token or the new one, never half */
    return kos_write_file_replace(path, data, len, (mode_t)mode);
}

/* A source's path: relative, no "..", no empty parts (validation checks it too). */
static bool safe_path(const char *p)
{
    if (!p || !*p || p[0] == '/' || strlen(p) > 1024)
        return false;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        s += n + (e ? 1 : 0);
    }
    return true;
}

/* pod_dir/sa-token-<vol>-<path with / as _>: "<issued> <expiry>" of the token on disk */
static void times_path(const char *pod_dir, const char *vol, const char *p, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/sa-token-%s-", pod_dir, vol);
    for (size_t i = 0; p[i] && n > 0 && (size_t)n + 1 < size; i++, n++)
        out[n] = p[i] == '/' ? '_' : p[i];
    if (n > 0 && (size_t)n < size)
        out[n] = '\0';
}

static bool current(const char *times, const char *file, time_t now)
{
    if (access(file, F_OK) < 0)
        return false;
    _cleanup_free_ char *s = NULL;
    size_t len = 0;
    if (kos_read_file(times, 64, &s, &len) < 0)
        return false;
    long long issued = 0, expiry = 0;
    if (sscanf(s, "%lld %lld", &issued, &expiry) != 2)
        return false;
    return !kos_sa_token_needs_refresh((time_t)issued, (time_t)expiry, now);
}

int kos_sa_token_project(const json_t *pod, const char *pod_dir, const char *vol, const json_t *src,
                         const char *dir, int mode, kos_sa_token_fetch_fn fetch, void *ud,
                         struct kos_error **err)
{
    const char *p = jstr(src, "path");
    if (!safe_path(p))
        return kos_error_set(err, 422, MOUNT_ERR,
                             "MountVolume.SetUp failed for volume \"%s\" : invalid "
                             "serviceAccountToken path",
                             vol);
    const json_t *exp_s = json_object_get(src, "expirationSeconds");
    int64_t seconds = json_is_integer(exp_s) ? json_integer_value(exp_s) : 3600;
    const char *aud = jstr(src, "audience");
    char file[4200], times[4200];
    snprintf(file, sizeof(file), "%s/%s", dir, p);
    times_path(pod_dir, vol, p, times, sizeof(times));
    time_t now = time(NULL);
    if (current(times, file, now))
        return 0;
    const char *ns = jstr(json_object_get(pod, "metadata"), "namespace");
    _cleanup_json_ json_t *body = kos_sa_token_request(pod, aud && *aud ? aud : NULL, seconds);
    if (!body)
        return -ENOMEM;
    _cleanup_json_ json_t *tr = NULL;
    _cleanup_error_ struct kos_error *ferr = NULL;
    int r = fetch(ud, ns ? ns : "default", kos_sa_token_account(pod), body, &tr, &ferr);
    const json_t *st = json_object_get(tr, "status");
    const char *token = jstr(st, "token"), *exp = jstr(st, "expirationTimestamp");
    time_t expiry = 0;
    if (r >= 0 && (!token || !*token || !exp || kos_time_parse_rfc3339(exp, &expiry) < 0))
        r = -EPROTO;
    if (r < 0)
        return kos_error_set(err, 500, MOUNT_ERR,
                             "MountVolume.SetUp failed for volume \"%s\" : failed to fetch "
                             "token: %s",
                             vol, ferr && ferr->message ? ferr->message : strerror(-r));
    /* a path with directories: they are made first */
    const char *slash = strrchr(p, '/');
    if (slash) {
        char sub[4200];
        snprintf(sub, sizeof(sub), "%s/%.*s", dir, (int)(slash - p), p);
        if ((r = kos_mkdir_p(sub, 0755)) < 0)
            return kos_error_set(err, 500, MOUNT_ERR,
                                 "MountVolume.SetUp failed for volume \"%s\" : %s", vol,
                                 strerror(-r));
    }
    if ((r = write_file(dir, p, token, strlen(token), mode)) < 0)
        return kos_error_set(err, 500, MOUNT_ERR, "MountVolume.SetUp failed for volume \"%s\" : %s",
                             vol, strerror(-r));
    char t[64];
    int n = snprintf(t, sizeof(t), "%lld %lld\n", (long long)now, (long long)expiry);
    _cleanup_close_ int fd = open(times, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, t, (size_t)n) != n)
        return kos_error_set(err, 500, MOUNT_ERR,
                             "MountVolume.SetUp failed for volume \"%s\" : %s: %s", vol, times,
                             strerror(errno));
    return 0;
}
