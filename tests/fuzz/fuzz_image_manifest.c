/* libFuzzer target: everything agent/image parses from a registry's answers — manifests,
 * indexes, image configs, WWW-Authenticate challenges — and image references. Must never
 * crash or leak, and what it accepts must be consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image/digest.h"
#include "agent/image/manifest.h"
#include "agent/image/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct image_manifest m;
    struct kos_error *err = NULL;
    if (image_manifest_parse(data, size, NULL, "linux", "amd64", &m, &err) == 0) {
        if (m.kind == IMAGE_MANIFEST_INDEX && !image_digest_valid(m.platform.digest))
            abort();
        if (m.kind == IMAGE_MANIFEST_IMAGE) {
            if (!image_digest_valid(m.config.digest) || m.n_layers > IMAGE_MAX_LAYERS)
                abort();
            for (size_t i = 0; i < m.n_layers; i++)
                if (!image_digest_valid(m.layers[i].digest))
                    abort();
        }
        image_manifest_clear(&m);
    } else if (!err) {
        abort(); /* every refusal says why */
    }
    kos_error_free(err);
    err = NULL;

    struct image_info info = {0};
    (void)image_config_parse(data, size, &info, &err);
    image_info_clear(&info);
    kos_error_free(err);
    err = NULL;

    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct registry_challenge c;
    (void)registry_parse_challenge(s, &c);
    struct image_ref ref;
    if (image_ref_parse(s, &ref, &err) == 0) {
        /* the normalised form parses back to itself */
        char norm[IMAGE_REF_MAX], again[IMAGE_REF_MAX];
        struct image_ref r2;
        if (image_ref_format(&ref, norm, sizeof(norm)) < 0 ||
            image_ref_parse(norm, &r2, NULL) < 0 ||
            image_ref_format(&r2, again, sizeof(again)) < 0 || strcmp(norm, again) != 0)
            abort();
    }
    kos_error_free(err);
    free(s);
    return 0;
}
