/* The in-process transport of the components inside `kos server` (client/client.h,
 * kos_client_local_fn): their requests run the API server's handler on their own thread, as
 * the identity of their client certificate, instead of TLS and HTTP over loopback. The
 * certificate is verified against the cluster CA once, here, as the TLS layer verifies it
 * per connection; authentication, authorization and admission then run as for any client. */
#pragma once

#include <stddef.h>

#include "apiserver/apiserver.h"
#include "util/buf.h"
#include "util/error.h"

struct apiserver_local;

/* -EACCES (with err) when cert_pem is not a client certificate that ca_pem verifies. */
int apiserver_local_new(struct apiserver *srv, const char *ca_pem, const char *cert_pem,
                        struct apiserver_local **ret, struct kos_error **err);
/* Accepts NULL. No request may be in flight. */
void apiserver_local_free(struct apiserver_local *l);

/* kos_client_local_fn; ctx is a struct apiserver_local. */
int apiserver_local_request(void *ctx, const char *method, const char *path_query,
                            const char *content_type, const char *user_agent, const char *body,
                            size_t len, long *ret_status, struct kos_buf *ret_body);
