"""Server-side apply and metadata.managedFields end to end: kubectl 1.33 and 1.29
(`apply --server-side`, conflicts, --force-conflicts, --show-managed-fields, the upgrade from
client-side apply), the Python DynamicClient, and the API's answers to bad apply bodies."""

import json

import pytest

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: ssa
  labels:
    app: web{extra}
spec:
  containers:
  - name: nginx
    image: {image}
    ports:
    - containerPort: 80
"""


def pod_yaml(image="nginx:1.25", extra=""):
    return POD.format(image=image, extra=extra)


def get_json(k, *args):
    return json.loads(k.run("-n", "ssa", "get", *args, "-o", "json").stdout)


def entries(obj):
    return {(e["manager"], e["operation"], e.get("subresource", "")): e
            for e in obj["metadata"].get("managedFields", [])}


@pytest.mark.parametrize("version", ["1.33", "1.29"])
def test_kubectl_server_side_apply(server, kubectl_factory, version):
    k = kubectl_factory(server, version)
    k.run("create", "namespace", "ssa")

    out = k.run("apply", "--server-side", "-f", "-", input=pod_yaml()).stdout
    assert "pod/web serverside-applied" in out
    first = get_json(k, "pod", "web", "--show-managed-fields")
    applied = entries(first)[("kubectl", "Apply", "")]
    assert applied["apiVersion"] == "v1" and applied["fieldsType"] == "FieldsV1"
    assert applied["fieldsV1"] == {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {"f:containers": {'k:{"name":"nginx"}': {
            ".": {}, "f:image": {}, "f:name": {},
            "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {
                ".": {}, "f:containerPort": {}}}}}}}
    # without --show-managed-fields kubectl hides them
    assert "managedFields" not in get_json(k, "pod", "web")["metadata"]

    k.run("apply", "--server-side", "-f", "-", input=pod_yaml())  # unchanged: still fine

    # the same configuration again writes nothing (a config map: nothing else writes to it)
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: ssa}\ndata: {a: b}\n"
    k.run("apply", "--server-side", "-f", "-", input=cm)
    before = get_json(k, "cm", "cm")["metadata"]["resourceVersion"]
    k.run("apply", "--server-side", "-f", "-", input=cm)
    assert get_json(k, "cm", "cm")["metadata"]["resourceVersion"] == before

    # kubectl label owns what it sets; applying another value conflicts with it
    k.run("-n", "ssa", "label", "pod", "web", "team=blue", "extra=1")
    p = k.run("apply", "--server-side", "-f", "-",
              input=pod_yaml(extra="\n    team: red"), check=False)
    assert p.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl-label"' in p.stderr
    assert ".metadata.labels.team" in p.stderr
    assert get_json(k, "pod", "web")["metadata"]["labels"]["team"] == "blue"

    k.run("apply", "--server-side", "--force-conflicts", "-f", "-",
          input=pod_yaml(extra="\n    team: red"))
    obj = get_json(k, "pod", "web", "--show-managed-fields")
    assert obj["metadata"]["labels"] == {"app": "web", "team": "red", "extra": "1"}
    e = entries(obj)
    assert e[("kubectl-label", "Update", "")]["fieldsV1"] == {
        "f:metadata": {"f:labels": {"f:extra": {}}}}
    assert e[("kubectl", "Apply", "")]["fieldsV1"]["f:metadata"] == {
        "f:labels": {"f:app": {}, "f:team": {}}}
    assert list(e)[0] == ("kubectl", "Apply", "")  # appliers first

    # a field the applier drops goes away; the label only kubectl-label owns stays
    k.run("apply", "--server-side", "-f", "-", input=pod_yaml())
    assert get_json(k, "pod", "web")["metadata"]["labels"] == {"app": "web", "extra": "1"}


def test_client_side_apply_then_server_side(server, kubectl_factory):
    k = kubectl_factory(server, "1.33")
    k.run("create", "namespace", "ssa")
    assert "pod/web created" in k.run("apply", "-f", "-", input=pod_yaml()).stdout
    obj = get_json(k, "pod", "web", "--show-managed-fields")
    csa = entries(obj)[("kubectl-client-side-apply", "Update", "")]
    assert csa["fieldsV1"]["f:metadata"]["f:annotations"] == {
        ".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}
    assert csa["time"].endswith("Z")
    # client-side apply stays as it was
    out = k.run("apply", "-f", "-", input=pod_yaml()).stdout
    assert "pod/web unchanged" in out

    # another manager changing the image conflicts with client-side apply's field
    p = k.run("apply", "--server-side", "--field-manager=other", "-f", "-",
              input=pod_yaml(image="nginx:1.26"), check=False)
    assert p.returncode == 1
    assert ('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: '
            '.spec.containers[name="nginx"].image') in p.stderr

    # kubectl itself upgrades: the fields last-applied still matches are taken over
    k.run("apply", "--server-side", "-f", "-", input=pod_yaml(image="nginx:1.26"))
    obj = get_json(k, "pod", "web", "--show-managed-fields")
    assert obj["spec"]["containers"][0]["image"] == "nginx:1.26"
    last = json.loads(obj["metadata"]["annotations"][
        "kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["containers"][0]["image"] == "nginx:1.26"
    e = entries(obj)
    assert "f:image" in e[("kubectl", "Apply", "")]["fieldsV1"]["f:spec"]["f:containers"][
        'k:{"name":"nginx"}']


def test_apply_api(server):
    base = "/api/v1/namespaces/default/configmaps/cm"

    def apply(body, query="?fieldManager=tool", content_type="application/apply-patch+yaml"):
        return server.request("PATCH", base + query, body, content_type=content_type)

    # real YAML creates (201), then updates (200)
    yaml_body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: '1'\n"
    status, obj, _ = apply(yaml_body)
    assert status == 201, obj
    assert obj["data"] == {"a": "1"}
    [entry] = obj["metadata"]["managedFields"]
    assert entry["manager"] == "tool" and entry["operation"] == "Apply"
    assert entry["fieldsV1"] == {"f:data": {"f:a": {}}}
    status, obj, _ = apply(yaml_body.replace("'1'", "'2'"))
    assert status == 200 and obj["data"] == {"a": "2"}

    # a merge patch is an Update of the User-Agent's product name
    status, obj, _ = server.request("PATCH", base, {"data": {"b": "x"}},
                                    content_type="application/merge-patch+json",
                                    headers={"User-Agent": "my-tool/1.0 (linux)"})
    assert status == 200
    e = entries(obj)
    assert e[("my-tool", "Update", "")]["fieldsV1"] == {"f:data": {"f:b": {}}}

    # conflict: the Status kube-apiserver sends
    b3 = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"data":{"b":"3"}}'
    status, st, _ = apply(b3, "?fieldManager=t2")
    assert status == 409
    assert st["reason"] == "Conflict" and st["code"] == 409
    assert st["message"] == ('Apply failed with 1 conflict: conflict with "my-tool" using v1: '
                             '.data.b')
    assert st["details"] == {"causes": [{
        "reason": "FieldManagerConflict", "message": 'conflict with "my-tool" using v1',
        "field": ".data.b"}]}
    status, obj, _ = apply(b3, "?fieldManager=t2&force=true")
    assert status == 200 and obj["data"]["b"] == "3"
    assert ("my-tool", "Update", "") not in entries(obj)

    # bodies that do not name this object
    status, st, _ = apply('{"apiVersion":"v1","kind":"Secret","metadata":{"name":"cm"}}')
    assert (status, st["reason"]) == (400, "BadRequest")
    assert st["message"] == "invalid object type: /v1, Kind=Secret"
    status, st, _ = apply('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"}}')
    assert status == 400
    assert st["message"] == "the name of the object (other) does not match the name on the URL (cm)"
    status, st, _ = apply('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm",'
                          '"managedFields":[]}}')
    assert (status, st["message"]) == (400, "metadata.managedFields must be nil")
    status, st, _ = apply('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}',
                          query="")
    assert status == 422 and st["reason"] == "Invalid"
    assert st["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required '
                             'value: is required for apply patch')
    status, st, _ = apply('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}',
                          query="?fieldManager=a%01b")
    assert status == 422 and "fieldManager: Invalid value" in st["message"]
    status, st, _ = server.request("PATCH", base + "?force=true", {"data": {}},
                                   content_type="application/merge-patch+json")
    assert status == 422
    assert st["message"] == ('PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not '
                             'be specified for non-apply patch')
    # the object is untouched by all of that
    status, obj, _ = server.request("GET", base)
    assert obj["data"] == {"a": "2", "b": "3"}


def test_python_dynamic_client_server_side_apply(server, tmp_path):
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes import config, dynamic

    api = config.new_client_from_config(config_file=server.kubeconfig)
    try:
        dc = dynamic.DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))
        cms = dc.resources.get(api_version="v1", kind="ConfigMap")
        body = ('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"py"},'
                '"data":{"k":"v"}}')
        first = cms.server_side_apply(namespace="default", name="py", field_manager="py",
                                      body=body)
        assert first.data.k == "v"
        again = cms.server_side_apply(namespace="default", name="py", field_manager="py",
                                      body=body)
        assert again.metadata.resourceVersion == first.metadata.resourceVersion
        [entry] = again.metadata.managedFields
        assert entry.manager == "py" and entry.operation == "Apply"
        with pytest.raises(kubernetes.dynamic.exceptions.ConflictError):
            cms.server_side_apply(namespace="default", name="py", field_manager="py2",
                                  body=body.replace('"v"', '"w"'))
    finally:
        api.close()
