/* Shared fixtures for the scheduler unit tests (test_sched_*.c): JSON from printf-style
 * text, nodes and pods built from a few parameters. Header-only, included once per test
 * executable. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scheduler/cache.h"
#include "scheduler/filters.h"
#include "scheduler/pod.h"
#include "scheduler/schedule.h"
#include "util/json_cleanup.h"

__attribute__((format(printf, 1, 2), unused)) static json_t *jf(const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    json_error_t e;
    json_t *j = json_loads(buf, 0, &e);
    if (!j)
        print_error("bad test JSON (%s): %s\n", e.text, buf);
    assert_non_null(j);
    return j;
}

/* A pod from extra metadata members ("" for none), its status object and its spec. */
__attribute__((format(printf, 4, 5), unused)) static struct sched_pod *
mkpod_s(const char *name, const char *meta_extra, const char *status, const char *spec_fmt, ...)
{
    char spec[6144];
    va_list ap;
    va_start(ap, spec_fmt);
    int n = vsnprintf(spec, sizeof(spec), spec_fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(spec));
    _cleanup_json_ json_t *j =
        jf("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"uid-%s\"%s%s},"
           "\"spec\":%s,\"status\":%s}",
           name, name, *meta_extra ? "," : "", meta_extra, spec, status);
    struct sched_pod *p = NULL;
    int r = sched_pod_from_json(j, &p);
    if (r != 0)
        print_error("pod %s: %d\n", name, r);
    assert_int_equal(r, 0);
    return p;
}

#define mkpod(name, meta_extra, ...) mkpod_s(name, meta_extra, "{}", __VA_ARGS__)

/* A pod with one container requesting cpu / memory ("" = omit). */
__attribute__((unused)) static struct sched_pod *simple_pod(const char *name, const char *cpu,
                                                            const char *mem, int priority)
{
    char req[256] = "";
    if (*cpu && *mem)
        snprintf(req, sizeof(req), "\"cpu\":\"%s\",\"memory\":\"%s\"", cpu, mem);
    else if (*cpu)
        snprintf(req, sizeof(req), "\"cpu\":\"%s\"", cpu);
    else if (*mem)
        snprintf(req, sizeof(req), "\"memory\":\"%s\"", mem);
    return mkpod(
        name, "",
        "{\"priority\":%d,\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{%s}}}]}",
        priority, req);
}

/* Adds a node; `extra_spec` and `labels` are JSON members/objects ("" / "{}" for none). */
__attribute__((unused)) static void add_node_full(struct sched_cache *c, const char *name,
                                                  const char *cpu, const char *mem,
                                                  const char *pods, const char *labels,
                                                  const char *extra_spec)
{
    _cleanup_json_ json_t *n =
        jf("{\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"spec\":{%s},"
           "\"status\":{\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"%s\"}}}",
           name, labels, extra_spec, cpu, mem, pods);
    assert_int_equal(sched_cache_upsert_node(c, n), 0);
}

__attribute__((unused)) static void add_node(struct sched_cache *c, const char *name,
                                             const char *cpu, const char *mem)
{
    add_node_full(c, name, cpu, mem, "110", "{}", "");
}

/* Binds pod to node in the cache (as an informer event for a bound pod would). */
__attribute__((unused)) static void bind_pod(struct sched_cache *c, struct sched_pod *pod,
                                             const char *node)
{
    assert_int_equal(sched_cache_assume_pod(c, pod, node), 0);
}

/* A deterministic random source: always returns `value` mod n. */
__attribute__((unused)) static uint32_t fixed_rand(void *ctx, uint32_t n)
{
    return *(uint32_t *)ctx % n;
}

/* Runs one cycle with the given config (NULL: defaults + fixed_rand(0)). */
__attribute__((unused)) static void run(struct sched_cache *c, struct sched_config *cfg,
                                        struct sched_pod *pod, struct sched_result *res)
{
    static uint32_t zero = 0;
    struct sched_config def;
    if (!cfg) {
        sched_config_init(&def);
        def.rand = fixed_rand;
        def.rand_ctx = &zero;
        cfg = &def;
    }
    assert_int_equal(sched_schedule_one(c, cfg, pod, res), 0);
}

/* The failure message of one cycle (caller frees). */
__attribute__((unused)) static char *fail_message(struct sched_cache *c, struct sched_pod *pod)
{
    struct sched_result res;
    run(c, NULL, pod, &res);
    if (res.outcome == SCHED_SCHEDULED)
        print_error("unexpectedly scheduled on %s\n", res.node_name);
    assert_int_not_equal(res.outcome, SCHED_SCHEDULED);
    char *m = strdup(res.message);
    sched_result_clear(&res);
    return m;
}

__attribute__((unused)) static void expect_message(struct sched_cache *c, struct sched_pod *pod,
                                                   const char *want)
{
    char *got = fail_message(c, pod);
    if (strcmp(got, want) != 0)
        print_error(" got: %s\nwant: %s\n", got, want);
    assert_string_equal(got, want);
    free(got);
}

/* The node chosen in one cycle (caller frees), NULL when unschedulable. */
__attribute__((unused)) static char *chosen(struct sched_cache *c, struct sched_config *cfg,
                                            struct sched_pod *pod)
{
    struct sched_result res;
    run(c, cfg, pod, &res);
    char *n = res.outcome == SCHED_SCHEDULED ? strdup(res.node_name) : NULL;
    sched_result_clear(&res);
    return n;
}

__attribute__((unused)) static void expect_node(struct sched_cache *c, struct sched_config *cfg,
                                                struct sched_pod *pod, const char *want)
{
    char *got = chosen(c, cfg, pod);
    if (!got || strcmp(got, want) != 0)
        print_error("chose %s, want %s\n", got ? got : "(none)", want);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}
