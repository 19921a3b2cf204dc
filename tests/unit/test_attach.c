/* The shim's attach socket: registered readers get output from then on, a writer's bytes
 * reach the container's stdin, stdinOnce closes it with the first writer, sizes reach the
 * terminal, and clients past the bound are turned away. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/runtime/attach.h"

struct shim {
    struct shim_attach *a;
    volatile int stop;
};

/* The shim's loop, as shim.c runs it. */
static void *shim_loop(void *arg)
{
    struct shim *s = arg;
    while (!s->stop) {
        struct pollfd pf[1 + KOS_ATTACH_MAX_CLIENTS];
        size_t n = shim_attach_pollfds(s->a, pf, 1 + KOS_ATTACH_MAX_CLIENTS);
        if (poll(pf, n, 20) > 0)
            shim_attach_handle(s->a, pf, n);
    }
    return NULL;
}

static ssize_t read_some(int fd, char *buf, size_t size)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 30000) <= 0) /* bounded, and generous for a loaded machine */
        return -1;
    return read(fd, buf, size);
}

static void test_attach_streams(void **state)
{
    char dir[] = "/tmp/kos-attach-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int in[2];
    assert_int_equal(pipe(in), 0);
    struct shim s = {0};
    assert_int_equal(shim_attach_open(dir, in[1], true, -1, &s.a), 0);
    pthread_t t;
    pthread_create(&t, NULL, shim_loop, &s);

    int out = -1, err = -1, wr = -1;
    assert_int_equal(kos_attach_connect(dir, 'o', &out), 0);
    assert_int_equal(kos_attach_connect(dir, 'e', &err), 0);
    assert_int_equal(kos_attach_connect(dir, 'i', &wr), 0);
    /* registered (acknowledged) before connect returned: this output reaches them; the
     * loop pauses meanwhile, as the shim is one thread */
    s.stop = 1;
    pthread_join(t, NULL);
    shim_attach_output(s.a, 0, "to-out", 6);
    shim_attach_output(s.a, 1, "to-err", 6);
    char buf[64];
    assert_int_equal(read_some(out, buf, sizeof(buf)), 6);
    assert_memory_equal(buf, "to-out", 6);
    assert_int_equal(read_some(err, buf, sizeof(buf)), 6);
    assert_memory_equal(buf, "to-err", 6);
    s.stop = 0;
    pthread_create(&t, NULL, shim_loop, &s);
    /* stdin */
    assert_int_equal(write(wr, "typed", 5), 5);
    assert_int_equal(read_some(in[0], buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "typed", 5);
    /* stdinOnce: the writer leaving ends the container's input */
    close(wr);
    assert_int_equal(read_some(in[0], buf, sizeof(buf)), 0);
    /* a bad role is dropped */
    int bad = -1;
    assert_int_equal(kos_attach_connect(dir, 'x', &bad), -ECONNREFUSED);

    s.stop = 1;
    pthread_join(t, NULL);
    shim_attach_close(s.a);
    /* the readers see the end */
    assert_int_equal(read_some(out, buf, sizeof(buf)), 0);
    close(out);
    close(err);
    close(in[0]);
    char sock[256];
    snprintf(sock, sizeof(sock), "%s/%s", dir, KOS_ATTACH_SOCKET);
    assert_int_equal(access(sock, F_OK), -1);
    rmdir(dir);
}

static void test_client_bound(void **state)
{
    char dir[] = "/tmp/kos-attach-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct shim s = {0};
    assert_int_equal(shim_attach_open(dir, -1, false, -1, &s.a), 0);
    pthread_t t;
    pthread_create(&t, NULL, shim_loop, &s);
    int fds[KOS_ATTACH_MAX_CLIENTS];
    for (int i = 0; i < KOS_ATTACH_MAX_CLIENTS; i++)
        assert_int_equal(kos_attach_connect(dir, 'o', &fds[i]), 0);
    int extra = -1;
    assert_int_equal(kos_attach_connect(dir, 'o', &extra), -ECONNREFUSED);
    s.stop = 1;
    pthread_join(t, NULL);
    shim_attach_close(s.a);
    for (int i = 0; i < KOS_ATTACH_MAX_CLIENTS; i++)
        close(fds[i]);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attach_streams),
        cmocka_unit_test(test_client_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
