/* Registry credentials from imagePullSecrets (.dockerconfigjson and .dockercfg). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image/image.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define DOCKER_CONFIG_MAX_BYTES   (1u << 20)
#define DOCKER_CONFIG_MAX_ENTRIES 256

static int bad(struct kos_error **err, const char *why)
{
    return kos_error_set(err, 400, "ErrImagePull", "invalid image pull secret: %s", why);
}

int image_credentials_add_docker_config(struct image_credentials *c, const char *data, size_t len,
                                        struct kos_error **err)
{
    if (len > DOCKER_CONFIG_MAX_BYTES)
        return bad(err, "too large");
    json_error_t je;
    _cleanup_json_ json_t *root = json_loadb(data, len, 0, &je);
    if (!json_is_object(root))
        return bad(err, "not a JSON object");
    json_t *auths = json_object_get(root, "auths");
    if (!auths)
        auths = root; /* .dockercfg */
    if (!json_is_object(auths))
        return bad(err, "\"auths\" is not an object");
    size_t n = json_object_size(auths);
    if (c->n + n > DOCKER_CONFIG_MAX_ENTRIES)
        return bad(err, "too many registries");
    struct image_auth *entries = calloc(c->n + n + 1, sizeof(*entries));
    if (!entries)
        return -ENOMEM;
    size_t k = c->n;
    int r = 0;
    const char *reg;
    json_t *v;
    json_object_foreach(auths, reg, v)
    {
        if (!json_is_object(v)) {
            r = bad(err, "a registry entry is not an object");
            break;
        }
        const char *user = json_string_value(json_object_get(v, "username"));
        const char *pass = json_string_value(json_object_get(v, "password"));
        const char *auth = json_string_value(json_object_get(v, "auth"));
        _cleanup_free_ char *decoded = NULL;
        char *u = NULL, *p = NULL;
        if ((!user || !*user) && auth && *auth) {
            size_t dl;
            if (kos_base64_decode(auth, strlen(auth), &decoded, &dl) < 0 || strlen(decoded) != dl ||
                !strchr(decoded, ':')) {
                r = bad(err, "\"auth\" is not base64 of user:password");
                break;
            }
            char *colon = strchr(decoded, ':');
            *colon = '\0';
            u = strdup(decoded);
            p = strdup(colon + 1);
        } else if (user && *user) {
            u = strdup(user);
            p = strdup(pass ? pass : "");
        } else {
            continue; /* an entry without credentials (identity tokens) cannot be used */
        }
        char *rg = strdup(reg);
        if (!u || !p || !rg) {
            free(u);
            free(p);
            free(rg);
            r = -ENOMEM;
            break;
        }
        entries[k++] = (struct image_auth){.registry = rg, .username = u, .password = p};
    }
    if (r < 0) {
        for (size_t i = c->n; i < k; i++) {
            free((char *)entries[i].registry);
            free((char *)entries[i].username);
            free((char *)entries[i].password);
        }
        free(entries);
        return r;
    }
    if (c->n)
        memcpy(entries, c->entries, c->n * sizeof(*entries));
    free((void *)c->entries);
    c->entries = entries;
    c->n = k;
    return 0;
}

void image_credentials_free(struct image_credentials *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->entries[i].registry);
        free((char *)c->entries[i].username);
        if (c->entries[i].password) {
            explicit_bzero((char *)c->entries[i].password, strlen(c->entries[i].password));
            free((char *)c->entries[i].password);
        }
    }
    free((void *)c->entries);
    c->entries = NULL;
    c->n = 0;
}
