/* libFuzzer target: Keystone's token and group-list responses (network input). Never a crash;
 * a parsed token always has a user id and name, and mapping it never crashes either. */
#include <stdint.h>
#include <stdlib.h>

#include "openstack/keystone/map.h"
#include "openstack/keystone/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keystone_token t;
    struct kos_error *err = NULL;
    if (keystone_token_parse((const char *)data, size, &t, &err) == 0) {
        if (!t.user_id || !t.user_name)
            abort();
        struct kos_user_info u;
        struct kos_error *merr = NULL;
        if (keystone_map_user(&t, NULL, 0, &u, &merr) == 0)
            kos_user_info_clear(&u);
        else if (t.project_id && !merr)
            abort();
        kos_error_free(merr);
        keystone_token_clear(&t);
    } else {
        kos_error_free(err);
    }
    char **g = NULL;
    size_t n = 0;
    err = NULL;
    if (keystone_groups_parse((const char *)data, size, &g, &n, &err) == 0)
        keystone_strv_free(g, n);
    else
        kos_error_free(err);
    return 0;
}
