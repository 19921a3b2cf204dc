"""auth can-i / auth whoami (self-subject reviews) and kubectl explain (OpenAPI v3 schemas)."""

import pytest


@pytest.mark.parametrize("version", ["1.29", "1.31"])
def test_auth_can_i_and_whoami(server, kubectl_factory, version):
    k = kubectl_factory(server, version)
    p = k.run("auth", "can-i", "create", "pods")
    assert p.stdout.strip() == "yes"
    p = k.run("auth", "can-i", "--list")
    assert "*.*" in p.stdout
    p = k.run("auth", "whoami")
    assert "kubernetes-admin" in p.stdout and "system:masters" in p.stdout


def test_reviews_over_http(server):
    status, r, _ = server.request(
        "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
         "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}})
    assert status == 201 and r["status"]["allowed"] is True
    assert r["spec"]["resourceAttributes"]["verb"] == "get"
    status, r, _ = server.request(
        "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}})
    assert status == 422 and r["reason"] == "Invalid"
    status, r, _ = server.request("GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    assert status == 405
    status, r, _ = server.request(
        "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert status == 201 and r["status"]["userInfo"] == {
        "username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]}


def test_explain(server, kubectl_factory):
    k = kubectl_factory(server, "1.33")
    out = k.run("explain", "pods").stdout
    assert "KIND:       Pod" in out and "spec\t<PodSpec>" in out
    out = k.run("explain", "pods.spec.containers.resources").stdout
    assert "limits\t<map[string]Quantity>" in out
    out = k.run("explain", "deployment.spec.strategy").stdout
    assert "GROUP:      apps" in out and "rollingUpdate" in out
    status, doc, _ = server.request("GET", "/openapi/v3/api/v1")
    spec = doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]
    assert spec["containers"]["x-kubernetes-patch-merge-key"] == "name"
