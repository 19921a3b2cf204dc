/* OpenAPI v2 (Swagger 2.0) at GET /openapi/v2, built from the same field tables as v3.
 *
 * kubectl 1.27 downloads it for every `apply -f` / `create -f` with client-side validation
 * (and answers "failed to download openapi" on a 404), and it accepts only the protobuf form:
 * gnostic's openapi.v2.Document. kubectl reads the definitions (field names, types, $refs,
 * x-kubernetes-group-version-kind to find a kind's schema, x-kubernetes-patch-merge-key and
 * -strategy for strategic merge patches) and, in its v2 query-parameter check, the `patch`
 * operations' GVK and `fieldValidation` parameter. The document never changes while the
 * server runs, so it is built and encoded once. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "apiserver/http.h"

/* What kube-openapi answers, also to the "...spec.v2@v1.0+protobuf" clients ask for: Go's
 * mime.ParseMediaType (client-go reads Content-Type with it) rejects the '@'. */
#define CT_OPENAPI_V2_PB "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

/* GET /openapi/v2: protobuf when Accept names it, JSON otherwise (as kube-apiserver). */
void openapi_v2_handle(const struct http_request *req, struct http_reply *rep);

/* The Swagger 2.0 document as JSON (new reference; NULL on allocation failure). */
json_t *openapi_v2_document(void);
/* Its encoding as a gnostic openapi.v2.Document: 0 and *ret (malloc'd) / *ret_len, or a
 * negative errno. */
int openapi_v2_encode(const json_t *doc, uint8_t **ret, size_t *ret_len);
