/* Error list, JSON getters, Go value printing, name validators and ObjectMeta validation
 * shared by every kind's validator. Messages are apimachinery's (pkg/util/validation,
 * pkg/api/validation/objectmeta.go, pkg/apis/meta/v1/validation), byte for byte. */
#include "api/validate.h"
#include "api/validate_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

/* A request can carry many thousands of bad fields; past this the list stops growing so a
 * client cannot make the error itself huge. */
#define MAX_ERRORS      1000
#define MAX_MESSAGE     (1024 * 1024)
#define ANNOTATIONS_MAX (256 * 1024)

/* ---- messages (RegexError output, including Go's double space before "or") ---- */

#define MSG_DNS1123_LABEL                                                                          \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define MSG_DNS1123_SUBDOMAIN                                                                      \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define MSG_DNS1035_LABEL                                                                          \
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "   \
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "           \
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
#define QNAME_RX                                                                                   \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "         \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define MSG_QNAME_PARTS                                                                            \
    "a qualified name " QNAME_RX " with an optional DNS subdomain prefix and '/' (e.g. "           \
    "'example.com/MyName')"
#define MSG_LABEL_VALUE                                                                            \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is "                                       \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
#define MSG_CONFIG_KEY                                                                             \
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "           \
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "                    \
    "'[-._a-zA-Z0-9]+')"

/* ---- paths ---- */

/* The paths use only %s and %zu, and a create builds some sixty of them whether or not a
 * field is wrong: formatted here without vsnprintf's setup (which cost more than the rest of
 * the validation's string work). The output is what vsnprintf writes, byte for byte; -1 for
 * any other conversion, which the caller leaves to vsnprintf. */
static int fp_fast(char *out, const char *fmt, va_list ap)
{
    size_t o = 0, total = 0;
    for (const char *f = fmt; *f; f++) {
        const char *s;
        size_t n;
        char num[24];
        if (*f != '%') {
            /* a run of literal bytes at once: paths are built for every field validated */
            s = f;
            n = (size_t)(strchrnul(f, '%') - f);
            f += n - 1;
        } else if (f[1] == 's') {
            s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            n = strlen(s);
            f++;
        } else if (f[1] == 'z' && f[2] == 'u') {
            size_t v = va_arg(ap, size_t);
            n = 0;
            do {
                num[sizeof(num) - 1 - n++] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            s = num + sizeof(num) - n;
            f += 2;
        } else if (f[1] == '%') {
            s = f;
            n = 1;
            f++;
        } else {
            return -1;
        }
        size_t room = FP_MAX - 1 - o;
        size_t k = n < room ? n : room;
        memcpy(out + o, s, k);
        o += k;
        total += n;
    }
    out[o] = '\0';
    return total > INT32_MAX ? INT32_MAX : (int)total;
}

const char *fp(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fp_fast(out, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_start(ap, fmt);
        n = vsnprintf(out, FP_MAX, fmt, ap);
        va_end(ap);
    }
    if (n < 0) {
        out[0] = '\0';
    } else if (n >= FP_MAX) {
        /* cut back to a character boundary so the path stays valid UTF-8 for JSON */
        size_t len = FP_MAX - 1;
        while (len > 0 && ((unsigned char)out[len] & 0xC0) == 0x80)
            len--;
        out[len] = '\0';
    }
    return out;
}

/* ---- error list ---- */

static const struct {
    const char *text;
    const char *reason;
    bool show_value;
} verr_types[] = {
    [VERR_NOT_FOUND] = {"Not found", "FieldValueNotFound", true},
    [VERR_REQUIRED] = {"Required value", "FieldValueRequired", false},
    [VERR_DUPLICATE] = {"Duplicate value", "FieldValueDuplicate", true},
    [VERR_INVALID] = {"Invalid value", "FieldValueInvalid", true},
    [VERR_NOT_SUPPORTED] = {"Unsupported value", "FieldValueNotSupported", true},
    [VERR_FORBIDDEN] = {"Forbidden", "FieldValueForbidden", false},
    [VERR_TOO_LONG] = {"Too long", "FieldValueTooLong", false},
    [VERR_TOO_MANY] = {"Too many", "FieldValueTooMany", false},
};

void verr_add(struct vctx *v, enum verr_type t, const char *field, const char *value,
              const char *detail)
{
    if (!v->errs) {
        v->errs = json_array();
        if (!v->errs) {
            v->oom = true;
            return;
        }
    }
    if (json_array_size(v->errs) >= MAX_ERRORS)
        return;
    /* field.Error.ErrorBody(): "<Type>[: <value>][: <detail>]" */
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, 64 * 1024);
    int r = kos_buf_append_str(&b, verr_types[t].text);
    if (r == 0 && verr_types[t].show_value && value)
        r = kos_buf_printf(&b, ": %s", value);
    if (r == 0 && detail && *detail)
        r = kos_buf_printf(&b, ": %s", detail);
    if (r == -E2BIG) {
        /* an absurdly long value: keep the error, drop the value */
        kos_buf_init(&b, 64 * 1024);
        r = kos_buf_append_str(&b, verr_types[t].text);
    }
    if (r < 0) {
        v->oom = true;
        return;
    }
    json_t *e = json_pack("{s:s, s:s, s:s}", "reason", verr_types[t].reason, "field",
                          field ? field : "", "message", b.data);
    if (!e || json_array_append_new(v->errs, e) < 0)
        v->oom = true;
}

void v_required(struct vctx *v, const char *field, const char *detail)
{
    verr_add(v, VERR_REQUIRED, field, NULL, detail);
}

void v_forbidden(struct vctx *v, const char *field, const char *detail)
{
    verr_add(v, VERR_FORBIDDEN, field, NULL, detail);
}

void v_too_long(struct vctx *v, const char *field, long max)
{
    char d[64];
    snprintf(d, sizeof(d), "may not be more than %ld %s", max, max == 1 ? "byte" : "bytes");
    verr_add(v, VERR_TOO_LONG, field, NULL, d);
}

void v_invalid_str(struct vctx *v, const char *field, const char *val, const char *detail)
{
    _cleanup_free_ char *q = go_quote(val ? val : "");
    if (!q) {
        v->oom = true;
        return;
    }
    verr_add(v, VERR_INVALID, field, q, detail);
}

void v_invalid_int(struct vctx *v, const char *field, int64_t val, const char *detail)
{
    char s[32];
    snprintf(s, sizeof(s), "%lld", (long long)val);
    verr_add(v, VERR_INVALID, field, s, detail);
}

void v_invalid_repr(struct vctx *v, const char *field, const char *repr, const char *detail)
{
    if (!repr) {
        v->oom = true;
        return;
    }
    verr_add(v, VERR_INVALID, field, repr, detail);
}

void v_duplicate_str(struct vctx *v, const char *field, const char *val)
{
    _cleanup_free_ char *q = go_quote(val ? val : "");
    if (!q) {
        v->oom = true;
        return;
    }
    verr_add(v, VERR_DUPLICATE, field, q, NULL);
}

void v_not_found_str(struct vctx *v, const char *field, const char *val)
{
    _cleanup_free_ char *q = go_quote(val ? val : "");
    if (!q) {
        v->oom = true;
        return;
    }
    verr_add(v, VERR_NOT_FOUND, field, q, NULL);
}

void v_not_supported(struct vctx *v, const char *field, const char *val,
                     const char *const *supported)
{
    _cleanup_free_ char *q = go_quote(val ? val : "");
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, 4096);
    int r = kos_buf_append_str(&b, "supported values: ");
    for (size_t i = 0; r == 0 && supported && supported[i]; i++) {
        _cleanup_free_ char *s = go_quote(supported[i]);
        if (!s) {
            r = -ENOMEM;
            break;
        }
        r = kos_buf_printf(&b, "%s%s", i ? ", " : "", s);
    }
    if (!q || r < 0) {
        v->oom = true;
        return;
    }
    verr_add(v, VERR_NOT_SUPPORTED, field, q, b.data);
}

static const char *json_type_word(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "null";
    }
}

void v_decode_error(struct vctx *v, const char *field, const json_t *got, const char *go_type)
{
    if (v->decode_err)
        return;
    /* encoding/json's UnmarshalTypeError text; the Go struct name is approximated by the
     * kind, the field path is the JSON path */
    char num[64] = "";
    if (json_is_integer(got))
        snprintf(num, sizeof(num), " %lld", (long long)json_integer_value(got));
    else if (json_is_real(got))
        snprintf(num, sizeof(num), " %.17g", json_real_value(got));
    if (asprintf(
            &v->decode_err, "json: cannot unmarshal %s%s into Go struct field %s.%s of type %s",
            json_type_word(got), num, v->kind ? v->kind->kind : "Object", field, go_type) < 0) {
        v->decode_err = NULL;
        v->oom = true;
    }
}

void v_decode_msg(struct vctx *v, const char *msg)
{
    if (v->decode_err)
        return;
    v->decode_err = strdup(msg);
    if (!v->decode_err)
        v->oom = true;
}

/* ---- getters ---- */

static const json_t *child(const json_t *parent, const char *key)
{
    if (!json_is_object(parent))
        return NULL;
    const json_t *c = json_object_get(parent, key);
    return json_is_null(c) ? NULL : c;
}

const json_t *v_obj(struct vctx *v, const json_t *parent, const char *key, const char *path)
{
    const json_t *c = child(parent, key);
    if (c && !json_is_object(c)) {
        char p[FP_MAX];
        v_decode_error(v, fp(p, "%s%s%s", path, *path ? "." : "", key), c, "struct");
        return NULL;
    }
    return c;
}

const json_t *v_arr(struct vctx *v, const json_t *parent, const char *key, const char *path)
{
    const json_t *c = child(parent, key);
    if (c && !json_is_array(c)) {
        char p[FP_MAX];
        v_decode_error(v, fp(p, "%s%s%s", path, *path ? "." : "", key), c, "array");
        return NULL;
    }
    return c;
}

const char *v_str(struct vctx *v, const json_t *parent, const char *key, const char *path)
{
    const json_t *c = child(parent, key);
    if (c && !json_is_string(c)) {
        char p[FP_MAX];
        v_decode_error(v, fp(p, "%s%s%s", path, *path ? "." : "", key), c, "string");
        return NULL;
    }
    return c ? json_string_value(c) : NULL;
}

bool v_int(struct vctx *v, const json_t *parent, const char *key, const char *path, int bits,
           int64_t *ret)
{
    const json_t *c = child(parent, key);
    if (!c)
        return false;
    json_int_t i = json_is_integer(c) ? json_integer_value(c) : 0;
    if (!json_is_integer(c) || (bits == 32 && (i < INT32_MIN || i > INT32_MAX))) {
        char p[FP_MAX];
        v_decode_error(v, fp(p, "%s%s%s", path, *path ? "." : "", key), c,
                       bits == 32 ? "int32" : "int64");
        return false;
    }
    *ret = i;
    return true;
}

bool v_bool(struct vctx *v, const json_t *parent, const char *key, const char *path, bool *ret)
{
    const json_t *c = child(parent, key);
    if (!c)
        return false;
    if (!json_is_boolean(c)) {
        char p[FP_MAX];
        v_decode_error(v, fp(p, "%s%s%s", path, *path ? "." : "", key), c, "bool");
        return false;
    }
    *ret = json_is_true(c);
    return true;
}

const json_t *v_strmap(struct vctx *v, const json_t *parent, const char *key, const char *path)
{
    const json_t *m = v_obj(v, parent, key, path);
    if (!m)
        return NULL;
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)m, k, val)
    {
        if (!json_is_string(val) && !json_is_null(val)) {
            char p[FP_MAX];
            v_decode_error(v, fp(p, "%s%s%s", path, *path ? "." : "", key), val, "string");
            return NULL;
        }
    }
    return m;
}

const json_t *v_elem_obj(struct vctx *v, const json_t *arr, size_t i, const char *path)
{
    const json_t *e = json_array_get(arr, i);
    if (!json_is_object(e)) {
        if (e && !json_is_null(e))
            v_decode_error(v, path, e, "struct");
        return NULL;
    }
    return e;
}

int v_int_or_string(struct vctx *v, const json_t *parent, const char *key, const char *path,
                    int64_t *ival, const char **sval)
{
    const json_t *c = child(parent, key);
    if (!c)
        return 0;
    if (json_is_integer(c)) {
        json_int_t i = json_integer_value(c);
        if (i >= INT32_MIN && i <= INT32_MAX) {
            *ival = i;
            return 1;
        }
    } else if (json_is_string(c)) {
        *sval = json_string_value(c);
        return 2;
    }
    char p[FP_MAX];
    v_decode_error(v, fp(p, "%s%s%s", path, *path ? "." : "", key), c, "intstr.IntOrString");
    return 0;
}

void v_nonnegative(struct vctx *v, const json_t *parent, const char *key, const char *path)
{
    int64_t n;
    char p[FP_MAX];
    if (v_int(v, parent, key, path, 64, &n) && n < 0)
        v_invalid_int(v, fp(p, "%s%s%s", path, *path ? "." : "", key), n,
                      "must be greater than or equal to 0");
}

/* ---- name validators ---- */

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n) */
static bool match_label(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool match_subdomain(const char *s)
{
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!match_label(p, n))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n) */
static bool match_qname(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

bool is_dns1123_label(const char *s)
{
    return strlen(s) <= 63 && match_label(s, strlen(s));
}

int dns1123_label_msgs(const char *s, const char **msgs)
{
    int n = 0;
    if (strlen(s) > 63)
        msgs[n++] = "must be no more than 63 characters";
    if (!match_label(s, strlen(s)))
        msgs[n++] = match_subdomain(s) ? "must not contain dots" : MSG_DNS1123_LABEL;
    return n;
}

int dns1123_subdomain_msgs(const char *s, const char **msgs)
{
    int n = 0;
    if (strlen(s) > 253)
        msgs[n++] = "must be no more than 253 characters";
    if (!match_subdomain(s))
        msgs[n++] = MSG_DNS1123_SUBDOMAIN;
    return n;
}

int dns1035_label_msgs(const char *s, const char **msgs)
{
    int n = 0;
    size_t len = strlen(s);
    if (len > 63)
        msgs[n++] = "must be no more than 63 characters";
    if (!match_label(s, len) || !(s[0] >= 'a' && s[0] <= 'z'))
        msgs[n++] = MSG_DNS1035_LABEL;
    return n;
}

static int path_segment_msgs(const char *s, const char **msgs)
{
    int n = 0;
    if (strcmp(s, ".") == 0) {
        msgs[n++] = "may not be '.'";
        return n;
    }
    if (strcmp(s, "..") == 0) {
        msgs[n++] = "may not be '..'";
        return n;
    }
    if (strchr(s, '/'))
        msgs[n++] = "may not contain '/'";
    if (strchr(s, '%'))
        msgs[n++] = "may not contain '%'";
    return n;
}

int qualified_name_msgs(const char *s, const char **msgs)
{
    int n = 0;
    const char *slash = strchr(s, '/');
    const char *name = s;
    if (slash && strchr(slash + 1, '/')) {
        msgs[n++] = MSG_QNAME_PARTS;
        return n;
    }
    if (slash) {
        size_t plen = (size_t)(slash - s);
        name = slash + 1;
        if (plen == 0) {
            msgs[n++] = "prefix part must be non-empty";
        } else {
            char prefix[300];
            if (plen > 253) {
                msgs[n++] = "prefix part must be no more than 253 characters";
                /* long prefixes are also checked against the regex: test a copy's shape */
                bool ok = true;
                for (size_t i = 0; i < plen && ok; i++)
                    ok = is_lower_alnum(s[i]) || s[i] == '-' || s[i] == '.';
                if (!ok || !is_lower_alnum(s[0]) || !is_lower_alnum(s[plen - 1]))
                    msgs[n++] = "prefix part " MSG_DNS1123_SUBDOMAIN;
            } else {
                memcpy(prefix, s, plen);
                prefix[plen] = '\0';
                if (!match_subdomain(prefix))
                    msgs[n++] = "prefix part " MSG_DNS1123_SUBDOMAIN;
            }
        }
    }
    size_t len = strlen(name);
    if (len == 0)
        msgs[n++] = "name part must be non-empty";
    else if (len > 63)
        msgs[n++] = "name part must be no more than 63 characters";
    if (!match_qname(name, len))
        msgs[n++] = "name part " QNAME_RX;
    return n;
}

int label_value_msgs(const char *s, const char **msgs)
{
    int n = 0;
    size_t len = strlen(s);
    if (len > 63)
        msgs[n++] = "must be no more than 63 characters";
    if (len > 0 && !match_qname(s, len))
        msgs[n++] = MSG_LABEL_VALUE;
    return n;
}

int config_key_msgs(const char *s, const char **msgs)
{
    int n = 0;
    size_t len = strlen(s);
    if (len > 253)
        msgs[n++] = "must be no more than 253 characters";
    bool ok = len > 0;
    for (size_t i = 0; i < len && ok; i++)
        ok = is_alnum(s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_';
    if (!ok)
        msgs[n++] = MSG_CONFIG_KEY;
    if (strcmp(s, ".") == 0)
        msgs[n++] = "must not be '.'";
    else if (strcmp(s, "..") == 0)
        msgs[n++] = "must not be '..'";
    else if (strncmp(s, "..", 2) == 0)
        msgs[n++] = "must not start with '..'";
    return n;
}

int port_name_msgs(const char *s, const char **msgs)
{
    int n = 0;
    size_t len = strlen(s);
    bool charset = len > 0, letter = false;
    for (size_t i = 0; i < len; i++) {
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            charset = false;
        if (s[i] >= 'a' && s[i] <= 'z')
            letter = true;
    }
    if (len > 15)
        msgs[n++] = "must be no more than 15 characters";
    if (!charset)
        msgs[n++] = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
    if (!letter)
        msgs[n++] = "must contain at least one letter (a-z)";
    if (strstr(s, "--"))
        msgs[n++] = "must not contain consecutive hyphens";
    if (len > 0 && (s[0] == '-' || s[len - 1] == '-'))
        msgs[n++] = "must not begin or end with a hyphen";
    return n;
}

int name_msgs(enum kos_name_rule rule, const char *name, const char **msgs)
{
    switch (rule) {
    case NAME_DNS1123_LABEL:
        return dns1123_label_msgs(name, msgs);
    case NAME_DNS1035_LABEL:
        return dns1035_label_msgs(name, msgs);
    case NAME_PATH_SEGMENT:
        return path_segment_msgs(name, msgs);
    case NAME_DNS1123_SUBDOMAIN:
    default:
        return dns1123_subdomain_msgs(name, msgs);
    }
}

const char *kos_validate_name(enum kos_name_rule rule, const char *name)
{
    const char *msgs[6];
    if (!name)
        return "name or generateName is required";
    return name_msgs(rule, name, msgs) > 0 ? msgs[0] : NULL;
}

static void v_msgs(struct vctx *v, const char *field, const char *s, const char **msgs, int n)
{
    for (int i = 0; i < n; i++)
        v_invalid_str(v, field, s, msgs[i]);
}

void v_dns1123_label(struct vctx *v, const char *field, const char *s)
{
    const char *msgs[6];
    v_msgs(v, field, s, msgs, dns1123_label_msgs(s, msgs));
}

void v_dns1123_subdomain(struct vctx *v, const char *field, const char *s)
{
    const char *msgs[6];
    v_msgs(v, field, s, msgs, dns1123_subdomain_msgs(s, msgs));
}

void v_qualified_name(struct vctx *v, const char *field, const char *s)
{
    const char *msgs[6];
    v_msgs(v, field, s, msgs, qualified_name_msgs(s, msgs));
}

/* ---- ObjectMeta ---- */

void v_labels(struct vctx *v, const json_t *labels, const char *path)
{
    const char *k;
    const json_t *val;
    const char *msgs[6];
    if (!json_is_object(labels))
        return;
    json_object_foreach((json_t *)labels, k, val)
    {
        /* ValidateLabelName then ValidateLabelValue, both reported at the map's path */
        v_qualified_name(v, path, k);
        const char *s = json_string_value(val);
        if (s)
            v_msgs(v, path, s, msgs, label_value_msgs(s, msgs));
    }
}

void v_annotations(struct vctx *v, const json_t *annotations, const char *path)
{
    const char *k;
    const json_t *val;
    size_t total = 0;
    const char *msgs[6];
    if (!json_is_object(annotations))
        return;
    json_object_foreach((json_t *)annotations, k, val)
    {
        /* keys are checked lower-cased, as apimachinery does */
        _cleanup_free_ char *lower = strdup(k);
        if (!lower) {
            v->oom = true;
            return;
        }
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        int n = qualified_name_msgs(lower, msgs);
        v_msgs(v, path, k, msgs, n);
        total += strlen(k) + (json_is_string(val) ? json_string_length(val) : 0);
    }
    if (total > ANNOTATIONS_MAX)
        v_too_long(v, path, ANNOTATIONS_MAX);
}

void v_object_meta(struct vctx *v, const json_t *obj, const char *path)
{
    char p[FP_MAX];
    const json_t *meta = v_obj(v, obj, "metadata", "");
    const char *name = v_str(v, meta, "name", path);
    const char *gen = v_str(v, meta, "generateName", path);
    const char *ns = v_str(v, meta, "namespace", path);
    const char *msgs[6];
    enum kos_name_rule rule = v->kind ? v->kind->name_rule : NAME_DNS1123_SUBDOMAIN;

    if (gen && *gen) {
        /* the prefix form tolerates a trailing dash (maskTrailingDash) */
        _cleanup_free_ char *masked = strdup(gen);
        if (!masked) {
            v->oom = true;
            return;
        }
        size_t l = strlen(masked);
        if (l > 1 && masked[l - 1] == '-')
            masked[l - 1] = 'a';
        v_msgs(v, fp(p, "%s.generateName", path), gen, msgs, name_msgs(rule, masked, msgs));
    }
    if (!name || !*name)
        v_required(v, fp(p, "%s.name", path), "name or generateName is required");
    else
        v_msgs(v, fp(p, "%s.name", path), name, msgs, name_msgs(rule, name, msgs));

    bool namespaced = v->kind ? v->kind->namespaced : false;
    if (namespaced) {
        if (!ns || !*ns)
            v_required(v, fp(p, "%s.namespace", path), "");
        else
            v_msgs(v, fp(p, "%s.namespace", path), ns, msgs, dns1123_label_msgs(ns, msgs));
    } else if (ns && *ns) {
        v_forbidden(v, fp(p, "%s.namespace", path), "not allowed on this type");
    }
    v_nonnegative(v, meta, "generation", path);
    v_labels(v, v_strmap(v, meta, "labels", path), fp(p, "%s.labels", path));
    v_annotations(v, v_strmap(v, meta, "annotations", path), fp(p, "%s.annotations", path));

    const json_t *fin = v_arr(v, meta, "finalizers", path);
    for (size_t i = 0; i < json_array_size(fin); i++) {
        const json_t *f = json_array_get(fin, i);
        if (!json_is_string(f)) {
            v_decode_error(v, fp(p, "%s.finalizers", path), f, "string");
            continue;
        }
        v_qualified_name(v, fp(p, "%s.finalizers", path), json_string_value(f));
    }
}

static void immutable_str(struct vctx *v, const json_t *meta, const json_t *old, const char *key)
{
    char p[FP_MAX];
    const char *a = json_string_value(json_object_get(meta, key));
    const char *b = json_string_value(json_object_get(old, key));
    /* server-owned fields the handler carries over are only compared when the client sent
     * one */
    if (!a && strcmp(key, "name") && strcmp(key, "namespace"))
        return;
    if (strcmp(a ? a : "", b ? b : "") != 0)
        v_invalid_str(v, fp(p, "metadata.%s", key), a ? a : "", "field is immutable");
}

void v_object_meta_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    char p[FP_MAX];
    const json_t *meta = v_obj(v, obj, "metadata", "");
    const json_t *ometa = json_object_get(old, "metadata");
    int64_t g, og;
    if (v_int(v, meta, "generation", "metadata", 64, &g) &&
        json_is_integer(json_object_get(ometa, "generation"))) {
        og = json_integer_value(json_object_get(ometa, "generation"));
        if (g < og)
            v_invalid_int(v, "metadata.generation", g, "must not be decremented");
    }
    immutable_str(v, meta, ometa, "name");
    immutable_str(v, meta, ometa, "namespace");
    immutable_str(v, meta, ometa, "uid");
    immutable_str(v, meta, ometa, "creationTimestamp");
    v_labels(v, v_strmap(v, meta, "labels", "metadata"), fp(p, "metadata.labels"));
    v_annotations(v, v_strmap(v, meta, "annotations", "metadata"), fp(p, "metadata.annotations"));
}

/* ---- label selectors ---- */

void v_label_selector(struct vctx *v, const json_t *sel, const char *path)
{
    char p[FP_MAX], q[FP_MAX];
    if (!sel)
        return;
    const json_t *ml = v_strmap(v, sel, "matchLabels", path);
    v_labels(v, ml, fp(p, "%s.matchLabels", path));
    const json_t *me = v_arr(v, sel, "matchExpressions", path);
    for (size_t i = 0; i < json_array_size(me); i++) {
        fp(p, "%s.matchExpressions[%zu]", path, i);
        const json_t *e = v_elem_obj(v, me, i, p);
        if (!e)
            continue;
        const char *op = v_str(v, e, "operator", p);
        const json_t *vals = v_arr(v, e, "values", p);
        size_t nvals = json_array_size(vals);
        op = op ? op : "";
        if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
            if (nvals == 0)
                v_required(v, fp(q, "%s.values", p),
                           "must be specified when `operator` is 'In' or 'NotIn'");
        } else if (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) {
            if (nvals > 0)
                v_forbidden(v, fp(q, "%s.values", p),
                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
        } else {
            v_invalid_str(v, fp(q, "%s.operator", p), op, "not a valid selector operator");
        }
        const char *key = v_str(v, e, "key", p);
        v_qualified_name(v, fp(q, "%s.key", p), key ? key : "");
        for (size_t j = 0; j < nvals; j++) {
            const json_t *s = json_array_get(vals, j);
            const char *msgs[6];
            if (!json_is_string(s)) {
                v_decode_error(v, fp(q, "%s.values", p), s, "string");
                continue;
            }
            int n = label_value_msgs(json_string_value(s), msgs);
            v_msgs(v, fp(q, "%s.values[%zu]", p, j), json_string_value(s), msgs, n);
        }
    }
}

bool selector_is_empty(const json_t *sel)
{
    return json_object_size(json_object_get(sel, "matchLabels")) == 0 &&
           json_array_size(json_object_get(sel, "matchExpressions")) == 0;
}

static bool str_in(const json_t *arr, const char *s)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *x = json_string_value(json_array_get(arr, i));
        if (x && s && !strcmp(x, s))
            return true;
    }
    return false;
}

bool selector_matches(const json_t *sel, const json_t *labels)
{
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)json_object_get(sel, "matchLabels"), k, val)
    {
        const char *have = json_string_value(json_object_get(labels, k));
        const char *want = json_string_value(val);
        if (!have || !want || strcmp(have, want) != 0)
            return false;
    }
    const json_t *me = json_object_get(sel, "matchExpressions");
    for (size_t i = 0; i < json_array_size(me); i++) {
        const json_t *e = json_array_get(me, i);
        const char *key = json_string_value(json_object_get(e, "key"));
        const char *op = json_string_value(json_object_get(e, "operator"));
        const json_t *vals = json_object_get(e, "values");
        const char *have = key ? json_string_value(json_object_get(labels, key)) : NULL;
        if (!op)
            return false;
        if (!strcmp(op, "In") && !(have && str_in(vals, have)))
            return false;
        if (!strcmp(op, "NotIn") && have && str_in(vals, have))
            return false;
        if (!strcmp(op, "Exists") && !have)
            return false;
        if (!strcmp(op, "DoesNotExist") && have)
            return false;
    }
    return true;
}

/* ---- result ---- */

int vctx_finish(struct vctx *v, const json_t *obj, struct kos_error **err)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *group = v->kind && v->kind->group ? v->kind->group : "";
    const char *kind = v->kind && v->kind->kind ? v->kind->kind : "Object";

    if (v->oom)
        return kos_error_set(err, 500, "InternalError", "out of memory validating %s", kind);
    if (v->decode_err)
        return kos_error_set(
            err, 400, "BadRequest", "%s in version \"%s\" cannot be handled as a %s: %s", kind,
            v->kind && v->kind->version ? v->kind->version : "v1", kind, v->decode_err);
    size_t n = json_array_size(v->errs);
    if (n == 0)
        return 0;

    /* apimachinery's NewInvalid + ErrorList.ToAggregate: identical messages once, one
     * message bare, several in brackets */
    _cleanup_buf_ struct kos_buf msg;
    kos_buf_init(&msg, MAX_MESSAGE);
    _cleanup_json_ json_t *seen = json_object();
    _cleanup_free_ char *qname = go_quote(name ? name : "");
    if (!seen || !qname)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    size_t unique = 0;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        const json_t *e = json_array_get(v->errs, i);
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "%s: %s", json_string_value(json_object_get(e, "field")),
                     json_string_value(json_object_get(e, "message"))) < 0) {
            line = NULL;
            r = -ENOMEM;
            break;
        }
        if (json_object_get(seen, line))
            continue;
        json_object_set_new(seen, line, json_true());
        if (unique++)
            r = kos_buf_append_str(&msg, ", ");
        if (r == 0)
            r = kos_buf_append_str(&msg, line);
    }
    if (r == -ENOMEM)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    /* past the size limit the buffer was dropped: say so rather than print half a list */
    const char *body = r == 0 ? msg.data : "too many errors";
    char gk[256];
    if (*group)
        snprintf(gk, sizeof(gk), "%s.%s", kind, group);
    else
        snprintf(gk, sizeof(gk), "%s", kind);

    int ret = kos_error_set(err, 422, "Invalid",
                            unique > 1 ? "%s %s is invalid: [%s]" : "%s %s is invalid: %s", gk,
                            qname, body);
    if (err && *err && (*err)->code == 422 && !(*err)->details) {
        kos_error_set_details(*err, name && *name ? name : NULL, *group ? group : NULL, kind);
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(v->errs, i);
            kos_error_add_cause(*err, json_string_value(json_object_get(e, "reason")),
                                json_string_value(json_object_get(e, "message")),
                                json_string_value(json_object_get(e, "field")));
        }
    }
    return ret;
}

void vctx_free(struct vctx *v)
{
    json_decref(v->errs);
    v->errs = NULL;
    free(v->decode_err);
    v->decode_err = NULL;
}
