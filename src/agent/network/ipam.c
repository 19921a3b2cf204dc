/* The node's pod address allocator, one file per address. */
#include "agent/network/ipam.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/strutil.h"

#define OWNER_MAX 128
#define LAST_FILE "last_reserved_ip"

struct kos_ipam {
    char dir[1024];
    struct kos_cidr subnet;
    size_t n;      /* addresses in the subnet */
    char **owners; /* by offset from the network address; NULL: free */
    size_t used;
    size_t last; /* offset of the last address handed out */
    pthread_mutex_t lock;
};

uint32_t kos_ipam_gateway(const struct kos_cidr *subnet)
{
    return subnet->addr + 1;
}

static bool valid_owner(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= OWNER_MAX || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* Offsets that are never handed out: network, gateway, broadcast. */
static bool reserved(const struct kos_ipam *p, size_t off)
{
    return off == 0 || off == 1 || off == p->n - 1;
}

static void path_of(const struct kos_ipam *p, size_t off, char *out, size_t size)
{
    char ip[16];
    kos_ipv4_format(p->subnet.addr + (uint32_t)off, ip, sizeof(ip));
    snprintf(out, size, "%s/%s", p->dir, ip);
}

static void load(struct kos_ipam *p)
{
    DIR *d = opendir(p->dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        uint32_t addr;
        if (kos_ipv4_parse(e->d_name, &addr) < 0 || !kos_cidr_contains(&p->subnet, addr))
            continue;
        size_t off = addr - p->subnet.addr;
        char path[1300], owner[OWNER_MAX] = "";
        snprintf(path, sizeof(path), "%s/%s", p->dir, e->d_name);
        FILE *f = fopen(path, "re");
        if (f) {
            if (!fgets(owner, sizeof(owner), f))
                owner[0] = '\0';
            fclose(f);
        }
        owner[strcspn(owner, "\r\n")] = '\0';
        if (reserved(p, off) || !valid_owner(owner) || p->owners[off]) {
            unlink(path); /* a write cut short by a crash, or junk */
            continue;
        }
        if ((p->owners[off] = strdup(owner)))
            p->used++;
    }
    closedir(d);
    char path[1200], ip[32] = "";
    snprintf(path, sizeof(path), "%s/%s", p->dir, LAST_FILE);
    FILE *f = fopen(path, "re");
    if (f) {
        if (fgets(ip, sizeof(ip), f)) {
            ip[strcspn(ip, "\r\n")] = '\0';
            uint32_t addr;
            if (kos_ipv4_parse(ip, &addr) == 0 && kos_cidr_contains(&p->subnet, addr))
                p->last = addr - p->subnet.addr;
        }
        fclose(f);
    }
}

int kos_ipam_open(const char *dir, const struct kos_cidr *subnet, struct kos_ipam **ret)
{
    if (subnet->prefix < 16 || subnet->prefix > 30 || strlen(dir) >= 1024)
        return -EINVAL;
    int r = kos_mkdir_p(dir, 0700);
    if (r < 0)
        return r;
    struct kos_ipam *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    kos_strlcpy(p->dir, dir, sizeof(p->dir));
    p->subnet = *subnet;
    p->n = (size_t)1 << (32 - subnet->prefix);
    p->last = 1;
    p->owners = calloc(p->n, sizeof(char *));
    if (!p->owners) {
        free(p);
        return -ENOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    load(p);
    *ret = p;
    return 0;
}

void kos_ipam_free(struct kos_ipam *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->owners && i < p->n; i++)
        free(p->owners[i]);
    free(p->owners);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static ssize_t find(const struct kos_ipam *p, const char *owner)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->owners[i] && strcmp(p->owners[i], owner) == 0)
            return (ssize_t)i;
    return -1;
}

int kos_ipam_lookup(struct kos_ipam *p, const char *owner, uint32_t *ret)
{
    if (!valid_owner(owner))
        return -EINVAL;
    pthread_mutex_lock(&p->lock);
    ssize_t off = find(p, owner);
    pthread_mutex_unlock(&p->lock);
    if (off < 0)
        return -ENOENT;
    *ret = p->subnet.addr + (uint32_t)off;
    return 0;
}

static int claim(struct kos_ipam *p, size_t off, const char *owner)
{
    char path[1200];
    path_of(p, off, path, sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t n = strlen(owner);
    ssize_t w = write(fd, owner, n);
    int e = w == (ssize_t)n ? 0 : (w < 0 ? -errno : -EIO);
    if (close(fd) < 0 && e == 0)
        e = -errno;
    if (e < 0)
        unlink(path);
    return e;
}

int kos_ipam_allocate(struct kos_ipam *p, const char *owner, uint32_t *ret)
{
    if (!valid_owner(owner))
        return -EINVAL;
    pthread_mutex_lock(&p->lock);
    ssize_t have = find(p, owner);
    if (have >= 0) {
        pthread_mutex_unlock(&p->lock);
        *ret = p->subnet.addr + (uint32_t)have;
        return 0;
    }
    int r = -ENOSPC;
    for (size_t k = 1; k <= p->n; k++) {
        size_t off = (p->last + k) % p->n;
        if (reserved(p, off) || p->owners[off])
            continue;
        char *copy = strdup(owner);
        if (!copy) {
            r = -ENOMEM;
            break;
        }
        r = claim(p, off, owner);
        if (r == -EEXIST) { /* a file we did not load: leave that address alone */
            free(copy);
            continue;
        }
        if (r < 0) {
            free(copy);
            break;
        }
        p->owners[off] = copy;
        p->used++;
        p->last = off;
        char path[1200], ip[16];
        snprintf(path, sizeof(path), "%s/%s", p->dir, LAST_FILE);
        kos_ipv4_format(p->subnet.addr + (uint32_t)off, ip, sizeof(ip));
        FILE *f = fopen(path, "we");
        if (f) {
            fputs(ip, f);
            fclose(f);
        }
        *ret = p->subnet.addr + (uint32_t)off;
        break;
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

int kos_ipam_release(struct kos_ipam *p, const char *owner)
{
    if (!valid_owner(owner))
        return -EINVAL;
    pthread_mutex_lock(&p->lock);
    int r = 0;
    ssize_t off;
    while ((off = find(p, owner)) >= 0) {
        char path[1200];
        path_of(p, (size_t)off, path, sizeof(path));
        if (unlink(path) < 0 && errno != ENOENT) {
            r = -errno;
            break;
        }
        free(p->owners[off]);
        p->owners[off] = NULL;
        p->used--;
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

size_t kos_ipam_used(struct kos_ipam *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->used;
    pthread_mutex_unlock(&p->lock);
    return n;
}

size_t kos_ipam_capacity(const struct kos_ipam *p)
{
    return p->n - 3;
}
