#include "auth/user.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

static void extra_clear(struct kos_user_extra *e)
{
    free(e->key);
    for (size_t i = 0; i < e->nvalues; i++)
        free(e->values[i]);
    free(e->values);
}

void kos_user_info_clear(struct kos_user_info *u)
{
    if (!u)
        return;
    free(u->name);
    free(u->uid);
    for (size_t i = 0; i < u->ngroups; i++)
        free(u->groups[i]);
    free(u->groups);
    for (size_t i = 0; i < u->nextra; i++)
        extra_clear(&u->extra[i]);
    free(u->extra);
    memset(u, 0, sizeof(*u));
}

bool kos_user_info_in_group(const struct kos_user_info *u, const char *group)
{
    for (size_t i = 0; i < u->ngroups; i++)
        if (strcmp(u->groups[i], group) == 0)
            return true;
    return false;
}

static int push_string(char ***v, size_t *n, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        return -ENOMEM;
    char **grown = realloc(*v, (*n + 1) * sizeof(**v));
    if (!grown) {
        free(copy);
        return -ENOMEM;
    }
    grown[(*n)++] = copy;
    *v = grown;
    return 0;
}

int kos_user_info_add_group(struct kos_user_info *u, const char *group)
{
    if (kos_user_info_in_group(u, group))
        return 0;
    if (u->ngroups >= KOS_USER_MAX_GROUPS || strlen(group) > KOS_USER_MAX_STRING)
        return -E2BIG;
    return push_string(&u->groups, &u->ngroups, group);
}

int kos_user_info_add_extra(struct kos_user_info *u, const char *key, const char *value)
{
    if (strlen(key) > KOS_USER_MAX_STRING || strlen(value) > KOS_USER_MAX_STRING)
        return -E2BIG;
    struct kos_user_extra *e = NULL;
    for (size_t i = 0; i < u->nextra; i++)
        if (strcmp(u->extra[i].key, key) == 0)
            e = &u->extra[i];
    if (!e) {
        if (u->nextra >= KOS_USER_MAX_EXTRA)
            return -E2BIG;
        _cleanup_free_ char *k = strdup(key);
        if (!k)
            return -ENOMEM;
        struct kos_user_extra *grown = realloc(u->extra, (u->nextra + 1) * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        u->extra = grown;
        e = &u->extra[u->nextra++];
        *e = (struct kos_user_extra){.key = TAKE_PTR(k)};
    }
    if (e->nvalues >= KOS_USER_MAX_EXTRA_VALUES)
        return -E2BIG;
    return push_string(&e->values, &e->nvalues, value);
}

int kos_user_info_copy(const struct kos_user_info *src, struct kos_user_info *dst)
{
    struct kos_user_info c = {0};
    int r = 0;
    if (src->name && !(c.name = strdup(src->name)))
        r = -ENOMEM;
    if (r == 0 && src->uid && !(c.uid = strdup(src->uid)))
        r = -ENOMEM;
    for (size_t i = 0; r == 0 && i < src->ngroups; i++)
        r = push_string(&c.groups, &c.ngroups, src->groups[i]);
    for (size_t i = 0; r == 0 && i < src->nextra; i++)
        for (size_t j = 0; r == 0 && j < src->extra[i].nvalues; j++)
            r = kos_user_info_add_extra(&c, src->extra[i].key, src->extra[i].values[j]);
    if (r < 0) {
        kos_user_info_clear(&c);
        return r;
    }
    *dst = c;
    return 0;
}
