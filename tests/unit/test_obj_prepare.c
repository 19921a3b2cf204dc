/* Objects serialized before their write is queued (apiserver/objects.h, obj_prepare): the
 * writer's render must give exactly what rendering the object itself gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/objects.h"
#include "store/value.h"

static void assert_same_render(json_t *obj, int64_t rev)
{
    struct obj_prepared pre = {0};
    json_t *copy = json_deep_copy(obj);
    assert_int_equal(obj_prepare(obj, &pre), 0);
    struct kos_value *a = NULL, *b = NULL;
    assert_int_equal(obj_render_prepared(&pre, rev, &a), 0);
    assert_int_equal(obj_render(copy, rev, &b), 0);
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
    assert_int_equal(a->data[a->len], '\0');
    /* the object itself ends with the revision too, as after obj_render */
    assert_true(json_equal(obj, copy));
    kos_value_unref(a);
    kos_value_unref(b);
    obj_prepared_clear(&pre);
    obj_prepared_clear(&pre); /* cleared twice is fine */
    json_decref(copy);
}

static void test_same_bytes_as_render(void **state)
{
    json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:{s:[{s:s}]}}", "apiVersion", "v1", "kind",
                          "Pod", "metadata", "name", "p", "resourceVersion", "7", "labels", "a",
                          "b", "spec", "containers", "name", "c");
    assert_same_render(o, 1);
    assert_same_render(o, 9223372036854775807LL);
    json_decref(o);
    json_t *nometa = json_pack("{s:s}", "kind", "ConfigMap");
    assert_same_render(nometa, 123456);
    json_decref(nometa);
}

/* An object that holds the placeholder's text itself is rendered by the writer instead. */
static void test_placeholder_in_content(void **state)
{
    json_t *o = json_pack("{s:{s:s}}", "metadata", "name", "x");
    struct obj_prepared pre = {0};
    assert_int_equal(obj_prepare(o, &pre), 0);
    const char *marker =
        json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
    assert_non_null(marker);
    json_t *evil =
        json_pack("{s:{s:s,s:{s:s}}}", "metadata", "name", "y", "annotations", "a", marker);
    obj_prepared_clear(&pre);
    struct obj_prepared pre2 = {0};
    assert_int_equal(obj_prepare(evil, &pre2), -EEXIST);
    assert_null(pre2.data);
    struct kos_value *v = NULL;
    assert_int_equal(obj_render(evil, 5, &v), 0);
    assert_non_null(strstr(v->data, "\"resourceVersion\":\"5\""));
    kos_value_unref(v);
    json_decref(evil);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes_as_render),
        cmocka_unit_test(test_placeholder_in_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
