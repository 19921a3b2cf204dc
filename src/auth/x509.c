/* The x509 authenticator's mapping (k8s.io/apiserver/pkg/authentication/request/x509
 * CommonNameUserConversion): the HTTP layer has verified the peer's chain against the client
 * CA (pki_peer_update); this turns that verdict into a user. */
#include <errno.h>
#include <string.h>

#include "auth/authn.h"

int kos_authn_x509_user(const struct pki_peer *peer, struct kos_user_info *ret)
{
    if (!peer || peer->status == PKI_PEER_NONE)
        return 0;
    if (peer->status != PKI_PEER_VERIFIED || !peer->identity.user || !peer->identity.user[0])
        return -EACCES;
    if (strlen(peer->identity.user) > KOS_USER_MAX_STRING)
        return -EACCES;
    struct kos_user_info u = {0};
    u.name = strdup(peer->identity.user);
    int r = u.name ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < peer->identity.ngroups; i++)
        r = kos_user_info_add_group(&u, peer->identity.groups[i]);
    if (r < 0) {
        kos_user_info_clear(&u);
        return r == -ENOMEM ? r : -EACCES;
    }
    *ret = u;
    return 1;
}
