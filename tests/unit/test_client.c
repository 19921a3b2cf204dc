/* The API client, the informer and the event recorder against a real API server running in
 * this process (store + HTTP server on a free loopback port, data in a temp dir). */
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
#include "inproc_server.h"
#include "client/informer.h"
#include "controllers/events.h"
#include "store/store.h"
#include "store/watch.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define WINDOW_EVENTS 16
#define DEADLINE_MS   10000

struct fixture {
    struct inproc_server srv;
    struct kos_client *client;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    inproc_server_start(&f->srv, "client", WINDOW_EVENTS);
    struct kos_client_config cc = {
        .server = f->srv.url, .bearer_token = UNIT_ADMIN_TOKEN, .timeout_ms = DEADLINE_MS};
    assert_int_equal(kos_client_new(&cc, &f->client), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kos_client_free(f->client);
    inproc_server_stop(&f->srv);
    free(f);
    return 0;
}

static const struct kos_kind *kind(const char *group, const char *k)
{
    const struct kos_kind *d = kos_kind_by_kind(group, k);
    assert_non_null(d);
    return d;
}

static json_t *configmap(const char *name, const char *label)
{
    json_t *cm =
        json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                  "metadata", "name", name, "labels", "tier", label, "data", "k", "v");
    assert_non_null(cm);
    return cm;
}

static const char *meta(const json_t *obj, const char *field)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

static void test_path(void **state)
{
    char p[256];
    struct kos_ref r = {
        .kind = kind("apps", "ReplicaSet"), .ns = "a b", .name = "x/y", .sub = "scale"};
    assert_int_equal(kos_client_path(&r, p, sizeof(p)), 0);
    assert_string_equal(p, "/apis/apps/v1/namespaces/a%20b/replicasets/x%2Fy/scale");
    struct kos_ref n = {.kind = kind("", "Node"), .ns = "ignored", .name = "n1"};
    assert_int_equal(kos_client_path(&n, p, sizeof(p)), 0);
    assert_string_equal(p, "/api/v1/nodes/n1");
    struct kos_ref all = {.kind = kind("", "Pod")};
    assert_int_equal(kos_client_path(&all, p, sizeof(p)), 0);
    assert_string_equal(p, "/api/v1/pods");
    assert_int_equal(kos_client_path(&all, p, 5), -ENAMETOOLONG);
    assert_ptr_equal(kos_client_kind_of("apps/v1", "Deployment"), kind("apps", "Deployment"));
    assert_null(kos_client_kind_of("v1", "NoSuchKind"));
}

static void test_crud_and_errors(void **state)
{
    struct fixture *f = *state;
    struct kos_client *c = f->client;
    struct kos_ref coll = {.kind = kind("", "ConfigMap"), .ns = "default"};
    _cleanup_json_ json_t *a = configmap("a", "front"), *b = configmap("b", "back");
    _cleanup_json_ json_t *made = NULL;
    assert_int_equal(kos_client_create(c, &coll, a, &made, NULL), 0);
    assert_non_null(meta(made, "uid"));
    assert_int_equal(kos_client_create(c, &coll, b, NULL, NULL), 0);

    struct kos_error *err = NULL;
    assert_int_equal(kos_client_create(c, &coll, a, NULL, &err), -EEXIST);
    assert_int_equal(err->code, 409);
    assert_string_equal(err->reason, "AlreadyExists");
    kos_error_free(err);
    err = NULL;

    struct kos_ref ra = {.kind = coll.kind, .ns = "default", .name = "a"};
    _cleanup_json_ json_t *got = NULL;
    assert_int_equal(kos_client_get(c, &ra, &got, NULL), 0);
    assert_string_equal(meta(got, "uid"), meta(made, "uid"));

    struct kos_list_options lo = {.label_selector = "tier=back"};
    _cleanup_json_ json_t *list = NULL;
    assert_int_equal(kos_client_list(c, &coll, &lo, &list, NULL), 0);
    assert_int_equal(json_array_size(json_object_get(list, "items")), 1);
    assert_string_equal(meta(json_array_get(json_object_get(list, "items"), 0), "name"), "b");

    /* update with the current resourceVersion, then again with the now stale one */
    json_object_set_new(json_object_get(got, "data"), "k", json_string("v2"));
    _cleanup_json_ json_t *updated = NULL;
    assert_int_equal(kos_client_update(c, &ra, got, &updated, NULL), 0);
    assert_string_not_equal(meta(updated, "resourceVersion"), meta(got, "resourceVersion"));
    assert_int_equal(kos_client_update(c, &ra, got, NULL, &err), -ECANCELED);
    assert_int_equal(err->code, 409);
    kos_error_free(err);
    err = NULL;

    _cleanup_json_ json_t *patch = json_pack("{s:{s:s}}", "data", "extra", "1");
    _cleanup_json_ json_t *patched = NULL;
    assert_int_equal(kos_client_patch(c, &ra, KOS_PATCH_MERGE, patch, NULL, false, &patched, NULL),
                     0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(patched, "data"), "extra")), "1");

    struct kos_delete_options wrong = {.precondition_uid = "not-the-uid"};
    assert_int_equal(kos_client_delete(c, &ra, &wrong, NULL, NULL), -ECANCELED);
    assert_int_equal(kos_client_delete(c, &ra, NULL, NULL, NULL), 0);
    assert_int_equal(kos_client_get(c, &ra, NULL, &err), -ENOENT);
    assert_int_equal(err->code, 404);
    assert_string_equal(err->reason, "NotFound");
    assert_non_null(strstr(err->message, "\"a\" not found"));
    kos_error_free(err);
    err = NULL;

    long status = 0;
    _cleanup_json_ json_t *body = NULL;
    assert_int_equal(kos_client_request(c, "GET", "/version", NULL, NULL, 0, &status, &body, NULL),
                     0);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(body, "major")), "1");
}

/* Without credentials the API answers 401 with kube's Status; health needs none. */
static void test_unauthenticated(void **state)
{
    struct fixture *f = *state;
    const char *tokens[] = {NULL, "wrong-token"};
    for (size_t i = 0; i < 2; i++) {
        struct kos_client_config cc = {.server = f->srv.url, .bearer_token = tokens[i]};
        struct kos_client *c = NULL;
        assert_int_equal(kos_client_new(&cc, &c), 0);
        struct kos_ref r = {.kind = kind("", "Namespace"), .name = "default"};
        struct kos_error *err = NULL;
        assert_int_equal(kos_client_get(c, &r, NULL, &err), -EACCES);
        assert_int_equal(err->code, 401);
        assert_string_equal(err->reason, "Unauthorized");
        assert_string_equal(err->message, "Unauthorized");
        kos_error_free(err);
        long status = 0;
        assert_int_equal(
            kos_client_request(c, "GET", "/readyz", NULL, NULL, 0, &status, NULL, NULL), 0);
        assert_int_equal(status, 200);
        kos_client_free(c);
    }
}

static void test_transport_error(void **state)
{
    struct kos_client_config cc = {.server = "http://127.0.0.1:1", .timeout_ms = 2000};
    struct kos_client *c = NULL;
    assert_int_equal(kos_client_new(&cc, &c), 0);
    struct kos_ref r = {.kind = kind("", "Node"), .name = "x"};
    struct kos_error *err = NULL;
    assert_int_equal(kos_client_get(c, &r, NULL, &err), -EIO);
    assert_int_equal(err->code, 503);
    kos_error_free(err);
    kos_client_free(c);
}

struct canceller {
    struct kos_watch *w;
    int delay_ms;
};

static void *cancel_later(void *arg)
{
    struct canceller *cn = arg;
    usleep((useconds_t)cn->delay_ms * 1000);
    kos_watch_cancel(cn->w);
    return NULL;
}

/* A watch of coll from the revision of a list made now; *list holds that list. */
static struct kos_watch *watch_from_now(struct fixture *f, const struct kos_ref *coll,
                                        json_t **list)
{
    assert_int_equal(kos_client_list(f->client, coll, NULL, list, NULL), 0);
    struct kos_list_options lo = {.resource_version = meta(*list, "resourceVersion")};
    struct kos_watch *w = NULL;
    assert_int_equal(kos_client_watch(f->client, coll, &lo, &w, NULL), 0);
    return w;
}

/* Patches the object ref names until the watch window no longer holds revision 2, and
 * returns a watch of coll from there. */
static struct kos_watch *watch_too_old(struct fixture *f, const struct kos_ref *coll,
                                       const struct kos_ref *ref)
{
    for (int i = 0; i < WINDOW_EVENTS + 4; i++) {
        _cleanup_json_ json_t *p = json_pack("{s:{s:o}}", "data", "n", json_sprintf("%d", i));
        assert_int_equal(
            kos_client_patch(f->client, ref, KOS_PATCH_MERGE, p, NULL, false, NULL, NULL), 0);
    }
    struct kos_list_options old = {.resource_version = "2"};
    struct kos_watch *w = NULL;
    assert_int_equal(kos_client_watch(f->client, coll, &old, &w, NULL), 0);
    return w;
}

static void test_watch(void **state)
{
    struct fixture *f = *state;
    struct kos_ref coll = {.kind = kind("", "ConfigMap"), .ns = "default"};
    _cleanup_json_ json_t *list = NULL;
    struct kos_watch *w = watch_from_now(f, &coll, &list);
    struct kos_watch_event ev;
    assert_int_equal(kos_watch_next(w, 50, &ev, NULL), 0); /* nothing happened yet */

    _cleanup_json_ json_t *cm = configmap("w", "x");
    assert_int_equal(kos_client_create(f->client, &coll, cm, NULL, NULL), 0);
    assert_int_equal(kos_watch_next(w, DEADLINE_MS, &ev, NULL), 1);
    assert_int_equal(ev.type, KOS_WATCH_ADDED);
    assert_string_equal(meta(ev.object, "name"), "w");
    kos_watch_event_clear(&ev);
    struct kos_ref rw = {.kind = coll.kind, .ns = "default", .name = "w"};
    assert_int_equal(kos_client_delete(f->client, &rw, NULL, NULL, NULL), 0);
    assert_int_equal(kos_watch_next(w, DEADLINE_MS, &ev, NULL), 1);
    assert_int_equal(ev.type, KOS_WATCH_DELETED);
    kos_watch_event_clear(&ev);

    /* a cancel from another thread ends a wait without limit */
    struct canceller cn = {.w = w, .delay_ms = 50};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &cn), 0);
    assert_int_equal(kos_watch_next(w, -1, &ev, NULL), -ECANCELED);
    pthread_join(t, NULL);
    kos_watch_close(w);

    /* the server's timeoutSeconds ends the stream: -EPIPE */
    struct kos_list_options short_lo = {.resource_version = meta(list, "resourceVersion"),
                                        .timeout_seconds = 1};
    assert_int_equal(kos_client_watch(f->client, &rw, &short_lo, &w, NULL), 0);
    int r;
    while ((r = kos_watch_next(w, DEADLINE_MS, &ev, NULL)) == 1)
        kos_watch_event_clear(&ev);
    assert_int_equal(r, -EPIPE);
    kos_watch_close(w);

    /* a resourceVersion the window no longer holds: 410, -ESTALE */
    struct kos_ref rg = {.kind = coll.kind, .ns = "default", .name = "gen"};
    _cleanup_json_ json_t *g = configmap("gen", "x");
    assert_int_equal(kos_client_create(f->client, &coll, g, NULL, NULL), 0);
    w = watch_too_old(f, &coll, &rg);
    struct kos_error *err = NULL;
    assert_int_equal(kos_watch_next(w, DEADLINE_MS, &ev, &err), -ESTALE);
    assert_int_equal(err->code, 410);
    kos_error_free(err);
    kos_watch_close(w);
}

/* kos_watch_next_line: the event's bytes as sent, and the same end of stream on an ERROR. */
static void test_watch_line(void **state)
{
    struct fixture *f = *state;
    struct kos_ref coll = {.kind = kind("", "ConfigMap"), .ns = "default"};
    _cleanup_json_ json_t *list = NULL;
    struct kos_watch *w = watch_from_now(f, &coll, &list);
    const char *line = NULL;
    size_t len = 0;
    assert_int_equal(kos_watch_next_line(w, 50, &line, &len, NULL), 0);
    _cleanup_json_ json_t *cm = configmap("raw", "x");
    assert_int_equal(kos_client_create(f->client, &coll, cm, NULL, NULL), 0);
    assert_int_equal(kos_watch_next_line(w, DEADLINE_MS, &line, &len, NULL), 1);
    _cleanup_json_ json_t *doc = json_loadb(line, len, 0, NULL);
    assert_non_null(doc); /* one whole event, no newline */
    assert_string_equal(json_string_value(json_object_get(doc, "type")), "ADDED");
    assert_string_equal(meta(json_object_get(doc, "object"), "name"), "raw");
    kos_watch_close(w);

    /* too old a resourceVersion: the ERROR event is -ESTALE with its Status, not a line */
    struct kos_ref rg = {.kind = coll.kind, .ns = "default", .name = "raw"};
    w = watch_too_old(f, &coll, &rg);
    struct kos_error *err = NULL;
    assert_int_equal(kos_watch_next_line(w, DEADLINE_MS, &line, &len, &err), -ESTALE);
    assert_non_null(err);
    assert_int_equal(err->code, 410);
    kos_error_free(err);
    kos_watch_close(w);
}

/* ---- informer against the real server --------------------------------------------------- */

struct recorder {
    pthread_mutex_t lock;
    json_t *log; /* ["add a", "update a", "delete a", ...] */
};

static void rec_push(struct recorder *r, const char *what, const json_t *obj)
{
    pthread_mutex_lock(&r->lock);
    json_array_append_new(r->log, json_sprintf("%s %s", what, meta(obj, "name")));
    pthread_mutex_unlock(&r->lock);
}

static void rec_add(void *ctx, const json_t *obj)
{
    rec_push(ctx, "add", obj);
}

static void rec_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    rec_push(ctx, "update", obj);
}

static void rec_delete(void *ctx, const json_t *obj)
{
    rec_push(ctx, "delete", obj);
}

static bool rec_has(struct recorder *r, const char *entry)
{
    pthread_mutex_lock(&r->lock);
    bool found = false;
    size_t i;
    json_t *v;
    json_array_foreach(r->log, i, v)
    {
        if (strcmp(json_string_value(v), entry) == 0)
            found = true;
    }
    pthread_mutex_unlock(&r->lock);
    return found;
}

static void wait_for(struct recorder *r, const char *entry)
{
    int64_t deadline = kos_now_ms_monotonic() + DEADLINE_MS;
    while (!rec_has(r, entry) && kos_now_ms_monotonic() < deadline)
        usleep(5000);
    assert_true(rec_has(r, entry));
}

static void test_informer(void **state)
{
    struct fixture *f = *state;
    struct kos_ref coll = {.kind = kind("", "ConfigMap"), .ns = "default"};
    _cleanup_json_ json_t *before = configmap("before", "x"), *before2 = configmap("before2", "x");
    assert_int_equal(kos_client_create(f->client, &coll, before, NULL, NULL), 0);
    assert_int_equal(kos_client_create(f->client, &coll, before2, NULL, NULL), 0);

    struct recorder rec = {.log = json_array()};
    pthread_mutex_init(&rec.lock, NULL);
    struct kos_informer_options o = {.kind = coll.kind, .metadata_only = true, .page_size = 1};
    struct kos_informer *inf = NULL;
    assert_int_equal(kos_informer_new(f->client, &o, &inf), 0);
    struct kos_informer_handlers h = {rec_add, rec_update, rec_delete, &rec};
    assert_int_equal(kos_informer_add_handlers(inf, &h), 0);
    assert_int_equal(kos_informer_start(inf), 0);
    assert_int_equal(kos_informer_add_handlers(inf, &h), -EBUSY);
    assert_int_equal(kos_informer_wait_synced(inf, DEADLINE_MS), 0);
    assert_true(rec_has(&rec, "add before")); /* listed a page of one at a time */
    assert_true(rec_has(&rec, "add before2"));

    /* cached in metadata form, with kind and apiVersion */
    json_t *cached = kos_informer_get(inf, "default", "before");
    assert_non_null(cached);
    assert_null(json_object_get(cached, "data"));
    assert_string_equal(json_string_value(json_object_get(cached, "kind")), "ConfigMap");
    json_decref(cached);

    _cleanup_json_ json_t *later = configmap("later", "x");
    assert_int_equal(kos_client_create(f->client, &coll, later, NULL, NULL), 0);
    wait_for(&rec, "add later");
    struct kos_ref rl = {.kind = coll.kind, .ns = "default", .name = "later"};
    _cleanup_json_ json_t *p = json_pack("{s:{s:{s:s}}}", "metadata", "labels", "tier", "y");
    assert_int_equal(kos_client_patch(f->client, &rl, KOS_PATCH_MERGE, p, NULL, false, NULL, NULL),
                     0);
    wait_for(&rec, "update later");
    assert_int_equal(kos_client_delete(f->client, &rl, NULL, NULL, NULL), 0);
    wait_for(&rec, "delete later");
    assert_null(kos_informer_get(inf, "default", "later"));
    json_t *snap = kos_informer_snapshot(inf);
    assert_int_equal(json_array_size(snap), 2);
    json_decref(snap);

    /* stop is prompt even though the watch is idle */
    int64_t t0 = kos_now_ms_monotonic();
    kos_informer_stop(inf);
    assert_true(kos_now_ms_monotonic() - t0 < DEADLINE_MS);
    kos_informer_free(inf);
    json_decref(rec.log);
    pthread_mutex_destroy(&rec.lock);
}

/* ---- events ----------------------------------------------------------------------------- */

/* kos_event_encode's Event, member for member and in order, against the text expected. */
static void assert_encodes(const struct kos_event_object *o, const json_t *annotations,
                           const char *message, const char *expected)
{
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    assert_int_equal(kos_event_encode("tester", o, annotations, KOS_EVENT_WARNING, "Why", message,
                                      86400, 0x1234ULL, &b),
                     0);
    _cleanup_json_ json_t *sent = json_loadb(b.data, b.len, 0, NULL);
    _cleanup_json_ json_t *want = json_loads(expected, 0, NULL);
    assert_non_null(sent);
    assert_non_null(want);
    _cleanup_free_ char *got = json_dumps(sent, JSON_COMPACT | JSON_PRESERVE_ORDER);
    _cleanup_free_ char *exp = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(got, exp);
}

#define EVENT_TAIL(message)                                                                        \
    "\"reason\":\"Why\",\"message\":" message ",\"type\":\"Warning\",\"source\":{\"component\":"   \
    "\"tester\"},\"firstTimestamp\":\"1970-01-02T00:00:00Z\",\"lastTimestamp\":"                   \
    "\"1970-01-02T00:00:00Z\",\"count\":1,\"reportingComponent\":\"tester\","                      \
    "\"reportingInstance\":\"\"}"

static void test_event_encode(void **state)
{
    const struct kos_event_object pod = {.api_version = "v1",
                                         .kind = "Pod",
                                         .ns = "team",
                                         .name = "web",
                                         .uid = "u-1",
                                         .resource_version = "7",
                                         .field_path = "spec.containers{c}"};
#define POD_EVENT_HEAD(annotations)                                                                \
    "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"web.1234\",\"namespace\":" \
    "\"team\"" annotations "},\"involvedObject\":{\"kind\":\"Pod\",\"namespace\":\"team\","        \
    "\"name\":\"web\",\"uid\":\"u-1\",\"apiVersion\":\"v1\",\"resourceVersion\":\"7\","            \
    "\"fieldPath\":\"spec.containers{c}\"},"
    assert_encodes(&pod, NULL, "plain", POD_EVENT_HEAD("") EVENT_TAIL("\"plain\""));
    assert_encodes(&pod, NULL, "quote \" backslash \\ newline \n tab \t \x01 é ✓",
                   POD_EVENT_HEAD("")
                       EVENT_TAIL("\"quote \\\" backslash \\\\ newline \\n tab \\t \\u0001 é ✓\""));
    _cleanup_json_ json_t *ann = json_pack("{s:s, s:s}", "a", "1", "b/c", "x\"y");
    assert_encodes(&pod, ann, "annotated",
                   POD_EVENT_HEAD(",\"annotations\":{\"a\":\"1\",\"b/c\":\"x\\\"y\"}")
                       EVENT_TAIL("\"annotated\""));

    /* a cluster-scoped object's events live in "default"; members it lacks are left out */
    const struct kos_event_object node = {.api_version = "v1", .kind = "Node", .name = "n1"};
    assert_encodes(&node, NULL, "cluster-scoped",
                   "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"n1.1234\","
                   "\"namespace\":\"default\"},\"involvedObject\":{\"kind\":\"Node\",\"name\":"
                   "\"n1\",\"apiVersion\":\"v1\"}," EVENT_TAIL("\"cluster-scoped\""));

    /* a long name is cut so that name.suffix is a valid name of at most 253 bytes */
    char long_name[300];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    const struct kos_event_object lp = {
        .api_version = "v1", .kind = "Pod", .ns = "d", .name = long_name};
    char expected[2048];
    snprintf(expected, sizeof(expected),
             "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"%.236s.1234\","
             "\"namespace\":\"d\"},\"involvedObject\":{\"kind\":\"Pod\",\"namespace\":\"d\","
             "\"name\":\"%s\",\"apiVersion\":\"v1\"}," EVENT_TAIL("\"long name\""),
             long_name, long_name);
    assert_encodes(&lp, NULL, "long name", expected);
#undef POD_EVENT_HEAD

    const struct kos_event_object nameless = {.kind = "Pod"};
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    assert_int_equal(kos_event_encode("t", &nameless, NULL, KOS_EVENT_NORMAL, "R", "m", 0, 1, &b),
                     -EINVAL);
}

static void test_event_record(void **state)
{
    struct fixture *f = *state;
    struct kos_event_recorder *r = NULL;
    assert_int_equal(kos_event_recorder_new(f->client, "tester", &r), 0);
    _cleanup_json_ json_t *pod =
        json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind", "Pod", "metadata",
                  "name", "web", "namespace", "default", "uid", "u-2");
    assert_int_equal(kos_event_record(r, pod, KOS_EVENT_NORMAL, "Tested", "once %d", 1), 0);
    assert_int_equal(kos_event_record(r, pod, KOS_EVENT_NORMAL, "Tested", "once %d", 1), 0);
    assert_int_equal(kos_event_record(r, pod, KOS_EVENT_NORMAL, "Tested", "other"), 0);
    struct kos_ref evs = {.kind = kind("", "Event"), .ns = "default"};
    struct kos_list_options lo = {.field_selector = "involvedObject.uid=u-2"};
    _cleanup_json_ json_t *list = NULL;
    assert_int_equal(kos_client_list(f->client, &evs, &lo, &list, NULL), 0);
    json_t *items = json_object_get(list, "items");
    assert_int_equal(json_array_size(items), 2);
    int64_t total = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(items, i, ev) total += json_integer_value(json_object_get(ev, "count"));
    assert_int_equal(total, 3);

    /* past the remembered occurrences the oldest is forgotten: its repeat is a new Event,
     * while a recent one still folds (kos_event_record_object, as the scheduler records) */
    const struct kos_event_object o = {
        .api_version = "v1", .kind = "Pod", .ns = "default", .name = "many", .uid = "u-3"};
    for (int k = 0; k < 260; k++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "n%d", k);
        assert_int_equal(kos_event_record_object(r, &o, KOS_EVENT_NORMAL, "Many", msg), 0);
    }
    assert_int_equal(kos_event_record_object(r, &o, KOS_EVENT_NORMAL, "Many", "n0"), 0);
    assert_int_equal(kos_event_record_object(r, &o, KOS_EVENT_NORMAL, "Many", "n259"), 0);
    struct kos_list_options lo3 = {.field_selector = "involvedObject.uid=u-3"};
    _cleanup_json_ json_t *list3 = NULL;
    assert_int_equal(kos_client_list(f->client, &evs, &lo3, &list3, NULL), 0);
    items = json_object_get(list3, "items");
    assert_int_equal(json_array_size(items), 261);
    int n0 = 0, n259 = 0;
    json_array_foreach(items, i, ev)
    {
        const char *m = json_string_value(json_object_get(ev, "message"));
        json_int_t count = json_integer_value(json_object_get(ev, "count"));
        if (strcmp(m, "n0") == 0) {
            n0++;
            assert_int_equal(count, 1);
        } else if (strcmp(m, "n259") == 0) {
            n259++;
            assert_int_equal(count, 2);
        }
    }
    assert_int_equal(n0, 2);
    assert_int_equal(n259, 1);
    kos_event_recorder_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_transport_error),
        cmocka_unit_test(test_event_encode),
        cmocka_unit_test_setup_teardown(test_crud_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unauthenticated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_informer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_record, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
