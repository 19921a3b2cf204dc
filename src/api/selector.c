/* Label selectors, parsed and matched as k8s.io/apimachinery's labels.Parse does, including
 * its error texts, so clients see kube's messages (field selectors: field_selector.c).
 *
 * The label parser mirrors kube's two-stage design on purpose: a lexer that turns the whole
 * string into tokens, then a recursive descent over them with the same lookahead rules
 * ("in"/"notin" are identifiers in value position, "()" is the set {""}, ...). */
#include "api/selector.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strutil.h"
#include "api/selector_internal.h"

/* ---- shared helpers ---------------------------------------------------------------- */

int selector_bad_request(struct kos_error **err, const char *msg)
{
    return kos_error_set(err, 400, "BadRequest", "%s", msg ? msg : "invalid selector");
}

/* Appends n bytes of s so that the message stays printable ASCII (and therefore valid
 * UTF-8 for the Status JSON): like Go's %q when `quote`, else raw with bytes that are not
 * printable ASCII written as \xNN. */
void selector_buf_escaped(struct kos_buf *b, const char *s, size_t n, bool quote)
{
    if (quote)
        kos_buf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (quote && (c == '"' || c == '\\')) {
            char e[2] = {'\\', (char)c};
            kos_buf_append(b, e, 2);
        } else if (quote && c == '\n') {
            kos_buf_append_str(b, "\\n");
        } else if (quote && c == '\t') {
            kos_buf_append_str(b, "\\t");
        } else if (quote && c == '\r') {
            kos_buf_append_str(b, "\\r");
        } else if (c < 0x20 || c >= 0x7f) {
            kos_buf_printf(b, "\\x%02x", c);
        } else {
            kos_buf_append(b, &s[i], 1);
        }
    }
    if (quote)
        kos_buf_append(b, "\"", 1);
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ---- label key / value validation (k8s.io/apimachinery/pkg/util/validation) --------- */

#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_MSG                                                                                  \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character"
#define QNAME_RE_ERR                                                                               \
    QNAME_MSG                                                                                      \
    " (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" QNAME_FMT "')"
#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_SUBDOMAIN_RE_ERR                                                                   \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "       \
    "used for validation is '" DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*')"
#define LABEL_VALUE_RE_ERR                                                                         \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is '(" QNAME_FMT ")?')"

static bool qname_part_ok(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

static bool dns1123_subdomain_ok(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        size_t len = i - start;
        const char *l = s + start;
        if (len == 0)
            return false;
        for (size_t k = 0; k < len; k++) {
            bool lower = (l[k] >= 'a' && l[k] <= 'z') || (l[k] >= '0' && l[k] <= '9');
            if (!lower && (l[k] != '-' || k == 0 || k == len - 1))
                return false;
        }
        start = i + 1;
    }
    return true;
}

static void add_reason(struct kos_buf *why, const char *r)
{
    if (why->len)
        kos_buf_append_str(why, "; ");
    kos_buf_append_str(why, r);
}

/* validation.IsQualifiedName: appends the reasons ("; "-joined) and returns false if k is
 * not a valid label key. */
static bool check_label_key(const char *k, struct kos_buf *why)
{
    size_t n = strlen(k);
    const char *slash = memchr(k, '/', n);
    const char *name = k;
    size_t name_len = n;
    bool ok = true;
    if (slash) {
        if (memchr(slash + 1, '/', n - (size_t)(slash + 1 - k))) {
            add_reason(why, "a qualified name " QNAME_RE_ERR
                            " with an optional DNS subdomain prefix and '/' (e.g. "
                            "'example.com/MyName')");
            return false;
        }
        size_t plen = (size_t)(slash - k);
        if (plen == 0) {
            add_reason(why, "prefix part must be non-empty");
            ok = false;
        } else {
            if (plen > 253) {
                add_reason(why, "prefix part must be no more than 253 characters");
                ok = false;
            }
            if (!dns1123_subdomain_ok(k, plen)) {
                add_reason(why, "prefix part " DNS1123_SUBDOMAIN_RE_ERR);
                ok = false;
            }
        }
        name = slash + 1;
        name_len = n - plen - 1;
    }
    if (name_len == 0) {
        add_reason(why, "name part must be non-empty");
        ok = false;
    } else if (name_len > 63) {
        add_reason(why, "name part must be no more than 63 characters");
        ok = false;
    }
    if (!qname_part_ok(name, name_len)) {
        add_reason(why, "name part " QNAME_RE_ERR);
        ok = false;
    }
    return ok;
}

/* validation.IsValidLabelValue */
static bool check_label_value(const char *v, struct kos_buf *why)
{
    size_t n = strlen(v);
    bool ok = true;
    if (n > 63) {
        add_reason(why, "must be no more than 63 characters");
        ok = false;
    }
    if (n > 0 && !qname_part_ok(v, n)) {
        add_reason(why, LABEL_VALUE_RE_ERR);
        ok = false;
    }
    return ok;
}

/* field.Invalid(path, value, detail).Error() */
static void field_invalid(struct kos_buf *out, const char *path, const char *value,
                          const char *detail)
{
    kos_buf_printf(out, "%s: Invalid value: ", path);
    selector_buf_escaped(out, value, strlen(value), true);
    kos_buf_printf(out, ": %s", detail);
}

/* ---- label selectors ---------------------------------------------------------------- */

enum label_op { OP_IN, OP_NOTIN, OP_EQ, OP_DEQ, OP_NEQ, OP_EXISTS, OP_DNE, OP_GT, OP_LT };

struct label_req {
    char *key;
    enum label_op op;
    char **values; /* sorted, unique */
    size_t n_values;
    int64_t num; /* OP_GT / OP_LT */
};

struct label_selector {
    struct label_req *reqs;
    size_t n;
};

static void label_req_clear(struct label_req *r)
{
    free(r->key);
    for (size_t i = 0; i < r->n_values; i++)
        free(r->values[i]);
    free(r->values);
}

void label_selector_free(struct label_selector *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++)
        label_req_clear(&sel->reqs[i]);
    free(sel->reqs);
    free(sel);
}

static void label_selector_freep(struct label_selector **s)
{
    label_selector_free(*s);
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and de-duplicates r->values (sets.String.List() order). */
static void values_normalize(struct label_req *r)
{
    if (r->n_values < 2)
        return;
    qsort(r->values, r->n_values, sizeof(char *), cmp_strp);
    size_t w = 1;
    for (size_t i = 1; i < r->n_values; i++) {
        if (strcmp(r->values[i], r->values[w - 1]) == 0)
            free(r->values[i]);
        else
            r->values[w++] = r->values[i];
    }
    r->n_values = w;
}

/* Appends Go's %#v of a []string, as field.Invalid prints a values slice. */
static void buf_go_slice(struct kos_buf *b, const struct label_req *r)
{
    kos_buf_append_str(b, "[]string{");
    for (size_t i = 0; i < r->n_values; i++) {
        if (i)
            kos_buf_append_str(b, ", ");
        selector_buf_escaped(b, r->values[i], strlen(r->values[i]), true);
    }
    kos_buf_append_str(b, "}");
}

/* labels.NewRequirement's checks after the key: returns false with the (aggregated)
 * message in `msg`. `key_path` is the field path of the key ("<nil>" from the string
 * parser, which has already checked the key; "key" from a LabelSelector object). */
static bool requirement_validate(struct label_req *r, const char *key_path, struct kos_buf *msg)
{
    struct kos_buf one;
    size_t n_err = 0;
    kos_buf_init(&one, 1 << 20);
    /* Collects the individual errors "[a, b]" style, as utilerrors.NewAggregate prints. */
    struct kos_buf all;
    kos_buf_init(&all, 1 << 20);

#define FLUSH_ONE()                                                                                \
    do {                                                                                           \
        if (n_err++)                                                                               \
            kos_buf_append_str(&all, ", ");                                                        \
        kos_buf_append(&all, one.data ? one.data : "", one.len);                                   \
        kos_buf_reset(&one);                                                                       \
    } while (0)

    if (key_path) {
        struct kos_buf why;
        kos_buf_init(&why, 1 << 16);
        if (!check_label_key(r->key, &why)) {
            field_invalid(&one, key_path, r->key, why.data ? why.data : "");
            FLUSH_ONE();
        }
        kos_buf_free(&why);
    }

    switch (r->op) {
    case OP_IN:
    case OP_NOTIN:
        if (r->n_values == 0) {
            kos_buf_append_str(&one, "values: Invalid value: ");
            buf_go_slice(&one, r);
            kos_buf_append_str(&one, ": for 'in', 'notin' operators, values set can't be empty");
            FLUSH_ONE();
        }
        break;
    case OP_EQ:
    case OP_DEQ:
    case OP_NEQ:
        if (r->n_values != 1) {
            kos_buf_append_str(&one, "values: Invalid value: ");
            buf_go_slice(&one, r);
            kos_buf_append_str(&one, ": exact-match compatibility requires one single value");
            FLUSH_ONE();
        }
        break;
    case OP_EXISTS:
    case OP_DNE:
        if (r->n_values != 0) {
            kos_buf_append_str(&one, "values: Invalid value: ");
            buf_go_slice(&one, r);
            kos_buf_append_str(&one, ": values set must be empty for exists and does not exist");
            FLUSH_ONE();
        }
        break;
    case OP_GT:
    case OP_LT:
        if (r->n_values != 1) {
            kos_buf_append_str(&one, "values: Invalid value: ");
            buf_go_slice(&one, r);
            kos_buf_append_str(&one, ": for 'Gt', 'Lt' operators, exactly one value is required");
            FLUSH_ONE();
        }
        for (size_t i = 0; i < r->n_values; i++) {
            if (kos_parse_int64(r->values[i], &r->num) < 0) {
                char path[32];
                snprintf(path, sizeof(path), "values[%zu]", i);
                field_invalid(&one, path, r->values[i],
                              "for 'Gt', 'Lt' operators, the value must be an integer");
                FLUSH_ONE();
            }
        }
        break;
    }

    for (size_t i = 0; i < r->n_values; i++) {
        struct kos_buf why;
        kos_buf_init(&why, 1 << 16);
        if (!check_label_value(r->values[i], &why)) {
            struct kos_buf path;
            kos_buf_init(&path, 1 << 16);
            kos_buf_printf(&path, "values[%zu][", i);
            selector_buf_escaped(&path, r->key, strlen(r->key), false);
            kos_buf_append_str(&path, "]");
            field_invalid(&one, path.data ? path.data : "values", r->values[i],
                          why.data ? why.data : "");
            FLUSH_ONE();
            kos_buf_free(&path);
        }
        kos_buf_free(&why);
    }
#undef FLUSH_ONE

    bool ok = n_err == 0;
    if (!ok) {
        if (n_err > 1)
            kos_buf_append_str(msg, "[");
        kos_buf_append(msg, all.data ? all.data : "", all.len);
        if (n_err > 1)
            kos_buf_append_str(msg, "]");
    }
    kos_buf_free(&one);
    kos_buf_free(&all);
    return ok;
}

/* -- lexer -- */

enum tok_type {
    T_ERROR,
    T_EOS,
    T_CLOSE,
    T_COMMA,
    T_NOT, /* DoesNotExistToken */
    T_DEQ,
    T_EQ,
    T_GT,
    T_IDENT,
    T_IN,
    T_LT,
    T_NEQ,
    T_NOTIN,
    T_OPEN,
};

struct token {
    enum tok_type t;
    const char *lit; /* into the selector string */
    size_t len;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

/* Lexer.Lex: the longest operator ("!=", "==" or one symbol), else an identifier or
 * keyword running to the next special symbol or blank. */
static struct token lex_one(const char *s, size_t *pos)
{
    size_t i = *pos;
    while (is_ws(s[i]))
        i++;
    struct token t = {T_EOS, s + i, 0};
    if (!s[i]) {
        *pos = i;
        return t;
    }
    if (is_special(s[i])) {
        t.len = 1;
        switch (s[i]) {
        case '=':
            t.t = T_EQ;
            if (s[i + 1] == '=') {
                t.t = T_DEQ;
                t.len = 2;
            }
            break;
        case '!':
            t.t = T_NOT;
            if (s[i + 1] == '=') {
                t.t = T_NEQ;
                t.len = 2;
            }
            break;
        case '(':
            t.t = T_OPEN;
            break;
        case ')':
            t.t = T_CLOSE;
            break;
        case ',':
            t.t = T_COMMA;
            break;
        case '>':
            t.t = T_GT;
            break;
        case '<':
            t.t = T_LT;
            break;
        }
        *pos = i + t.len;
        return t;
    }
    size_t j = i;
    while (s[j] && !is_special(s[j]) && !is_ws(s[j]))
        j++;
    t.len = j - i;
    t.t = T_IDENT;
    if (t.len == 2 && memcmp(t.lit, "in", 2) == 0)
        t.t = T_IN;
    else if (t.len == 5 && memcmp(t.lit, "notin", 5) == 0)
        t.t = T_NOTIN;
    *pos = j;
    return t;
}

/* -- parser -- */

struct parser {
    struct token *toks;
    size_t n, pos;
    struct kos_buf msg; /* the error text, once something failed */
    struct label_selector *sel;
};

/* In value position "in" and "notin" are plain identifiers (Parser.lookahead(Values)). */
static enum tok_type as_value(enum tok_type t)
{
    return (t == T_IN || t == T_NOTIN) ? T_IDENT : t;
}

static const struct token *peek(const struct parser *p)
{
    return &p->toks[p->pos];
}

static const struct token *next(struct parser *p)
{
    const struct token *t = &p->toks[p->pos];
    if (t->t != T_EOS) /* EOS is sticky, as reading past the end yields it again */
        p->pos++;
    return t;
}

/* "found '<literal>'<tail>" */
static int err_found(struct parser *p, const struct token *t, const char *tail)
{
    kos_buf_append_str(&p->msg, "found '");
    selector_buf_escaped(&p->msg, t->lit, t->len, false);
    kos_buf_printf(&p->msg, "'%s", tail);
    return -EINVAL;
}

static int add_value(struct parser *p, struct label_req *r, const char *s, size_t n)
{
    if (r->n_values >= KOS_SELECTOR_MAX_VALUES) {
        kos_buf_printf(&p->msg, "too many values in a set: at most %d", KOS_SELECTOR_MAX_VALUES);
        return -EINVAL;
    }
    char **nv = realloc(r->values, (r->n_values + 1) * sizeof(char *));
    if (!nv)
        return -ENOMEM;
    r->values = nv;
    char *v = kos_strndup(s, n);
    if (!v)
        return -ENOMEM;
    r->values[r->n_values++] = v;
    return 0;
}

/* Parser.parseIdentifiersList */
static int parse_ident_list(struct parser *p, struct label_req *r)
{
    for (;;) {
        const struct token *t = next(p);
        enum tok_type tt = as_value(t->t);
        int k;
        if (tt == T_IDENT) {
            if ((k = add_value(p, r, t->lit, t->len)) < 0)
                return k;
            const struct token *t2 = peek(p);
            enum tok_type tt2 = as_value(t2->t);
            if (tt2 == T_COMMA)
                continue;
            if (tt2 == T_CLOSE)
                return 0;
            return err_found(p, t2, ", expected: ',' or ')'");
        } else if (tt == T_COMMA) {
            /* "(,", ",)" and ",," each stand for an empty value */
            enum tok_type tt2 = as_value(peek(p)->t);
            if (r->n_values == 0 || tt2 == T_CLOSE || tt2 == T_COMMA)
                if ((k = add_value(p, r, "", 0)) < 0)
                    return k;
            if (tt2 == T_CLOSE)
                return 0;
        } else {
            return err_found(p, t, ", expected: ',', or identifier");
        }
    }
}

/* Parser.parseValues: "(" list ")" */
static int parse_values(struct parser *p, struct label_req *r)
{
    const struct token *t = next(p);
    if (as_value(t->t) != T_OPEN)
        return err_found(p, t, " expected: '('");
    t = peek(p);
    switch (as_value(t->t)) {
    case T_IDENT:
    case T_COMMA: {
        int k = parse_ident_list(p, r);
        if (k < 0)
            return k;
        if (as_value(next(p)->t) != T_CLOSE)
            return err_found(p, t, ", expected: ')'");
        return 0;
    }
    case T_CLOSE:
        next(p);
        return add_value(p, r, "", 0);
    default:
        return err_found(p, t, ", expected: ',', ')' or identifier");
    }
}

/* Parser.parseRequirement; errors get the "unable to parse requirement: " prefix from the
 * caller. */
static int parse_requirement(struct parser *p, struct label_req *r)
{
    bool dne = false;
    const struct token *t = next(p);
    if (t->t == T_NOT) {
        dne = true;
        t = next(p);
    }
    if (as_value(t->t) != T_IDENT)
        return err_found(p, t, ", expected: identifier");
    r->key = kos_strndup(t->lit, t->len);
    if (!r->key)
        return -ENOMEM;

    struct kos_buf why;
    kos_buf_init(&why, 1 << 16);
    if (!check_label_key(r->key, &why)) {
        field_invalid(&p->msg, "<nil>", r->key, why.data ? why.data : "");
        kos_buf_free(&why);
        return -EINVAL;
    }
    kos_buf_free(&why);

    enum tok_type la = as_value(peek(p)->t);
    if (dne || la == T_EOS || la == T_COMMA) {
        /* "!key" stays DoesNotExist even when an operator follows; the caller then trips
         * over that operator, exactly like kube. */
        r->op = dne ? OP_DNE : OP_EXISTS;
        return 0;
    }

    t = next(p);
    switch (t->t) {
    case T_IN:
        r->op = OP_IN;
        break;
    case T_NOTIN:
        r->op = OP_NOTIN;
        break;
    case T_EQ:
        r->op = OP_EQ;
        break;
    case T_DEQ:
        r->op = OP_DEQ;
        break;
    case T_NEQ:
        r->op = OP_NEQ;
        break;
    case T_GT:
        r->op = OP_GT;
        break;
    case T_LT:
        r->op = OP_LT;
        break;
    default:
        return err_found(p, t, ", expected: in, notin, =, ==, !=, gt, lt");
    }

    int k;
    if (r->op == OP_IN || r->op == OP_NOTIN) {
        k = parse_values(p, r);
    } else {
        /* Parser.parseExactValue: "key=" (nothing before ',' or the end) means "" */
        enum tok_type la2 = as_value(peek(p)->t);
        if (la2 == T_EOS || la2 == T_COMMA) {
            k = add_value(p, r, "", 0);
        } else {
            t = next(p);
            if (as_value(t->t) != T_IDENT)
                return err_found(p, t, ", expected: identifier");
            k = add_value(p, r, t->lit, t->len);
        }
    }
    if (k < 0)
        return k;
    values_normalize(r);
    return requirement_validate(r, NULL, &p->msg) ? 0 : -EINVAL;
}

static int push_requirement(struct label_selector *sel, struct label_req *r)
{
    struct label_req *nr = realloc(sel->reqs, (sel->n + 1) * sizeof(*nr));
    if (!nr)
        return -ENOMEM;
    sel->reqs = nr;
    sel->reqs[sel->n++] = *r;
    memset(r, 0, sizeof(*r));
    return 0;
}

/* Parser.parse */
static int parse_selector(struct parser *p)
{
    for (;;) {
        const struct token *t = peek(p);
        enum tok_type tt = as_value(t->t);
        if (tt == T_EOS)
            return 0;
        if (tt != T_IDENT && tt != T_NOT)
            return err_found(p, t, ", expected: !, identifier, or 'end of string'");
        if (p->sel->n >= KOS_SELECTOR_MAX_REQUIREMENTS) {
            kos_buf_printf(&p->msg, "too many requirements in selector: at most %d",
                           KOS_SELECTOR_MAX_REQUIREMENTS);
            return -EINVAL;
        }

        struct label_req r = {0};
        int k = parse_requirement(p, &r);
        if (k == 0)
            k = push_requirement(p->sel, &r);
        if (k < 0) {
            label_req_clear(&r);
            if (k == -EINVAL) {
                /* prepend kube's wrapper to the message built so far */
                struct kos_buf w;
                kos_buf_init(&w, 1 << 20);
                kos_buf_append_str(&w, "unable to parse requirement: ");
                kos_buf_append(&w, p->msg.data ? p->msg.data : "", p->msg.len);
                kos_buf_free(&p->msg);
                p->msg = w;
            }
            return k;
        }

        t = next(p);
        if (as_value(t->t) == T_EOS)
            return 0;
        if (as_value(t->t) != T_COMMA)
            return err_found(p, t, ", expected: ',' or 'end of string'");
        const struct token *t2 = peek(p);
        enum tok_type tt2 = as_value(t2->t);
        if (tt2 != T_IDENT && tt2 != T_NOT)
            return err_found(p, t2, ", expected: identifier after ','");
    }
}

int label_selector_parse(const char *s, struct label_selector **ret, struct kos_error **err)
{
    if (!s)
        s = "";
    size_t len = strnlen(s, KOS_SELECTOR_MAX_LEN + 1);
    if (len > KOS_SELECTOR_MAX_LEN)
        return kos_error_set(err, 400, "BadRequest", "label selector is too long: at most %d bytes",
                             KOS_SELECTOR_MAX_LEN);

    _cleanup_(label_selector_freep) struct label_selector *sel = calloc(1, sizeof(*sel));
    if (!sel)
        return -ENOMEM;

    /* Every token but the end consumes at least one byte. */
    _cleanup_free_ struct token *toks = calloc(len + 1, sizeof(*toks));
    if (!toks)
        return -ENOMEM;
    size_t n = 0, pos = 0;
    for (;;) {
        toks[n] = lex_one(s, &pos);
        if (toks[n++].t == T_EOS)
            break;
    }

    struct parser p = {.toks = toks, .n = n, .sel = sel};
    kos_buf_init(&p.msg, 1 << 20);
    int k = parse_selector(&p);
    if (k == -EINVAL)
        k = selector_bad_request(err, p.msg.data);
    kos_buf_free(&p.msg);
    if (k < 0)
        return k;

    *ret = TAKE_PTR(sel);
    return 0;
}

static bool has_value(const struct label_req *r, const char *v)
{
    return bsearch(&v, r->values, r->n_values, sizeof(char *), cmp_strp) != NULL;
}

static bool requirement_matches(const struct label_req *r, const json_t *labels)
{
    const json_t *jv = json_is_object(labels) ? json_object_get(labels, r->key) : NULL;
    /* labels are map[string]string; anything else is treated as absent */
    const char *v = json_is_string(jv) ? json_string_value(jv) : NULL;
    switch (r->op) {
    case OP_IN:
    case OP_EQ:
    case OP_DEQ:
        return v && has_value(r, v);
    case OP_NOTIN:
    case OP_NEQ:
        return !v || !has_value(r, v);
    case OP_EXISTS:
        return v != NULL;
    case OP_DNE:
        return v == NULL;
    case OP_GT:
    case OP_LT: {
        int64_t lv;
        if (!v || kos_parse_int64(v, &lv) < 0)
            return false;
        return r->op == OP_GT ? lv > r->num : lv < r->num;
    }
    }
    return false;
}

bool label_selector_matches(const struct label_selector *sel, const json_t *labels)
{
    if (!sel)
        return true;
    for (size_t i = 0; i < sel->n; i++)
        if (!requirement_matches(&sel->reqs[i], labels))
            return false;
    return true;
}

bool label_selector_empty(const struct label_selector *sel)
{
    return !sel || sel->n == 0;
}

/* metav1.LabelSelectorAsSelector */
int label_selector_from_json(const json_t *obj, struct label_selector **ret, struct kos_error **err)
{
    _cleanup_(label_selector_freep) struct label_selector *sel = calloc(1, sizeof(*sel));
    if (!sel)
        return -ENOMEM;
    if (!obj || json_is_null(obj)) {
        *ret = TAKE_PTR(sel);
        return 0;
    }
    if (!json_is_object(obj))
        return selector_bad_request(err, "label selector must be an object");

    const json_t *ml = json_object_get(obj, "matchLabels");
    const json_t *me = json_object_get(obj, "matchExpressions");
    if (ml && !json_is_null(ml) && !json_is_object(ml))
        return selector_bad_request(err, "matchLabels must be an object");
    if (me && !json_is_null(me) && !json_is_array(me))
        return selector_bad_request(err, "matchExpressions must be an array");
    size_t total = (json_is_object(ml) ? json_object_size(ml) : 0) +
                   (json_is_array(me) ? json_array_size(me) : 0);
    if (total > KOS_SELECTOR_MAX_REQUIREMENTS)
        return kos_error_set(err, 400, "BadRequest",
                             "too many requirements in selector: at most %d",
                             KOS_SELECTOR_MAX_REQUIREMENTS);

    struct kos_buf msg;
    kos_buf_init(&msg, 1 << 20);
    int k = 0;

    const char *key;
    json_t *val;
    if (json_is_object(ml)) {
        json_object_foreach((json_t *)ml, key, val)
        {
            struct label_req r = {.op = OP_EQ};
            if (!json_is_string(val)) {
                kos_buf_append_str(&msg, "matchLabels values must be strings");
                k = -EINVAL;
            } else if (!(r.key = strdup(key)) || !(r.values = calloc(1, sizeof(char *))) ||
                       !(r.values[0] = strdup(json_string_value(val)))) {
                k = -ENOMEM;
            } else {
                r.n_values = 1;
                k = requirement_validate(&r, "key", &msg) ? push_requirement(sel, &r) : -EINVAL;
            }
            label_req_clear(&r);
            if (k < 0)
                goto out;
        }
    }

    size_t i;
    if (json_is_array(me)) {
        json_array_foreach(me, i, val)
        {
            struct label_req r = {0};
            const json_t *jk = json_object_get(val, "key");
            const json_t *jo = json_object_get(val, "operator");
            const json_t *jv = json_object_get(val, "values");
            const char *op = json_is_string(jo) ? json_string_value(jo) : "";
            if (!json_is_object(val)) {
                kos_buf_append_str(&msg, "matchExpressions entries must be objects");
                k = -EINVAL;
                goto out;
            }
            if (strcmp(op, "In") == 0) {
                r.op = OP_IN;
            } else if (strcmp(op, "NotIn") == 0) {
                r.op = OP_NOTIN;
            } else if (strcmp(op, "Exists") == 0) {
                r.op = OP_EXISTS;
            } else if (strcmp(op, "DoesNotExist") == 0) {
                r.op = OP_DNE;
            } else {
                selector_buf_escaped(&msg, op, strlen(op), true);
                kos_buf_append_str(&msg, " is not a valid label selector operator");
                k = -EINVAL;
                goto out;
            }
            if (jv && !json_is_null(jv) && !json_is_array(jv)) {
                kos_buf_append_str(&msg, "matchExpressions values must be an array");
                k = -EINVAL;
                goto out;
            }
            if (json_array_size(jv) > KOS_SELECTOR_MAX_VALUES) {
                kos_buf_printf(&msg, "too many values in a set: at most %d",
                               KOS_SELECTOR_MAX_VALUES);
                k = -EINVAL;
                goto out;
            }
            r.key = strdup(json_is_string(jk) ? json_string_value(jk) : "");
            k = r.key ? 0 : -ENOMEM;
            size_t j;
            json_t *jvv;
            json_array_foreach(jv, j, jvv)
            {
                if (k < 0)
                    break;
                if (!json_is_string(jvv)) {
                    kos_buf_append_str(&msg, "matchExpressions values must be strings");
                    k = -EINVAL;
                    break;
                }
                char **nv = realloc(r.values, (r.n_values + 1) * sizeof(char *));
                if (!nv) {
                    k = -ENOMEM;
                    break;
                }
                r.values = nv;
                if (!(r.values[r.n_values] = strdup(json_string_value(jvv)))) {
                    k = -ENOMEM;
                    break;
                }
                r.n_values++;
            }
            if (k == 0) {
                /* kube validates the values as given, then matching treats them as a set */
                k = requirement_validate(&r, "key", &msg) ? 0 : -EINVAL;
                if (k == 0) {
                    values_normalize(&r);
                    k = push_requirement(sel, &r);
                }
            }
            label_req_clear(&r);
            if (k < 0)
                goto out;
        }
    }

out:
    if (k == -EINVAL)
        k = selector_bad_request(err, msg.data);
    kos_buf_free(&msg);
    if (k < 0)
        return k;
    *ret = TAKE_PTR(sel);
    return 0;
}
