"""ServiceAccount admission as kube's plugin does it, seen through real kubectl and the
official Python client: a pod gets the "default" ServiceAccount and the projected
kube-api-access-<5 random> volume mounted read-only in every container (init containers too);
a ServiceAccount with automountServiceAccountToken: false gets no volume (and the container no
directory) unless the pod asks for it; the pod's own false wins over the ServiceAccount; a
missing ServiceAccount is refused with kube's text; every namespace has the kube-root-ca.crt
ConfigMap the volume projects, put back when deleted or changed."""
import json
import re

from test_runtime_pods import (NODE, env, get_pod, new_ns, phase_is,  # noqa: F401 (fixture)
                               wait_for)

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
VOLUME = re.compile(r"^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$")


def apply(env, obj):
    env["kubectl"].run("apply", "-f", "-", input=json.dumps(obj))


def pod(ns, name, image, automount=None, sa=None, init=False):
    spec = {"nodeName": NODE, "restartPolicy": "Never", "terminationGracePeriodSeconds": 2,
            "containers": [{"name": "main", "image": image, "command": [
                "sh", "-c", f"test -e {SA_DIR}/token && cat {SA_DIR}/namespace || echo absent"]}]}
    if init:
        spec["initContainers"] = [{"name": "init", "image": image, "command": ["true"]}]
    if automount is not None:
        spec["automountServiceAccountToken"] = automount
    if sa:
        spec["serviceAccountName"] = sa
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": spec}


def token_volumes(p):
    return [v for v in p["spec"].get("volumes") or [] if v["name"].startswith("kube-api-access-")]


def output(env, ns, name):
    p = wait_for(phase_is(env, ns, name, "Succeeded", "Failed"), what=name + " finished")
    assert p["status"]["phase"] == "Succeeded", p["status"]
    return env["kubectl"].run("logs", "-n", ns, name).stdout.strip()


def wait_default_sa(env, ns):
    wait_for(lambda: env["server"].request(
        "GET", f"/api/v1/namespaces/{ns}/serviceaccounts/default")[0] == 200,
        what="default ServiceAccount")


def test_default_account_and_volume_with_the_python_client(env):
    from kubernetes import client, config

    ns = new_ns(env)
    wait_default_sa(env, ns)
    api = client.CoreV1Api(config.new_client_from_config(env["server"].kubeconfig))
    created = api.create_namespaced_pod(ns, pod(ns, "plain", env["image"], init=True))
    assert created.spec.service_account_name == "default"
    assert created.spec.service_account == "default"
    vols = [v for v in created.spec.volumes if v.name.startswith("kube-api-access-")]
    assert len(vols) == 1 and VOLUME.match(vols[0].name), created.spec.volumes
    proj = vols[0].projected
    assert proj.default_mode == 420
    assert proj.sources[0].service_account_token.path == "token"
    assert proj.sources[0].service_account_token.expiration_seconds == 3607
    assert proj.sources[1].config_map.name == "kube-root-ca.crt"
    assert proj.sources[1].config_map.items[0].key == "ca.crt"
    assert proj.sources[2].downward_api.items[0].field_ref.field_path == "metadata.namespace"
    for c in created.spec.init_containers + created.spec.containers:
        mounts = [m for m in c.volume_mounts if m.mount_path == SA_DIR]
        assert len(mounts) == 1 and mounts[0].name == vols[0].name and mounts[0].read_only, c
    # as kube's create handler: managedFields are recorded before mutating admission, so the
    # volume and mounts the plugin added belong to no manager
    st, raw, _ = env["server"].request("GET", f"/api/v1/namespaces/{ns}/pods/plain")
    assert st == 200, raw
    entries = json.dumps(raw["metadata"]["managedFields"])
    assert "kube-api-access-" not in entries and SA_DIR not in entries, entries
    assert '"f:containers"' in entries, entries
    assert output(env, ns, "plain") == ns


def test_service_account_automount_off_and_the_pods_field_overrides(env):
    ns = new_ns(env)
    k = env["kubectl"]
    apply(env, {"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "quiet", "namespace": ns},
                "automountServiceAccountToken": False})
    apply(env, {"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "loud", "namespace": ns}})
    apply(env, pod(ns, "quiet", env["image"], sa="quiet"))
    apply(env, pod(ns, "quiet-but-asks", env["image"], sa="quiet", automount=True))
    apply(env, pod(ns, "loud-but-declines", env["image"], sa="loud", automount=False))
    apply(env, pod(ns, "loud", env["image"], sa="loud"))
    got = {}
    for name in ("quiet", "quiet-but-asks", "loud-but-declines", "loud"):
        p = json.loads(k.run("get", "pod", "-n", ns, name, "-o", "json").stdout)
        got[name] = (len(token_volumes(p)), output(env, ns, name))
    assert got == {"quiet": (0, "absent"), "quiet-but-asks": (1, ns),
                   "loud-but-declines": (0, "absent"), "loud": (1, ns)}, got


def test_a_changed_service_account_counts_for_the_next_pod(env):
    # admission remembers what it read of a ServiceAccount by the stored object: each change
    # (off, on, unset, off) holds for the pods created after it, and only for those
    ns = new_ns(env)
    sa = {"apiVersion": "v1", "kind": "ServiceAccount",
          "metadata": {"name": "flip", "namespace": ns}}

    def create(name):
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
                "spec": {"serviceAccountName": "flip",
                         "containers": [{"name": "c", "image": env["image"]}]}}
        st, raw, _ = env["server"].request("POST", f"/api/v1/namespaces/{ns}/pods", body)
        assert st == 201, raw
        return len(token_volumes(raw))

    got = []
    for i, setting in enumerate((False, True, None, False)):
        apply(env, dict(sa, automountServiceAccountToken=setting) if setting is not None
              else sa)
        got.append([create(f"p{i}-a"), create(f"p{i}-b")])
    assert got == [[0, 0], [1, 1], [1, 1], [0, 0]], got


def test_missing_service_account_is_refused_by_kubectl_and_the_python_client(env):
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    ns = new_ns(env)
    want = (f'pods "ghost" is forbidden: error looking up service account {ns}/nope: '
            f'serviceaccount "nope" not found')
    r = env["kubectl"].run("apply", "-f", "-", check=False,
                           input=json.dumps(pod(ns, "ghost", env["image"], sa="nope")))
    assert r.returncode != 0
    assert "Error from server (Forbidden)" in r.stderr and want in r.stderr, r.stderr
    api = client.CoreV1Api(config.new_client_from_config(env["server"].kubeconfig))
    try:
        api.create_namespaced_pod(ns, pod(ns, "ghost", env["image"], sa="nope"))
        raise AssertionError("created")
    except ApiException as e:
        assert e.status == 403
        body = json.loads(e.body)
        assert body["reason"] == "Forbidden" and body["message"] == want, body
    # generateName: named by the prefix, as kube names a pod that has no name yet
    body = pod(ns, "x", env["image"], sa="nope")
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "gen-"
    st, obj, _ = env["server"].request("POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert st == 403 and obj["message"].startswith('pods "gen-" is forbidden: '), obj
    assert get_pod(env, ns, "ghost") is None


def test_root_ca_configmap_is_published_and_kept(env):
    ns = new_ns(env)
    server = env["server"]
    with open(server.tls_files()[0]) as f:
        ca = f.read()
    path = f"/api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt"

    def published():
        st, obj, _ = server.request("GET", path)
        return obj if st == 200 and obj.get("data") == {"ca.crt": ca} else None
    cm = wait_for(published, what="kube-root-ca.crt")
    assert "kubernetes.io/description" in cm["metadata"]["annotations"]
    env["kubectl"].run("delete", "configmap", "-n", ns, "kube-root-ca.crt")
    wait_for(published, what="kube-root-ca.crt made again")
    env["kubectl"].run("patch", "configmap", "-n", ns, "kube-root-ca.crt", "--type=merge",
                       "-p", json.dumps({"data": {"ca.crt": "tampered", "extra": "x"}}))
    wait_for(published, what="kube-root-ca.crt put back")
