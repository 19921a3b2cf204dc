/* libFuzzer target: bearer tokens from the network through the JWT parser and the
 * service-account authenticator (issuer, signature, claims). Must never crash, leak or
 * authenticate: nothing a fuzzer builds is signed by the key generated here. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "auth/serviceaccount.h"

static struct kos_sa *sa;

static int lookup(void *ctx, const char *resource, const char *ns, const char *name, char **uid,
                  time_t *deletion)
{
    *deletion = 0;
    *uid = strdup("uid");
    return *uid ? 0 : -ENOMEM;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/kos-fuzz-jwt-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    struct kos_sa_options o = {.tls_dir = dir, .lookup = lookup};
    if (kos_sa_new(&o, &sa, NULL) < 0)
        abort();
    char path[64];
    snprintf(path, sizeof(path), "%s/sa.key", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *tok = malloc(size + 1);
    if (!tok)
        return 0;
    memcpy(tok, data, size);
    tok[size] = '\0';
    struct kos_jwt j = {0};
    if (kos_jwt_parse(tok, &j) == 0)
        kos_jwt_clear(&j);
    struct kos_token_authenticator a = kos_sa_authenticator(sa);
    struct kos_user_info u = {0};
    struct kos_error *err = NULL;
    if (a.authenticate(a.ctx, tok, &u, &err) > 0)
        abort();
    kos_user_info_clear(&u);
    kos_error_free(err);
    free(tok);
    return 0;
}
