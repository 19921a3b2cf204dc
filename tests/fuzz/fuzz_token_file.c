/* libFuzzer target: the --token-auth-file CSV parser (an operator's file, but a malformed one
 * must stop the start with a message, never crash or leak). Every parsed file is also looked
 * up: each token found must map to a user with a name, and a parse failure must say why. The
 * input is also authenticated as a bearer header against the parsed file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authn.h"
#include "auth/token_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kos_token_file *tf = NULL;
    struct kos_error *err = NULL;
    int r = kos_token_file_parse((const char *)data, size, "fuzz.csv", &tf, &err);
    if (r < 0) {
        if (tf || !err || !err->message || !err->message[0])
            abort();
        kos_error_free(err);
        return 0;
    }
    if (!tf || err)
        abort();
    /* the first field of the first line, as a token */
    size_t n = 0;
    while (n < size && n < 256 && data[n] != ',' && data[n] != '\n' && data[n] != '\0')
        n++;
    char token[257];
    memcpy(token, data, n);
    token[n] = '\0';
    struct kos_user_info u = {0};
    r = kos_token_file_lookup(tf, token, &u);
    if (r == 1 && !u.name)
        abort();
    kos_user_info_clear(&u);

    struct kos_authn *a = NULL;
    if (kos_authn_new(NULL, &a) < 0)
        abort();
    struct kos_token_authenticator ta;
    kos_token_file_authenticator(tf, &ta);
    if (kos_authn_add_token_authenticator(a, &ta) < 0)
        abort();
    char header[300] = "Bearer ";
    memcpy(header + 7, token, n + 1);
    r = kos_authn_authenticate(a, NULL, header, &u, NULL, 0, &err);
    if (r == 0 && (!u.name || !kos_user_info_in_group(&u, "system:authenticated")))
        abort();
    if (r < 0 && (!err || err->code != 401))
        abort();
    kos_user_info_clear(&u);
    kos_error_free(err);
    kos_authn_free(a);
    return 0;
}
