/* The exec probe (pkg/probe/exec, and the CRI ExecSync timeout text). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/prober/probe.h"
#include "agent/runtime/oci_spec.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define MAX_ARGS 256

/* Go's %q of a string (the characters a command holds in practice). */
static void go_quote(struct kos_buf *b, const char *s)
{
    kos_buf_append_str(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            kos_buf_append_str(b, "\\\"");
            break;
        case '\\':
            kos_buf_append_str(b, "\\\\");
            break;
        case '\n':
            kos_buf_append_str(b, "\\n");
            break;
        case '\t':
            kos_buf_append_str(b, "\\t");
            break;
        case '\r':
            kos_buf_append_str(b, "\\r");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                kos_buf_printf(b, "\\x%02x", *p);
            else
                kos_buf_append(b, p, 1);
        }
    }
    kos_buf_append_str(b, "\"");
}

int kos_probe_exec(const json_t *action, const json_t *container, const char *runtime_id,
                   int64_t timeout_ms, kos_probe_exec_fn fn, void *ctx, char *out, size_t size)
{
    const json_t *cmd = json_object_get(action, "command");
    size_t argc = json_array_size(cmd);
    if (argc == 0 || argc > MAX_ARGS || !fn) {
        snprintf(out, size, "missing probe handler");
        return -EINVAL;
    }
    /* only the static env values: the probe does not see the downward API or secrets */
    _cleanup_json_ json_t *env = json_object();
    if (!env)
        return -ENOMEM;
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(container, "env"), i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *value = json_string_value(json_object_get(e, "value"));
        if (name)
            json_object_set_new(env, name, json_string(value ? value : ""));
    }
    char *argv[MAX_ARGS];
    size_t n = 0;
    int r = 0;
    for (; n < argc; n++) {
        const char *a = json_string_value(json_array_get(cmd, n));
        argv[n] = kos_oci_expand(a ? a : "", env);
        if (!argv[n]) {
            r = -ENOMEM;
            break;
        }
    }
    int code = 0;
    if (r == 0)
        r = fn(ctx, runtime_id, (const char *const *)argv, n, timeout_ms, out, size, &code);
    if (r == -ETIMEDOUT) {
        struct kos_buf b;
        kos_buf_init(&b, 64 << 10);
        kos_buf_append_str(&b, "command ");
        struct kos_buf joined;
        kos_buf_init(&joined, 64 << 10);
        for (size_t k = 0; k < n; k++) {
            if (k)
                kos_buf_append_str(&joined, " ");
            kos_buf_append_str(&joined, argv[k]);
        }
        go_quote(&b, joined.data ? joined.data : "");
        kos_buf_append_str(&b, " timed out");
        snprintf(out, size, "%s", b.data ? b.data : "command timed out");
        kos_buf_free(&joined);
        kos_buf_free(&b);
    }
    for (size_t k = 0; k < n; k++)
        free(argv[k]);
    if (r == -ETIMEDOUT)
        return KOS_PROBE_OUT_FAILURE;
    if (r < 0) {
        if (!out[0])
            snprintf(out, size, "%s", strerror(-r));
        return r;
    }
    return code == 0 ? KOS_PROBE_OUT_SUCCESS : KOS_PROBE_OUT_FAILURE;
}
