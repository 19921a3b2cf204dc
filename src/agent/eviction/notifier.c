/* cgroup v1 memory thresholds (Documentation/admin-guide/cgroup-v1/memory.rst §9). */
#include "agent/eviction/notifier.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

void evict_notifier_init(struct evict_notifier *n)
{
    *n = (struct evict_notifier){.efd = -1, .usage_fd = -1};
}

void evict_notifier_close(struct evict_notifier *n)
{
    /* closing the eventfd unregisters the threshold */
    if (n->efd >= 0)
        close(n->efd);
    if (n->usage_fd >= 0)
        close(n->usage_fd);
    evict_notifier_init(n);
}

int evict_notifier_arm(struct evict_notifier *n, const char *dir, int64_t threshold)
{
    if (n->efd >= 0 && threshold > n->threshold - (1 << 20) && threshold < n->threshold + (1 << 20))
        return 0;
    evict_notifier_close(n);
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/memory.usage_in_bytes", dir) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    int ufd = open(path, O_RDONLY | O_CLOEXEC);
    if (ufd < 0)
        return -errno;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        int r = -errno;
        close(ufd);
        return r;
    }
    snprintf(path, sizeof(path), "%s/cgroup.event_control", dir);
    int cfd = open(path, O_WRONLY | O_CLOEXEC);
    int r = 0;
    if (cfd < 0) {
        r = -errno;
    } else {
        char line[96];
        int len = snprintf(line, sizeof(line), "%d %d %" PRId64, efd, ufd, threshold);
        if (write(cfd, line, (size_t)len) != len)
            r = errno ? -errno : -EIO;
        close(cfd);
    }
    if (r < 0) {
        close(efd);
        close(ufd);
        return r;
    }
    n->efd = efd;
    n->usage_fd = ufd;
    n->threshold = threshold;
    return 1;
}

void evict_notifier_ack(struct evict_notifier *n)
{
    uint64_t v;
    if (n->efd >= 0)
        (void)!read(n->efd, &v, sizeof(v));
}
