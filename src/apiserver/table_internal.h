/* Internal to table.c and table_printers.c: the per-kind printers and the cell writer they
 * share. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiserver/objects.h"
#include "apiserver/table.h"
#include "util/buf.h"
#include "util/strutil.h"

/* Longest text a joined cell (roles, selectors, images...) may grow to. */
#define TABLE_CELL_MAX (1024u * 1024)

/* Descriptions shared by many columns (the Go types' SwaggerDoc). */
#define D_NAME                                                                                     \
    "Name must be unique within a namespace. Is required when creating resources, although "       \
    "some resources may allow a client to request the generation of an appropriate name "          \
    "automatically. Name is primarily intended for creation idempotence and configuration "        \
    "definition. Cannot be updated. More info: "                                                   \
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
#define D_AGE                                                                                      \
    "CreationTimestamp is a timestamp representing the server time when this object was "          \
    "created. It is not guaranteed to be set in happens-before order across separate "             \
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "     \
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "                      \
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"                            \
    "api-conventions.md#metadata"
#define D_CONTAINERS "Names of each container in the template."
#define D_IMAGES     "Images referenced by each container in the template."
#define D_NODE_ADDRESSES                                                                           \
    "List of addresses reachable to the node. Queried from cloud provider, if available. More "    \
    "info: https://kubernetes.io/docs/reference/node/node-status/#addresses"

struct table_column {
    const char *name;
    const char *type; /* "string", "integer", "boolean", "date" */
    const char *format;
    const char *description;
    int priority;
};

/* Appends cells to a JSON array under construction. The first failure sticks in `err` and
 * later appends do nothing, so that printers read as a plain list of cells. */
struct table_cells {
    struct kos_buf *b;
    unsigned count;
    int err;
    int64_t now_ms;
    /* a printer may set these: kube's row conditions (only pods have any) */
    const char *cond_reason;
    const char *cond_message;
};

struct table_printer {
    const char *group;
    const char *kind; /* NULL: the default printer */
    const struct table_column *columns;
    size_t ncolumns;
    void (*cells)(struct table_cells *c, const json_t *obj);
};

/* Where the stored text of the object's metadata is (to copy it into a
 * PartialObjectMetadata). -ENOENT when there is none, -EINVAL when the text is not
 * understood. */
int table_raw_metadata(const char *data, size_t len, const char **ret, size_t *ret_len);

/* The printer for group/kind, or the default one (Name, Age) for a kind without one. */
const struct table_printer *table_printer_find(const char *group, const char *kind);
/* The printer tables of table_printers_apps.c and table_printers_misc.c, each ended by an
 * entry with a NULL kind. */
extern const struct table_printer table_printers_apps[];
extern const struct table_printer table_printers_misc[];

void cell_str(struct table_cells *c, const char *s); /* NULL prints as "" */
void cell_int(struct table_cells *c, int64_t v);
void cell_bool(struct table_cells *c, bool v);
void cell_fmt(struct table_cells *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Go's zero time for a missing or malformed timestamp. */
#define TABLE_TIME_ZERO INT64_MIN
/* Milliseconds since the epoch of an RFC 3339 string, or TABLE_TIME_ZERO. */
int64_t table_time(const json_t *v);
/* translateTimestampSince: HumanDuration(now - t), "<unknown>" for the zero time. */
void table_age(const struct table_cells *c, int64_t t, char *out, size_t size);
/* The age cell of obj (metadata.creationTimestamp). */
void cell_age(struct table_cells *c, const json_t *obj);
/* Appends the finished text in b as a cell (r: the result of building it), or `empty` when
 * nothing was written. */
void cell_buf(struct table_cells *c, const struct kos_buf *b, int r, const char *empty);

static inline const char *s_at(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static inline int64_t i_at(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

/* The integer at a dotted path, 0 when missing (Go's zero value). */
static inline int64_t i_path(const json_t *o, const char *path)
{
    return (int64_t)json_integer_value(obj_path(o, path));
}

/* s, or def when s is missing or empty (Go's zero string). */
static inline const char *str_or(const char *s, const char *def)
{
    return s && s[0] ? s : def;
}

/* metadata.deletionTimestamp is set. */
static inline bool table_deleting(const json_t *obj)
{
    const json_t *d = obj_path(obj, "metadata.deletionTimestamp");
    return d && !json_is_null(d);
}
