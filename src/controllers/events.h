/* An event recorder: what components did, as core/v1 Events that `kubectl get events` and
 * `kubectl describe` show. Like client-go's recorder it names events `<object>.<hex time>`,
 * files events of cluster-scoped objects under "default", and folds a repeat of the same
 * event (same object, type, reason and message) into the first one's count and
 * lastTimestamp. Writes go through the API client; failures are ignored (an event must never
 * stop a controller), e.g. in a namespace that is being terminated. */
#pragma once

#include <jansson.h>
#include <time.h>

#include "client/client.h"
#include "util/buf.h"

#define KOS_EVENT_NORMAL  "Normal"
#define KOS_EVENT_WARNING "Warning"

struct kos_event_recorder;

/* component: source.component and reportingController ("garbage-collector-controller"). */
int kos_event_recorder_new(struct kos_client *c, const char *component,
                           struct kos_event_recorder **ret);
void kos_event_recorder_free(struct kos_event_recorder *r);

/* involved: the object the event is about (apiVersion, kind, metadata.namespace, name, uid
 * and resourceVersion are used; a top-level "fieldPath" string, which no object has, names a
 * part of it: spec.containers{name}). Returns 0 or the negative errno of the failed write. */
int kos_event_record(struct kos_event_recorder *r, const json_t *involved, const char *type,
                     const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The involved object by its fields (NULL or "" where absent; name required), for a writer
 * that has them at hand rather than the object. */
struct kos_event_object {
    const char *api_version;
    const char *kind;
    const char *ns;
    const char *name;
    const char *uid;
    const char *resource_version;
    const char *field_path; /* a part of the object: spec.containers{name} */
};

/* kos_event_record with the object's fields and a message already formatted. */
int kos_event_record_object(struct kos_event_recorder *r, const struct kos_event_object *o,
                            const char *type, const char *reason, const char *message);

/* As kos_event_record, with metadata.annotations on the Event (client-go's AnnotatedEventf;
 * annotations: an object of strings, may be NULL). A repeat folded into an earlier event
 * keeps that event's annotations. */
int kos_event_record_annotated(struct kos_event_recorder *r, const json_t *involved,
                               const json_t *annotations, const char *type, const char *reason,
                               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The Event of a first occurrence, encoded as JSON onto out (what the recorder sends): its
 * name is the object's (shortened so that the suffix always fits a valid name) with
 * name_suffix in hex, its namespace the object's or "default", now its timestamps;
 * annotations may be NULL. -EINVAL without a name, -E2BIG past out's limit. */
int kos_event_encode(const char *component, const struct kos_event_object *o,
                     const json_t *annotations, const char *type, const char *reason,
                     const char *message, time_t now, unsigned long long name_suffix,
                     struct kos_buf *out);
