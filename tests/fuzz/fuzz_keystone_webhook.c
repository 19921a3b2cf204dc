/* libFuzzer target: request bodies POSTed to kos keystone-auth's /webhook (network input),
 * SubjectAccessReview side (TokenReview needs a Keystone; without an authenticator it must
 * answer 503). Never a crash, always an answer, and never an allow for a subject without
 * Keystone extra. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openstack/keystone/webhook.h"

static struct keystone_policy *policy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!policy) {
        const char *p = "[{\"users\":{\"roles\":[\"member\"],\"projects\":[\"demo\"]},"
                        "\"resource_permissions\":{\"*/*\":[\"*\"]},"
                        "\"nonresource_permissions\":{\"/healthz\":[\"*\"]}},"
                        "{\"resource\":{\"verbs\":[\"*\"],\"resources\":[\"*\"],\"version\":\"*\","
                        "\"namespace\":\"*\"},\"match\":[{\"type\":\"user\",\"values\":[\"*\"]}]}]";
        if (keystone_policy_parse(p, strlen(p), &policy, NULL) < 0)
            abort();
    }
    struct keystone_webhook w = {.policy = policy};
    int status = 0;
    char *out = NULL, *note = NULL;
    size_t len = 0;
    if (keystone_webhook_handle(&w, (const char *)data, size, &status, &out, &len, &note) < 0)
        return 0;
    if (!out || status < 200 || status > 599)
        abort();
    /* An allow needs Keystone extra in the request. */
    if (status == 200 && strstr(out, "\"allowed\":true") && !memmem(data, size, "extra", 5))
        abort();
    free(out);
    free(note);
    return 0;
}
