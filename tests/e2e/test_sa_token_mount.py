"""The service-account token every container gets at /var/run/secrets/kubernetes.io/
serviceaccount (token, ca.crt, namespace) from the kube-api-access-* projected volume the
ServiceAccount admission adds and the node agent fills: the token read from `kubectl logs`
authenticates as the pod's ServiceAccount, bound to the pod; automount off leaves no
directory; a container's own mount there wins; a missing ServiceAccount is refused at
admission with kube's text."""
import json
import urllib.request

from test_runtime_pods import (NODE, create_pod, env, get_pod, new_ns,  # noqa: F401 (fixture)
                               phase_is, wait_for)

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def wait_default_sa(env, ns):
    def check():
        st, _, _ = env["server"].request("GET", f"/api/v1/namespaces/{ns}/serviceaccounts/default")
        return st == 200
    wait_for(check, what="default ServiceAccount")


def finished(env, ns, name):
    try:
        return wait_for(phase_is(env, ns, name, "Succeeded", "Failed"), what="pod finished")
    except AssertionError as e:
        raise AssertionError("%s; pod status: %r" % (e, (get_pod(env, ns, name) or {}).get(
            "status"))) from None


def logs(env, ns, name):
    return env["kubectl"].run("logs", "-n", ns, name).stdout


def test_token_authenticates_as_the_pods_service_account(env):
    ns = new_ns(env)
    wait_default_sa(env, ns)
    create_pod(env, ns, "sa-reader", [{"name": "main", "command": ["sh", "-c", (
        f"cat {SA_DIR}/token; echo; echo @@@; cat {SA_DIR}/ca.crt; echo @@@; "
        f"cat {SA_DIR}/namespace; echo; echo @@@; "
        f"(touch {SA_DIR}/x 2>/dev/null && echo rw) || echo ro")]}])
    pod = finished(env, ns, "sa-reader")
    assert pod["status"]["phase"] == "Succeeded", pod["status"]
    token, ca, namespace, mode = [p.strip() for p in logs(env, ns, "sa-reader").split("@@@\n")]
    assert namespace == ns
    assert mode == "ro"
    with open(env["server"].tls_files()[0]) as f:
        assert ca == f.read().strip()

    # the token, over TLS verified with the ca.crt the pod got, as the pod would use it
    server = env["server"]
    ctx = server.make_ssl_context(cert=False)
    body = json.dumps({"apiVersion": "authentication.k8s.io/v1",
                       "kind": "SelfSubjectReview"}).encode()
    req = urllib.request.Request(
        server.url + "/apis/authentication.k8s.io/v1/selfsubjectreviews", data=body,
        method="POST", headers={"Authorization": "Bearer " + token,
                                "Content-Type": "application/json"})
    with server.urlopen(req, context=ctx) as resp:
        review = json.load(resp)
    user = review["status"]["userInfo"]
    assert user["username"] == f"system:serviceaccount:{ns}:default"
    assert "system:serviceaccounts:" + ns in user["groups"]
    assert user["extra"]["authentication.kubernetes.io/pod-name"] == ["sa-reader"]
    assert user["extra"]["authentication.kubernetes.io/pod-uid"] == [pod["metadata"]["uid"]]


def test_automount_false_leaves_no_directory(env):
    ns = new_ns(env)
    wait_default_sa(env, ns)
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "no-sa", "namespace": ns},
            "spec": {"nodeName": NODE, "restartPolicy": "Never",
                     "automountServiceAccountToken": False,
                     "terminationGracePeriodSeconds": 2,
                     "containers": [{"name": "main", "image": env["image"], "command": [
                         "sh", "-c", f"test -e {SA_DIR} && echo present || echo absent"]}]}}
    st, obj, _ = env["server"].request("POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert st == 201, obj
    pod = finished(env, ns, "no-sa")
    assert pod["status"]["phase"] == "Succeeded", pod["status"]
    assert logs(env, ns, "no-sa").strip() == "absent"


def test_container_keeps_its_own_mount_at_the_path(env):
    ns = new_ns(env)
    wait_default_sa(env, ns)
    create_pod(env, ns, "own-mount", [{
        "name": "main", "command": ["sh", "-c", f"ls -A {SA_DIR} | wc -l"],
        "volumeMounts": [{"name": "mine", "mountPath": SA_DIR}]}],
        volumes=[{"name": "mine", "emptyDir": {}}])
    pod = finished(env, ns, "own-mount")
    assert pod["status"]["phase"] == "Succeeded", pod["status"]
    assert logs(env, ns, "own-mount").strip() == "0"


def test_missing_service_account_is_refused(env):
    ns = new_ns(env)
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "no-such-sa", "namespace": ns},
            "spec": {"nodeName": NODE, "restartPolicy": "Never", "serviceAccountName": "nope",
                     "terminationGracePeriodSeconds": 2,
                     "containers": [{"name": "main", "image": env["image"],
                                     "command": ["sh", "-c", "echo started"]}]}}
    st, obj, _ = env["server"].request("POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert st == 403, obj
    assert obj["reason"] == "Forbidden", obj
    assert obj["message"] == (f'pods "no-such-sa" is forbidden: error looking up service account '
                              f'{ns}/nope: serviceaccount "nope" not found'), obj
    assert get_pod(env, ns, "no-such-sa") is None
