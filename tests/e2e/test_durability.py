"""kill -9 during a concurrent write load: after a restart every acknowledged write is
there, revisions keep increasing, and a watch resumes from its last revision."""

import json
import threading
import time
import urllib.request


def _create(server, name, acked, lock):
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": name}, "data": {"k": "v" * 200}}).encode()
    req = urllib.request.Request(server.url + "/api/v1/namespaces/default/configmaps",
                                 data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with server.urlopen(req, timeout=30) as r:
            if r.status == 201:
                obj = json.loads(r.read())
                with lock:
                    acked[name] = int(obj["metadata"]["resourceVersion"])
    except Exception:
        # refused after the kill, or slow under load before it: not acknowledged either way
        # (the writers stop on `stop`, set after the kill; a slow answer must not end the load)
        time.sleep(0.05)


def test_kill9_loses_nothing_acknowledged(server):
    acked, lock, stop = {}, threading.Lock(), threading.Event()

    def writer(i):
        n = 0
        while not stop.is_set():
            _create(server, "w%d-%d" % (i, n), acked, lock)
            n += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    deadline = time.time() + 120
    while len(acked) < 300 and time.time() < deadline:
        time.sleep(0.05)
    server.kill9()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= 300, "the load did not get going: %s" % server.log()
    max_acked_rev = max(acked.values())

    server.start()
    status, lst, _ = server.request("GET", "/api/v1/namespaces/default/configmaps")
    assert status == 200
    # the writers' objects only: the root CA publisher's kube-root-ca.crt may be made (again)
    # around the kill and the restart, at no fixed point of the sequence
    present = {i["metadata"]["name"]: int(i["metadata"]["resourceVersion"])
               for i in lst["items"] if i["metadata"]["name"] != "kube-root-ca.crt"}
    missing = [n for n in acked if n not in present]
    assert not missing, "acknowledged but lost: %s" % missing[:10]
    for name, rev in acked.items():
        assert present[name] == rev
    list_rev = int(lst["metadata"]["resourceVersion"])
    assert list_rev >= max_acked_rev

    # revisions keep increasing after the restart
    status, obj, _ = server.request(
        "POST", "/api/v1/namespaces/default/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "after"}})
    assert status == 201
    assert int(obj["metadata"]["resourceVersion"]) > list_rev

    # a watch from a revision seen before the crash resumes: it replays what came after it
    resume_from = sorted(acked.values())[len(acked) // 2]
    # writes that became durable but whose answer the kill cut off are present too
    later = sorted(n for n, r in present.items() if r > resume_from)
    assert set(n for n, r in acked.items() if r > resume_from) <= set(later)
    # read up to "after", the last write: a loaded machine may take seconds to replay, so the
    # stream's own timeout is only the bound for a replay that never gets there
    req = urllib.request.Request(
        server.url + "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=120"
        "&resourceVersion=%d" % resume_from)
    seen = []
    with server.urlopen(req, timeout=130) as r:
        for line in r:
            ev = json.loads(line)
            assert ev["type"] != "ERROR", ev
            seen.append(ev["object"]["metadata"]["name"])
            if seen[-1] == "after":
                break
    assert "after" in seen
    assert sorted(n for n in seen if n not in ("after", "kube-root-ca.crt")) == later
