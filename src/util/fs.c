#include "util/fs.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>

#include "util/strutil.h"

int kos_mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (kos_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}
