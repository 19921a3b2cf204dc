/* A real API server inside a unit test: SQLite store in a temp dir, the API handlers and the
 * HTTP server on a free loopback port, bootstrapped and ready. Shared by the tests that drive
 * the client, informers and scheduler against it; its clients authenticate with
 * UNIT_ADMIN_TOKEN. Include after cmocka.h. */
#pragma once

#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include <string.h>

#include "apiserver/apiserver.h"
#include "apiserver/http.h"
#include "auth/authn.h"
#include "auth/token_file.h"
#include "store/store.h"
#include "store/watch.h"
#include "util/strutil.h"

/* The API requires authentication: clients of the test server are admins by this token. */
#define UNIT_ADMIN_TOKEN "unit-admin-token"

static inline void inproc_server_install_admin_token(struct apiserver *api)
{
    static const char csv[] = UNIT_ADMIN_TOKEN ",unit-admin,1,system:masters\n";
    struct kos_token_file *tf = NULL;
    assert_int_equal(kos_token_file_parse(csv, strlen(csv), "unit", &tf, NULL), 0);
    struct kos_authn *a = NULL;
    assert_int_equal(kos_authn_new(NULL, &a), 0);
    struct kos_token_authenticator ta;
    kos_token_file_authenticator(tf, &ta);
    assert_int_equal(kos_authn_add_token_authenticator(a, &ta), 0);
    api->authn = a;
}

struct inproc_server {
    char dir[64];
    char path[128];
    struct store *store;
    struct apiserver api;
    struct http_server *http;
    char url[64]; /* "http://127.0.0.1:PORT" */
};

/* name: a word for the temp dir ("client" -> /tmp/kos-client-test-XXXXXX). */
static inline void inproc_server_start(struct inproc_server *s, const char *name,
                                       size_t window_events)
{
    snprintf(s->dir, sizeof(s->dir), "/tmp/kos-%s-test-XXXXXX", name);
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->path, sizeof(s->path), "%s/kos.db", s->dir);
    struct store_sqlite_options so = {.path = s->path, .watch_window_events = window_events};
    assert_int_equal(store_sqlite_open(&so, &s->store), 0);
    assert_int_equal(apiserver_init(&s->api, s->store, ""), 0);
    inproc_server_install_admin_token(&s->api);
    struct http_server_options ho = {
        .bind_address = "127.0.0.1", .handler = apiserver_handle, .handler_ctx = &s->api};
    assert_int_equal(http_server_start(&ho, &s->http), 0);
    assert_int_equal(apiserver_bootstrap(&s->api), 0);
    atomic_store(&s->api.ready, true);
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", http_server_port(s->http));
}

/* Stops everything and removes the temp dir. Clients and informers must be gone first. */
static inline void inproc_server_stop(struct inproc_server *s)
{
    watch_window_shutdown(store_window(s->store));
    http_server_stop(s->http);
    store_close(s->store);
    apiserver_done(&s->api);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof(p), "%s%s", s->path, suffixes[i]);
        unlink(p);
    }
    rmdir(s->dir);
}
