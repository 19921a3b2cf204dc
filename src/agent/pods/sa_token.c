/* Service-account token files of a pod: see sa_token.h. Semantics of kube's
 * plugin/pkg/admission/serviceaccount (the kube-api-access volume) and the kubelet's
 * pkg/kubelet/token manager (renewal). */
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
#define VOLUME    "kube-api-access"
/* the kubelet renews a token older than this whatever its lifetime */
#define MAX_TTL_SECONDS (24 * 3600)

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

bool kos_sa_token_automount(const json_t *pod)
{
    const json_t *v = json_object_get(json_object_get(pod, "spec"), "automountServiceAccountToken");
    return !json_is_false(v);
}

const char *kos_sa_token_account(const json_t *pod)
{
    const char *sa = jstr(json_object_get(pod, "spec"), "serviceAccountName");
    return sa && *sa ? sa : "default";
}

json_t *kos_sa_token_request(const json_t *pod)
{
    const json_t *meta = json_object_get(pod, "metadata");
    const char *name = jstr(meta, "name"), *uid = jstr(meta, "uid");
    return json_pack("{ss ss s{sI s{ss ss ss ss}}}", "apiVersion", "authentication.k8s.io/v1",
                     "kind", "TokenRequest", "spec", "expirationSeconds",
                     (json_int_t)KOS_SA_TOKEN_EXPIRATION_SECONDS, "boundObjectRef", "apiVersion",
                     "v1", "kind", "Pod", "name", name ? name : "", "uid", uid ? uid : "");
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

bool kos_sa_token_mount_taken(const json_t *container)
{
    size_t i;
    json_t *vm;
    json_array_foreach(json_object_get(container, "volumeMounts"), i, vm)
    {
        const char *p = jstr(vm, "mountPath");
        if (!p)
            continue;
        size_t n = strlen(p);
        while (n > 1 && p[n - 1] == '/')
            n--;
        if (n == strlen(KOS_SA_TOKEN_MOUNT_PATH) && strncmp(p, KOS_SA_TOKEN_MOUNT_PATH, n) == 0)
            return true;
    }
    return false;
}

static int write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (kos_file_has(path, data, len, 0644))
        return 0; /* ca.crt and namespace on every sync: unchanged, left alone */
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -errno;
    fchmod(fd, 0644);
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0)
            return -errno;
        data += w;
        len -= (size_t)w;
    }
    /* rename: a reader sees the old token or the new one, never half */
    if (rename(tmp, path) < 0)
        return -errno;
    return 0;
}

/* pod_dir/sa-token-times: "<issued> <expiry>" of the token on disk (outside the mounted
 * directory: containers need not see it). */
static bool current(const char *pod_dir, const char *dir, time_t now)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/token", dir);
    if (access(path, F_OK) < 0)
        return false;
    snprintf(path, sizeof(path), "%s/sa-token-times", pod_dir);
    _cleanup_free_ char *s = NULL;
    size_t len = 0;
    if (kos_read_file(path, 64, &s, &len) < 0)
        return false;
    long long issued = 0, expiry = 0;
    if (sscanf(s, "%lld %lld", &issued, &expiry) != 2)
        return false;
    return !kos_sa_token_needs_refresh((time_t)issued, (time_t)expiry, now);
}

int kos_sa_token_setup(const json_t *pod, const char *pod_dir, const char *ca_pem,
                       kos_sa_token_fetch_fn fetch, void *ud, char *ret_dir, size_t size,
                       struct kos_error **err)
{
    if (!kos_sa_token_automount(pod)) {
        if (size)
            ret_dir[0] = '\0';
        return 0;
    }
    char dir[4096];
    if (snprintf(dir, sizeof(dir), "%s/serviceaccount", pod_dir) >= (int)sizeof(dir) ||
        strlen(dir) >= size)
        return -ENAMETOOLONG;
    int r = kos_mkdir_p(dir, 0755);
    if (r < 0)
        return kos_error_set(err, 500, MOUNT_ERR,
                             "MountVolume.SetUp failed for volume \"" VOLUME "\" : %s: %s", dir,
                             strerror(-r));
    time_t now = time(NULL);
    if (!current(pod_dir, dir, now)) {
        const char *ns = jstr(json_object_get(pod, "metadata"), "namespace");
        _cleanup_json_ json_t *body = kos_sa_token_request(pod);
        if (!body)
            return -ENOMEM;
        _cleanup_json_ json_t *tr = NULL;
        _cleanup_error_ struct kos_error *ferr = NULL;
        r = fetch(ud, ns ? ns : "default", kos_sa_token_account(pod), body, &tr, &ferr);
        const json_t *st = json_object_get(tr, "status");
        const char *token = jstr(st, "token"), *exp = jstr(st, "expirationTimestamp");
        time_t expiry = 0;
        if (r >= 0 && (!token || !*token || !exp || kos_time_parse_rfc3339(exp, &expiry) < 0))
            r = -EPROTO;
        if (r < 0)
            return kos_error_set(err, 500, MOUNT_ERR,
                                 "MountVolume.SetUp failed for volume \"" VOLUME
                                 "\" : failed to fetch token: %s",
                                 ferr && ferr->message ? ferr->message : strerror(-r));
        if ((r = write_file(dir, "token", token, strlen(token))) < 0)
            return kos_error_set(err, 500, MOUNT_ERR,
                                 "MountVolume.SetUp failed for volume \"" VOLUME "\" : %s",
                                 strerror(-r));
        char times[64];
        int n = snprintf(times, sizeof(times), "%lld %lld\n", (long long)now, (long long)expiry);
        write_file(pod_dir, "sa-token-times", times, (size_t)n);
    }
    const char *ns = jstr(json_object_get(pod, "metadata"), "namespace");
    ns = ns ? ns : "default";
    const char *ca = ca_pem ? ca_pem : "";
    if ((r = write_file(dir, "ca.crt", ca, strlen(ca))) < 0 ||
        (r = write_file(dir, "namespace", ns, strlen(ns))) < 0)
        return kos_error_set(err, 500, MOUNT_ERR,
                             "MountVolume.SetUp failed for volume \"" VOLUME "\" : %s",
                             strerror(-r));
    kos_strlcpy(ret_dir, dir, size);
    return 0;
}
