/* Field selectors, parsed and matched as k8s.io/apimachinery's fields.ParseSelector does,
 * with the field labels each kind supports (kube's conversion funcs) and kube's error texts. */
#include "api/selector.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/selector_internal.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strutil.h"

/* ---- field selectors ---------------------------------------------------------------- */

struct field_req {
    char *field;
    char *value;
    bool neq;
};

struct field_selector {
    struct field_req *reqs;
    size_t n;
};

void field_selector_free(struct field_selector *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++) {
        free(sel->reqs[i].field);
        free(sel->reqs[i].value);
    }
    free(sel->reqs);
    free(sel);
}

static void field_selector_freep(struct field_selector **s)
{
    field_selector_free(*s);
}

/* fields.UnescapeValue: "\\", "\," and "\=" are the only escapes; a bare ',' or '='
 * cannot appear in a value. */
static int unescape_value(const char *s, size_t n, char **ret, struct kos_buf *msg)
{
    _cleanup_free_ char *v = malloc(n + 1);
    if (!v)
        return -ENOMEM;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\') {
            if (i + 1 >= n) {
                kos_buf_append_str(msg, "invalid field selector: invalid escape sequence: \\");
                return -EINVAL;
            }
            char c = s[++i];
            if (c != '\\' && c != ',' && c != '=') {
                kos_buf_append_str(msg, "invalid field selector: invalid escape sequence: \\");
                selector_buf_escaped(msg, &s[i], 1, false);
                return -EINVAL;
            }
            v[w++] = c;
        } else if (s[i] == ',' || s[i] == '=') {
            kos_buf_printf(msg, "invalid field selector: unescaped character in value: %c", s[i]);
            return -EINVAL;
        } else {
            v[w++] = s[i];
        }
    }
    v[w] = '\0';
    *ret = TAKE_PTR(v);
    return 0;
}

static int field_term(struct field_selector *sel, const char *whole, const char *term, size_t n,
                      struct kos_buf *msg)
{
    /* fields.splitTerm: the first "!=", "==" or "=" splits; the field is not escaped */
    size_t i, oplen = 0;
    bool neq = false;
    for (i = 0; i < n; i++) {
        if (term[i] == '!' && i + 1 < n && term[i + 1] == '=') {
            neq = true;
            oplen = 2;
            break;
        }
        if (term[i] == '=') {
            oplen = (i + 1 < n && term[i + 1] == '=') ? 2 : 1;
            break;
        }
    }
    if (!oplen) {
        kos_buf_append_str(msg, "invalid selector: '");
        selector_buf_escaped(msg, whole, strlen(whole), false);
        kos_buf_append_str(msg, "'; can't understand '");
        selector_buf_escaped(msg, term, n, false);
        kos_buf_append_str(msg, "'");
        return -EINVAL;
    }
    if (sel->n >= KOS_SELECTOR_MAX_REQUIREMENTS) {
        kos_buf_printf(msg, "too many requirements in selector: at most %d",
                       KOS_SELECTOR_MAX_REQUIREMENTS);
        return -EINVAL;
    }
    _cleanup_free_ char *field = kos_strndup(term, i);
    if (!field)
        return -ENOMEM;
    _cleanup_free_ char *value = NULL;
    int k = unescape_value(term + i + oplen, n - i - oplen, &value, msg);
    if (k < 0)
        return k;
    struct field_req *nr = realloc(sel->reqs, (sel->n + 1) * sizeof(*nr));
    if (!nr)
        return -ENOMEM;
    sel->reqs = nr;
    sel->reqs[sel->n++] = (struct field_req){TAKE_PTR(field), TAKE_PTR(value), neq};
    return 0;
}

int field_selector_parse(const char *s, struct field_selector **ret, struct kos_error **err)
{
    if (!s)
        s = "";
    size_t len = strnlen(s, KOS_SELECTOR_MAX_LEN + 1);
    if (len > KOS_SELECTOR_MAX_LEN)
        return kos_error_set(err, 400, "BadRequest", "field selector is too long: at most %d bytes",
                             KOS_SELECTOR_MAX_LEN);

    _cleanup_(field_selector_freep) struct field_selector *sel = calloc(1, sizeof(*sel));
    if (!sel)
        return -ENOMEM;

    struct kos_buf msg;
    kos_buf_init(&msg, 1 << 20);
    int k = 0;
    /* fields.splitTerms: ',' separates unless escaped; empty terms are skipped */
    size_t start = 0;
    bool in_slash = false;
    for (size_t i = 0; i <= len && k == 0; i++) {
        if (i < len) {
            if (in_slash) {
                in_slash = false;
                continue;
            }
            if (s[i] == '\\') {
                in_slash = true;
                continue;
            }
            if (s[i] != ',')
                continue;
        }
        if (i > start)
            k = field_term(sel, s, s + start, i - start, &msg);
        start = i + 1;
    }
    if (k == -EINVAL)
        k = selector_bad_request(err, msg.data);
    kos_buf_free(&msg);
    if (k < 0)
        return k;
    *ret = TAKE_PTR(sel);
    return 0;
}

/* The value at a dotted path as a selectable-field string: strings as they are, booleans
 * and integers as their text, anything missing, null or structured as "". */
static const char *lookup_path(const json_t *obj, const char *path, char *tmp, size_t tmpsz)
{
    const json_t *cur = obj;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur))
            return "";
        cur = json_object_getn(cur, p, n);
        if (!cur)
            return "";
        if (!dot)
            break;
        p = dot + 1;
    }
    if (json_is_string(cur))
        return json_string_value(cur);
    if (json_is_true(cur))
        return "true";
    if (json_is_false(cur))
        return "false";
    if (json_is_integer(cur)) {
        snprintf(tmp, tmpsz, "%" JSON_INTEGER_FORMAT, json_integer_value(cur));
        return tmp;
    }
    if (json_is_real(cur)) {
        snprintf(tmp, tmpsz, "%.17g", json_real_value(cur));
        return tmp;
    }
    return "";
}

/* kube's selectable fields are computed from the typed object (registry ...ToSelectableFields
 * / GetAttrs), which fills defaults that a stored JSON object may omit. */
static const char *field_value(const json_t *obj, const char *field, char *tmp, size_t tmpsz)
{
    if (strcmp(field, "spec.host") == 0) /* old v1 clients' name for spec.nodeName */
        field = "spec.nodeName";
    if (strcmp(field, "source") == 0) { /* Event: source.component, else reportingComponent */
        const char *v = lookup_path(obj, "source.component", tmp, tmpsz);
        return *v ? v : lookup_path(obj, "reportingComponent", tmp, tmpsz);
    }
    const char *v = lookup_path(obj, field, tmp, tmpsz);
    if (*v)
        return v;
    if (strcmp(field, "spec.hostNetwork") == 0 || strcmp(field, "spec.unschedulable") == 0)
        return "false";
    if (strcmp(field, "status.replicas") == 0 || strcmp(field, "status.successful") == 0)
        return "0";
    if (strcmp(field, "status.podIP") == 0) {
        const json_t *ips = json_object_get(json_object_get(obj, "status"), "podIPs");
        const json_t *ip = json_object_get(json_array_get(ips, 0), "ip");
        return json_is_string(ip) ? json_string_value(ip) : "";
    }
    return v;
}

bool field_selector_matches(const struct field_selector *sel, const json_t *obj)
{
    if (!sel)
        return true;
    for (size_t i = 0; i < sel->n; i++) {
        char tmp[64];
        const char *v = field_value(obj, sel->reqs[i].field, tmp, sizeof(tmp));
        bool eq = strcmp(v, sel->reqs[i].value) == 0;
        if (eq == sel->reqs[i].neq)
            return false;
    }
    return true;
}

bool field_selector_empty(const struct field_selector *sel)
{
    return !sel || sel->n == 0;
}

const char *field_selector_required_value(const struct field_selector *sel, const char *field)
{
    if (!sel || !field)
        return NULL;
    for (size_t i = 0; i < sel->n; i++) {
        const char *f = sel->reqs[i].field;
        if (strcmp(f, "spec.host") == 0)
            f = "spec.nodeName";
        if (strcmp(f, field) == 0)
            return sel->reqs[i].neq ? NULL : sel->reqs[i].value;
    }
    return NULL;
}

/* The kinds with a field label conversion func (pkg/apis/<group>/<version>/conversion.go);
 * every other kind gets runtime.DefaultMetaV1FieldSelectorConversion. NULL-terminated. */
static const char *const pod_fields[] = {
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
    "spec.host",
    NULL,
};
static const char *const node_fields[] = {"metadata.name", "spec.unschedulable", NULL};
static const char *const rc_fields[] = {"metadata.name", "metadata.namespace", "status.replicas",
                                        NULL};
static const char *const event_fields[] = {
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    "metadata.namespace",
    "metadata.name",
    NULL,
};
static const char *const namespace_fields[] = {"status.phase", "metadata.name", NULL};
static const char *const secret_fields[] = {"type", "metadata.namespace", "metadata.name", NULL};
static const char *const service_fields[] = {"metadata.namespace", "metadata.name",
                                             "spec.clusterIP", "spec.type", NULL};
static const char *const job_fields[] = {"metadata.name", "metadata.namespace", "status.successful",
                                         NULL};
static const char *const csr_fields[] = {"metadata.name", "spec.signerName", NULL};

static const struct {
    const char *kind;
    const char *const *fields;
} kind_fields[] = {
    {"Pod", pod_fields},
    {"Node", node_fields},
    {"ReplicationController", rc_fields},
    {"ReplicaSet", rc_fields},
    {"Event", event_fields},
    {"Namespace", namespace_fields},
    {"Secret", secret_fields},
    {"Service", service_fields},
    {"Job", job_fields},
    {"CertificateSigningRequest", csr_fields},
};

int field_selector_check_supported(const struct field_selector *sel, const char *kind,
                                   struct kos_error **err)
{
    if (!sel)
        return 0;
    const char *const *fields = NULL;
    for (size_t i = 0; kind && i < sizeof(kind_fields) / sizeof(kind_fields[0]); i++)
        if (strcmp(kind, kind_fields[i].kind) == 0)
            fields = kind_fields[i].fields;

    for (size_t i = 0; i < sel->n; i++) {
        const char *f = sel->reqs[i].field;
        bool ok = false;
        if (fields) {
            for (size_t j = 0; fields[j] && !ok; j++)
                ok = strcmp(f, fields[j]) == 0;
        } else {
            ok = strcmp(f, "metadata.name") == 0 || strcmp(f, "metadata.namespace") == 0;
        }
        if (ok)
            continue;

        struct kos_buf msg;
        kos_buf_init(&msg, 1 << 20);
        if (fields) {
            kos_buf_append_str(&msg, "field label not supported: ");
            selector_buf_escaped(&msg, f, strlen(f), false);
        } else {
            selector_buf_escaped(&msg, f, strlen(f), true);
            kos_buf_append_str(&msg, " is not a known field selector: only \"metadata.name\", "
                                     "\"metadata.namespace\"");
        }
        int k = selector_bad_request(err, msg.data);
        kos_buf_free(&msg);
        return k;
    }
    return 0;
}
