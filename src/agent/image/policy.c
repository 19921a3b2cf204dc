/* imagePullPolicy names and the API server's default for an empty one. */
#include "agent/image/image.h"

#include <errno.h>
#include <string.h>

int image_pull_policy_parse(const char *s, enum image_pull_policy *out)
{
    if (!s || !*s)
        *out = IMAGE_PULL_DEFAULT;
    else if (strcmp(s, "Always") == 0)
        *out = IMAGE_PULL_ALWAYS;
    else if (strcmp(s, "IfNotPresent") == 0)
        *out = IMAGE_PULL_IF_NOT_PRESENT;
    else if (strcmp(s, "Never") == 0)
        *out = IMAGE_PULL_NEVER;
    else
        return -EINVAL;
    return 0;
}

const char *image_pull_policy_name(enum image_pull_policy p)
{
    switch (p) {
    case IMAGE_PULL_ALWAYS:
        return "Always";
    case IMAGE_PULL_IF_NOT_PRESENT:
        return "IfNotPresent";
    case IMAGE_PULL_NEVER:
        return "Never";
    default:
        return "";
    }
}

/* As SetDefaults_Container: "latest" (written or implied) -> Always, anything else ->
 * IfNotPresent. A digest without a tag implies no tag, so IfNotPresent. An unparsable name
 * gets IfNotPresent; the pull then reports InvalidImageName. */
enum image_pull_policy image_pull_policy_default(const char *image)
{
    struct image_ref r;
    if (image_ref_parse(image, &r, NULL) < 0)
        return IMAGE_PULL_IF_NOT_PRESENT;
    return strcmp(r.tag, "latest") == 0 ? IMAGE_PULL_ALWAYS : IMAGE_PULL_IF_NOT_PRESENT;
}
