/* Machine facts for the Node object: capacity, nodeInfo, addresses. */
#include "agent/node/machine.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strutil.h"

extern char **environ;

/* First line of a small file, trimmed. */
static int read_line(const char *path, char *out, size_t size)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    if (!fgets(out, (int)size, f))
        return -ENODATA;
    size_t n = strlen(out);
    while (n > 0 && isspace((unsigned char)out[n - 1]))
        out[--n] = '\0';
    return 0;
}

static int meminfo_value(const char *key, int64_t *ret)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
    if (!f)
        return -errno;
    char line[256];
    size_t klen = strlen(key);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            long long kb = 0;
            if (sscanf(line + klen + 1, "%lld", &kb) != 1 || kb < 0)
                return -EINVAL;
            *ret = (int64_t)kb * 1024;
            return 0;
        }
    }
    return -ENOENT;
}

int agent_memory_available(int64_t *ret)
{
    return meminfo_value("MemAvailable", ret);
}

int agent_fs_stats(const char *path, struct agent_fs_stats *ret)
{
    struct statvfs st;
    if (statvfs(path, &st) < 0)
        return -errno;
    uint64_t bs = st.f_frsize ? st.f_frsize : st.f_bsize;
    *ret = (struct agent_fs_stats){
        .capacity = (int64_t)(st.f_blocks * bs),
        .available = (int64_t)(st.f_bavail * bs),
        .inodes = (int64_t)st.f_files,
        .inodes_free = (int64_t)st.f_ffree,
    };
    return 0;
}

static void os_image(char *out, size_t size)
{
    kos_strlcpy(out, "Linux", size);
    _cleanup_fclose_ FILE *f = fopen("/etc/os-release", "re");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "PRETTY_NAME=", 12) != 0)
            continue;
        char *v = line + 12;
        size_t n = strcspn(v, "\n");
        v[n] = '\0';
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v[n - 1] = '\0';
            v++;
        }
        kos_strlcpy(out, v, size);
        return;
    }
}

static const char *goarch(const char *machine)
{
    static const struct {
        const char *uname, *go;
    } map[] = {{"x86_64", "amd64"}, {"aarch64", "arm64"},  {"i686", "386"},
               {"i386", "386"},     {"armv7l", "arm"},     {"ppc64le", "ppc64le"},
               {"s390x", "s390x"},  {"riscv64", "riscv64"}};
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (!strcmp(map[i].uname, machine))
            return map[i].go;
    return machine;
}

int agent_machine_read(const char *root_dir, struct agent_machine *ret)
{
    struct agent_machine m = {0};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    m.milli_cpu = (int64_t)cpus * 1000;
    int r = meminfo_value("MemTotal", &m.memory);
    if (r < 0)
        return r;
    struct agent_fs_stats fs;
    if ((r = agent_fs_stats(root_dir, &fs)) < 0)
        return r;
    m.ephemeral_storage = fs.capacity;
    (void)read_line("/etc/machine-id", m.machine_id, sizeof(m.machine_id));
    if (read_line("/sys/class/dmi/id/product_uuid", m.system_uuid, sizeof(m.system_uuid)) < 0)
        m.system_uuid[0] = '\0';
    (void)read_line("/proc/sys/kernel/random/boot_id", m.boot_id, sizeof(m.boot_id));
    struct utsname u;
    if (uname(&u) == 0) {
        kos_strlcpy(m.kernel_version, u.release, sizeof(m.kernel_version));
        kos_strlcpy(m.architecture, goarch(u.machine), sizeof(m.architecture));
    }
    os_image(m.os_image, sizeof(m.os_image));
    if (gethostname(m.hostname, sizeof(m.hostname) - 1) < 0)
        kos_strlcpy(m.hostname, "localhost", sizeof(m.hostname));
    for (char *p = m.hostname; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    *ret = m;
    return 0;
}

static void default_route_iface(char *out, size_t size)
{
    out[0] = '\0';
    _cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
    if (!f)
        return;
    char line[512];
    if (!fgets(line, sizeof(line), f))
        return;
    while (fgets(line, sizeof(line), f)) {
        char iface[IF_NAMESIZE + 1];
        unsigned long dest, flags;
        if (sscanf(line, "%16s %lx %*x %lx", iface, &dest, &flags) == 3 && dest == 0 &&
            (flags & 1)) {
            kos_strlcpy(out, iface, size);
            return;
        }
    }
}

int agent_host_ip(char *out, size_t size)
{
    char want[IF_NAMESIZE + 1];
    default_route_iface(want, sizeof(want));
    struct ifaddrs *ifs = NULL;
    kos_strlcpy(out, "127.0.0.1", size);
    if (getifaddrs(&ifs) < 0)
        return 0;
    bool found = false;
    for (int pass = 0; pass < 2 && !found; pass++) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
                (i->ifa_flags & IFF_LOOPBACK))
                continue;
            if (pass == 0 && (!want[0] || strcmp(i->ifa_name, want) != 0))
                continue;
            const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
            if (inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)size)) {
                found = true;
                break;
            }
        }
    }
    freeifaddrs(ifs);
    return 0;
}

int agent_runtime_version(const char *bin, char *out, size_t size)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)bin, "--version", NULL};
    pid_t pid;
    int r = posix_spawnp(&pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (r != 0) {
        close(fds[0]);
        return -ENOENT;
    }
    char buf[512];
    size_t used = 0;
    ssize_t n;
    while (used < sizeof(buf) - 1 && (n = read(fds[0], buf + used, sizeof(buf) - 1 - used)) > 0)
        used += (size_t)n;
    buf[used] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -ENOENT;
    /* "runc version 1.1.5+ds1" / "crun version 1.8.1" */
    const char *v = strstr(buf, "version ");
    if (!v)
        return -EINVAL;
    v += 8;
    size_t vlen = strcspn(v, " \n");
    const char *name = strrchr(bin, '/');
    name = name ? name + 1 : bin;
    int k = snprintf(out, size, "%s://%.*s", name, (int)vlen, v);
    return k < 0 || (size_t)k >= size ? -ENAMETOOLONG : 0;
}
