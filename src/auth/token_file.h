/* --token-auth-file: kube-apiserver's static bearer tokens, a CSV file read once at start
 * (k8s.io/apiserver/pkg/authentication/token/tokenfile). Each record is
 *   token,user,uid[,"group1,group2"[,ignored...]]
 * parsed as Go's encoding/csv does (quoted fields with "" escapes, fields may span lines,
 * CRLF or LF, blank lines skipped, a bare quote in an unquoted field is an error). A record
 * with an empty token is skipped; a later duplicate token replaces the earlier one. Any
 * malformed record fails the whole file, so the server refuses to start. Tokens are kept only
 * as SHA-256 digests. */
#pragma once

#include <stddef.h>

#include "auth/user.h"
#include "util/error.h"

#define KOS_TOKEN_FILE_MAX_SIZE  (16u * 1024 * 1024)
#define KOS_TOKEN_FILE_MAX_TOKEN (16u * 1024) /* bytes in one token */

struct kos_token_file;

/* Parses data (len bytes, NUL bytes rejected); path names the file in error messages. On
 * failure *err is a 400-class error whose message is the one-line reason, e.g.
 *   token file 'x.csv' must have at least 3 columns (token, user name, user uid), found 2
 *   token file 'x.csv': parse error on line 3, column 5: bare " in non-quoted-field */
int kos_token_file_parse(const char *data, size_t len, const char *path,
                         struct kos_token_file **ret, struct kos_error **err);
/* Reads and parses the file at path (at most KOS_TOKEN_FILE_MAX_SIZE bytes). */
int kos_token_file_load(const char *path, struct kos_token_file **ret, struct kos_error **err);
void kos_token_file_free(struct kos_token_file *tf);
/* Distinct tokens held. */
size_t kos_token_file_count(const struct kos_token_file *tf);
/* 1 and a copy of the token's user in *ret (caller clears it), 0 when unknown, -ENOMEM. */
int kos_token_file_lookup(const struct kos_token_file *tf, const char *token,
                          struct kos_user_info *ret);
/* Wraps tf as a token authenticator named "token-file" that owns it. */
void kos_token_file_authenticator(struct kos_token_file *tf, struct kos_token_authenticator *ret);
