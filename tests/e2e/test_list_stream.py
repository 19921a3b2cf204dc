"""End-to-end: a large LIST (apiserver/list_body.c) goes out chunked, written straight to the
TLS connection, and is byte for byte what a Content-Length answer (HTTP/1.0) carries; pods
whose stored values are split into shared pieces list the same whole or in pages; clients
that leave in the middle of a large LIST harm neither the server nor the next LIST."""

import json
import socket
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

PODS = "/api/v1/namespaces/default/pods"
COUNT = 300


def pod(i):
    # every pod has the same large spec, so the store holds it in shared pieces
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "big-%04d" % i, "labels": {"i": str(i)}},
            # no scheduler of this name: nothing writes to these pods after their creation
            "spec": {"schedulerName": "list-stream-test", "containers": [{
                "name": "c", "image": "registry.k8s.io/pause:3.9",
                "env": [{"name": "E%02d" % k, "value": "v" * 40} for k in range(20)]}]}}


@pytest.fixture(scope="module")
def filled(shared_server):
    def make(i):
        status, body, _ = shared_server.request("POST", PODS, pod(i))
        assert status == 201, body
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, range(COUNT)))
    return shared_server


def raw_get(server, path, version):
    """GET over a TLS socket of our own; returns (status line, headers dict, body bytes)."""
    s = server.tls_socket(timeout=30)
    try:
        req = "GET %s %s\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n" % (path, version)
        s.sendall((req + "Connection: close\r\n\r\n").encode())
        data = b""
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            data += b
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return lines[0], headers, body


def dechunk(body):
    out, pos = b"", 0
    while True:
        end = body.index(b"\r\n", pos)
        n = int(body[pos:end], 16)
        pos = end + 2
        if n == 0:
            assert body[pos:] == b"\r\n"
            return out
        out += body[pos:pos + n]
        assert body[pos + n:pos + n + 2] == b"\r\n"
        pos += n + 2


def names(items):
    return [i["metadata"]["name"] for i in items]


def test_large_list_chunked_equals_content_length(filled):
    for _ in range(5):
        line, h11, body11 = raw_get(filled, PODS, "HTTP/1.1")
        assert " 200 " in line and h11.get("transfer-encoding") == "chunked"
        full11 = dechunk(body11)
        line, h10, full10 = raw_get(filled, PODS, "HTTP/1.0")
        assert " 200 " in line and "transfer-encoding" not in h10
        assert int(h10["content-length"]) == len(full10)
        rv11 = json.loads(full11)["metadata"]["resourceVersion"]
        if rv11 == json.loads(full10)["metadata"]["resourceVersion"]:
            break
    # at the same revision: the very same bytes
    assert full11 == full10
    lst = json.loads(full11)
    assert lst["kind"] == "PodList" and len(lst["items"]) == COUNT
    assert names(lst["items"]) == ["big-%04d" % i for i in range(COUNT)]
    # each item is exactly what a GET of it returns
    for i in (0, 137, COUNT - 1):
        status, one, _ = filled.request("GET", PODS + "/big-%04d" % i)
        assert status == 200 and one == lst["items"][i]


def test_pages_across_pieces(filled):
    _, _, body = raw_get(filled, PODS, "HTTP/1.0")
    whole = json.loads(body)["items"]
    got, token = [], ""
    while True:
        path = PODS + "?limit=37" + ("&continue=" + token if token else "")
        status, page, _ = filled.request("GET", path)
        assert status == 200
        got += page["items"]
        token = page["metadata"].get("continue", "")
        if not token:
            break
    assert got == whole
    # a page large enough to be written directly, then the rest
    status, first, _ = filled.request("GET", PODS + "?limit=200")
    assert status == 200 and names(first["items"]) == names(whole[:200])
    status, rest, _ = filled.request("GET", PODS + "?limit=500&continue=" +
                                     first["metadata"]["continue"])
    assert status == 200 and rest["items"] == whole[200:]
    assert "continue" not in rest["metadata"]


def test_python_client_lists_it(filled):
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes import client, config
    c = config.new_client_from_config(config_file=filled.kubeconfig)
    try:
        pods = client.CoreV1Api(c).list_namespaced_pod("default", label_selector="")
        assert len(pods.items) == COUNT
        assert pods.items[5].spec.containers[0].env[3].value == "v" * 40
    finally:
        c.close()


def test_clients_leaving_mid_list(filled):
    for _ in range(5):
        s = filled.tls_socket(timeout=30)
        try:
            s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % PODS).encode())
            assert s.recv(1024)
        finally:
            # a reset rather than a clean close, as a killed client leaves it
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
    assert filled.get_raw("/readyz") == b"ok"
    req = urllib.request.Request(filled.url + PODS, headers={"Accept": "application/json"})
    with filled.urlopen(req, timeout=30) as r:
        assert r.headers.get("Transfer-Encoding") == "chunked"
        assert len(json.loads(r.read())["items"]) == COUNT
