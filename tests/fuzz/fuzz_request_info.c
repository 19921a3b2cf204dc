/* Fuzzes the authorization attributes of a request (request_info.c) and kube's 403 text built
 * from them (messages.c): the input is "<method>\0<path>\0<watch>\0<fieldSelector>", all
 * client-controlled. Every attribute must come out a terminated string within its bounds. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/authz/messages.h"
#include "apiserver/request_info.h"

/* The next NUL-separated field of the input (a copy), or "" past the end. */
static char *field(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nul = memchr(*p, '\0', (size_t)(end - *p));
    size_t len = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
    char *s = malloc(len + 1);
    if (!s)
        abort();
    memcpy(s, *p, len);
    s[len] = '\0';
    *p = nul ? nul + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *method = field(&p, end), *path = field(&p, end), *watch = field(&p, end);
    char *fsel = field(&p, end);
    static const char *const groups[] = {"system:authenticated"};
    const struct kos_user user = {.name = "fuzz", .groups = groups, .ngroups = 1};
    struct route rt;
    struct request_info ri;

    route_parse(path, &rt);
    request_info_init(&ri, &user, method, path, &rt, watch[0] ? watch : NULL,
                      fsel[0] ? fsel : NULL);
    const struct authz_attributes *a = &ri.attrs;
    if (!a->verb || strlen(a->verb) >= sizeof(ri.verb) + 32)
        abort();
    if (a->resource_request &&
        (!a->name || !a->namespace_ || !a->resource || strlen(a->name) >= ROUTE_MAX_SEGMENT))
        abort();
    struct kos_error *err = NULL;
    /* the reason slot takes arbitrary text too (a webhook chooses it) */
    if (authz_forbidden_error(a, watch, &err) != -EACCES && err)
        abort();
    if (err && err->code != 403)
        abort();
    kos_error_free(err);
    free(method);
    free(path);
    free(watch);
    free(fsel);
    return 0;
}
