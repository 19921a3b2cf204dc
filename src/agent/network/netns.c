/* Network namespaces bound to files. The agent is multi-threaded: unshare and setns change
 * only the calling thread's namespace, so each runs on a short-lived thread of its own and
 * leaves with a netlink socket opened in there (a socket stays in the namespace it was made
 * in), while the agent's other threads never leave the node's namespace. */
#include "agent/network/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util/cleanup.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

struct job {
    const char *path;
    bool create;
    struct rtnl r;
    int err;
};

static void *run(void *arg)
{
    struct job *j = arg;
    if (j->create) {
        if (unshare(CLONE_NEWNET) < 0) {
            j->err = -errno;
            return NULL;
        }
        char self[64];
        snprintf(self, sizeof(self), "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
        if (mount(self, j->path, NULL, MS_BIND, NULL) < 0) {
            j->err = -errno;
            return NULL;
        }
    } else {
        _cleanup_close_ int fd = open(j->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            j->err = -errno;
            return NULL;
        }
        if (setns(fd, CLONE_NEWNET) < 0) {
            j->err = -errno;
            return NULL;
        }
    }
    j->err = rtnl_open(&j->r);
    return NULL;
}

static int on_thread(struct job *j)
{
    pthread_t t;
    int r = pthread_create(&t, NULL, run, j);
    if (r != 0)
        return -r;
    pthread_join(t, NULL);
    return j->err;
}

bool kos_netns_exists(const char *path)
{
    struct statfs fs;
    return statfs(path, &fs) == 0 && (unsigned long)fs.f_type == (unsigned long)NSFS_MAGIC;
}

int kos_netns_create(const char *path, struct rtnl *ret)
{
    if (kos_netns_exists(path))
        return -EEXIST;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
    if (fd < 0)
        return -errno;
    close(fd);
    struct job j = {.path = path, .create = true, .r = {.fd = -1}};
    int r = on_thread(&j);
    if (r < 0) {
        if (kos_netns_exists(path))
            umount2(path, MNT_DETACH);
        unlink(path);
        rtnl_close(&j.r);
        return r;
    }
    *ret = j.r;
    return 0;
}

int kos_netns_open(const char *path, struct rtnl *ret)
{
    if (!kos_netns_exists(path))
        return -ENOENT;
    struct job j = {.path = path, .r = {.fd = -1}};
    int r = on_thread(&j);
    if (r < 0) {
        rtnl_close(&j.r);
        return r;
    }
    *ret = j.r;
    return 0;
}

int kos_netns_remove(const char *path)
{
    if (kos_netns_exists(path) && umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
        return -errno;
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}
