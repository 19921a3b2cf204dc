/* Label selectors (labelSelector=) and field selectors (fieldSelector=), as
 * k8s.io/apimachinery/pkg/labels and pkg/fields parse and match them.
 *
 * Label selector grammar (labels.Parse): comma-separated requirements:
 *   key, !key, key=value, key==value, key!=value, key in (v1,v2), key notin (v1,v2),
 *   key>n, key<n (and "" selects everything).
 * Field selector grammar (fields.ParseSelector): comma-separated key=value, key==value,
 * key!=value, with backslash escapes for ',', '=' and '\\' (fields.EscapeValue's set). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "util/error.h"

struct label_selector;
struct field_selector;

/* Bounds on what a client can make us parse (400 BadRequest beyond them): the selector
 * string, the requirements in one selector, and the values of one `in`/`notin` set. */
#define KOS_SELECTOR_MAX_LEN          65536
#define KOS_SELECTOR_MAX_REQUIREMENTS 1000
#define KOS_SELECTOR_MAX_VALUES       1000

/* Parses a selector string. On a syntax error returns -EINVAL and sets err (400 BadRequest,
 * message like kube-apiserver's "unable to parse requirement: ..."). */
int label_selector_parse(const char *s, struct label_selector **ret, struct kos_error **err);
/* labels: the metadata.labels object (may be NULL = no labels). */
bool label_selector_matches(const struct label_selector *sel, const json_t *labels);
bool label_selector_empty(const struct label_selector *sel);
void label_selector_free(struct label_selector *sel);

/* Builds a selector from a metav1.LabelSelector JSON object ({matchLabels, matchExpressions})
 * as workload kinds use. */
int label_selector_from_json(const json_t *obj, struct label_selector **ret,
                             struct kos_error **err);

int field_selector_parse(const char *s, struct field_selector **ret, struct kos_error **err);
/* Looks the field paths up in obj (e.g. "metadata.name", "spec.nodeName", "status.phase",
 * "involvedObject.uid"); a field missing from the object compares as "". */
bool field_selector_matches(const struct field_selector *sel, const json_t *obj);
bool field_selector_empty(const struct field_selector *sel);
/* The value required by an `=` requirement on `field`, or NULL (lets a list narrow its key
 * range, e.g. metadata.name=x or metadata.namespace=y). */
const char *field_selector_required_value(const struct field_selector *sel, const char *field);
/* Checks that every field in the selector is one the kind supports (kind = "Pod", ...).
 * Unsupported fields: 400 BadRequest `field label not supported: <field>`. */
int field_selector_check_supported(const struct field_selector *sel, const char *kind,
                                   struct kos_error **err);
void field_selector_free(struct field_selector *sel);
