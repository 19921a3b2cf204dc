"""kill -9 during a concurrent write load: after a restart every acknowledged write is
there, revisions keep increasing, and a watch resumes from its last revision."""

import json
import threading
import time
import urllib.request


def _create(server, name, acked, lock, stop):
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": name}, "data": {"k": "v" * 200}}).encode()
    req = urllib.request.Request(server.url + "/api/v1/namespaces/default/configmaps",
                                 data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with server.urlopen(req, timeout=10) as r:
            if r.status == 201:
                obj = json.loads(r.read())
                with lock:
                    acked[name] = int(obj["metadata"]["resourceVersion"])
    except Exception:
        stop.set()


def test_kill9_loses_nothing_acknowledged(server):
    acked, lock, stop = {}, threading.Lock(), threading.Event()

    def writer(i):
        n = 0
        while not stop.is_set():
            _create(server, "w%d-%d" % (i, n), acked, lock, stop)
            n += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    deadline = time.time() + 30
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
    present = {i["metadata"]["name"]: int(i["metadata"]["resourceVersion"])
               for i in lst["items"]}
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
    req = urllib.request.Request(
        server.url + "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=3"
        "&resourceVersion=%d" % resume_from)
    seen = []
    with server.urlopen(req, timeout=20) as r:
        for line in r:
            ev = json.loads(line)
            assert ev["type"] != "ERROR", ev
            seen.append(ev["object"]["metadata"]["name"])
    assert sorted(n for n in seen if n != "after") == later
    assert "after" in seen
