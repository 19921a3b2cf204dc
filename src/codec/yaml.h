/* YAML request bodies and manifests (application/yaml, apply-patch+yaml) to a JSON tree,
 * resolving plain scalars as sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) does:
 *   true/false: y Y yes Yes YES true True TRUE on On ON (and the mirror set n N no ...)
 *   null: ~ null Null NULL and the empty scalar; ints (decimal, 0x hex, 0o/0 octal,
 *   0b binary, with _ separators), floats (incl. .inf .nan); everything else a string.
 * Quoted scalars are always strings. Anchors/aliases are expanded with a bound on total size
 * (billion-laughs safe); merge keys (<<) are honoured; depth is bounded. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "util/error.h"

/* Depth as kos_json_depth counts it (a scalar is 1, {"a":1} is 2), after alias expansion. */
#define KOS_YAML_MAX_DEPTH 100
/* Nodes in the decoded tree, aliases counted as expanded (billion-laughs bound). */
#define KOS_YAML_MAX_NODES 1000000

/* Exactly one document (a stream with more than one document is a 400, so is an empty one).
 * Mapping keys become strings as sigs.k8s.io/yaml converts them (true -> "true", 0x10 -> "16");
 * a null or collection key, a duplicate key, .inf/.nan, a tag mismatch (`!!int abc`) and an
 * unknown alias are 400s too, worded like go-yaml ("yaml: line 3: ..."). -ENOMEM. */
int kos_yaml_decode(const char *data, size_t len, json_t **ret, struct kos_error **err);
