/* libFuzzer target: label and field selector parsing and matching, and
 * label_selector_from_json on inputs that happen to be JSON. Must never crash or leak, and
 * every error message must be valid UTF-8 (it becomes a JSON Status). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/selector.h"

static const char object_json[] =
    "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns\",\"labels\":{\"app\":\"web\","
    "\"tier\":\"fe\",\"n\":\"5\",\"example.com/x\":\"\"}},\"spec\":{\"nodeName\":\"n1\","
    "\"hostNetwork\":true},\"status\":{\"phase\":\"Running\",\"replicas\":3}}";

static void check_error(struct kos_error *err)
{
    if (!err)
        return;
    if (err->code != 400 || !err->message)
        abort();
    json_t *s = json_string(err->message);
    if (!s)
        abort(); /* not valid UTF-8 */
    json_decref(s);
    kos_error_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *obj;
    if (!obj) {
        obj = json_loads(object_json, 0, NULL);
        if (!obj)
            abort();
    }
    const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");

    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    struct kos_error *err = NULL;
    struct label_selector *ls = NULL;
    if (label_selector_parse(s, &ls, &err) == 0) {
        if (err)
            abort();
        (void)label_selector_matches(ls, labels);
        (void)label_selector_matches(ls, NULL);
        (void)label_selector_empty(ls);
        label_selector_free(ls);
    }
    check_error(err);

    err = NULL;
    struct field_selector *fs = NULL;
    if (field_selector_parse(s, &fs, &err) == 0) {
        if (err)
            abort();
        (void)field_selector_matches(fs, obj);
        (void)field_selector_empty(fs);
        (void)field_selector_required_value(fs, "metadata.name");
        struct kos_error *e2 = NULL;
        (void)field_selector_check_supported(fs, "Pod", &e2);
        check_error(e2);
        e2 = NULL;
        (void)field_selector_check_supported(fs, "ConfigMap", &e2);
        check_error(e2);
        field_selector_free(fs);
    }
    check_error(err);

    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (j) {
        err = NULL;
        ls = NULL;
        if (label_selector_from_json(j, &ls, &err) == 0) {
            (void)label_selector_matches(ls, labels);
            label_selector_free(ls);
        }
        check_error(err);
        json_decref(j);
    }
    free(s);
    return 0;
}
