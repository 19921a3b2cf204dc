/* Wiring of the in-process controllers: one metadata informer per kind that can be listed
 * and watched (events excepted: they are many, change often and own nothing), the garbage
 * collector on all of them, the namespace controller on the namespaces one, the
 * service-accounts controller on namespaces and service accounts. */
#include "controllers/controllers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/informer.h"
#include "controllers/clusterrole_aggregation.h"
#include "controllers/endpoints/controllers.h"
#include "controllers/endpoints/index.h"
#include "controllers/events.h"
#include "controllers/garbage_collector.h"
#include "controllers/namespace.h"
#include "controllers/node_ipam.h"
#include "controllers/root_ca_publisher.h"
#include "controllers/serviceaccounts.h"

#define MAX_KINDS 64

struct kos_controllers {
    struct kos_client *client; /* the manager's: informers */
    struct kos_client *gc_client;
    struct kos_client *ns_client;
    struct kos_client *agg_client;
    struct kos_informer *informers[MAX_KINDS];
    size_t ninformers;
    struct kos_informer *namespaces;
    struct kos_informer *serviceaccounts;
    struct kos_informer *configmaps;
    struct kos_client *rca_client;
    struct kos_root_ca_publisher *rca;
    struct kos_event_recorder *gc_events;
    struct kos_event_recorder *ns_events;
    struct kos_gc *gc;
    struct kos_namespace_controller *nsc;
    struct kos_sa_controller *sac;
    /* full ClusterRoles (the metadata informers carry no rules) */
    struct kos_informer *clusterroles;
    struct kos_aggregation_controller *agg;
    /* node IPAM: full Nodes (it reads spec.podCIDR) */
    struct kos_client *ipam_client;
    struct kos_informer *nodes;
    struct kos_event_recorder *ipam_events;
    struct kos_node_ipam *ipam;
    /* endpoints and endpointslices: full pod and Service informers, the index they feed */
    struct kos_client *ep_client;
    struct kos_client *eps_client;
    struct kos_informer *pods_full;
    struct kos_informer *services_full;
    struct kos_informer *endpoints_full;
    struct kos_informer *slices_full;
    struct kos_ep_index *ep_index;
    struct kos_ep_controller *epc;
    struct kos_ep_controller *epsc;
};

static int start_node_ipam(struct kos_controllers *c, const struct kos_controllers_config *cfg)
{
    if (!cfg->allocate_node_cidrs)
        return 0;
    struct kos_informer_options o = {.kind = kos_kind_by_kind("", "Node"),
                                     .drop_managed_fields = true};
    int r = kos_client_new(cfg->node_ipam ? cfg->node_ipam : cfg->manager, &c->ipam_client);
    if (r == 0)
        r = o.kind ? kos_informer_new(c->client, &o, &c->nodes) : -ENOENT;
    if (r == 0)
        r = kos_event_recorder_new(c->ipam_client, "cidrAllocator", &c->ipam_events);
    if (r == 0)
        r = kos_node_ipam_new(c->ipam_client, c->nodes, c->ipam_events, &cfg->cluster_cidr,
                              cfg->node_cidr_mask_size, &c->ipam);
    if (r == 0)
        r = kos_informer_start(c->nodes);
    if (r == 0)
        r = kos_node_ipam_start(c->ipam);
    return r;
}

/* What the garbage collector and the namespace controller read of an object's metadata
 * (they GET the live object before they change anything): labels, annotations and the rest
 * of every object in the cluster would only take memory. */
static const char *const meta_fields[] = {"name",
                                          "namespace",
                                          "uid",
                                          "resourceVersion",
                                          "ownerReferences",
                                          "finalizers",
                                          "deletionTimestamp",
                                          "deletionGracePeriodSeconds",
                                          NULL};

static int make_informers(struct kos_controllers *c)
{
    size_t count;
    const struct kos_kind *const *all = kos_kinds_all(&count);
    for (size_t i = 0; i < count && c->ninformers < MAX_KINDS; i++) {
        const struct kos_kind *k = all[i];
        if ((k->verbs & (VERB_LIST | VERB_WATCH)) != (VERB_LIST | VERB_WATCH) ||
            (strcmp(k->kind, "Event") == 0 && !k->group[0]))
            continue;
        struct kos_informer_options o = {
            .kind = k, .metadata_only = true, .metadata_fields = meta_fields};
        struct kos_informer *inf = NULL;
        int r = kos_informer_new(c->client, &o, &inf);
        if (r < 0)
            return r;
        c->informers[c->ninformers++] = inf;
        if (strcmp(k->kind, "Namespace") == 0 && !k->group[0])
            c->namespaces = inf;
        if (strcmp(k->kind, "ServiceAccount") == 0 && !k->group[0])
            c->serviceaccounts = inf;
        if (strcmp(k->kind, "ConfigMap") == 0 && !k->group[0])
            c->configmaps = inf;
    }
    return c->namespaces && c->serviceaccounts && c->configmaps ? 0 : -ENOENT;
}

/* The endpoints and endpointslice controllers on full pod and Service informers (the
 * metadata ones carry no selectors, IPs or readiness). */
static int start_endpoints(struct kos_controllers *c, const struct kos_controllers_config *cfg)
{
    const struct kos_client_config *m = cfg->manager;
    int r = kos_client_new(cfg->endpoint_controller ? cfg->endpoint_controller : m, &c->ep_client);
    if (r == 0)
        r = kos_client_new(cfg->endpointslice_controller ? cfg->endpointslice_controller : m,
                           &c->eps_client);
    struct kos_informer_options po = {.kind = kos_kind_by_resource("", "v1", "pods"),
                                      .drop_managed_fields = true};
    struct kos_informer_options so = {.kind = kos_kind_by_resource("", "v1", "services"),
                                      .drop_managed_fields = true};
    if (r == 0)
        r = kos_informer_new(c->client, &po, &c->pods_full);
    if (r == 0)
        r = kos_informer_new(c->client, &so, &c->services_full);
    struct kos_informer_options eo = {.kind = kos_kind_by_resource("", "v1", "endpoints"),
                                      .drop_managed_fields = true};
    struct kos_informer_options lo = {.kind = kos_kind_by_kind("discovery.k8s.io", "EndpointSlice"),
                                      .drop_managed_fields = true};
    if (r == 0)
        r = kos_informer_new(c->client, &eo, &c->endpoints_full);
    if (r == 0)
        r = kos_informer_new(c->client, &lo, &c->slices_full);
    if (r == 0)
        r = kos_ep_index_new(c->pods_full, c->services_full, &c->ep_index);
    if (r == 0)
        r = kos_ep_controller_new(KOS_EP_ENDPOINTS, c->ep_client, c->services_full,
                                  c->endpoints_full, c->ep_index, &c->epc);
    if (r == 0)
        r = kos_ep_controller_new(KOS_EP_ENDPOINTSLICES, c->eps_client, c->services_full,
                                  c->slices_full, c->ep_index, &c->epsc);
    return r;
}

int kos_controllers_start(const struct kos_controllers_config *cfg, struct kos_controllers **ret)
{
    struct kos_controllers *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    const struct kos_client_config *m = cfg->manager;
    int r = kos_client_new(m, &c->client);
    if (r == 0)
        r = kos_client_new(cfg->garbage_collector ? cfg->garbage_collector : m, &c->gc_client);
    if (r == 0)
        r = kos_client_new(cfg->namespace_controller ? cfg->namespace_controller : m,
                           &c->ns_client);
    if (r == 0)
        r = kos_client_new(cfg->clusterrole_aggregation ? cfg->clusterrole_aggregation : m,
                           &c->agg_client);
    if (r == 0)
        r = make_informers(c);
    if (r == 0)
        r = kos_event_recorder_new(c->gc_client, "garbage-collector-controller", &c->gc_events);
    if (r == 0)
        r = kos_event_recorder_new(c->ns_client, "namespace-controller", &c->ns_events);
    if (r == 0)
        r = kos_gc_new(c->gc_client, c->informers, c->ninformers, c->gc_events, &c->gc);
    if (r == 0)
        r = kos_namespace_controller_new(c->ns_client, c->namespaces, c->ns_events, &c->nsc);
    /* the manager may create service accounts (system:kube-controller-manager) */
    if (r == 0)
        r = kos_sa_controller_new(c->client, c->namespaces, c->serviceaccounts, &c->sac);
    if (r == 0)
        r = kos_client_new(cfg->root_ca_publisher ? cfg->root_ca_publisher : m, &c->rca_client);
    /* a manager that trusts the server through a CA file has no CA to publish here */
    const char *ca = cfg->root_ca_pem ? cfg->root_ca_pem : m->ca_pem;
    if (r == 0 && ca && *ca)
        r = kos_root_ca_publisher_new(c->rca_client, c->namespaces, c->configmaps, ca, &c->rca);
    if (r == 0) {
        struct kos_informer_options o = {
            .kind = kos_kind_by_kind("rbac.authorization.k8s.io", "ClusterRole"),
            .drop_managed_fields = true};
        r = o.kind ? kos_informer_new(c->client, &o, &c->clusterroles) : -ENOENT;
    }
    if (r == 0)
        r = kos_aggregation_controller_new(c->agg_client, c->clusterroles, &c->agg);
    if (r == 0)
        r = start_endpoints(c, cfg);
    for (size_t i = 0; r == 0 && i < c->ninformers; i++)
        r = kos_informer_start(c->informers[i]);
    if (r == 0)
        r = kos_informer_start(c->clusterroles);
    if (r == 0)
        r = kos_aggregation_controller_start(c->agg);
    if (r == 0)
        r = kos_gc_start(c->gc);
    if (r == 0)
        r = kos_namespace_controller_start(c->nsc);
    if (r == 0)
        r = kos_sa_controller_start(c->sac);
    if (r == 0 && c->rca)
        r = kos_root_ca_publisher_start(c->rca);
    if (r == 0)
        r = start_node_ipam(c, cfg);
    r = kos_informer_start(c->pods_full);
    if (r == 0)
        r = kos_informer_start(c->services_full);
    if (r == 0)
        r = kos_informer_start(c->endpoints_full);
    if (r == 0)
        r = kos_informer_start(c->slices_full);
    if (r == 0)
        r = kos_ep_controller_start(c->epc);
    if (r == 0)
        r = kos_ep_controller_start(c->epsc);
    if (r < 0) {
        kos_controllers_stop(c);
        return r;
    }
    *ret = c;
    return 0;
}

void kos_controllers_stop(struct kos_controllers *c)
{
    if (!c)
        return;
    /* Workers first (no new requests), then the informers (no more handler calls), then
     * what the handlers used. */
    if (c->gc)
        kos_gc_stop(c->gc);
    if (c->nsc)
        kos_namespace_controller_stop(c->nsc);
    if (c->sac)
        kos_sa_controller_stop(c->sac);
    if (c->rca)
        kos_root_ca_publisher_stop(c->rca);
    kos_aggregation_controller_stop(c->agg);
    kos_node_ipam_stop(c->ipam);
    if (c->nodes)
        kos_informer_stop(c->nodes);
    kos_node_ipam_free(c->ipam);
    kos_informer_free(c->nodes);
    kos_event_recorder_free(c->ipam_events);
    kos_client_free(c->ipam_client);
    kos_ep_controller_stop(c->epc);
    kos_ep_controller_stop(c->epsc);
    if (c->pods_full)
        kos_informer_stop(c->pods_full);
    if (c->services_full)
        kos_informer_stop(c->services_full);
    if (c->endpoints_full)
        kos_informer_stop(c->endpoints_full);
    if (c->slices_full)
        kos_informer_stop(c->slices_full);
    for (size_t i = 0; i < c->ninformers; i++)
        kos_informer_stop(c->informers[i]);
    if (c->clusterroles)
        kos_informer_stop(c->clusterroles);
    kos_aggregation_controller_free(c->agg);
    kos_ep_controller_free(c->epc);
    kos_ep_controller_free(c->epsc);
    kos_informer_free(c->pods_full);
    kos_informer_free(c->services_full);
    kos_informer_free(c->endpoints_full);
    kos_informer_free(c->slices_full);
    kos_ep_index_free(c->ep_index);
    kos_client_free(c->ep_client);
    kos_client_free(c->eps_client);
    kos_informer_free(c->clusterroles);
    kos_gc_free(c->gc);
    kos_namespace_controller_free(c->nsc);
    kos_sa_controller_free(c->sac);
    kos_root_ca_publisher_free(c->rca);
    for (size_t i = 0; i < c->ninformers; i++)
        kos_informer_free(c->informers[i]);
    kos_event_recorder_free(c->gc_events);
    kos_event_recorder_free(c->ns_events);
    kos_client_free(c->client);
    kos_client_free(c->gc_client);
    kos_client_free(c->ns_client);
    kos_client_free(c->rca_client);
    kos_client_free(c->agg_client);
    free(c);
}
