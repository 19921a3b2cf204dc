/* The informer's in-process source (client/informer_local.c) against a real SQLite store: the
 * initial list and every write reach the handlers as adds, updates and deletes; an update's
 * old state is parsed only for handlers that read it; the cache keeps stored bytes and get
 * parses them in the informer's form; a subscriber that falls out of the
 * watch window re-lists and reports the difference; stop is prompt on an idle watch; and an
 * informer with a selector falls back to HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "client/informer.h"
#include "client/informer_internal.h"
#include "store/store.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define DEADLINE_MS 10000
#define MAX_SEEN    256

struct fixture {
    char dir[64];
    char path[96];
    struct store *s;
    struct kos_client *client;
};

static int open_fixture(void **state, size_t window)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    kos_strlcpy(f->dir, "/tmp/kos-inflocal-test-XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/db.sqlite", f->dir);
    struct store_sqlite_options o = {.path = f->path, .watch_window_events = window};
    assert_int_equal(store_sqlite_open(&o, &f->s), 0);
    /* nothing listens there: the local source must never need the HTTP side */
    struct kos_client_config cc = {.server = "http://127.0.0.1:9", .local_store = f->s};
    assert_int_equal(kos_client_new(&cc, &f->client), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return open_fixture(state, 1000);
}

static int setup_small_window(void **state)
{
    return open_fixture(state, 4);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kos_client_free(f->client);
    store_close(f->s);
    char p[128];
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- writes, as the API server stores them (resourceVersion = the write's revision) ---- */

struct cm {
    const char *name;
    const char *data;
};

static int render_cm(void *ctx, int64_t rev, struct kos_value **ret)
{
    const struct cm *c = ctx;
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\","
                     "\"namespace\":\"ns\",\"uid\":\"uid-%s\",\"resourceVersion\":\"%lld\","
                     "\"managedFields\":[{\"manager\":\"t\"}]},\"data\":{\"k\":\"%s\"}}",
                     c->name, c->name, (long long)rev, c->data);
    *ret = kos_value_new(buf, (size_t)n);
    return *ret ? 0 : -ENOMEM;
}

static void write_cm(struct fixture *f, enum store_write_type t, const char *name, const char *data)
{
    char key[128];
    snprintf(key, sizeof(key), "/registry/configmaps/ns/%s", name);
    struct cm c = {name, data};
    struct store_write w = {.type = t, .key = key, .render = render_cm, .render_ctx = &c};
    struct store_write_result res = {0};
    assert_int_equal(store_write(f->s, &w, &res), 0);
    kos_value_unref(res.value);
}

/* ---- what the handlers saw ---- */

struct seen {
    pthread_mutex_t lock;
    pthread_mutex_t gate; /* held by the test to stall the informer's thread */
    char log[MAX_SEEN][96];
    size_t n;
    bool gated;
};

static void record(struct seen *s, const char *what, const json_t *old_obj, const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *data = json_string_value(json_object_get(json_object_get(obj, "data"), "k"));
    const char *old =
        old_obj ? json_string_value(json_object_get(json_object_get(old_obj, "data"), "k")) : NULL;
    /* the informer's form: the cache never hands out managedFields (drop_managed_fields) */
    assert_null(json_object_get(meta, "managedFields"));
    if (s->gated) {
        pthread_mutex_lock(&s->gate);
        pthread_mutex_unlock(&s->gate);
    }
    pthread_mutex_lock(&s->lock);
    if (s->n < MAX_SEEN)
        snprintf(s->log[s->n++], sizeof(s->log[0]), "%s %s %s%s%s", what, name ? name : "?",
                 data ? data : "-", old ? " old=" : "", old ? old : "");
    pthread_mutex_unlock(&s->lock);
}

static void on_add(void *ctx, const json_t *obj)
{
    record(ctx, "add", NULL, obj);
}

static void on_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    record(ctx, "update", old_obj, obj);
}

static void on_delete(void *ctx, const json_t *obj)
{
    record(ctx, "delete", NULL, obj);
}

/* Waits for a line equal to text (whole) or starting with it; copies it to out if given. */
static bool wait_line(struct seen *s, const char *text, bool whole, char *out, size_t size)
{
    int64_t until = kos_now_ms_monotonic() + DEADLINE_MS;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        bool found = false;
        for (size_t i = 0; i < s->n && !found; i++) {
            found =
                whole ? strcmp(s->log[i], text) == 0 : strncmp(s->log[i], text, strlen(text)) == 0;
            if (found && out)
                snprintf(out, size, "%s", s->log[i]);
        }
        pthread_mutex_unlock(&s->lock);
        if (found)
            return true;
        if (kos_now_ms_monotonic() > until)
            return false;
        usleep(2000);
    }
}

static bool saw(struct seen *s, const char *line)
{
    return wait_line(s, line, true, NULL, 0);
}

/* Waits for a line that starts with prefix; copies it to out. */
static bool saw_prefix(struct seen *s, const char *prefix, char *out, size_t size)
{
    return wait_line(s, prefix, false, out, size);
}

/* How many lines start with prefix. */
static size_t count_prefix(struct seen *s, const char *prefix)
{
    pthread_mutex_lock(&s->lock);
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += strncmp(s->log[i], prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static size_t count(struct seen *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static struct kos_informer *start_with(struct fixture *f, struct seen *s, bool ignores_old,
                                       bool (*needs_old)(void *, const json_t *),
                                       const char *label_selector)
{
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->gate, NULL);
    struct kos_informer_options o = {.kind = kos_kind_by_kind("", "ConfigMap"),
                                     .drop_managed_fields = true,
                                     .label_selector = label_selector};
    struct kos_informer *inf = NULL;
    assert_int_equal(kos_informer_new(f->client, &o, &inf), 0);
    struct kos_informer_handlers h = {on_add, on_update, on_delete, s, ignores_old, needs_old};
    assert_int_equal(kos_informer_add_handlers(inf, &h), 0);
    assert_int_equal(kos_informer_start(inf), 0);
    return inf;
}

static struct kos_informer *start(struct fixture *f, struct seen *s, bool ignores_old,
                                  const char *label_selector)
{
    return start_with(f, s, ignores_old, NULL, label_selector);
}

static void test_list_then_events(void **state)
{
    struct fixture *f = *state;
    write_cm(f, STORE_CREATE, "a", "1");
    write_cm(f, STORE_CREATE, "b", "1");
    struct seen s = {0};
    struct kos_informer *inf = start(f, &s, false, NULL);
    assert_int_equal(kos_informer_wait_synced(inf, DEADLINE_MS), 0);
    assert_true(saw(&s, "add a 1"));
    assert_true(saw(&s, "add b 1"));

    write_cm(f, STORE_UPDATE, "a", "2");
    write_cm(f, STORE_CREATE, "c", "1");
    write_cm(f, STORE_DELETE, "b", "1");
    assert_true(saw(&s, "update a 2 old=1"));
    assert_true(saw(&s, "add c 1"));
    assert_true(saw(&s, "delete b 1"));
    assert_int_equal(count(&s), 5);

    /* get parses the cached bytes in the informer's form */
    json_t *a = kos_informer_get(inf, "ns", "a");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "data"), "k")), "2");
    assert_null(json_object_get(json_object_get(a, "metadata"), "managedFields"));
    json_decref(a);
    assert_null(kos_informer_get(inf, "ns", "b"));
    json_t *all = kos_informer_snapshot(inf);
    assert_int_equal(json_array_size(all), 2);
    json_decref(all);

    /* stop is prompt on an idle subscription (bounded well below any idle timeout, and
     * generously: a loaded machine may run the informer's thread late) */
    int64_t t0 = kos_now_ms_monotonic();
    kos_informer_free(inf);
    assert_true(kos_now_ms_monotonic() - t0 < DEADLINE_MS);
}

static void test_old_skipped_when_ignored(void **state)
{
    struct fixture *f = *state;
    write_cm(f, STORE_CREATE, "a", "1");
    struct seen s = {0};
    struct kos_informer *inf = start(f, &s, true, NULL);
    assert_int_equal(kos_informer_wait_synced(inf, DEADLINE_MS), 0);
    write_cm(f, STORE_UPDATE, "a", "2");
    assert_true(saw(&s, "update a 2"));
    kos_informer_free(inf);
}

static bool needs_old_of_3(void *ctx, const json_t *obj)
{
    const char *k = json_string_value(json_object_get(json_object_get(obj, "data"), "k"));
    return k && strcmp(k, "3") == 0;
}

/* With ignores_old, needs_old asks for the previous state of the updates it wants. */
static void test_old_when_needed(void **state)
{
    struct fixture *f = *state;
    write_cm(f, STORE_CREATE, "a", "1");
    struct seen s = {0};
    struct kos_informer *inf = start_with(f, &s, true, needs_old_of_3, NULL);
    assert_int_equal(kos_informer_wait_synced(inf, DEADLINE_MS), 0);
    write_cm(f, STORE_UPDATE, "a", "2");
    write_cm(f, STORE_UPDATE, "a", "3");
    assert_true(saw(&s, "update a 2"));
    assert_true(saw(&s, "update a 3 old=2"));
    kos_informer_free(inf);
}

/* The handler is stalled while more writes than the window holds go by: the subscription
 * expires, the informer lists again and reports the difference with what it had. */
static void test_relist_after_falling_behind(void **state)
{
    struct fixture *f = *state;
    write_cm(f, STORE_CREATE, "a", "1");
    write_cm(f, STORE_CREATE, "b", "1");
    struct seen s = {0};
    struct kos_informer *inf = start(f, &s, false, NULL);
    assert_int_equal(kos_informer_wait_synced(inf, DEADLINE_MS), 0);
    assert_true(saw(&s, "add b 1"));

    pthread_mutex_lock(&s.gate);
    s.gated = true;
    write_cm(f, STORE_CREATE, "c", "1"); /* the thread blocks delivering this one */
    for (int i = 2; i < 12; i++) {
        char d[16];
        snprintf(d, sizeof(d), "%d", i);
        write_cm(f, STORE_UPDATE, "a", d);
    }
    write_cm(f, STORE_DELETE, "b", "1");
    write_cm(f, STORE_CREATE, "d", "1");
    pthread_mutex_unlock(&s.gate);

    assert_true(saw(&s, "add c 1"));
    /* the relist reports a's jump to 11 from what the informer had: 1, or a later value when
     * the thread had fetched some updates together with c before it stalled (how many depends
     * on when a loaded machine ran it); never each of the ten updates one by one */
    char line[96];
    assert_true(saw_prefix(&s, "update a 11 old=", line, sizeof(line)));
    assert_string_not_equal(line, "update a 11 old=10");
    assert_true(count_prefix(&s, "update a ") < 10);
    assert_true(saw(&s, "delete b 1"));
    assert_true(saw(&s, "add d 1"));
    json_t *a = kos_informer_get(inf, "ns", "a");
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "data"), "k")), "11");
    json_decref(a);
    kos_informer_free(inf);
}

/* Selectors need the API server's filtering: such an informer uses HTTP (here: nothing
 * listens, so it never syncs) and stops promptly all the same. */
static void test_selector_uses_http(void **state)
{
    struct fixture *f = *state;
    write_cm(f, STORE_CREATE, "a", "1");
    struct seen s = {0};
    struct kos_informer *inf = start(f, &s, false, "app=x");
    assert_int_equal(kos_informer_wait_synced(inf, 300), -ETIMEDOUT);
    assert_int_equal(count(&s), 0);
    kos_informer_free(inf);
}

/* informer_decode parses only what the informer keeps; it must give exactly what a full
 * parse followed by informer_cache_form gives, whatever the bytes. */
static void test_decode_matches_full_parse(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\",\"namespace\":"
        "\"n\",\"labels\":{\"a\":\"}{][\\\"\"},\"managedFields\":[{\"manager\":\"m\","
        "\"fieldsV1\":{\"f:spec\":{\"f:x\":{}}}}],\"generation\":3},\"spec\":{\"n\":[1,2.5,"
        "true,null,\"s\"],\"e\":{}},\"status\":{}}",
        /* whitespace, escaped keys, managedFields first, metadata last */
        " { \"kind\" : \"Pod\" , \"sp\\u0065c\":{\"k\\\"q\":1}, \"apiVersion\":\"v1\",\n"
        "\"metadata\" : { \"managedFields\" : [ ] , \"na\\/me\" : \"x\" } } ",
        /* escaped keys judged by their text: managedFields dropped, generation kept */
        "{\"ki\\u006ed\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"managedF\\u0069elds\":[1],"
        "\"gener\\u0061tion\":2,\"n\\u0061me\":\"q\"}}",
        /* no kind: the informer fills it in from its descriptor (the fallback path) */
        "{\"metadata\":{\"name\":\"x\",\"managedFields\":[]},\"data\":{}}",
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{}}",
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":null}",
        "{}",
    };
    static const char *const bad[] = {"", "[]", "{\"kind\":", "{\"a\":1}x", "nul", "{\"a\" 1}"};
    struct kos_client_config cc = {.server = "http://127.0.0.1:9"};
    struct kos_client *c = NULL;
    assert_int_equal(kos_client_new(&cc, &c), 0);
    static const char *const fields[] = {"name", "generation", NULL};
    for (int mode = 0; mode < 4; mode++) {
        struct kos_informer_options o = {.kind = kos_kind_by_kind("", "Pod"),
                                         .metadata_only = mode == 1 || mode == 3,
                                         .metadata_fields = mode == 3 ? fields : NULL,
                                         .drop_managed_fields = mode == 2};
        struct kos_informer *inf = NULL;
        assert_int_equal(kos_informer_new(c, &o, &inf), 0);
        for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
            json_t *full = json_loads(docs[i], 0, NULL);
            assert_non_null(full);
            json_t *want = informer_cache_form(inf, full);
            json_t *got = informer_decode(inf, docs[i], strlen(docs[i]));
            /* both NULL for a metadata informer and an object without metadata */
            assert_true(want ? json_equal(want, got) : !got);
            if (mode != 0)
                assert_null(json_object_get(json_object_get(got, "metadata"), "managedFields"));
            if (mode == 3 && got)
                assert_null(json_object_get(json_object_get(got, "metadata"), "namespace"));
            json_decref(full);
            json_decref(want);
            json_decref(got);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            assert_null(informer_decode(inf, bad[i], strlen(bad[i])));
        kos_informer_free(inf);
    }
    kos_client_free(c);
}

/* A kept-fields metadata informer's form taken from the full form (informer_shared.c) is its
 * own decode's, member for member and in the same order, and shares the kept values; where
 * the orders could differ there is none (informer_shared.c then decodes alone). */
static void test_form_from_full_matches_decode(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\",\"namespace\":"
        "\"n\",\"labels\":{\"a\":\"b\"},\"managedFields\":[{\"manager\":\"m\"}],\"uid\":\"u\","
        "\"ownerReferences\":[{\"uid\":\"o\"}],\"generation\":3},\"spec\":{\"n\":[1]},"
        "\"status\":{}}",
        /* escaped keys, managedFields' among them */
        "{\"ki\\u006ed\":\"Pod\",\"apiVersion\":\"v1\",\"sp\\u0065c\":{},\"metadata\":{"
        "\"finalizers\":[\"f\"],\"na\\u006de\":\"x\",\"managedF\\u0069elds\":[1],\"u\\\\id\":1}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{}}",
    };
    /* where informer_decode puts metadata first: no derived form */
    static const char *const underivable[] = {
        "{\"metadata\":{\"name\":\"x\"},\"apiVersion\":\"v1\",\"kind\":\"Pod\"}",
        "{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\",\"managedFields\":[]},\"data\":{}}",
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":null}",
    };
    struct kos_client_config cc = {.server = "http://127.0.0.1:9"};
    struct kos_client *c = NULL;
    assert_int_equal(kos_client_new(&cc, &c), 0);
    static const char *const fields[] = {"name", "uid", "ownerReferences", "finalizers", NULL};
    const struct kos_kind *pod = kos_kind_by_kind("", "Pod");
    struct kos_informer_options fo = {.kind = pod, .drop_managed_fields = true};
    struct kos_informer_options mo = {
        .kind = pod, .metadata_only = true, .metadata_fields = fields};
    struct kos_informer *full_inf = NULL, *meta_inf = NULL;
    assert_int_equal(kos_informer_new(c, &fo, &full_inf), 0);
    assert_int_equal(kos_informer_new(c, &mo, &meta_inf), 0);
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_t *full = informer_decode(full_inf, docs[i], strlen(docs[i]));
        json_t *own = informer_decode(meta_inf, docs[i], strlen(docs[i]));
        json_t *derived = informer_form_from_full(meta_inf, full);
        assert_non_null(full);
        assert_non_null(own);
        assert_non_null(derived);
        /* in the same order too */
        char *a = json_dumps(own, 0), *b = json_dumps(derived, 0);
        assert_string_equal(a, b);
        free(a);
        free(b);
        /* by reference: no copy of what is kept */
        json_t *fm = json_object_get(full, "metadata"), *dm = json_object_get(derived, "metadata");
        assert_ptr_not_equal(fm, dm);
        assert_ptr_equal(json_object_get(fm, "name"), json_object_get(dm, "name"));
        assert_null(json_object_get(dm, "labels"));
        json_decref(full);
        json_decref(own);
        json_decref(derived);
    }
    for (size_t i = 0; i < sizeof(underivable) / sizeof(underivable[0]); i++) {
        json_t *full = json_loads(underivable[i], 0, NULL);
        json_t *form = informer_cache_form(full_inf, full);
        assert_null(informer_form_from_full(meta_inf, form));
        json_decref(full);
        json_decref(form);
    }
    assert_null(informer_form_from_full(meta_inf, NULL));
    /* a kind that is no string (the API server stores none): the same members, though
     * informer_decode puts metadata first there */
    static const char odd[] = "{\"kind\":7,\"apiVersion\":\"v1\",\"metadata\":{\"uid\":\"u\"}}";
    json_t *full = informer_decode(full_inf, odd, strlen(odd));
    json_t *own = informer_decode(meta_inf, odd, strlen(odd));
    json_t *derived = informer_form_from_full(meta_inf, full);
    assert_true(json_equal(own, derived));
    json_decref(full);
    json_decref(own);
    json_decref(derived);
    kos_informer_free(full_inf);
    kos_informer_free(meta_inf);
    kos_client_free(c);
}

/* ---- one parse for informers of the same form (client/informer_shared.c) ---- */

struct kept {
    pthread_mutex_t lock;
    json_t *obj; /* the last object an add handler got */
};

static void keep_add(void *ctx, const json_t *obj)
{
    struct kept *k = ctx;
    pthread_mutex_lock(&k->lock);
    json_decref(k->obj);
    k->obj = json_incref((json_t *)obj);
    pthread_mutex_unlock(&k->lock);
}

static json_t *kept_named(struct kept *k, const char *name)
{
    int64_t until = kos_now_ms_monotonic() + DEADLINE_MS;
    for (;;) {
        pthread_mutex_lock(&k->lock);
        const char *n =
            json_string_value(json_object_get(json_object_get(k->obj, "metadata"), "name"));
        json_t *obj = n && strcmp(n, name) == 0 ? k->obj : NULL;
        pthread_mutex_unlock(&k->lock);
        if (obj || kos_now_ms_monotonic() > until)
            return obj;
        usleep(2000);
    }
}

static const char *const kept_fields[] = {"name", "resourceVersion", NULL};

static struct kos_informer *start_keeping(struct fixture *f, struct kept *k, bool metadata_only,
                                          bool some_fields)
{
    pthread_mutex_init(&k->lock, NULL);
    struct kos_informer_options o = {.kind = kos_kind_by_kind("", "ConfigMap"),
                                     .drop_managed_fields = !metadata_only,
                                     .metadata_only = metadata_only,
                                     .metadata_fields = some_fields ? kept_fields : NULL};
    struct kos_informer *inf = NULL;
    assert_int_equal(kos_informer_new(f->client, &o, &inf), 0);
    struct kos_informer_handlers h = {.on_add = keep_add, .ctx = k};
    assert_int_equal(kos_informer_add_handlers(inf, &h), 0);
    assert_int_equal(kos_informer_start(inf), 0);
    assert_int_equal(kos_informer_wait_synced(inf, DEADLINE_MS), 0);
    return inf;
}

/* Two informers of one form get the same tree of a write (one parse); an informer of another
 * form gets its own, in its form; a kept-fields metadata informer takes its members from the
 * shared tree (the same string objects) and sees only them; each sees every write. */
static void test_same_form_shares_the_parse(void **state)
{
    struct fixture *f = *state;
    struct kept a = {0}, b = {0}, m = {0}, g = {0};
    struct kos_informer *ia = start_keeping(f, &a, false, false);
    struct kos_informer *ib = start_keeping(f, &b, false, false);
    struct kos_informer *im = start_keeping(f, &m, true, false);
    struct kos_informer *ig = start_keeping(f, &g, true, true);
    const char *names[] = {"x", "y", "z"};
    for (size_t i = 0; i < 3; i++) {
        write_cm(f, STORE_CREATE, names[i], "1");
        json_t *oa = kept_named(&a, names[i]), *ob = kept_named(&b, names[i]),
               *om = kept_named(&m, names[i]);
        assert_non_null(oa);
        assert_non_null(ob);
        assert_non_null(om);
        assert_ptr_equal(oa, ob);
        assert_ptr_not_equal(oa, om);
        assert_string_equal(json_string_value(json_object_get(json_object_get(oa, "data"), "k")),
                            "1");
        assert_null(json_object_get(json_object_get(oa, "metadata"), "managedFields"));
        assert_null(json_object_get(om, "data"));
        json_t *og = kept_named(&g, names[i]);
        assert_non_null(og);
        json_t *gm = json_object_get(og, "metadata");
        assert_int_equal(json_object_size(gm), 2);
        assert_ptr_equal(json_object_get(gm, "name"),
                         json_object_get(json_object_get(oa, "metadata"), "name"));
        assert_null(json_object_get(og, "data"));
        assert_string_equal(json_string_value(json_object_get(og, "kind")), "ConfigMap");
    }
    kos_informer_free(ia);
    kos_informer_free(ib);
    kos_informer_free(im);
    kos_informer_free(ig);
    json_decref(a.obj);
    json_decref(b.obj);
    json_decref(m.obj);
    json_decref(g.obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_then_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_skipped_when_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_when_needed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relist_after_falling_behind, setup_small_window,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_selector_uses_http, setup, teardown),
        cmocka_unit_test(test_decode_matches_full_parse),
        cmocka_unit_test(test_form_from_full_matches_decode),
        cmocka_unit_test_setup_teardown(test_same_form_shares_the_parse, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
