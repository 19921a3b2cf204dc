/* Which cgroup hierarchies the host mounts, from /proc/self/mountinfo: v1 controllers, a
 * hybrid host's extra cgroup2 tree, or one unified cgroup2 tree. */
#include "agent/cgroups/cgroups.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strutil.h"

const char *cg_mode_name(enum cg_mode m)
{
    switch (m) {
    case CG_MODE_V1:
        return "v1";
    case CG_MODE_HYBRID:
        return "hybrid";
    case CG_MODE_UNIFIED:
        break;
    }
    return "unified";
}

static bool is_controller(const char *tok, size_t n)
{
    static const char *const known[] = {"cpu",     "cpuacct", "cpuset",     "memory", "devices",
                                        "freezer", "net_cls", "net_prio",   "blkio",  "hugetlb",
                                        "pids",    "rdma",    "perf_event", "misc"};
    if (n > 5 && strncmp(tok, "name=", 5) == 0)
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(known); i++)
        if (strlen(known[i]) == n && strncmp(known[i], tok, n) == 0)
            return true;
    return false;
}

/* Keeps the controller names of a v1 mount's super options ("rw,cpu,cpuacct"). */
static void controllers_of(const char *super, char *out, size_t size)
{
    out[0] = '\0';
    size_t used = 0;
    const char *p = super;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (is_controller(p, n) && used + n + 2 < size) {
            if (used)
                out[used++] = ',';
            memcpy(out + used, p, n);
            used += n;
            out[used] = '\0';
        }
        p += n;
        if (*p == ',')
            p++;
    }
}

static bool has_token(const char *list, const char *tok)
{
    size_t n = strlen(tok);
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, tok, n) == 0)
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

/* One mountinfo line: "36 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory".
 */
static void parse_line(char *line, struct cg_host *h, bool *v1_controllers)
{
    char *fields[8] = {0};
    size_t nf = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " ", &save); t; t = nf < 6 ? strtok_r(NULL, " ", &save) : NULL)
        fields[nf++] = t;
    if (nf < 6)
        return;
    char *rest = save ? strstr(save, "- ") : NULL;
    if (!rest && save && strncmp(save, "-", 1) == 0)
        rest = save;
    if (!rest)
        return;
    rest += 2;
    char *fstype = strtok_r(rest, " ", &save);
    char *source = strtok_r(NULL, " ", &save);
    char *super = strtok_r(NULL, " \n", &save);
    if (!fstype || !source)
        return;
    if (!super)
        super = "";
    bool v2 = strcmp(fstype, "cgroup2") == 0;
    if (!v2 && strcmp(fstype, "cgroup") != 0)
        return;
    if (h->n >= CG_MAX_HIERARCHIES)
        return;
    struct cg_hierarchy c = {.v2 = v2};
    if (!v2) {
        controllers_of(super, c.options, sizeof(c.options));
        if (!c.options[0])
            return;
    }
    if (strlen(fields[4]) >= sizeof(c.mount))
        return;
    kos_strlcpy(c.mount, fields[4], sizeof(c.mount));
    /* the same hierarchy bind-mounted twice counts once */
    for (size_t i = 0; i < h->n; i++)
        if (h->h[i].v2 == c.v2 && strcmp(h->h[i].options, c.options) == 0)
            return;
    if (!v2 && strncmp(c.options, "name=", 5) != 0)
        *v1_controllers = true;
    h->h[h->n++] = c;
}

int cg_host_parse_mountinfo(const char *text, struct cg_host *ret)
{
    _cleanup_free_ char *copy = strdup(text ? text : "");
    if (!copy)
        return -ENOMEM;
    struct cg_host h = {0};
    bool v1 = false, v2 = false;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        parse_line(line, &h, &v1);
    for (size_t i = 0; i < h.n; i++)
        v2 |= h.h[i].v2;
    if (h.n == 0)
        return -ENOENT;
    if (v1)
        h.mode = v2 ? CG_MODE_HYBRID : CG_MODE_V1;
    else if (v2)
        h.mode = CG_MODE_UNIFIED;
    else
        return -ENOENT; /* only named hierarchies: nothing to put limits in */
    *ret = h;
    return 0;
}

int cg_host_detect(struct cg_host *ret)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -errno;
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return -ENOMEM;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && len < (8u << 20))
        fwrite(buf, 1, n, mem);
    if (fclose(mem) != 0)
        return -ENOMEM;
    return cg_host_parse_mountinfo(text, ret);
}

const struct cg_hierarchy *cg_host_controller(const struct cg_host *host, const char *controller)
{
    for (size_t i = 0; i < host->n; i++) {
        const struct cg_hierarchy *c = &host->h[i];
        if (c->v2) {
            if (host->mode == CG_MODE_UNIFIED || !controller[0])
                return c;
        } else if (controller[0] && host->mode != CG_MODE_UNIFIED &&
                   has_token(c->options, controller)) {
            return c;
        }
    }
    return NULL;
}

int cg_oom_score_adj_floor(void)
{
    /* lowering an oom_score_adj takes CAP_SYS_RESOURCE (bit 24 of CapEff); without it a
     * child may not go below what its parent has */
    _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    unsigned long long eff = ~0ULL;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "CapEff: %llx", &eff) == 1)
            break;
    if (eff & (1ULL << 24))
        return -1000;
    _cleanup_fclose_ FILE *o = fopen("/proc/self/oom_score_adj", "re");
    int v = 0;
    if (!o || fscanf(o, "%d", &v) != 1)
        return 0;
    return v;
}
