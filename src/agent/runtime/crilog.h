/* Container logs in the CRI format the kubelet reads:
 *   <RFC3339Nano UTC> <stdout|stderr> <F|P> <content>\n
 * F ends a line, P is a chunk of a line longer than KOS_CRILOG_MAX_LINE (containerd's
 * default max_container_log_line_size) or the tail of the stream without a newline.
 * The writer rotates the file by size as the kubelet's container log manager does:
 * <file> -> <file>.<YYYYMMDD-HHMMSS>.<ns>, keeping max_files files including the live one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define KOS_CRILOG_MAX_LINE 16384

enum kos_crilog_stream { KOS_CRILOG_STDOUT = 0, KOS_CRILOG_STDERR = 1 };

struct kos_crilog;

/* Opens (appends to) path. max_size 0 never rotates; max_files >= 1. */
int kos_crilog_open(const char *path, int64_t max_size, int max_files, struct kos_crilog **ret);
/* Feeds bytes a stream produced; whole lines are written at once. */
int kos_crilog_write(struct kos_crilog *l, enum kos_crilog_stream s, const void *data, size_t len);
/* At the end of a stream: what is left without a newline is written as a full line (as
 * containerd does at EOF). */
int kos_crilog_flush(struct kos_crilog *l, enum kos_crilog_stream s);
void kos_crilog_close(struct kos_crilog *l);
/* Tests: a fixed clock in nanoseconds since the epoch (0 = the real clock). */
void kos_crilog_set_clock(struct kos_crilog *l, int64_t (*now_ns)(void));

/* The record format, for readers. */
struct kos_crilog_entry {
    char timestamp[40]; /* as written */
    enum kos_crilog_stream stream;
    bool partial;
    const char *content; /* points into the parsed line, without the newline */
    size_t content_len;
};
/* Parses one record (line without its '\n'). -EINVAL if malformed. */
int kos_crilog_parse(const char *line, size_t len, struct kos_crilog_entry *e);

/* Writes "2026-01-02T03:04:05.123456789Z" (buffer >= 40). */
void kos_crilog_format_time(int64_t ns, char *out, size_t size);

/* What `kubectl logs` asks for (the kubelet's ContainerLogsOptions subset). */
struct kos_log_options {
    int64_t tail_lines;  /* < 0: all */
    int64_t limit_bytes; /* <= 0: no limit */
    bool timestamps;
    int64_t since_ns; /* > 0: only records at or after this time */
};

/* Appends the container log of one file to out as kubectl shows it (content only, or
 * "<RFC3339Nano> <content>" with timestamps). *offset returns the file offset read up to,
 * for follow (kos_crilog_read_from). */
int kos_crilog_read(const char *path, const struct kos_log_options *o, struct kos_buf *out,
                    int64_t *offset);
/* Appends the records from byte offset on (follow); *offset advances past complete
 * records only. Returns the number of bytes appended. */
int kos_crilog_read_from(const char *path, const struct kos_log_options *o, int64_t *offset,
                         bool *line_start, struct kos_buf *out);
