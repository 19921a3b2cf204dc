/* In-process requests of the server's own components (see local_client.h). */
#include "apiserver/local_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/http_local.h"
#include "pki/pki.h"

struct apiserver_local {
    struct apiserver *srv;
    struct pki_peer peer;
};

int apiserver_local_new(struct apiserver *srv, const char *ca_pem, const char *cert_pem,
                        struct apiserver_local **ret, struct kos_error **err)
{
    struct pki_trust *trust = NULL;
    int r = pki_trust_new(ca_pem, strlen(ca_pem), &trust, err);
    if (r < 0)
        return r;
    struct apiserver_local *l = calloc(1, sizeof(*l));
    if (!l) {
        pki_trust_free(trust);
        return -ENOMEM;
    }
    r = pki_verify_client_cert(trust, cert_pem, strlen(cert_pem), &l->peer.identity, err);
    pki_trust_free(trust);
    if (r < 0) {
        free(l);
        return r == -ENOMEM ? r : -EACCES;
    }
    l->srv = srv;
    l->peer.status = PKI_PEER_VERIFIED;
    l->peer.checked = true;
    *ret = l;
    return 0;
}

void apiserver_local_free(struct apiserver_local *l)
{
    if (!l)
        return;
    pki_peer_clear(&l->peer);
    free(l);
}

int apiserver_local_request(void *ctx, const char *method, const char *path_query,
                            const char *content_type, const char *user_agent, const char *body,
                            size_t len, long *ret_status, struct kos_buf *ret_body)
{
    struct apiserver_local *l = ctx;
    /* the headers a component's HTTP client sends (User-Agent names the field manager) */
    struct http_param headers[3] = {{"Accept", "application/json"}};
    size_t nheaders = 1;
    if (user_agent)
        headers[nheaders++] = (struct http_param){"User-Agent", user_agent};
    if (content_type)
        headers[nheaders++] = (struct http_param){"Content-Type", content_type};
    const struct http_local_call call = {.handler = apiserver_handle,
                                         .handler_ctx = l->srv,
                                         .peer = &l->peer,
                                         .method = method,
                                         .path_query = path_query,
                                         .headers = headers,
                                         .nheaders = nheaders,
                                         .body = body,
                                         .len = len};
    int status = 0;
    int r = http_local_request(&call, &status, ret_body);
    if (r < 0)
        return r;
    *ret_status = status;
    return 0;
}
