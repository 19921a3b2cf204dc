/* meta.k8s.io Table output: what `kubectl get` prints. Columns and cells follow
 * kube-apiserver's printers (kubernetes pkg/printers/internalversion/printers.go, v1.33), and
 * like kube-apiserver every row carries the wide (-o wide) cells too: the client hides the
 * columns with priority > 0 unless asked for them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/kinds.h"
#include "store/value.h"
#include "util/buf.h"
#include "util/error.h"

enum table_version {
    TABLE_NONE = 0, /* the client did not ask for a Table */
    TABLE_V1,       /* meta.k8s.io/v1 */
    TABLE_V1BETA1,  /* meta.k8s.io/v1beta1 */
};

/* What rows[].object holds (the includeObject query parameter). */
enum table_include {
    TABLE_INCLUDE_METADATA = 0, /* PartialObjectMetadata (kube's default) */
    TABLE_INCLUDE_NONE,         /* no object */
    TABLE_INCLUDE_OBJECT,       /* the full object */
};

struct table_opts {
    enum table_version version;
    enum table_include include;
    int64_t now_ms; /* wall clock in ms since the epoch; ages are computed against it */
};

/* The Table version an Accept header asks for: the first media range
 * application/json;as=Table;g=meta.k8s.io;v=v1 (or v=v1beta1), parameters in any order,
 * anywhere in the list. TABLE_NONE when there is none (NULL accept included). */
enum table_version table_negotiate(const char *accept);
/* True when the Accept header asks for a Table. */
bool accept_wants_table(const char *accept);

/* Fills *o for a request: version from the Accept header, include from includeObject
 * (NULL or "" means Metadata), now from the clock. 400 BadRequest for an unknown
 * includeObject value, worded as kube-apiserver does. */
int table_opts_init(struct table_opts *o, const char *accept, const char *include_object,
                    struct kos_error **err);

/* "meta.k8s.io/v1" or "meta.k8s.io/v1beta1". */
const char *table_api_version(enum table_version v);

/* Decodes a stored object for its row: as json_loadb, except that metadata.managedFields,
 * which no printer reads, is left out (and not parsed). NULL when it is not valid JSON. */
json_t *table_decode(const struct kos_value *v);

/* Appends the kind's column definitions as a JSON array. */
int table_append_columns(struct kos_buf *b, const struct kos_kind *k);
/* Appends one row, {"cells":[…](,"conditions":[…])(,"object":…)}. raw is obj's stored
 * serialization, sent as it is for TABLE_INCLUDE_OBJECT. */
int table_append_row(struct kos_buf *b, const struct kos_kind *k, const json_t *obj,
                     const struct kos_value *raw, const struct table_opts *o);
/* Appends a whole one-row Table for a single object (GET and watch events). Without
 * columns, columnDefinitions is null: kube-apiserver sends the columns only in the first
 * event of a watch, and kubectl reuses the ones it has. */
int table_append_single(struct kos_buf *b, const struct kos_kind *k, const json_t *obj,
                        const struct kos_value *raw, const struct table_opts *o, bool with_columns);

/* The cells of obj's row as a JSON array (new reference; NULL on allocation failure). */
json_t *table_row_cells(const struct kos_kind *k, const json_t *obj, int64_t now_ms);

/* apimachinery's duration.HumanDuration of a duration in ms ("45s", "2m5s", "3h", "5d3h",
 * "<invalid>" below -1s). out must hold at least 16 bytes. */
void table_human_duration(int64_t ms, char *out, size_t size);

/* Wall-clock now in ms since the epoch. */
int64_t table_now_ms(void);
