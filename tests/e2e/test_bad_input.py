"""End-to-end: kos answers bad requests with a clean `Status` (kubectl-contract.md §6), keeps
serving, and stores nothing. Raw HTTPS only (KosServer.request, urllib, TLS sockets)."""

import json
import random
import socket
import threading
import urllib.request
import uuid

import pytest

MIB = 1024 * 1024
QUANTITY_REGEX = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"


# ---------------------------------------------------------------- helpers


def assert_status(body, code, reason):
    """body must be a Failure Status with this code and reason."""
    assert isinstance(body, dict), "not a JSON Status: %r" % (body[:300],)
    assert body.get("kind") == "Status", body
    assert body.get("apiVersion") == "v1", body
    assert body.get("status") == "Failure", body
    assert body.get("code") == code, body
    assert body.get("reason") == reason, body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


def assert_ready(server):
    assert server.proc.poll() is None, "kos exited:\n" + server.log()
    assert server.get_raw("/readyz") == b"ok"


def snapshot(server, path):
    """{name: resourceVersion} of everything a list returns (what "nothing changed" means)."""
    status, body, _ = server.request("GET", path)
    assert status == 200, body
    # kube-root-ca.crt: the root CA publisher makes it in every namespace, maybe meanwhile
    return {i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in body["items"]
            if i["metadata"]["name"] != "kube-root-ca.crt"}


def pod(name, **extra):
    p = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
         "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}
    p.update(extra)
    return p


def configmap(name, data=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": data or {"k": "v"}}


@pytest.fixture
def ns(shared_server):
    """A namespace per test on the module's server, with one pod and one configmap in it so
    that "nothing changed" compares something."""
    name = "bad-" + uuid.uuid4().hex[:8]
    s, b, _ = shared_server.request("POST", "/api/v1/namespaces",
                                    {"apiVersion": "v1", "kind": "Namespace",
                                     "metadata": {"name": name}})
    assert s == 201, b
    s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/pods" % name, pod("keep"))
    assert s == 201, b
    s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % name,
                                    configmap("keep"))
    assert s == 201, b
    yield name
    shared_server.request("DELETE", "/api/v1/namespaces/" + name)


class Unchanged:
    """Context manager: the pods and configmaps of a namespace are the same afterwards, and
    the server still answers /readyz."""

    def __init__(self, server, ns):
        self.server, self.ns = server, ns

    def __enter__(self):
        self.before = self._state()
        return self

    def _state(self):
        return (snapshot(self.server, "/api/v1/namespaces/%s/pods" % self.ns),
                snapshot(self.server, "/api/v1/namespaces/%s/configmaps" % self.ns))

    def __exit__(self, *exc):
        if exc[0] is None:
            assert_ready(self.server)
            assert self._state() == self.before
        return False


# ---------------------------------------------------------------- bodies that do not decode


@pytest.mark.parametrize("raw", [
    b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"',  # truncated
    b'{"apiVersion":"v1",,}',
    b'not json at all',
    b'{"metadata":{"name":"x"}}}',  # trailing garbage
    b'\xff\xfe\x00garbage',
])
def test_malformed_json(shared_server, ns, raw):
    with Unchanged(shared_server, ns):
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns, raw)
        assert s == 400
        assert_status(b, 400, "BadRequest")


def test_malformed_json_on_update_and_patch(shared_server, ns):
    with Unchanged(shared_server, ns):
        path = "/api/v1/namespaces/%s/configmaps/keep" % ns
        s, b, _ = shared_server.request("PUT", path, b'{"data":')
        assert_status(b, 400, "BadRequest")
        assert s == 400
        for ct in ("application/merge-patch+json", "application/strategic-merge-patch+json",
                   "application/json-patch+json"):
            s, b, _ = shared_server.request("PATCH", path, b'{"data":', content_type=ct)
            assert s == 400, (ct, b)
            assert_status(b, 400, "BadRequest")


@pytest.mark.parametrize("raw", [
    b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
    b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tab\n",
    b"a: b\n c: d\n- e\n",
    b"key: \"unterminated\n",
])
def test_malformed_yaml(shared_server, ns, raw):
    with Unchanged(shared_server, ns):
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns, raw,
                                        content_type="application/yaml")
        assert s == 400
        assert_status(b, 400, "BadRequest")


def test_valid_yaml_is_accepted(shared_server, ns):
    """Control for the YAML cases: the same path with good YAML creates the object."""
    s, b, _ = shared_server.request(
        "POST", "/api/v1/namespaces/%s/configmaps" % ns,
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: b\n",
        content_type="application/yaml")
    assert s == 201, b
    assert b["data"] == {"a": "b"}


def test_body_over_3_mib(shared_server, ns):
    with Unchanged(shared_server, ns):
        body = b" " * (3 * MIB + 1)
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns, body)
        assert s == 413
        assert_status(b, 413, "RequestEntityTooLarge")
        # A body of real JSON just over the limit fails the same way.
        big = json.dumps(configmap("big", {"k": "x" * (3 * MIB)})).encode()
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns, big)
        assert s == 413
        assert_status(b, 413, "RequestEntityTooLarge")


def test_body_at_3_mib_is_not_rejected_for_size(shared_server, ns):
    """Exactly 3 MiB is allowed (then rejected for what it is, not for its size)."""
    with Unchanged(shared_server, ns):
        body = b" " * (3 * MIB)
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns, body)
        assert s == 400, b
        assert_status(b, 400, "BadRequest")


@pytest.mark.parametrize("opener,closer", [(b"[", b"]"), (b'{"a":', b"}")])
def test_json_nested_10000_deep(server, opener, closer):
    """Fresh server: a crash here must not hide later tests' results."""
    depth = 10000
    raw = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":' + \
        opener * depth + b"1" + closer * depth + b"}"
    before = snapshot(server, "/api/v1/namespaces/default/configmaps")
    s, b, _ = server.request("POST", "/api/v1/namespaces/default/configmaps", raw)
    assert s == 400
    assert_status(b, 400, "BadRequest")
    # The same depth through every other decoder: PUT, PATCH (each type), YAML.
    for method, ct in (("PUT", "application/json"),
                       ("PATCH", "application/merge-patch+json"),
                       ("PATCH", "application/strategic-merge-patch+json"),
                       ("PATCH", "application/json-patch+json")):
        s, b, _ = server.request(method, "/api/v1/namespaces/default/configmaps/deep", raw,
                                 content_type=ct)
        assert s in (400, 404), (method, ct, s, b)
        assert isinstance(b, dict) and b.get("kind") == "Status", (method, ct, b)
    yaml_raw = b"a: " + b"[" * depth + b"1" + b"]" * depth + b"\n"
    s, b, _ = server.request("POST", "/api/v1/namespaces/default/configmaps", yaml_raw,
                             content_type="application/yaml")
    assert s == 400
    assert_status(b, 400, "BadRequest")
    assert_ready(server)
    assert snapshot(server, "/api/v1/namespaces/default/configmaps") == before


def test_empty_and_non_object_bodies(shared_server, ns):
    with Unchanged(shared_server, ns):
        for raw in (b"", b"null", b"[]", b'"a string"', b"42"):
            s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns, raw)
            assert s == 400, (raw, b)
            assert_status(b, 400, "BadRequest")


def test_wrong_json_types(shared_server, ns):
    """Type errors are a decoding failure (400), as Go's json.Unmarshal reports them."""
    with Unchanged(shared_server, ns):
        for body in ({"metadata": {"name": 7}},
                     {"metadata": {"name": "t", "labels": {"a": 1}}},
                     {"metadata": {"name": "t"}, "data": ["a"]},
                     {"metadata": {"name": "t"}, "data": {"a": 1}}):
            s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns,
                                            body)
            assert s == 400, (body, b)
            assert_status(b, 400, "BadRequest")
            assert "cannot unmarshal" in b["message"], b
        p = pod("t")
        p["spec"]["containers"][0]["ports"] = [{"containerPort": "80"}]
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/pods" % ns, p)
        assert s == 400, b
        assert_status(b, 400, "BadRequest")


def test_metadata_not_an_object(shared_server, ns):
    with Unchanged(shared_server, ns):
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns,
                                        {"metadata": "str"})
        assert s == 400, b
        assert_status(b, 400, "BadRequest")
        assert "cannot unmarshal string" in b["message"], b


def test_duplicate_field_strict(shared_server, ns):
    with Unchanged(shared_server, ns):
        raw = b'{"metadata":{"name":"dup"},"data":{"a":"1"},"data":{"b":"2"}}'
        s, b, _ = shared_server.request(
            "POST", "/api/v1/namespaces/%s/configmaps?fieldValidation=Strict" % ns, raw)
        assert s == 400, b
        assert_status(b, 400, "BadRequest")
        assert 'duplicate field "data"' in b["message"], b


def test_duplicate_field_strict_message(shared_server, ns):
    raw = b'{"metadata":{"name":"dup"},"data":{"a":"1"},"data":{"b":"2"}}'
    s, b, _ = shared_server.request(
        "POST", "/api/v1/namespaces/%s/configmaps?fieldValidation=Strict" % ns, raw)
    assert s == 400, b
    assert b["message"].startswith('strict decoding error: duplicate field "data"'), b


@pytest.mark.parametrize("query", ["?fieldValidation=Warn", ""])
def test_duplicate_field_warn(shared_server, ns, query):
    name = "dup-" + uuid.uuid4().hex[:6]
    raw = ('{"metadata":{"name":"%s"},"data":{"a":"1"},"data":{"b":"2"}}' % name).encode()
    s, b, h = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps%s" % (ns, query),
                                    raw)
    assert s == 201, b
    assert b["data"] == {"b": "2"}
    assert any('duplicate field' in w for w in h.get_all("Warning") or []), h


def test_yaml_alias_bomb(server):
    """A few hundred bytes of nested YAML aliases ("billion laughs") must not expand."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append("a%d: &a%d [%s]" % (i, i, ",".join(["*a%d" % (i - 1)] * 9)))
    raw = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\nbomb:\n" +
           "".join("  %s\n" % ln for ln in lines)).encode()
    before = snapshot(server, "/api/v1/namespaces/default/configmaps")
    s, b, _ = server.request("POST", "/api/v1/namespaces/default/configmaps", raw,
                             content_type="application/yaml")
    assert 400 <= s < 500, b
    assert isinstance(b, dict) and b.get("kind") == "Status" and b.get("code") == s, b
    assert_ready(server)
    assert snapshot(server, "/api/v1/namespaces/default/configmaps") == before


def test_json_patch_copy_bomb(server):
    """JSON-patch `copy` ops that double the document each time must be refused."""
    s, b, _ = server.request("POST", "/api/v1/namespaces/default/configmaps",
                             configmap("cb", {"k": "x" * 100}))
    assert s == 201, b
    before = snapshot(server, "/api/v1/namespaces/default/configmaps")
    ops = [{"op": "add", "path": "/metadata/annotations", "value": {"a0": "x" * 100}}]
    for i in range(1, 40):
        ops.append({"op": "copy", "from": "/metadata/annotations",
                    "path": "/metadata/annotations/a%d" % i})
    s, b, _ = server.request("PATCH", "/api/v1/namespaces/default/configmaps/cb", ops,
                             content_type="application/json-patch+json")
    assert 400 <= s < 500, (s, str(b)[:300])
    assert isinstance(b, dict) and b.get("kind") == "Status" and b.get("code") == s, b
    assert_ready(server)
    assert snapshot(server, "/api/v1/namespaces/default/configmaps") == before


# ---------------------------------------------------------------- objects that do not validate


def test_invalid_name(shared_server, ns):
    with Unchanged(shared_server, ns):
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns,
                                        configmap("Bad_Name"))
        assert s == 422
        assert_status(b, 422, "Invalid")
        assert b["details"]["name"] == "Bad_Name"
        assert b["details"]["kind"] == "ConfigMap"
        causes = b["details"]["causes"]
        assert any(c.get("field") == "metadata.name" for c in causes), causes
        assert b["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name')

        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/pods" % ns,
                                        pod("Bad_Name"))
        assert s == 422
        assert_status(b, 422, "Invalid")
        assert any(c.get("field") == "metadata.name" for c in b["details"]["causes"]), b


def test_invalid_quantity(shared_server, ns):
    with Unchanged(shared_server, ns):
        p = pod("q")
        p["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "abc"}}
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/pods" % ns, p)
        assert s in (400, 422), b
        assert_status(b, s, "BadRequest" if s == 400 else "Invalid")
        assert "quantities must match the regular expression" in b["message"], b
        assert QUANTITY_REGEX in b["message"], b


def test_strict_field_validation_rejects_unknown_field(shared_server, ns):
    with Unchanged(shared_server, ns):
        p = pod("strict")
        p["spec"]["foo"] = "bar"
        s, b, _ = shared_server.request(
            "POST", "/api/v1/namespaces/%s/pods?fieldValidation=Strict" % ns, p)
        assert s == 400
        assert_status(b, 400, "BadRequest")
        assert b["message"].startswith('strict decoding error: unknown field "spec.foo"'), b


@pytest.mark.parametrize("query", ["?fieldValidation=Warn", ""])
def test_warn_field_validation_accepts_with_warning(shared_server, ns, query):
    p = pod("warn-" + uuid.uuid4().hex[:6])
    p["spec"]["foo"] = "bar"
    s, b, h = shared_server.request("POST", "/api/v1/namespaces/%s/pods%s" % (ns, query), p)
    assert s == 201, b
    warnings = h.get_all("Warning") or []
    assert any('unknown field \\"spec.foo\\"' in w or 'unknown field "spec.foo"' in w
               for w in warnings), warnings
    assert all(w.startswith("299 - ") for w in warnings), warnings


def parse_warning_header(value):
    """client-go's net.ParseWarningHeader: `299 - "quoted text"` where the text is an HTTP
    quoted-string (backslash escapes). Returns the text, or raises ValueError."""
    code, agent, rest = value.split(" ", 2)
    if code != "299" or not rest.startswith('"'):
        raise ValueError("not a 299 warning: %r" % value)
    out, i = [], 1
    while i < len(rest):
        ch = rest[i]
        if ch == "\\":
            i += 1
            if i >= len(rest):
                raise ValueError("unterminated escape: %r" % value)
            out.append(rest[i])
        elif ch == '"':
            tail = rest[i + 1:].strip()
            if tail and not tail.startswith('"'):  # an optional quoted warn-date may follow
                raise ValueError("unexpected token after warn-text: %r" % value)
            return "".join(out)
        else:
            out.append(ch)
        i += 1
    raise ValueError("unterminated quoted-string: %r" % value)


def test_warning_header_is_a_valid_quoted_string(shared_server, ns):
    p = pod("wq-" + uuid.uuid4().hex[:6])
    p["spec"]["foo"] = "bar"
    s, b, h = shared_server.request(
        "POST", "/api/v1/namespaces/%s/pods?fieldValidation=Warn" % ns, p)
    assert s == 201, b
    texts = [parse_warning_header(w) for w in h.get_all("Warning") or []]
    assert 'unknown field "spec.foo"' in texts, h.get_all("Warning")


@pytest.mark.parametrize("query", ["?fieldValidation=Warn", "", "?fieldValidation=Ignore"])
def test_unknown_field_is_dropped_not_stored(shared_server, ns, query):
    name = "drop-" + uuid.uuid4().hex[:6]
    p = pod(name)
    p["spec"]["foo"] = "bar"
    s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/pods%s" % (ns, query), p)
    assert s == 201, b
    s, got, _ = shared_server.request("GET", "/api/v1/namespaces/%s/pods/%s" % (ns, name))
    assert s == 200
    assert "foo" not in b["spec"], b["spec"]
    assert "foo" not in got["spec"], got["spec"]


def test_bad_field_validation_value(shared_server, ns):
    with Unchanged(shared_server, ns):
        s, b, _ = shared_server.request(
            "POST", "/api/v1/namespaces/%s/configmaps?fieldValidation=Bogus" % ns,
            configmap("fv"))
        assert s == 400
        assert_status(b, 400, "BadRequest")


# ---------------------------------------------------------------- routing


def test_unknown_path(shared_server):
    s, b, _ = shared_server.request("GET", "/foo")
    assert s == 404
    assert_ready(shared_server)


def test_unknown_resource(shared_server):
    for path in ("/api/v1/foos", "/api/v1/namespaces/default/foos",
                 "/apis/apps/v1/foos", "/apis/nope.example.com/v1/things"):
        s, b, _ = shared_server.request("GET", path)
        assert s == 404, path
        assert_status(b, 404, "NotFound")
    s, b, _ = shared_server.request("POST", "/api/v1/namespaces/default/foos", {"a": 1})
    assert s == 404
    assert_status(b, 404, "NotFound")
    assert_ready(shared_server)


def test_unsupported_method(shared_server, ns):
    with Unchanged(shared_server, ns):
        s, b, _ = shared_server.request("PUT", "/api/v1/namespaces/%s/configmaps" % ns,
                                        configmap("m"))
        assert s == 405
        assert_status(b, 405, "MethodNotAllowed")
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps/keep" % ns,
                                        configmap("keep"))
        assert s == 405
        assert_status(b, 405, "MethodNotAllowed")
        s, b, _ = shared_server.request("PATCH", "/api/v1/namespaces/%s/configmaps" % ns,
                                        {"data": {}},
                                        content_type="application/merge-patch+json")
        assert s == 405
        assert_status(b, 405, "MethodNotAllowed")


def test_unsupported_content_type(shared_server, ns):
    with Unchanged(shared_server, ns):
        for ct in ("text/plain", "application/xml", "application/x-www-form-urlencoded"):
            s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns,
                                            json.dumps(configmap("ct")), content_type=ct)
            assert s == 415, (ct, b)
            assert_status(b, 415, "UnsupportedMediaType")
        # PATCH with a plain JSON Content-Type is not a patch type.
        s, b, _ = shared_server.request("PATCH", "/api/v1/namespaces/%s/configmaps/keep" % ns,
                                        {"data": {"k": "changed"}},
                                        content_type="application/json")
        assert s == 415, b
        assert_status(b, 415, "UnsupportedMediaType")


def test_get_missing_object(shared_server, ns):
    s, b, _ = shared_server.request("GET", "/api/v1/namespaces/%s/pods/x" % ns)
    assert s == 404
    assert_status(b, 404, "NotFound")
    assert b["message"] == 'pods "x" not found'
    assert b["details"]["name"] == "x"
    assert b["details"]["kind"] == "pods"

    s, b, _ = shared_server.request("GET", "/apis/apps/v1/namespaces/%s/deployments/x" % ns)
    assert s == 404
    assert_status(b, 404, "NotFound")
    assert b["message"] == 'deployments.apps "x" not found'
    assert_ready(shared_server)


def test_post_to_missing_namespace(shared_server, ns):
    missing = "no-such-ns-" + uuid.uuid4().hex[:6]
    s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % missing,
                                    configmap("orphan"))
    assert s == 404
    assert_status(b, 404, "NotFound")
    assert b["message"] == 'namespaces "%s" not found' % missing
    s, b, _ = shared_server.request("GET", "/api/v1/namespaces/%s/configmaps/orphan" % missing)
    assert s == 404
    assert_ready(shared_server)


def test_nul_in_path_does_not_alias_another_object(shared_server, ns):
    base = "/api/v1/namespaces/%s/configmaps/keep" % ns
    with Unchanged(shared_server, ns):
        s, b, _ = shared_server.request("GET", base + "%00evil")
        assert s in (400, 404), b
        assert_status(b, s, "BadRequest" if s == 400 else "NotFound")
        s, b, _ = shared_server.request("PATCH", base + "%00evil", {"data": {"k": "patched"}},
                                        content_type="application/merge-patch+json")
        assert s in (400, 404), b
        s, b, _ = shared_server.request("DELETE", base + "%00evil")
        assert s in (400, 404), b
        # The namespace segment too: this must not be the Namespace object "<ns>".
        s, b, _ = shared_server.request("GET", "/api/v1/namespaces/%s%%00x/configmaps" % ns)
        assert not (s == 200 and b.get("kind") == "Namespace"), b


def test_escaped_slash_in_name(shared_server, ns):
    with Unchanged(shared_server, ns):
        s, b, _ = shared_server.request("GET", "/api/v1/namespaces/%s/configmaps/keep%%2Fx" % ns)
        assert s in (400, 404), b
        s, b, _ = shared_server.request("DELETE",
                                        "/api/v1/namespaces/%s/configmaps/keep%%2Fx" % ns)
        assert s in (400, 404), b


def test_bad_query_parameters(shared_server, ns):
    with Unchanged(shared_server, ns):
        for q in ("watch=maybe", "watch=true&timeoutSeconds=abc"):
            s, b, _ = shared_server.request("GET", "/api/v1/namespaces/%s/pods?%s" % (ns, q))
            assert s == 400, (q, b)
            assert_status(b, 400, "BadRequest")
        s, b, _ = shared_server.request(
            "POST", "/api/v1/namespaces/%s/configmaps?dryRun=Bogus" % ns, configmap("dr"))
        assert s == 400, b
        assert_status(b, 400, "BadRequest")
        s, b, _ = shared_server.request(
            "DELETE", "/api/v1/namespaces/%s/configmaps/keep" % ns,
            {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Sideways"})
        assert s == 422, b
        assert_status(b, 422, "Invalid")


def test_name_mismatch_on_update(shared_server, ns):
    with Unchanged(shared_server, ns):
        s, obj, _ = shared_server.request("GET", "/api/v1/namespaces/%s/configmaps/keep" % ns)
        obj["metadata"]["name"] = "other"
        s, b, _ = shared_server.request("PUT", "/api/v1/namespaces/%s/configmaps/keep" % ns, obj)
        assert s == 400, b
        assert_status(b, 400, "BadRequest")
        assert "does not match the name on the URL" in b["message"], b


# ---------------------------------------------------------------- selectors


@pytest.mark.parametrize("sel", ["app in (a", "a=b,,c", "!", "x=a=b", "a b", "x in a"])
def test_bad_label_selector(shared_server, ns, sel):
    q = urllib.request.quote(sel)
    s, b, _ = shared_server.request("GET", "/api/v1/namespaces/%s/pods?labelSelector=%s"
                                    % (ns, q))
    assert s == 400, (sel, b)
    assert_status(b, 400, "BadRequest")
    # Also on watch and deletecollection (which must not delete anything).
    with Unchanged(shared_server, ns):
        s, b, _ = shared_server.request(
            "DELETE", "/api/v1/namespaces/%s/configmaps?labelSelector=%s" % (ns, q))
        assert s == 400, (sel, b)
        assert_status(b, 400, "BadRequest")
    s, b, _ = shared_server.request(
        "GET", "/api/v1/namespaces/%s/pods?watch=true&timeoutSeconds=1&labelSelector=%s"
        % (ns, q))
    assert s == 400, (sel, b)
    assert_status(b, 400, "BadRequest")


def test_unsupported_field_selector(shared_server, ns):
    s, b, _ = shared_server.request(
        "GET", "/api/v1/namespaces/%s/pods?fieldSelector=spec.foo%%3Dbar" % ns)
    assert s == 400
    assert_status(b, 400, "BadRequest")
    assert b["message"] == "field label not supported: spec.foo", b
    s, b, _ = shared_server.request("GET", "/api/v1/pods?fieldSelector=spec.foo%3Dbar")
    assert s == 400
    assert_status(b, 400, "BadRequest")
    # A field selector that does not parse at all.
    s, b, _ = shared_server.request(
        "GET", "/api/v1/namespaces/%s/pods?fieldSelector=metadata.name" % ns)
    assert s == 400, b
    assert_status(b, 400, "BadRequest")
    # Control: a supported one works.
    s, b, _ = shared_server.request(
        "GET", "/api/v1/namespaces/%s/pods?fieldSelector=metadata.name%%3Dkeep" % ns)
    assert s == 200
    assert [i["metadata"]["name"] for i in b["items"]] == ["keep"]
    assert_ready(shared_server)


# ---------------------------------------------------------------- conflicts


def test_put_with_stale_resource_version(shared_server, ns):
    path = "/api/v1/namespaces/%s/configmaps/keep" % ns
    s, obj, _ = shared_server.request("GET", path)
    assert s == 200
    stale = dict(obj)
    obj["data"] = {"k": "v2"}
    s, fresh, _ = shared_server.request("PUT", path, obj)
    assert s == 200, fresh
    with Unchanged(shared_server, ns):
        stale["data"] = {"k": "stale"}
        s, b, _ = shared_server.request("PUT", path, stale)
        assert s == 409
        assert_status(b, 409, "Conflict")
        assert "the object has been modified" in b["message"], b
    s, now, _ = shared_server.request("GET", path)
    assert now["data"] == {"k": "v2"}


def test_create_twice(shared_server, ns):
    with Unchanged(shared_server, ns):
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns,
                                        configmap("keep", {"other": "data"}))
        assert s == 409
        assert_status(b, 409, "AlreadyExists")
        assert b["message"] == 'configmaps "keep" already exists'
        assert b["details"]["name"] == "keep"
    s, b, _ = shared_server.request("GET", "/api/v1/namespaces/%s/configmaps/keep" % ns)
    assert b["data"] == {"k": "v"}


def test_namespace_mismatch(shared_server, ns):
    with Unchanged(shared_server, ns):
        cm = configmap("mismatch")
        cm["metadata"]["namespace"] = "default"
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns, cm)
        assert s == 400
        assert_status(b, 400, "BadRequest")
        assert "does not match the namespace" in b["message"], b
        # The same on an update.
        s, obj, _ = shared_server.request("GET", "/api/v1/namespaces/%s/configmaps/keep" % ns)
        obj["metadata"]["namespace"] = "default"
        s, b, _ = shared_server.request("PUT", "/api/v1/namespaces/%s/configmaps/keep" % ns, obj)
        assert s == 400, b
        assert_status(b, 400, "BadRequest")
    s, b, _ = shared_server.request("GET", "/api/v1/namespaces/default/configmaps/mismatch")
    assert s == 404


def test_kind_mismatch(shared_server, ns):
    with Unchanged(shared_server, ns):
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns,
                                        pod("wrongkind"))
        assert s == 400, b
        assert_status(b, 400, "BadRequest")
        cm = configmap("wrongversion")
        cm["apiVersion"] = "apps/v1"
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns, cm)
        assert s == 400, b
        assert_status(b, 400, "BadRequest")
        s, b, _ = shared_server.request("POST", "/api/v1/namespaces/%s/configmaps" % ns,
                                        [configmap("list")])
        assert s == 400, b
        assert_status(b, 400, "BadRequest")


# ---------------------------------------------------------------- garbage over raw sockets


def _garbage_payloads(rng, port):
    host = b"Host: 127.0.0.1:%d\r\n" % port
    out = []
    for i in range(100):
        k = i % 10
        if k == 0:  # random bytes, no HTTP at all: half inside TLS, half instead of TLS
            junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096)))
            out.append(b"RAW:" + junk if i % 20 == 0 else junk)
        elif k == 1:  # a POST whose body is random bytes
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 8192)))
            out.append(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\n" + host +
                       b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                       % len(body) + body)
        elif k == 2:  # random bytes sent as YAML
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 8192)))
            out.append(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\n" + host +
                       b"Content-Type: application/yaml\r\nContent-Length: %d\r\n\r\n"
                       % len(body) + body)
        elif k == 3:  # truncated request line
            out.append(b"GET /api/v1/name")
        elif k == 4:  # headers never finished
            out.append(b"GET /api/v1/pods HTTP/1.1\r\n" + host + b"Accept: appl")
        elif k == 5:  # body shorter than Content-Length
            out.append(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\n" + host +
                       b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                       b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"na')
        elif k == 6:  # bad chunked encoding
            out.append(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\n" + host +
                       b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                       b"zz\r\n{}\r\n0\r\n\r\n")
        elif k == 7:  # absurd Content-Length
            out.append(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\n" + host +
                       b"Content-Length: 99999999999999999999\r\n\r\n{}")
        elif k == 8:  # huge header line and odd method
            out.append(b"FROB /" + b"a" * 20000 + b" HTTP/1.1\r\n" + host + b"\r\n")
        else:  # a valid-looking request with a garbage JSON-patch
            body = b'[{"op":"frob","path":"////","value":' + b"[" * 50
            out.append(b"PATCH /api/v1/namespaces/default/configmaps/x HTTP/1.1\r\n" + host +
                       b"Content-Type: application/json-patch+json\r\nContent-Length: %d\r\n"
                       b"\r\n" % len(body) + body)
    return out


def test_concurrent_garbage(server):
    rng = random.Random(1234)  # deterministic payloads
    payloads = _garbage_payloads(rng, server.port)
    before = snapshot(server, "/api/v1/namespaces/default/configmaps")
    errors = []
    barrier = threading.Barrier(len(payloads))

    def send(data):
        try:
            # 60 s: every payload's connection and TLS handshake at once, on a loaded machine
            if data.startswith(b"RAW:"):  # plain bytes at the TLS layer itself
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
                data = data[4:]
            else:
                sock = server.tls_socket(timeout=60)
        except OSError as e:
            errors.append(e)
            return
        try:
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                pass
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)  # truncated: the server sees EOF mid-request
            sock.settimeout(5)
            try:
                while sock.recv(65536):
                    pass
            except OSError:
                pass  # a reset or a timeout is an acceptable answer to garbage
        except OSError:
            pass  # the server may close on us mid-send
        finally:
            sock.close()

    threads = [threading.Thread(target=send, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    assert_ready(server)
    assert snapshot(server, "/api/v1/namespaces/default/configmaps") == before
    # And it still does real work.
    s, b, _ = server.request("POST", "/api/v1/namespaces/default/configmaps",
                             configmap("after-garbage"))
    assert s == 201, b
    s, b, _ = server.request("GET", "/api/v1/namespaces/default/configmaps/after-garbage")
    assert s == 200 and b["data"] == {"k": "v"}


def test_garbage_keeps_connection_usable_for_others(server):
    """A client that opens a connection and sends half a request (or never finishes its TLS
    handshake) does not block others."""
    stuck = [server.tls_socket(timeout=10) for _ in range(20)]
    stuck += [socket.create_connection(("127.0.0.1", server.port), timeout=10)
              for _ in range(10)]
    try:
        for s in stuck[:20]:
            s.sendall(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\n"
                      b"Content-Length: 100\r\n\r\n{")
        for s in stuck[20:]:
            s.sendall(b"\x16\x03\x01\x00")  # the start of a ClientHello, never finished
        assert_ready(server)
        s, b, _ = server.request("GET", "/api/v1/namespaces/default/configmaps")
        assert s == 200
    finally:
        for s in stuck:
            s.close()
