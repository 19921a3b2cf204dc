/* Helpers shared by the authorizers: group membership and Go-compatible quoting.
 *
 * kube builds its authorization texts with fmt's %q, and clients (and our e2e tests) compare
 * those texts, so we reproduce strconv.Quote rather than JSON-escape. */
#include "apiserver/authz/authz.h"

#include <errno.h>
#include <string.h>

bool authz_user_in_group(const struct kos_user *user, const char *group)
{
    if (!user || !group)
        return false;
    for (size_t i = 0; i < user->ngroups; i++)
        if (user->groups[i] && strcmp(user->groups[i], group) == 0)
            return true;
    return false;
}

/* Decodes one UTF-8 sequence as Go's utf8.DecodeRuneInString: on any malformation (overlong,
 * surrogate, out of range, truncated) it reports width 1 and rune -1. */
static int decode_rune(const unsigned char *p, int *width)
{
    unsigned c = p[0];
    int n;
    unsigned r, min;
    if (c < 0x80) {
        *width = 1;
        return (int)c;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, r = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, r = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, r = c & 0x07, min = 0x10000;
    } else {
        *width = 1;
        return -1;
    }
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            *width = 1;
            return -1;
        }
        r = (r << 6) | (p[i] & 0x3f);
    }
    if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) {
        *width = 1;
        return -1;
    }
    *width = n;
    return (int)r;
}

/* unicode.IsPrint for the runes that matter in names; other non-ASCII runes count as
 * printable (a close approximation: the tables would be far larger than the gain). */
static bool rune_printable(int r)
{
    if (r < 0x80)
        return r >= 0x20 && r != 0x7f;
    if (r < 0xa1 || r == 0xad)
        return false;
    if ((r >= 0x200b && r <= 0x200f) || (r >= 0x2028 && r <= 0x202e) ||
        (r >= 0x2060 && r <= 0x206f) || r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb))
        return false;
    if (r >= 0xe000 && r <= 0xf8ff) /* private use */
        return false;
    return true;
}

int authz_buf_go_quote(struct kos_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)authz_str(s);
    int r = kos_buf_append(b, "\"", 1);

    while (r == 0 && *p) {
        int w;
        int c = decode_rune(p, &w);
        if (c < 0) {
            char e[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
            r = kos_buf_append(b, e, 4);
        } else if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            r = kos_buf_append(b, e, 2);
        } else if (rune_printable(c)) {
            r = kos_buf_append(b, p, (size_t)w);
        } else {
            switch (c) {
            case '\a':
                r = kos_buf_append_str(b, "\\a");
                break;
            case '\b':
                r = kos_buf_append_str(b, "\\b");
                break;
            case '\f':
                r = kos_buf_append_str(b, "\\f");
                break;
            case '\n':
                r = kos_buf_append_str(b, "\\n");
                break;
            case '\r':
                r = kos_buf_append_str(b, "\\r");
                break;
            case '\t':
                r = kos_buf_append_str(b, "\\t");
                break;
            case '\v':
                r = kos_buf_append_str(b, "\\v");
                break;
            default:
                if (c < 0x20 || c == 0x7f)
                    r = kos_buf_printf(b, "\\x%02x", (unsigned)c);
                else if (c < 0x10000)
                    r = kos_buf_printf(b, "\\u%04x", (unsigned)c);
                else
                    r = kos_buf_printf(b, "\\U%08x", (unsigned)c);
            }
        }
        p += w;
    }
    return r < 0 ? r : kos_buf_append(b, "\"", 1);
}

int authz_buf_go_quote_list(struct kos_buf *b, const char *const *v, size_t n)
{
    int r = kos_buf_append(b, "[", 1);
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (i > 0)
            r = kos_buf_append(b, " ", 1);
        if (r == 0)
            r = authz_buf_go_quote(b, v[i]);
    }
    return r < 0 ? r : kos_buf_append(b, "]", 1);
}
