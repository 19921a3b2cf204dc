"""End-to-end: Debian's python3-kubernetes 22.6 (run with /usr/bin/python3) against a real kos.

Covers what the Python client sends (kubectl-contract.md §9): create/read/list/patch/replace/
delete through the typed APIs, watch, VersionApi, the DynamicClient, and that the generated
models accept every object kos returns (a missing required field raises ValueError)."""

import glob
import os
import threading
import uuid

import pytest

kubernetes = pytest.importorskip("kubernetes")

from kubernetes import client, config, dynamic, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

PAUSE = "registry.k8s.io/pause:3.9"


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def api(shared_server):
    """A fresh ApiClient per test, loaded from kos's admin.kubeconfig."""
    c = config.new_client_from_config(config_file=shared_server.kubeconfig)
    try:
        yield c
    finally:
        c.close()


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


@pytest.fixture
def ns(api):
    """A namespace of its own for each test, created through the client."""
    name = unique("py")
    client.CoreV1Api(api).create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    try:
        client.CoreV1Api(api).delete_namespace(name)
    except ApiException:
        pass


def pod_model(name, labels=None, resources=None):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {"app": name}),
        spec=client.V1PodSpec(containers=[client.V1Container(
            name="c", image=PAUSE, resources=resources)]))


def pod_template(labels):
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image=PAUSE)]))


def remove_discovery_cache():
    for f in glob.glob("/tmp/osrcp-*.json"):
        try:
            os.unlink(f)
        except OSError:
            pass


# ---------------------------------------------------------------- version


def test_version_get_code(api, shared_server):
    v = client.VersionApi(api).get_code()  # GET /version/ (trailing slash)
    assert v.major == "1"
    assert v.minor.rstrip("+").isdigit()
    assert v.git_version.startswith("v1.")
    assert v.platform

    # load_kube_config into a Configuration of our own, then a fresh ApiClient from it.
    cfg = client.Configuration()
    config.load_kube_config(config_file=shared_server.kubeconfig, client_configuration=cfg)
    assert cfg.host == shared_server.url
    with client.ApiClient(cfg) as other:
        assert client.VersionApi(other).get_code().git_version == v.git_version


# ---------------------------------------------------------------- create / read / list


def test_create_read_core_objects(api, ns):
    core = client.CoreV1Api(api)

    pod = core.create_namespaced_pod(ns, pod_model("web"))
    assert isinstance(pod, client.V1Pod)
    assert pod.metadata.name == "web"
    assert pod.metadata.namespace == ns
    assert pod.metadata.uid
    assert pod.metadata.resource_version
    assert pod.metadata.creation_timestamp is not None
    assert pod.kind == "Pod" and pod.api_version == "v1"

    cm = core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="cfg"), data={"k": "v"}))
    assert cm.data == {"k": "v"}

    sec = core.create_namespaced_secret(ns, client.V1Secret(
        metadata=client.V1ObjectMeta(name="sec"), string_data={"password": "hunter2"},
        type="Opaque"))
    assert sec.metadata.name == "sec"
    got = core.read_namespaced_secret("sec", ns)
    assert got.data == {"password": "aHVudGVyMg=="}  # stringData is folded into base64 data
    assert got.type == "Opaque"

    svc = core.create_namespaced_service(ns, client.V1Service(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1ServiceSpec(selector={"app": "web"},
                                  ports=[client.V1ServicePort(port=80, target_port=8080)])))
    assert svc.spec.ports[0].port == 80
    assert svc.spec.type == "ClusterIP"  # defaulted

    assert core.read_namespaced_pod("web", ns).metadata.uid == pod.metadata.uid
    assert core.read_namespaced_config_map("cfg", ns).data == {"k": "v"}
    assert core.read_namespaced_service("web", ns).spec.selector == {"app": "web"}
    assert core.read_namespace(ns).metadata.name == ns


def test_create_workloads_and_cluster_objects(api, ns):
    apps = client.AppsV1Api(api)
    batch = client.BatchV1Api(api)
    core = client.CoreV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)

    d = apps.create_namespaced_deployment(ns, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="d1"),
        spec=client.V1DeploymentSpec(
            replicas=2, selector=client.V1LabelSelector(match_labels={"app": "d1"}),
            template=pod_template({"app": "d1"}))))
    assert d.spec.replicas == 2
    assert d.metadata.generation == 1
    assert apps.read_namespaced_deployment("d1", ns).spec.selector.match_labels == {"app": "d1"}

    j = batch.create_namespaced_job(ns, client.V1Job(
        metadata=client.V1ObjectMeta(name="j1"),
        spec=client.V1JobSpec(template=client.V1PodTemplateSpec(
            spec=client.V1PodSpec(restart_policy="Never", containers=[
                client.V1Container(name="c", image="busybox", command=["true"])])))))
    assert j.metadata.name == "j1"
    assert batch.read_namespaced_job("j1", ns).spec.template.spec.restart_policy == "Never"

    pv_name, sc_name, pc_name, crb_name = (unique("pv"), unique("sc"), unique("pc"),
                                           unique("crb"))
    try:
        pv = core.create_persistent_volume(client.V1PersistentVolume(
            metadata=client.V1ObjectMeta(name=pv_name),
            spec=client.V1PersistentVolumeSpec(
                capacity={"storage": "1Gi"}, access_modes=["ReadWriteOnce"],
                host_path=client.V1HostPathVolumeSource(path="/tmp/" + pv_name))))
        assert pv.metadata.namespace is None
        assert core.read_persistent_volume(pv_name).spec.capacity == {"storage": "1Gi"}

        sc = client.StorageV1Api(api).create_storage_class(client.V1StorageClass(
            metadata=client.V1ObjectMeta(name=sc_name), provisioner="kos.io/local"))
        assert sc.provisioner == "kos.io/local"
        assert client.StorageV1Api(api).read_storage_class(sc_name).provisioner == "kos.io/local"

        pc = client.SchedulingV1Api(api).create_priority_class(client.V1PriorityClass(
            metadata=client.V1ObjectMeta(name=pc_name), value=1000, description="test"))
        assert pc.value == 1000
        assert client.SchedulingV1Api(api).read_priority_class(pc_name).value == 1000

        lease = client.CoordinationV1Api(api).create_namespaced_lease(ns, client.V1Lease(
            metadata=client.V1ObjectMeta(name="l1"),
            spec=client.V1LeaseSpec(holder_identity="me", lease_duration_seconds=15)))
        assert lease.spec.holder_identity == "me"
        assert client.CoordinationV1Api(api).read_namespaced_lease(
            "l1", ns).spec.lease_duration_seconds == 15

        role = rbac.create_namespaced_role(ns, client.V1Role(
            metadata=client.V1ObjectMeta(name="reader"),
            rules=[client.V1PolicyRule(api_groups=[""], resources=["pods"],
                                       verbs=["get", "list"])]))
        assert role.rules[0].verbs == ["get", "list"]
        assert rbac.read_namespaced_role("reader", ns).rules[0].resources == ["pods"]

        crb = rbac.create_cluster_role_binding(client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=crb_name),
            role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io",
                                      kind="ClusterRole", name="view"),
            subjects=[client.V1Subject(kind="User", name="alice",
                                       api_group="rbac.authorization.k8s.io")]))
        assert crb.role_ref.name == "view"
        assert rbac.read_cluster_role_binding(crb_name).subjects[0].name == "alice"
    finally:
        for fn, name in ((core.delete_persistent_volume, pv_name),
                         (client.StorageV1Api(api).delete_storage_class, sc_name),
                         (client.SchedulingV1Api(api).delete_priority_class, pc_name),
                         (rbac.delete_cluster_role_binding, crb_name)):
            try:
                fn(name)
            except ApiException:
                pass


def test_list_namespaced_and_all_namespaces(api, ns):
    core = client.CoreV1Api(api)
    other = unique("py-other")
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        core.create_namespaced_pod(ns, pod_model("a", labels={"tier": "front"}))
        core.create_namespaced_pod(ns, pod_model("b", labels={"tier": "back"}))
        core.create_namespaced_pod(other, pod_model("c", labels={"tier": "front"}))

        lst = core.list_namespaced_pod(ns)
        assert isinstance(lst, client.V1PodList)
        assert sorted(p.metadata.name for p in lst.items) == ["a", "b"]
        assert lst.metadata.resource_version

        every = core.list_pod_for_all_namespaces()
        mine = sorted((p.metadata.namespace, p.metadata.name) for p in every.items
                      if p.metadata.namespace in (ns, other))
        assert mine == sorted([(ns, "a"), (ns, "b"), (other, "c")])

        front = core.list_pod_for_all_namespaces(label_selector="tier=front")
        assert sorted(p.metadata.name for p in front.items
                      if p.metadata.namespace in (ns, other)) == ["a", "c"]
        one = core.list_namespaced_pod(ns, field_selector="metadata.name=b")
        assert [p.metadata.name for p in one.items] == ["b"]
    finally:
        core.delete_namespace(other)


# ---------------------------------------------------------------- patch


def test_strategic_merge_patch_from_dict(api, ns):
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(ns, pod_model("p", labels={"a": "1"}))
    # A dict body: the client sends application/strategic-merge-patch+json.
    out = core.patch_namespaced_pod("p", ns, {
        "metadata": {"labels": {"b": "2"}},
        "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}})
    assert out.metadata.labels == {"a": "1", "b": "2"}
    # Strategic merge on the containers list (merge key "name"), not a replacement.
    assert len(out.spec.containers) == 1
    assert out.spec.containers[0].image == "registry.k8s.io/pause:3.10"
    assert out.spec.containers[0].name == "c"

    cm = core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="cm"), data={"x": "1", "y": "2"}))
    out = core.patch_namespaced_config_map("cm", ns, {"data": {"y": None, "z": "3"}})
    assert out.data == {"x": "1", "z": "3"}
    assert int(out.metadata.resource_version) > int(cm.metadata.resource_version)


def test_json_patch_from_list(api, ns):
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="cm"), data={"x": "1"}))
    # A list body: the client sends application/json-patch+json.
    out = core.patch_namespaced_config_map("cm", ns, [
        {"op": "add", "path": "/data/y", "value": "2"},
        {"op": "replace", "path": "/data/x", "value": "10"},
        {"op": "add", "path": "/metadata/labels", "value": {"l": "v"}}])
    assert out.data == {"x": "10", "y": "2"}
    assert out.metadata.labels == {"l": "v"}

    with pytest.raises(ApiException) as ei:  # a failing "test" op leaves the object alone
        core.patch_namespaced_config_map("cm", ns, [
            {"op": "test", "path": "/data/x", "value": "nope"},
            {"op": "remove", "path": "/data/x"}])
    assert ei.value.status in (409, 422)
    assert core.read_namespaced_config_map("cm", ns).data == {"x": "10", "y": "2"}


def test_merge_patch_content_type(api, ns):
    """22.6's typed API has no `_content_type`; merge-patch is sent through call_api and the
    DynamicClient, as scripts do."""
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="cm"), data={"x": "1", "y": "2"}))
    out = api.call_api(
        "/api/v1/namespaces/{namespace}/configmaps/{name}", "PATCH",
        path_params={"namespace": ns, "name": "cm"},
        header_params={"Content-Type": "application/merge-patch+json",
                       "Accept": "application/json"},
        body={"data": {"x": None, "w": "4"}}, response_type="V1ConfigMap",
        auth_settings=["BearerToken"], _return_http_data_only=True)
    assert out.data == {"y": "2", "w": "4"}

    # Merge patch replaces lists wholesale (unlike strategic merge).
    core.create_namespaced_pod(ns, pod_model("p"))
    out = api.call_api(
        "/api/v1/namespaces/{namespace}/pods/{name}", "PATCH",
        path_params={"namespace": ns, "name": "p"},
        header_params={"Content-Type": "application/merge-patch+json",
                       "Accept": "application/json"},
        body={"metadata": {"annotations": {"merged": "yes"}}}, response_type="V1Pod",
        auth_settings=["BearerToken"], _return_http_data_only=True)
    assert out.metadata.annotations == {"merged": "yes"}


# ---------------------------------------------------------------- replace / conflicts


def test_replace_and_stale_resource_version_conflict(api, ns):
    core = client.CoreV1Api(api)
    cm = core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="cm"), data={"v": "1"}))
    stale_rv = cm.metadata.resource_version

    cm.data = {"v": "2"}
    fresh = core.replace_namespaced_config_map("cm", ns, cm)
    assert fresh.data == {"v": "2"}
    assert fresh.metadata.resource_version != stale_rv
    assert fresh.metadata.uid == cm.metadata.uid

    cm.data = {"v": "3"}
    cm.metadata.resource_version = stale_rv
    with pytest.raises(ApiException) as ei:
        core.replace_namespaced_config_map("cm", ns, cm)
    assert ei.value.status == 409
    body = api.deserialize(FakeResponse(ei.value.body), "V1Status")
    assert body.reason == "Conflict"
    assert "the object has been modified" in body.message
    assert core.read_namespaced_config_map("cm", ns).data == {"v": "2"}

    with pytest.raises(ApiException) as ei:
        core.create_namespaced_config_map(ns, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="cm")))
    assert ei.value.status == 409
    assert api.deserialize(FakeResponse(ei.value.body), "V1Status").reason == "AlreadyExists"

    with pytest.raises(ApiException) as ei:
        core.read_namespaced_config_map("nope", ns)
    assert ei.value.status == 404


class FakeResponse:
    """What ApiClient.deserialize wants: an object with .data."""

    def __init__(self, data):
        self.data = data


def test_errors_deserialize_as_status(api, ns):
    core = client.CoreV1Api(api)
    with pytest.raises(ApiException) as ei:
        core.create_namespaced_config_map(ns, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="Bad_Name")))
    assert ei.value.status == 422
    st = api.deserialize(FakeResponse(ei.value.body), "V1Status")
    assert st.reason == "Invalid" and st.code == 422
    assert st.details.kind == "ConfigMap" and st.details.name == "Bad_Name"
    assert [c.field for c in st.details.causes] == ["metadata.name"]

    with pytest.raises(ApiException) as ei:
        core.create_namespaced_config_map("no-such-namespace", client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="x")))
    assert ei.value.status == 404
    st = api.deserialize(FakeResponse(ei.value.body), "V1Status")
    assert st.reason == "NotFound"
    assert st.message == 'namespaces "no-such-namespace" not found'


def test_dry_run_and_generate_name(api, ns):
    core = client.CoreV1Api(api)
    dry = core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="dry"), data={"a": "b"}), dry_run="All")
    assert dry.metadata.name == "dry" and dry.data == {"a": "b"}
    with pytest.raises(ApiException) as ei:
        core.read_namespaced_config_map("dry", ns)
    assert ei.value.status == 404

    made = core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(generate_name="gen-")))
    assert made.metadata.name.startswith("gen-") and len(made.metadata.name) > len("gen-")
    assert made.metadata.generate_name == "gen-"
    assert core.read_namespaced_config_map(made.metadata.name, ns).metadata.uid == \
        made.metadata.uid


def test_subresources_status_and_scale(api, ns):
    core = client.CoreV1Api(api)
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(ns, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="d"),
        spec=client.V1DeploymentSpec(replicas=1,
                                     selector=client.V1LabelSelector(match_labels={"a": "b"}),
                                     template=pod_template({"a": "b"}))))
    scale = apps.read_namespaced_deployment_scale("d", ns)
    assert isinstance(scale, client.V1Scale)
    assert scale.spec.replicas == 1
    scale = apps.patch_namespaced_deployment_scale("d", ns, {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3
    assert apps.read_namespaced_deployment("d", ns).spec.replicas == 3

    core.create_namespaced_pod(ns, pod_model("p"))
    st = core.read_namespaced_pod_status("p", ns)
    assert isinstance(st, client.V1Pod)
    out = core.patch_namespaced_pod_status("p", ns, {
        "status": {"conditions": [{"type": "Ready", "status": "False"}]}})
    assert any(c.type == "Ready" for c in out.status.conditions)


def test_delete_collection(api, ns):
    core = client.CoreV1Api(api)
    for name, tier in (("a", "x"), ("b", "x"), ("c", "y")):
        core.create_namespaced_config_map(ns, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=name, labels={"tier": tier})))
    core.delete_collection_namespaced_config_map(ns, label_selector="tier=x")
    left = [c.metadata.name for c in core.list_namespaced_config_map(ns).items
            if c.metadata.name in ("a", "b", "c")]
    assert left == ["c"]


# ---------------------------------------------------------------- delete


def test_delete_with_options_in_query(api, ns):
    core = client.CoreV1Api(api)
    apps = client.AppsV1Api(api)
    core.create_namespaced_pod(ns, pod_model("p"))
    core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="cm")))
    apps.create_namespaced_deployment(ns, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="d"),
        spec=client.V1DeploymentSpec(selector=client.V1LabelSelector(match_labels={"a": "b"}),
                                     template=pod_template({"a": "b"}))))

    core.delete_namespaced_pod("p", ns, grace_period_seconds=0,
                               propagation_policy="Background")
    core.delete_namespaced_config_map("cm", ns, propagation_policy="Orphan")
    apps.delete_namespaced_deployment("d", ns, propagation_policy="Background",
                                      grace_period_seconds=0)

    for read in (lambda: core.read_namespaced_pod("p", ns),
                 lambda: core.read_namespaced_config_map("cm", ns),
                 lambda: apps.read_namespaced_deployment("d", ns)):
        with pytest.raises(ApiException) as ei:
            read()
        assert ei.value.status == 404

    # A body V1DeleteOptions (what kubectl sends) works too.
    core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="cm2")))
    core.delete_namespaced_config_map("cm2", ns, body=client.V1DeleteOptions(
        propagation_policy="Foreground"))
    assert "cm2" not in [c.metadata.name for c in core.list_namespaced_config_map(ns).items]

    with pytest.raises(ApiException) as ei:
        core.delete_namespaced_pod("p", ns)
    assert ei.value.status == 404


# ---------------------------------------------------------------- watch


def test_watch_sees_existing_and_changes(api, ns):
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(ns, pod_model("old1"))
    core.create_namespaced_pod(ns, pod_model("old2"))

    # The stream ends by itself after timeoutSeconds: ADDED for each existing pod.
    w = watch.Watch()
    seen = [(e["type"], e["object"].metadata.name)
            for e in w.stream(core.list_namespaced_pod, ns, timeout_seconds=3)]
    assert sorted(seen) == [("ADDED", "old1"), ("ADDED", "old2")]

    # Changes from another thread, started once the watch has delivered the current state.
    errors = []

    def mutate():
        try:
            c = client.CoreV1Api(api)
            c.create_namespaced_pod(ns, pod_model("new"))
            c.patch_namespaced_pod("new", ns, {"metadata": {"labels": {"changed": "yes"}}})
            c.delete_namespaced_pod("new", ns, grace_period_seconds=0)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    events = []
    started = None
    w = watch.Watch()
    # Re-watch from the last seen resourceVersion if a stream ends before DELETED arrives, so
    # the outcome does not depend on how fast the other thread runs.
    for _ in range(10):
        kwargs = {"timeout_seconds": 3}
        if w.resource_version:
            kwargs["resource_version"] = w.resource_version
        for e in w.stream(core.list_namespaced_pod, ns, **kwargs):
            obj = e["object"]
            events.append((e["type"], obj.metadata.name, obj))
            if started is None and len(events) == 2:
                started = threading.Thread(target=mutate)
                started.start()
            if e["type"] == "DELETED" and obj.metadata.name == "new":
                w.stop()
                break
        if any(t == "DELETED" and n == "new" for t, n, _ in events):
            break
    if started:
        started.join(30)
    assert not errors, errors
    assert sorted((t, n) for t, n, _ in events[:2]) == [("ADDED", "old1"), ("ADDED", "old2")]
    changes = [(t, n) for t, n, _ in events[2:] if n == "new"]
    assert changes == [("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "new")]
    modified = [o for t, n, o in events if t == "MODIFIED" and n == "new"][0]
    assert modified.metadata.labels.get("changed") == "yes"
    assert isinstance(modified, client.V1Pod)


def test_watch_with_label_selector_and_raw_events(api, ns):
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(ns, pod_model("x", labels={"sel": "yes"}))
    core.create_namespaced_pod(ns, pod_model("y", labels={"sel": "no"}))
    w = watch.Watch()
    events = list(w.stream(core.list_namespaced_pod, ns, label_selector="sel=yes",
                           timeout_seconds=2))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "x")]
    assert events[0]["raw_object"]["kind"] == "Pod"
    assert events[0]["raw_object"]["apiVersion"] == "v1"


# ---------------------------------------------------------------- pod QoS defaulting


def test_pod_limits_only_is_guaranteed(api, ns):
    core = client.CoreV1Api(api)
    pod = core.create_namespaced_pod(ns, pod_model(
        "q", resources=client.V1ResourceRequirements(limits={"cpu": "1", "memory": "200Mi"})))
    res = pod.spec.containers[0].resources
    assert res.limits == {"cpu": "1", "memory": "200Mi"}
    assert res.requests == {"cpu": "1", "memory": "200Mi"}  # defaulted from limits
    assert pod.status is not None and pod.status.qos_class == "Guaranteed"
    again = core.read_namespaced_pod("q", ns)
    assert again.status.qos_class == "Guaranteed"
    assert again.spec.containers[0].resources.requests == {"cpu": "1", "memory": "200Mi"}

    burst = core.create_namespaced_pod(ns, pod_model(
        "b", resources=client.V1ResourceRequirements(requests={"cpu": "100m"})))
    assert burst.status.qos_class == "Burstable"
    best = core.create_namespaced_pod(ns, pod_model("e"))
    assert best.status.qos_class == "BestEffort"


# ---------------------------------------------------------------- every kind loads


def _create_one_of_each(api, ns, cluster_names):
    core = client.CoreV1Api(api)
    apps = client.AppsV1Api(api)
    labels = {"app": "all"}
    core.create_namespaced_pod(ns, pod_model("pod1", labels=labels))
    core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="cm1"), data={"a": "b"}))
    core.create_namespaced_secret(ns, client.V1Secret(
        metadata=client.V1ObjectMeta(name="sec1"), data={"a": "Yg=="}))
    core.create_namespaced_service_account(ns, client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name="sa1")))
    core.create_namespaced_service(ns, client.V1Service(
        metadata=client.V1ObjectMeta(name="svc1"),
        spec=client.V1ServiceSpec(selector=labels, ports=[client.V1ServicePort(port=80)])))
    core.create_namespaced_endpoints(ns, client.V1Endpoints(
        metadata=client.V1ObjectMeta(name="ep1"),
        subsets=[client.V1EndpointSubset(
            addresses=[client.V1EndpointAddress(ip="10.0.0.1")],
            ports=[client.CoreV1EndpointPort(port=80)])]))
    core.create_namespaced_event(ns, client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="ev1"),
        involved_object=client.V1ObjectReference(kind="Pod", name="pod1", namespace=ns),
        reason="Testing", message="hello", type="Normal", count=1))
    core.create_persistent_volume(client.V1PersistentVolume(
        metadata=client.V1ObjectMeta(name=cluster_names["pv"]),
        spec=client.V1PersistentVolumeSpec(
            capacity={"storage": "1Gi"}, access_modes=["ReadWriteOnce"],
            host_path=client.V1HostPathVolumeSource(path="/tmp/pv"))))
    core.create_namespaced_persistent_volume_claim(ns, client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name="pvc1"),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"],
            resources=client.V1ResourceRequirements(requests={"storage": "1Gi"}))))
    core.create_node(client.V1Node(metadata=client.V1ObjectMeta(name=cluster_names["node"])))

    apps.create_namespaced_deployment(ns, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="d1"),
        spec=client.V1DeploymentSpec(selector=client.V1LabelSelector(match_labels=labels),
                                     template=pod_template(labels))))
    apps.create_namespaced_replica_set(ns, client.V1ReplicaSet(
        metadata=client.V1ObjectMeta(name="rs1"),
        spec=client.V1ReplicaSetSpec(replicas=0,
                                     selector=client.V1LabelSelector(match_labels=labels),
                                     template=pod_template(labels))))
    apps.create_namespaced_stateful_set(ns, client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name="sts1"),
        spec=client.V1StatefulSetSpec(replicas=0, service_name="svc1",
                                      selector=client.V1LabelSelector(match_labels=labels),
                                      template=pod_template(labels))))
    apps.create_namespaced_daemon_set(ns, client.V1DaemonSet(
        metadata=client.V1ObjectMeta(name="ds1"),
        spec=client.V1DaemonSetSpec(selector=client.V1LabelSelector(match_labels=labels),
                                    template=pod_template(labels))))
    client.BatchV1Api(api).create_namespaced_job(ns, client.V1Job(
        metadata=client.V1ObjectMeta(name="job1"),
        spec=client.V1JobSpec(template=client.V1PodTemplateSpec(
            spec=client.V1PodSpec(restart_policy="Never", containers=[
                client.V1Container(name="c", image="busybox")])))))
    client.PolicyV1Api(api).create_namespaced_pod_disruption_budget(
        ns, client.V1PodDisruptionBudget(
            metadata=client.V1ObjectMeta(name="pdb1"),
            spec=client.V1PodDisruptionBudgetSpec(
                min_available=1, selector=client.V1LabelSelector(match_labels=labels))))
    client.StorageV1Api(api).create_storage_class(client.V1StorageClass(
        metadata=client.V1ObjectMeta(name=cluster_names["sc"]), provisioner="kos.io/local"))
    client.SchedulingV1Api(api).create_priority_class(client.V1PriorityClass(
        metadata=client.V1ObjectMeta(name=cluster_names["pc"]), value=10))
    client.CoordinationV1Api(api).create_namespaced_lease(ns, client.V1Lease(
        metadata=client.V1ObjectMeta(name="lease1"),
        spec=client.V1LeaseSpec(holder_identity="x")))
    rbac = client.RbacAuthorizationV1Api(api)
    rule = client.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["get"])
    rbac.create_namespaced_role(ns, client.V1Role(
        metadata=client.V1ObjectMeta(name="role1"), rules=[rule]))
    rbac.create_namespaced_role_binding(ns, client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name="rb1"),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role",
                                  name="role1"),
        subjects=[client.V1Subject(kind="ServiceAccount", name="sa1", namespace=ns)]))
    rbac.create_cluster_role(client.V1ClusterRole(
        metadata=client.V1ObjectMeta(name=cluster_names["cr"]), rules=[rule]))
    rbac.create_cluster_role_binding(client.V1ClusterRoleBinding(
        metadata=client.V1ObjectMeta(name=cluster_names["crb"]),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole",
                                  name=cluster_names["cr"]),
        subjects=[client.V1Subject(kind="User", name="bob",
                                   api_group="rbac.authorization.k8s.io")]))


def test_models_load_every_served_kind(server):
    """Fresh server: one object of each kind, then every typed list (and read) must
    deserialize (the 22.6 models raise ValueError on a missing required field)."""
    api = config.new_client_from_config(config_file=server.kubeconfig)
    try:
        ns = "every"
        core = client.CoreV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        names = {"pv": "pv1", "node": "node-x", "sc": "sc1", "pc": "pc1", "cr": "cr1",
                 "crb": "crb1"}
        _create_one_of_each(api, ns, names)

        apps = client.AppsV1Api(api)
        rbac = client.RbacAuthorizationV1Api(api)
        lists = {
            "namespaces": core.list_namespace,
            "pods": core.list_pod_for_all_namespaces,
            "nodes": core.list_node,
            "configmaps": core.list_config_map_for_all_namespaces,
            "secrets": core.list_secret_for_all_namespaces,
            "serviceaccounts": core.list_service_account_for_all_namespaces,
            "services": core.list_service_for_all_namespaces,
            "endpoints": core.list_endpoints_for_all_namespaces,
            "events": core.list_event_for_all_namespaces,
            "persistentvolumes": core.list_persistent_volume,
            "persistentvolumeclaims": core.list_persistent_volume_claim_for_all_namespaces,
            "deployments": apps.list_deployment_for_all_namespaces,
            "replicasets": apps.list_replica_set_for_all_namespaces,
            "statefulsets": apps.list_stateful_set_for_all_namespaces,
            "daemonsets": apps.list_daemon_set_for_all_namespaces,
            "jobs": client.BatchV1Api(api).list_job_for_all_namespaces,
            "poddisruptionbudgets":
                client.PolicyV1Api(api).list_pod_disruption_budget_for_all_namespaces,
            "storageclasses": client.StorageV1Api(api).list_storage_class,
            "priorityclasses": client.SchedulingV1Api(api).list_priority_class,
            "leases": client.CoordinationV1Api(api).list_lease_for_all_namespaces,
            "roles": rbac.list_role_for_all_namespaces,
            "rolebindings": rbac.list_role_binding_for_all_namespaces,
            "clusterroles": rbac.list_cluster_role,
            "clusterrolebindings": rbac.list_cluster_role_binding,
        }
        failures = {}
        for plural, fn in lists.items():
            try:
                lst = fn()
                assert lst.items, "%s: the list is empty" % plural
                for item in lst.items:
                    assert item.metadata.name and item.metadata.uid
                    assert item.metadata.resource_version
                    assert item.metadata.creation_timestamp is not None
            except (ValueError, ApiException, AssertionError) as e:
                failures[plural] = "%s: %s" % (type(e).__name__, str(e)[:300])
        assert not failures, failures

        # Namespaced lists and single reads go through the same models.
        reads = [
            lambda: core.read_namespaced_pod("pod1", ns),
            lambda: core.read_namespaced_pod_status("pod1", ns),
            lambda: core.read_node(names["node"]),
            lambda: core.read_namespaced_event("ev1", ns),
            lambda: core.read_namespaced_endpoints("ep1", ns),
            lambda: core.read_namespaced_persistent_volume_claim("pvc1", ns),
            lambda: apps.read_namespaced_deployment("d1", ns),
            lambda: apps.read_namespaced_deployment_status("d1", ns),
            lambda: apps.read_namespaced_replica_set("rs1", ns),
            lambda: apps.read_namespaced_stateful_set("sts1", ns),
            lambda: apps.read_namespaced_daemon_set("ds1", ns),
            lambda: client.BatchV1Api(api).read_namespaced_job("job1", ns),
            lambda: client.PolicyV1Api(api).read_namespaced_pod_disruption_budget("pdb1", ns),
            lambda: rbac.read_namespaced_role_binding("rb1", ns),
            lambda: rbac.read_cluster_role(names["cr"]),
            lambda: core.list_namespaced_pod(ns),
            lambda: apps.list_namespaced_deployment(ns),
            lambda: core.list_namespaced_event(ns),
        ]
        for i, fn in enumerate(reads):
            try:
                fn()
            except (ValueError, ApiException) as e:
                failures[i] = "%s: %s" % (type(e).__name__, str(e)[:300])
        assert not failures, failures
    finally:
        api.close()


# ---------------------------------------------------------------- dynamic client


def test_dynamic_client(server, tmp_path):
    remove_discovery_cache()
    api = config.new_client_from_config(config_file=server.kubeconfig)
    try:
        dc = dynamic.DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))
        ns = "dyn"
        nsres = dc.resources.get(api_version="v1", kind="Namespace")
        nsres.create(body={"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": ns}})

        cms = dc.resources.get(api_version="v1", kind="ConfigMap")
        assert cms.namespaced and cms.name == "configmaps"
        created = cms.create(namespace=ns, body={
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dc"},
            "data": {"a": "1"}})
        assert created.metadata.name == "dc"
        assert created.data.a == "1"

        got = cms.get(name="dc", namespace=ns)
        assert got.metadata.uid == created.metadata.uid
        # besides the kube-root-ca.crt every namespace has (the root CA publisher's)
        assert [i.metadata.name for i in cms.get(namespace=ns).items
                if i.metadata.name != "kube-root-ca.crt"] == ["dc"]

        patched = cms.patch(name="dc", namespace=ns, body={"data": {"b": "2"}},
                            content_type="application/merge-patch+json")
        assert patched.data.b == "2" and patched.data.a == "1"

        deps = dc.resources.get(api_version="apps/v1", kind="Deployment")
        assert deps.group == "apps"
        d = deps.create(namespace=ns, body={
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "dd"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"containers": [{"name": "c", "image": PAUSE}]}}}})
        assert d.spec.template.spec.containers[0].name == "c"

        # Server-side apply through the dynamic client (a string body; kubectl-contract §9).
        applied = cms.server_side_apply(
            namespace=ns, name="ssa", field_manager="py",
            body='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"},'
                 '"data":{"k":"v"}}')
        assert applied.data.k == "v"

        for kind, api_version in (("Pod", "v1"), ("Lease", "coordination.k8s.io/v1"),
                                  ("ClusterRoleBinding", "rbac.authorization.k8s.io/v1"),
                                  ("StorageClass", "storage.k8s.io/v1")):
            r = dc.resources.get(api_version=api_version, kind=kind)
            r.get()  # lists decode

        cms.delete(name="dc", namespace=ns)
        with pytest.raises(dynamic.exceptions.NotFoundError):
            cms.get(name="dc", namespace=ns)
    finally:
        api.close()
        remove_discovery_cache()
