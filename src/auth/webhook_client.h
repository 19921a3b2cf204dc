/* The HTTP side of a webhook (TokenReview, SubjectAccessReview): one POST of a JSON review
 * to the server of a kubeconfig-format config, over libcurl, with a bounded time and a bounded
 * response. Shared by the token authenticator and the authorizer. Thread-safe: each call uses
 * its own curl handle. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/webhook_config.h"
#include "util/error.h"

#define KOS_WEBHOOK_MAX_RESPONSE (1024u * 1024)
#define KOS_WEBHOOK_TIMEOUT_MS   10000 /* connect + whole exchange, as a hard bound */

struct kos_webhook_client;

/* Takes *cfg over (it is zeroed) on success. timeout_ms <= 0: KOS_WEBHOOK_TIMEOUT_MS. */
int kos_webhook_client_new(struct kos_webhook_config *cfg, long timeout_ms,
                           struct kos_webhook_client **ret, struct kos_error **err);
/* The client of a kubeconfig-format config file (kos_webhook_config_load's errors). */
int kos_webhook_client_from_file(const char *config_file, long timeout_ms,
                                 struct kos_webhook_client **ret, struct kos_error **err);
void kos_webhook_client_free(struct kos_webhook_client *c);
const char *kos_webhook_client_server(const struct kos_webhook_client *c);

/* POSTs body (application/json) and returns the response body (NUL-terminated) and HTTP
 * status. A transport failure (refused, TLS, timeout, oversized answer) is -EIO/-ETIMEDOUT
 * with *err (500) saying what happened, worded as Go's client does ("Post \"URL\": ..."). */
int kos_webhook_post(struct kos_webhook_client *c, const char *body, size_t len, char **resp,
                     size_t *resp_len, long *http_status, struct kos_error **err);

/* The review API version a --*-webhook-version flag selects: "v1" (also when version is NULL
 * or empty) or "v1beta1" of group, written as "group/version" into out (size bytes). A 400
 * naming flag for any other version. *v1beta1 (may be NULL) says which. */
int kos_webhook_api_version(const char *flag, const char *version, const char *group, char *out,
                            size_t size, bool *v1beta1, struct kos_error **err);

/* The envelope of a review answer: JSON, an object, kind (when given) equal to kind, status
 * an object or absent. On success *root is the whole answer (the caller's) and *status points
 * into it (NULL when absent); otherwise a 500 in *err naming what is wrong. */
int kos_webhook_review_status(const char *data, size_t len, const char *kind, json_t **root,
                              json_t **status, struct kos_error **err);
