/* Image references as the distribution reference grammar defines them, normalised the way
 * Docker and containerd do (docker.io, library/, :latest). */
#include "agent/image/image.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/image/digest.h"
#include "util/strutil.h"

#define NAME_TOTAL_MAX 255 /* domain + "/" + path, as distribution's NameTotalLengthMax */

static int invalid(struct kos_error **err, const char *image, const char *why)
{
    return kos_error_set(err, 400, "InvalidImageName",
                         "Failed to apply default image tag \"%s\": couldn't parse image name "
                         "\"%s\": %s",
                         image, image, why);
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | "__" | "-"+ */
static bool valid_path_component(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    while (i < n) {
        if (is_lower_alnum(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        if (s[i] == '.') {
            j = i + 1;
        } else if (s[i] == '_') {
            j = (i + 1 < n && s[i + 1] == '_') ? i + 2 : i + 1;
        } else if (s[i] == '-') {
            while (j < n && s[j] == '-')
                j++;
        } else {
            return false;
        }
        if (j >= n || !is_lower_alnum(s[j]))
            return false;
        i = j;
    }
    return true;
}

/* domain := component ("." component)* [":" port]; component := [a-zA-Z0-9] |
 * [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool valid_domain(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    size_t host_len = colon ? (size_t)(colon - s) : n;
    if (colon) {
        size_t plen = n - host_len - 1;
        if (plen == 0 || plen > 5)
            return false;
        for (size_t i = host_len + 1; i < n; i++)
            if (!isdigit((unsigned char)s[i]))
                return false;
    }
    if (host_len == 0)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= host_len; i++) {
        if (i < host_len && s[i] != '.') {
            if (!isalnum((unsigned char)s[i]) && s[i] != '-')
                return false;
            continue;
        }
        size_t len = i - start;
        if (len == 0 || s[start] == '-' || s[i - 1] == '-')
            return false;
        start = i + 1;
    }
    return true;
}

/* tag := [\w][\w.-]{0,127} */
static bool valid_tag(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool word = isalnum((unsigned char)c) || c == '_';
        if (!(word || (i > 0 && (c == '.' || c == '-'))))
            return false;
    }
    return true;
}

static bool is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

int image_ref_parse(const char *image, struct image_ref *out, struct kos_error **err)
{
    struct image_ref r = {0};
    if (!image || !*image)
        return invalid(err, image ? image : "", "invalid reference format");
    size_t total = strlen(image);
    if (total >= IMAGE_REF_MAX)
        return invalid(err, image, "invalid reference format");
    if (is_hex64(image))
        return kos_error_set(err, 400, "InvalidImageName",
                             "Failed to apply default image tag \"%s\": couldn't parse image name "
                             "\"%s\": invalid repository name (%s), cannot specify 64-byte "
                             "hexadecimal strings",
                             image, image, image);

    char work[IMAGE_REF_MAX];
    kos_strlcpy(work, image, sizeof(work));

    char *at = strchr(work, '@');
    if (at) {
        *at = '\0';
        const char *dg = at + 1;
        if (!kos_str_has_prefix(dg, "sha256:")) {
            /* Other algorithms are well-formed references we cannot verify. */
            const char *colon = strchr(dg, ':');
            return invalid(err, image,
                           colon && colon != dg ? "unsupported digest algorithm"
                                                : "invalid reference format");
        }
        if (!image_digest_valid(dg))
            return invalid(err, image, "invalid checksum digest format");
        kos_strlcpy(r.digest, dg, sizeof(r.digest));
    }
    char *slash = strrchr(work, '/');
    char *colon = strrchr(slash ? slash : work, ':');
    if (colon) {
        *colon = '\0';
        if (!valid_tag(colon + 1))
            return invalid(err, image, "invalid reference format");
        kos_strlcpy(r.tag, colon + 1, sizeof(r.tag));
    }

    /* Docker's split: the first component is a domain when it has '.' or ':', is "localhost"
     * or has upper case letters; otherwise the image lives on Docker Hub. */
    char *name = work;
    char *first = strchr(name, '/');
    const char *remainder = name;
    if (first) {
        size_t n = (size_t)(first - name);
        bool upper = false;
        for (size_t i = 0; i < n; i++)
            upper |= isupper((unsigned char)name[i]) != 0;
        if (memchr(name, '.', n) || memchr(name, ':', n) ||
            (n == 9 && memcmp(name, "localhost", 9) == 0) || upper) {
            if (!valid_domain(name, n) || n >= sizeof(r.domain))
                return invalid(err, image, "invalid reference format");
            memcpy(r.domain, name, n);
            r.domain[n] = '\0';
            remainder = first + 1;
        }
    }
    if (!r.domain[0] || strcmp(r.domain, "index.docker.io") == 0)
        kos_strlcpy(r.domain, "docker.io", sizeof(r.domain));

    for (const char *p = remainder; *p; p++)
        if (isupper((unsigned char)*p))
            return invalid(err, image,
                           "invalid reference format: repository name must be lowercase");

    int n;
    if (strcmp(r.domain, "docker.io") == 0 && !strchr(remainder, '/'))
        n = snprintf(r.path, sizeof(r.path), "library/%s", remainder);
    else
        n = snprintf(r.path, sizeof(r.path), "%s", remainder);
    if (n < 0 || (size_t)n >= sizeof(r.path) || strlen(r.domain) + 1 + (size_t)n > NAME_TOTAL_MAX)
        return invalid(err, image,
                       "invalid reference format: repository name must not be more "
                       "than 255 characters");

    const char *p = r.path;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!valid_path_component(p, len))
            return invalid(err, image, "invalid reference format");
        if (!end)
            break;
        p = end + 1;
    }
    if (!r.tag[0] && !r.digest[0])
        kos_strlcpy(r.tag, "latest", sizeof(r.tag));
    *out = r;
    return 0;
}

int image_ref_format(const struct image_ref *ref, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s%s%s%s%s", ref->domain, ref->path, ref->tag[0] ? ":" : "",
                     ref->tag, ref->digest[0] ? "@" : "", ref->digest);
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    return n;
}
