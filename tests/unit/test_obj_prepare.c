/* Objects serialized before their write is queued (apiserver/objects.h, obj_prepare): the
 * writer's render must give exactly what rendering the object itself gives; and a write that
 * consumes its object (obj_store_write_consume) stores those same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/objects.h"
#include "store/store.h"
#include "tmpdir_helpers.h"
#include "store/value.h"
#include "util/strutil.h"

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

/* ---- obj_store_write_consume against a real SQLite store -------------------------------- */

struct fixture {
    char dir[64];
    struct store *st;
};

static int store_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    kos_strlcpy(f->dir, "/tmp/kos-objprep-test-XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    char path[96];
    snprintf(path, sizeof(path), "%s/db.sqlite", f->dir);
    struct store_sqlite_options o = {.path = path, .watch_window_events = 100};
    assert_int_equal(store_sqlite_open(&o, &f->st), 0);
    *state = f;
    return 0;
}

static int store_teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static void assert_value_is(const struct kos_value *v, const struct kos_value *want)
{
    char *tmp = NULL;
    const char *data = kos_value_bytes(v, &tmp);
    assert_non_null(data);
    assert_int_equal(v->len, want->len);
    assert_memory_equal(data, want->data, want->len);
    free(tmp);
}

/* The stored bytes and the reply's are obj_render's of the object at the write's revision;
 * the object is left empty. */
static void test_consume_stores_the_render(void **state)
{
    struct fixture *f = *state;
    json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:{s:[{s:s}]}}", "apiVersion", "v1", "kind",
                          "Pod", "metadata", "name", "p", "namespace", "default", "labels", "a",
                          "b", "spec", "containers", "name", "c");
    json_t *copy = json_deep_copy(o);
    struct store_write_result res = {0};
    assert_int_equal(
        obj_store_write_consume(f->st, STORE_CREATE, "/registry/pods/default/p", 0, o, &res), 0);
    assert_true(json_is_object(o));
    assert_int_equal(json_object_size(o), 0);
    struct kos_value *want = NULL;
    assert_int_equal(obj_render(copy, res.rev, &want), 0);
    assert_value_is(res.value, want);
    struct store_kv kv = {0};
    assert_int_equal(store_get(f->st, "/registry/pods/default/p", &kv), 0);
    assert_value_is(kv.value, want);
    store_kv_clear(&kv);
    kos_value_unref(want);
    kos_value_unref(res.value);
    json_decref(copy);
    json_decref(o);
}

/* An object the caller's thread cannot encode ahead (the placeholder in its content) is
 * rendered by the writer from the tree, which is kept, with the revision set. */
static void test_consume_falls_back_to_the_tree(void **state)
{
    struct fixture *f = *state;
    json_t *probe = json_pack("{s:{s:s}}", "metadata", "name", "x");
    struct obj_prepared pre = {0};
    assert_int_equal(obj_prepare(probe, &pre), 0);
    const char *marker =
        json_string_value(json_object_get(json_object_get(probe, "metadata"), "resourceVersion"));
    json_t *o = json_pack("{s:{s:s,s:{s:s}}}", "metadata", "name", "y", "annotations", "a", marker);
    obj_prepared_clear(&pre);
    json_decref(probe);
    struct store_write_result res = {0};
    assert_int_equal(
        obj_store_write_consume(f->st, STORE_CREATE, "/registry/configmaps/d/y", 0, o, &res), 0);
    char rv[24];
    snprintf(rv, sizeof(rv), "%lld", (long long)res.rev);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion")), rv);
    char *tmp = NULL;
    const char *data = kos_value_bytes(res.value, &tmp);
    assert_non_null(data);
    assert_non_null(memmem(data, res.value->len, "\"name\":\"y\"", 10));
    free(tmp);
    kos_value_unref(res.value);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes_as_render),
        cmocka_unit_test(test_placeholder_in_content),
        cmocka_unit_test_setup_teardown(test_consume_stores_the_render, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(test_consume_falls_back_to_the_tree, store_setup,
                                        store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
