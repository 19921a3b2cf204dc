/* libFuzzer target for Kubernetes protobuf bodies: the envelope, the wire reader and the
 * schema-driven decoder. Inputs starting with a byte below 0x10 are a bare message of one of a
 * few kinds (so the fuzzer need not learn the envelope to reach deep tables); others are whole
 * bodies. Beyond "no crash, no leak": a refusal is a 400 or 415 whose message fits a Status,
 * and a decoded tree is an object within the depth bound that encodes to JSON we accept. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/proto_decode.h"
#include "codec/json.h"

static const char *const kinds[] = {
    "io.k8s.api.core.v1.Pod",
    "io.k8s.api.apps.v1.Deployment",
    "io.k8s.api.core.v1.Service",
    "io.k8s.api.core.v1.Secret",
    "io.k8s.api.batch.v1.CronJob",
    "io.k8s.api.rbac.v1.ClusterRole",
    "io.k8s.api.coordination.v1.Lease",
    "io.k8s.api.core.v1.PersistentVolume",
    "io.k8s.api.authentication.v1.SelfSubjectReview",
    "io.k8s.api.authorization.v1.SelfSubjectAccessReview",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.api.core.v1.ResourceQuota",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = NULL;
    struct kos_error *err = NULL;
    int r;

    if (size > 0 && data[0] < 0x10) {
        const struct schema_struct *s =
            schema_struct_by_name(kinds[data[0] % (sizeof(kinds) / sizeof(kinds[0]))]);
        if (!s)
            abort();
        r = proto_decode_message(s, data + 1, size - 1, &v, &err);
    } else {
        r = proto_decode_body(data, size, &v, &err);
    }
    if (r < 0) {
        if (!err || (err->code != 400 && err->code != 415) || !err->message || v)
            abort();
        json_t *m = json_string(err->message); /* it must fit into a Status: valid UTF-8 */
        if (!m)
            abort();
        json_decref(m);
        kos_error_free(err);
        return 0;
    }
    if (err || !json_is_object(v) || kos_json_depth(v) > KOS_JSON_MAX_DEPTH)
        abort();
    /* Compared as text: a whole real (1.0) encodes as 1 and comes back an integer. */
    size_t len = 0, len2 = 0;
    char *text = kos_json_encode(v, &len);
    json_t *again = NULL;
    if (!text || kos_json_decode(text, len, &again, &err) < 0)
        abort();
    char *text2 = kos_json_encode(again, &len2);
    if (!text2 || len2 != len || memcmp(text, text2, len) != 0)
        abort();
    free(text);
    free(text2);
    json_decref(again);
    json_decref(v);
    return 0;
}
