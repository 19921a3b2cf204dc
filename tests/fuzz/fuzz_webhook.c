/* libFuzzer target: webhook answers from the network. The same bytes go through the
 * TokenReview response parser (user mapping, bounds) and the SubjectAccessReview response
 * parser. Must never crash or leak; a parse that fails leaves no user behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/authz/webhook.h"
#include "auth/webhook_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const auds[] = {"https://kubernetes.default.svc.cluster.local"};
    struct kos_user_info u = {0};
    struct kos_error *err = NULL;
    int r = kos_tokenreview_parse_response((const char *)data, size, auds, 1, &u, &err);
    if (r == 1 && (!u.name || !u.name[0]))
        abort();
    if (r != 1 && u.name)
        abort();
    kos_user_info_clear(&u);
    kos_error_free(err);
    err = NULL;
    char *reason = NULL;
    r = authz_webhook_parse_response((const char *)data, size, &reason, &err);
    if (r > AUTHZ_DENY)
        abort();
    free(reason);
    kos_error_free(err);
    return 0;
}
