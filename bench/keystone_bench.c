/* Keystone login cost, in process: a direct Keystone validation (GET /v3/auth/tokens), a
 * cold kos authentication (validation + the user's groups + mapping, no cache), a warm one
 * (served by the validation cache), and the HTTPS TokenReview round trip to a running
 * `kos keystone-auth` (warm cache). Built and run by bench/keystone.sh.
 *
 *   keystone_bench KEYSTONE_URL TOKEN N [WEBHOOK_URL CA_FILE]
 *
 * Prints "raw: mode=... n=... p50_us=... p99_us=... mean_us=..." lines. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openstack/keystone/authenticator.h"
#include "util/timeutil.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *mode, int64_t *ns, int n)
{
    qsort(ns, (size_t)n, sizeof(*ns), cmp_i64);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)ns[i];
    printf("raw: mode=%s n=%d p50_us=%.3f p99_us=%.3f mean_us=%.3f\n", mode, n,
           (double)ns[n / 2] / 1000.0, (double)ns[(n * 99) / 100] / 1000.0, sum / n / 1000.0);
    fflush(stdout);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    return s * n;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s KEYSTONE_URL TOKEN N [WEBHOOK_URL CA_FILE]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1], *token = argv[2];
    int n = (int)strtol(argv[3], NULL, 10);
    if (n < 10)
        n = 10;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int64_t *ns = calloc((size_t)n * 10, sizeof(*ns));
    struct kos_error *err = NULL;

    /* 1. direct Keystone validation */
    struct keystone_client *kc;
    struct keystone_client_options ko = {.url = url};
    if (keystone_client_new(&ko, &kc, &err) < 0)
        return 1;
    int direct_n = n < 200 ? n : 200;
    for (int i = 0; i < direct_n; i++) {
        struct keystone_token t;
        int64_t t0 = now_ns();
        if (keystone_client_validate(kc, token, &t, &err) < 0) {
            fprintf(stderr, "validate: %s\n", err->message);
            return 1;
        }
        ns[i] = now_ns() - t0;
        keystone_token_clear(&t);
    }
    report("direct_keystone_validate", ns, direct_n);
    keystone_client_free(kc);

    /* 2. cold: no cache, so every call validates and lists groups */
    struct keystone_authenticator *cold, *warm;
    struct keystone_authenticator_options ao = {.keystone = {.url = url}, .cache_ttl_ms = 0};
    if (keystone_authenticator_new(&ao, &cold, &err) < 0)
        return 1;
    for (int i = 0; i < direct_n; i++) {
        struct kos_user_info u;
        int64_t t0 = now_ns();
        if (keystone_authenticate(cold, token, &u, NULL, &err) != 1) {
            fprintf(stderr, "authenticate: %s\n", err->message);
            return 1;
        }
        ns[i] = now_ns() - t0;
        kos_user_info_clear(&u);
    }
    report("kos_authenticate_cold", ns, direct_n);
    keystone_authenticator_free(cold);

    /* 3. warm: the validation cache answers (default TTL) */
    ao.cache_ttl_ms = -1;
    if (keystone_authenticator_new(&ao, &warm, &err) < 0)
        return 1;
    struct kos_user_info u;
    if (keystone_authenticate(warm, token, &u, NULL, &err) != 1)
        return 1;
    kos_user_info_clear(&u);
    int warm_n = n * 10;
    for (int i = 0; i < warm_n; i++) {
        bool cached = false;
        int64_t t0 = now_ns();
        int r = keystone_authenticate(warm, token, &u, &cached, &err);
        ns[i] = now_ns() - t0;
        if (r != 1 || !cached)
            return 1;
        kos_user_info_clear(&u);
    }
    report("kos_authenticate_warm", ns, warm_n);
    keystone_authenticator_free(warm);

    /* 4. HTTPS TokenReview round trip to kos keystone-auth (one kept-alive connection) */
    if (argc == 6) {
        CURL *h = curl_easy_init();
        char body[8192];
        snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
                 "\"spec\":{\"token\":\"%s\"}}",
                 token);
        struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_URL, argv[4]);
        curl_easy_setopt(h, CURLOPT_CAINFO, argv[5]);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        for (int i = -1; i < n; i++) {
            int64_t t0 = now_ns();
            long code = 0;
            if (curl_easy_perform(h) != CURLE_OK ||
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200) {
                fprintf(stderr, "webhook: HTTP %ld\n", code);
                return 1;
            }
            if (i >= 0) /* the first one fills the cache and opens the connection */
                ns[i] = now_ns() - t0;
        }
        report("webhook_https_tokenreview_warm", ns, n);
        curl_slist_free_all(hd);
        curl_easy_cleanup(h);
    }
    free(ns);
    return 0;
}
