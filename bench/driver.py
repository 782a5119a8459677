#!/usr/bin/env python3
"""The benchmarks of issue 7, against the local control plane.

scripts/bench.sh builds the tools, brings the cluster up and runs this:

  bench/driver.py --operator build/bin/electric-operator \
      --parallel-apply build/bin/parallel_apply --kubeconfig K \
      --out bench/results/latest.json [--budget-seconds 870]

It prints a markdown table and writes the numbers as JSON (and the table as
latest.md beside it). Scenarios: converge 1x10, 1x100, 10x50, 1x512 (the
operator vs `kubectl apply --server-side` vs a parallel server-side-apply
client, same objects from `electric-operator render`); idle writes and CPU,
memory, change latency and API cost on one operator holding ~1,100 shards.
How the runs are laid out to fit the time budget: see "The run" below.

Only the Python standard library and kubectl. It talks to the API server with
the kubeconfig's credentials, so its watches timestamp events as they arrive
with no kubectl in between. Everything it creates lives in namespaces named
bench-*, deleted at the end (also on Ctrl-C or SIGTERM).
"""

import argparse
import base64
import concurrent.futures
import hashlib
import http.client
import json
import math
import os
import platform
import secrets as pysecrets
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

GROUP_VERSION = "electric-operator.dev/v1alpha1"
SETS = "/apis/electric-operator.dev/v1alpha1"
LABEL_SET = "electric-operator.dev/shard-set"
LABEL_SHARD = "electric-operator.dev/shard"
CONFIG_HASH = "electric-operator.dev/config-hash"
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")
# The collections a set's children live in, keyed by kind.
CHILD_PATHS = {
    "Secret": "/api/v1/namespaces/{ns}/secrets",
    "PersistentVolumeClaim": "/api/v1/namespaces/{ns}/persistentvolumeclaims",
    "Service": "/api/v1/namespaces/{ns}/services",
    "Deployment": "/apis/apps/v1/namespaces/{ns}/deployments",
    "ConfigMap": "/api/v1/namespaces/{ns}/configmaps",
}
SET_PATH = SETS + "/namespaces/{ns}/electricshardsets"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- The API server ------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status


class Kube:
    """Minimal REST client over the kubeconfig's credentials (one keep-alive
    connection per thread)."""

    def __init__(self, kubeconfig, kubectl):
        env = dict(os.environ, KUBECONFIG=kubeconfig)
        raw = subprocess.check_output([kubectl, "config", "view", "--raw", "--minify", "-o", "json"], env=env)
        cfg = json.loads(raw)
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        url = urllib.parse.urlparse(cluster["server"])
        self.host, self.port = url.hostname, url.port or 443
        self._tmp = tempfile.mkdtemp(prefix="eo-bench-creds-")

        def material(obj, key):
            if obj.get(key + "-data"):
                path = os.path.join(self._tmp, key)
                with open(path, "wb") as f:
                    f.write(base64.b64decode(obj[key + "-data"]))
                os.chmod(path, 0o600)
                return path
            return obj.get(key)

        ctx = ssl.create_default_context(cafile=material(cluster, "certificate-authority"))
        if cluster.get("insecure-skip-tls-verify"):  # only because the kubeconfig asks
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if cluster.get("tls-server-name"):
            self.server_hostname = cluster["tls-server-name"]
        cert, key = material(user, "client-certificate"), material(user, "client-key")
        if cert:
            ctx.load_cert_chain(cert, key)
        self.headers = {}
        if user.get("token"):
            self.headers["Authorization"] = "Bearer " + user["token"]
        self.ctx = ctx
        self._local = threading.local()

    def connect(self, timeout=60):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json", ok=(200, 201, 202)):
        data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        headers = dict(self.headers, Accept="application/json")
        if data is not None:
            headers["Content-Type"] = content_type
        # Other users of the shared test cluster may restart the API server:
        # ride that out (connection refused, 5xx) for up to a minute and a half.
        deadline = time.monotonic() + 90
        while True:
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self.connect()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
                continue
            if (resp.status == 429 or resp.status >= 500) and time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            if ok and resp.status not in ok:
                raise ApiError(resp.status, payload.decode(errors="replace"))
            return resp.status, (json.loads(payload) if payload else None)

    def get(self, path):
        return self.request("GET", path)[1]

    def exists(self, path):
        return self.request("GET", path, ok=None)[0] == 200

    def create(self, path, body):
        return self.request("POST", path, body)[1]

    def merge_patch(self, path, patch):
        return self.request("PATCH", path, patch, "application/merge-patch+json")[1]

    def delete(self, path):
        return self.request("DELETE", path, ok=None)[0]


class Watch(threading.Thread):
    """Lists a collection, then watches it; calls on_event(type, object,
    monotonic arrival time) for every item of the list (as ADDED) and every
    event. ready is set once the watch stream is open."""

    def __init__(self, kube, path, on_event, label_selector=None):
        super().__init__(daemon=True)
        self.kube, self.path, self.on_event = kube, path, on_event
        self.selector = label_selector
        self.ready = threading.Event()
        self.stopped = False
        self.error = None
        self.reconnects = 0  # > 0: the API server went away meanwhile (timings disturbed)
        self._conn = None

    def _query(self, extra):
        q = dict(extra)
        if self.selector:
            q["labelSelector"] = self.selector
        return self.path + "?" + urllib.parse.urlencode(q)

    def run(self):
        rv = None
        while not self.stopped:
            try:
                if rv is None:
                    _, listed = self.kube.request("GET", self._query({}))
                    rv = listed["metadata"]["resourceVersion"]
                    now = time.monotonic()
                    for item in listed.get("items", []):
                        self.on_event("ADDED", item, now)
                self._conn = self.kube.connect(timeout=None)
                self._conn.request("GET", self._query({"watch": "1", "resourceVersion": rv,
                                                       "allowWatchBookmarks": "true", "timeoutSeconds": "1800"}),
                                   headers=self.kube.headers)
                resp = self._conn.getresponse()
                if resp.status == 410:
                    rv = None
                    continue
                if resp.status != 200:
                    raise ApiError(resp.status, resp.read().decode(errors="replace"))
                self.ready.set()
                while not self.stopped:
                    line = resp.readline()
                    if not line:
                        break
                    t = time.monotonic()
                    ev = json.loads(line)
                    obj = ev.get("object", {})
                    if ev["type"] == "ERROR":
                        if obj.get("code") == 410:
                            rv = None
                            break
                        raise ApiError(obj.get("code", 0), json.dumps(obj))
                    rv = obj.get("metadata", {}).get("resourceVersion", rv)
                    if ev["type"] != "BOOKMARK":
                        self.on_event(ev["type"], obj, t)
                self._conn.close()
            except Exception as e:  # noqa: BLE001 - the API server went away: reconnect
                if self.stopped:
                    break
                self.reconnects += 1
                if self.reconnects > 300:
                    self.error = e
                    log(f"watch {self.path} gave up: {e}")
                    break
                time.sleep(0.5)
        self.ready.set()

    def stop(self):
        self.stopped = True
        if self._conn is not None and self._conn.sock is not None:
            try:
                self._conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def start_watches(watches, timeout=90):
    for w in watches:
        w.start()
    for w in watches:
        if not w.ready.wait(timeout) or w.error:
            raise RuntimeError(f"watch {w.path} did not open: {w.error}")


def stop_watches(watches):
    for w in watches:
        w.stop()


# --- The operator process --------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Operator:
    """The operator binary as a separate process, watching `namespaces`."""

    def __init__(self, binary, kubeconfig, namespaces, concurrency, log_path):
        self.metrics_port, self.health_port = free_port(), free_port()
        args = [binary, "run", "--kubeconfig", kubeconfig, "--concurrency", str(concurrency),
                "--metrics-bind-address", f"127.0.0.1:{self.metrics_port}",
                "--health-probe-bind-address", f"127.0.0.1:{self.health_port}", "--log-level", "warn"]
        for ns in namespaces:
            args += ["--namespace", ns]
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {self.proc.returncode}; see {log_path}")
            if self._http(self.health_port, "/readyz")[0] == 200:
                return
            time.sleep(0.1)
        raise RuntimeError(f"operator not ready within 60 s; see {log_path}")

    @staticmethod
    def _http(port, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, ""
        except OSError:
            return 0, ""

    def metrics(self):
        """{(name, frozenset(labels)): value} of every sample."""
        status, text = self._http(self.metrics_port, "/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        out = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            head, _, value = line.rpartition(" ")
            name, labels = head, {}
            if "{" in head:
                name, _, rest = head.partition("{")
                for part in rest.rstrip("}").split('",'):
                    if "=" in part:
                        k, _, v = part.partition("=")
                        labels[k.strip()] = v.strip().strip('"')
            try:
                out[(name, frozenset(labels.items()))] = float(value)
            except ValueError:
                pass
        return out

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        # utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory(self):
        """(VmRSS, VmHWM) in bytes."""
        values = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0]) * 1024
        return values["VmRSS"], values["VmHWM"]

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def metric_sum(samples, name, **labels):
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def requests_by_verb(before, after):
    out = {}
    for verb in ("GET",) + WRITE_VERBS:
        out[verb] = int(round(metric_sum(after, "rest_client_requests_total", method=verb)
                              - metric_sum(before, "rest_client_requests_total", method=verb)))
    return out


def reconciles(samples):
    return metric_sum(samples, "controller_runtime_reconcile_total")


def wait_operator_idle(op, quiet=1.0, timeout=60):
    """Until the operator made no request and ran no reconcile for `quiet` s."""
    deadline = time.monotonic() + timeout
    last = None
    since = time.monotonic()
    while time.monotonic() < deadline:
        m = op.metrics()
        key = (metric_sum(m, "rest_client_requests_total"), reconciles(m))
        if key != last:
            last, since = key, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return True
        time.sleep(0.1)
    return False


# --- Objects -----------------------------------------------------------------------


def db_url(ns, secret_name, password="bench-password-0000"):
    return f"postgresql://electric:{password}@{secret_name}.{ns}.db:5432/app"


def source_secret_name(set_name, shard):
    return f"{set_name}-pg-{shard}"


def shard_set(ns, name, shards, image=None):
    spec = {"shards": [{"name": str(i), "databaseURLSecretRef": {"name": source_secret_name(name, i), "key": "url"}}
                       for i in range(shards)]}
    if image:
        spec["image"] = image
    return {"apiVersion": GROUP_VERSION, "kind": "ElectricShardSet",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def b64(text):
    return base64.b64encode(text.encode()).decode()


def parallel_map(fn, items, workers=4):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


def create_source_secrets(kube, ns, set_name, shards):
    def one(i):
        name = source_secret_name(set_name, i)
        kube.create(f"/api/v1/namespaces/{ns}/secrets",
                    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                     "data": {"url": b64(db_url(ns, name))}})
    parallel_map(one, range(shards))


def render_children(operator_bin, kubectl, kubeconfig, set_obj, uid):
    """The children the operator makes for `set_obj`, from `electric-operator
    render`, made concrete: the set's real uid, the real Secret values (the
    render shows placeholders), a config hash, and S-api-secret."""
    ns, name = set_obj["metadata"]["namespace"], set_obj["metadata"]["name"]
    rendered = subprocess.run([operator_bin, "render", "-f", "-", "--namespace", ns],
                              input=json.dumps(set_obj).encode(), capture_output=True, check=True).stdout
    as_json = subprocess.run([kubectl, "create", "--dry-run=client", "-o", "json", "-f", "-"],
                             input=rendered, capture_output=True, check=True,
                             env=dict(os.environ, KUBECONFIG=kubeconfig)).stdout.decode()
    objects, pos, dec = [], 0, json.JSONDecoder()
    while pos < len(as_json):
        if as_json[pos].isspace():
            pos += 1
            continue
        obj, pos = dec.raw_decode(as_json, pos)
        objects.extend(obj["items"] if obj.get("kind") == "List" else [obj])
    api_secret = pysecrets.token_hex(32)
    shards = {s["name"]: s for s in set_obj["spec"]["shards"]}
    out = []
    for obj in objects:
        meta = obj["metadata"]
        for ref in meta.get("ownerReferences", []):
            ref["uid"] = uid
        shard = meta.get("labels", {}).get(LABEL_SHARD)
        if obj["kind"] == "Secret" and "stringData" in obj:
            url = db_url(ns, shards[shard]["databaseURLSecretRef"]["name"])
            obj.pop("stringData")
            obj["data"] = {"DATABASE_URL": b64(url), "ELECTRIC_SECRET": b64(api_secret)}
        if obj["kind"] == "Deployment":
            ann = obj["spec"]["template"]["metadata"]["annotations"]
            ann[CONFIG_HASH] = hashlib.sha256(f"{uid}/{shard}".encode()).hexdigest()
        out.append(obj)
    routing = next(o for o in out if o["kind"] == "ConfigMap")
    labels = dict(routing["metadata"]["labels"], **{"app.kubernetes.io/component": "shard"})
    out.insert(0, {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                   "metadata": {"name": f"{name}-api-secret", "namespace": ns, "labels": labels,
                                "ownerReferences": routing["metadata"]["ownerReferences"]},
                   "data": {"secret": b64(api_secret)}})
    return out


def expected_children(set_obj):
    """{kind: set(names)} the operator creates for a set (api.md)."""
    name = set_obj["metadata"]["name"]
    shards = [s["name"] for s in set_obj["spec"]["shards"]]
    return {
        "Secret": {f"{name}-shard-{x}" for x in shards} | {f"{name}-api-secret"},
        "PersistentVolumeClaim": {f"{name}-shard-{x}-data" for x in shards},
        "Service": {f"{name}-shard-{x}" for x in shards},
        "Deployment": {f"{name}-shard-{x}" for x in shards},
        "ConfigMap": {f"{name}-routing"},
    }


def condition(obj, kind):
    for c in (obj.get("status") or {}).get("conditions", []):
        if c.get("type") == kind:
            return c
    return {}


def set_is_ready(obj):
    st = obj.get("status") or {}
    return (condition(obj, "Ready").get("status") == "True"
            and st.get("observedGeneration") == obj["metadata"].get("generation")
            and st.get("readyShards") == len(obj["spec"]["shards"]))


def deployment_available(obj):
    st = obj.get("status") or {}
    return (st.get("observedGeneration", 0) >= obj["metadata"].get("generation", 1)
            and st.get("updatedReplicas") == 1 and st.get("availableReplicas") == 1)


# --- Namespaces ------------------------------------------------------------------------


class Namespaces:
    """Every namespace the run creates (bench-*), deleted on the way out."""

    def __init__(self, kube, prefix):
        self.kube, self.prefix = kube, prefix
        self.live = []
        self.deleting = []
        self.counter = 0

    def create(self, what):
        self.counter += 1
        name = f"{self.prefix}-{what}-{self.counter}"[:63].rstrip("-")
        self.kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                 "metadata": {"name": name,
                                                              "labels": {"electric-operator.dev/bench": "true"}}})
        self.live.append(name)
        return name

    def delete(self, names, wait=True, timeout=300):
        for ns in names:
            self.kube.delete(f"/api/v1/namespaces/{ns}")
            if ns in self.live:
                self.live.remove(ns)
            self.deleting.append(ns)
        started = time.monotonic()
        if wait:
            self.wait_gone(names, timeout)
        return time.monotonic() - started

    def wait_gone(self, names, timeout):
        started = time.monotonic()
        pending = list(names)
        while pending and time.monotonic() - started < timeout:
            pending = [ns for ns in pending if self.kube.exists(f"/api/v1/namespaces/{ns}")]
            if pending:
                time.sleep(0.5)
        if pending:
            log(f"namespaces still terminating after {timeout} s: {pending}")
        for ns in names:
            if ns in self.deleting and ns not in pending:
                self.deleting.remove(ns)

    def delete_all(self, timeout=240):
        if self.live:
            self.delete(list(self.live), wait=False)
        self.wait_gone(list(self.deleting), timeout=timeout)


# --- Watching what the operator (or a baseline) does --------------------------------------


class ConvergeTracker:
    """Watches one namespace: when every expected child of `sets` exists,
    when every one of them is Ready, when every Deployment is available.
    Other objects in the namespace are ignored."""

    def __init__(self, kube, ns, sets):
        self.expected = {k: set() for k in CHILD_PATHS}
        for s in sets:
            for kind, names in expected_children(s).items():
                self.expected[kind] |= names
        self.missing = sum(len(v) for v in self.expected.values())
        self.set_names = {s["metadata"]["name"] for s in sets}
        self.not_ready = set(self.set_names)
        self.deployments_pending = set(self.expected["Deployment"])
        self.t_exist = self.t_ready = self.t_available = None
        self.aborted = None
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)
        self.watches = [Watch(kube, path.format(ns=ns), self._child(kind)) for kind, path in CHILD_PATHS.items()]
        self.watches.append(Watch(kube, SET_PATH.format(ns=ns), self._set))

    def _child(self, kind):
        expected, seen = self.expected[kind], set()

        def on_event(etype, obj, t):
            name = obj["metadata"]["name"]
            with self.lock:
                if etype != "DELETED" and name in expected and name not in seen:
                    seen.add(name)
                    self.missing -= 1
                    if self.missing == 0:
                        self.t_exist = t
                if kind == "Deployment" and name in self.deployments_pending and deployment_available(obj):
                    self.deployments_pending.discard(name)
                    if not self.deployments_pending:
                        self.t_available = t
                self.done.notify_all()
        return on_event

    def _set(self, etype, obj, t):
        name = obj["metadata"]["name"]
        with self.lock:
            if name in self.set_names and etype == "DELETED":
                # Not ours: someone else deleted it. The run cannot finish.
                self.aborted = f"ElectricShardSet {name} was deleted during the run"
            elif name in self.not_ready and set_is_ready(obj):
                self.not_ready.discard(name)
                if not self.not_ready:
                    self.t_ready = t
            self.done.notify_all()

    def start(self):
        start_watches(self.watches)

    def stop(self):
        stop_watches(self.watches)

    def reconnects(self):
        return sum(w.reconnects for w in self.watches)

    def wait(self, attr, timeout):
        deadline = time.monotonic() + timeout
        with self.lock:
            while getattr(self, attr) is None and not self.aborted:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.done.wait(min(left, 1.0))
            return getattr(self, attr)


class DeploymentTracker:
    """The latest state of every Deployment in a namespace and the arrival
    time of its last event, with waits on them."""

    def __init__(self, kube, ns):
        self.latest = {}
        self.cv = threading.Condition()
        self.watches = [Watch(kube, CHILD_PATHS["Deployment"].format(ns=ns), self._on)]

    def _on(self, etype, obj, t):
        with self.cv:
            self.latest[obj["metadata"]["name"]] = (None if etype == "DELETED" else obj, t)
            self.cv.notify_all()

    def hash_of(self, name):
        with self.cv:
            return config_hash(self.latest.get(name, (None, 0))[0])

    def wait_one(self, name, pred, timeout):
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                obj, t = self.latest.get(name, (None, 0))
                if pred(obj):
                    return t
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def wait_all(self, names, pred, timeout):
        """Arrival time of the event that made the last of `names` match."""
        deadline = time.monotonic() + timeout
        pending = set(names)
        last = 0
        with self.cv:
            while True:
                for name in list(pending):
                    obj, t = self.latest.get(name, (None, 0))
                    if pred(obj):
                        pending.discard(name)
                        last = max(last, t)
                if not pending:
                    return last
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(min(left, 0.5))


class SetTracker:
    def __init__(self, kube, ns):
        self.latest = {}
        self.cv = threading.Condition()
        self.watches = [Watch(kube, SET_PATH.format(ns=ns), self._on)]

    def _on(self, etype, obj, t):
        with self.cv:
            self.latest[obj["metadata"]["name"]] = None if etype == "DELETED" else obj
            self.cv.notify_all()

    def not_ready(self, names):
        return [n for n in names if not (self.latest.get(n) and set_is_ready(self.latest[n]))]

    def wait_ready(self, names, timeout):
        deadline = time.monotonic() + timeout
        with self.cv:
            while self.not_ready(names):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(min(left, 1.0))
            return True


def image_of(dep):
    return dep["spec"]["template"]["spec"]["containers"][0]["image"] if dep else None


def config_hash(dep):
    return ((dep or {}).get("spec", {}).get("template", {}).get("metadata", {}).get("annotations") or {}).get(CONFIG_HASH)


def a_bit():
    # Edits arrive independently of the operator's rhythm.
    return 0.2 + pysecrets.randbelow(200) / 1000


def objects_of(sets, shards_per_set):
    """What one size creates: per shard Secret, PVC, Service, Deployment;
    per set the routing ConfigMap and S-api-secret."""
    return sets * (4 * shards_per_set + 2)


# --- The run ---------------------------------------------------------------------------------
#
# This control plane is slow to make pods Ready at scale (kube-controller-manager
# and the volume provisioner run with client-go's default request rates, 20 and
# 5 per second), and a big size leaves it busy for minutes after. So the run is
# laid out to fit its time budget and to measure each thing on a calm cluster:
#
# 1. Small sizes (< --big-threshold shards), all their rounds: per run a fresh
#    operator in the size's own namespace, then the two baselines there. Except
#    round 1 of the change-latency size (1x100): its operator run is the first
#    set of the steady-state operator (namespace bench-steady-*, started at 0
#    shards for memory), which keeps it.
# 2. On the steady-state operator, once that set is Ready: the image edit and
#    the single-Secret edits, 60 s idle, a steady-state reconcile of each set.
# 3. Big sizes, round 1: baselines in the size's namespace (kubectl when the
#    budget allows), then the operator run on the steady-state operator, whose
#    sets stay (memory at ~1,100 shards, edits again at that scale; idle again
#    if it all gets Ready within the budget).
# 4. Big sizes, later rounds with a fresh operator, if the budget still allows.
#
# Costs are predicted from what was measured so far; a run that would not fit
# is skipped and listed in the report. Every run says which round it was.


class Bench:
    def __init__(self, args):
        self.args = args
        self.kube = Kube(args.kubeconfig, args.kubectl)
        self.ns = Namespaces(self.kube, args.namespace_prefix)
        self.workdir = tempfile.mkdtemp(prefix="eo-bench-")
        self.operators = []
        self.started = time.monotonic()
        self.sizes = []
        for spec in args.sizes.split(","):
            sets, shards = (int(x) for x in spec.lower().split("x"))
            self.sizes.append({"sets": sets, "shards_per_set": shards, "shards": sets * shards,
                               "objects": objects_of(sets, shards), "operator": [], "parallel": [], "kubectl": [],
                               "skipped": [], "_ns": None, "_sets": None})
        self.small = [s for s in self.sizes if s["shards"] < args.big_threshold]
        self.big = [s for s in self.sizes if s["shards"] >= args.big_threshold]
        self.change_size = next((s for s in self.small if s["sets"] == 1
                                 and s["shards_per_set"] >= args.change_set_shards), None)
        self.steady = {"memory": {}, "idle": [], "steady_reconcile": []}
        self.phase = 1
        self.st_ns = self.st_op = self.st_deployments = self.st_sets_tracker = None
        self.st_sets = []
        self.st_total = 0
        # Seconds per unit, learnt as the run goes (first guesses from this machine).
        self.rates = {"ready": 0.45, "exist": 0.012, "parallel": 0.01, "kubectl": 0.05, "cleanup": 0.06}

    # -- time budget
    def elapsed(self):
        return time.monotonic() - self.started

    def left(self):
        return self.args.budget_seconds - self.elapsed()

    def mandatory_big(self, size):
        """What is left of round 1 of a big size without kubectl, the Ready
        wait at its floor."""
        cost = size["objects"] * self.rates["exist"] + self.args.ready_cap_floor_seconds + 15
        if not size["parallel"]:
            cost += self.cost_baseline(size, "parallel")
        return cost

    def reserve(self):
        """What later phases need: the steady-state measurements while pending,
        round 1 of the big sizes, the final cleanup."""
        a = self.args
        r = a.reserve_seconds
        if self.phase <= 2 and not self.steady["idle"]:
            r += a.idle_seconds + 90
        if self.phase <= 3:
            r += sum(self.mandatory_big(s) for s in self.big if not s["operator"])
            r += a.secret_edits_at_scale * 1.0 + 15
            r += self.rates["cleanup"] * sum(s["shards"] for s in self.sizes if s is self.change_size or s in self.big)
        return r

    def fits(self, seconds):
        return seconds * 1.1 + self.reserve() < self.left()

    def learn(self, key, seconds, units):
        if seconds is not None and units:
            self.rates[key] = seconds / units

    def cost_operator(self, size):
        return (min(size["shards"] * self.rates["ready"], self.args.ready_cap_seconds) + 15
                + size["shards"] * self.rates["cleanup"])

    def cost_round(self, size):
        return (self.cost_operator(size) + self.cost_baseline(size, "parallel")
                + self.cost_baseline(size, "kubectl"))

    def cost_baseline(self, size, method):
        return size["objects"] * self.rates[method] + size["shards"] * self.rates["cleanup"] + 10

    # -- processes and namespaces
    def start_operator(self, namespaces, tag):
        op = Operator(self.args.operator, self.args.kubeconfig, namespaces, self.args.concurrency,
                      os.path.join(self.args.log_dir, f"operator-{tag}.log"))
        self.operators.append(op)
        return op

    def stop_operator(self, op):
        op.stop()
        if op in self.operators:
            self.operators.remove(op)

    def clear_namespace(self, ns, timeout=300):
        """Deletes the sets, their children and what the cluster made from
        them (ReplicaSets, Pods), then waits until none is left. Faster than a
        namespace deletion (whose controller walks every API type) and as
        clean; source Secrets stay for the next run, the namespace itself
        goes at the end."""
        started = time.monotonic()
        sel = urllib.parse.urlencode({"labelSelector": LABEL_SET})
        collections = [SET_PATH.format(ns=ns)] + \
            [p.format(ns=ns) + ("?" + sel if kind in ("Secret", "ConfigMap") else "") for kind, p in CHILD_PATHS.items()] + \
            [f"/apis/apps/v1/namespaces/{ns}/replicasets", f"/api/v1/namespaces/{ns}/pods"]
        while time.monotonic() - started < timeout:
            left = 0
            for path in collections:
                sep = "&" if "?" in path else "?"
                if self.kube.get(path + sep + "limit=1")["items"]:
                    left += 1
                    how = "gracePeriodSeconds=0" if "/pods" in path else "propagationPolicy=Background"
                    self.kube.request("DELETE", path + sep + how, ok=None)
            if not left:
                return time.monotonic() - started
            time.sleep(0.5)
        log(f"{ns}: objects still present after {timeout:.0f} s")
        return time.monotonic() - started

    def size_namespace(self, size):
        """The size's own namespace (baselines, later rounds) with its source Secrets."""
        if size["_ns"] is None:
            size["_ns"] = self.ns.create(f"conv-{size['sets']}x{size['shards_per_set']}")
            size["_sets"] = [shard_set(size["_ns"], f"s{i:02d}", size["shards_per_set"]) for i in range(size["sets"])]
            parallel_map(lambda s: create_source_secrets(self.kube, size["_ns"], s["metadata"]["name"],
                                                         size["shards_per_set"]), size["_sets"], 2)
        return size["_ns"], size["_sets"]

    # -- one timed run
    def operator_converge(self, op, ns, set_objs, ready_cap):
        """Creates `set_objs` under a running operator; times children-exist
        and Ready (waiting at most `ready_cap` s for Ready: pods are the
        cluster's business and can be slow here); counts the operator's
        requests until the children exist and until it is idle after Ready."""
        shards = sum(len(s["spec"]["shards"]) for s in set_objs)
        tracker = ConvergeTracker(self.kube, ns, set_objs)
        tracker.start()
        exist_timeout = 60 + objects_of(len(set_objs), shards // len(set_objs)) * 0.5
        result = {"shards": shards}
        try:
            before, cpu0 = op.metrics(), op.cpu_seconds()
            t0 = time.monotonic()
            for s in set_objs:
                self.kube.create(SET_PATH.format(ns=ns), s)
            t_exist = tracker.wait("t_exist", exist_timeout)
            at_exist = op.metrics()
            result["requests_until_exist"] = requests_by_verb(before, at_exist)
            t_ready = tracker.wait("t_ready", max(0.0, t0 + ready_cap - time.monotonic()))
            result["exist_seconds"] = None if t_exist is None else t_exist - t0
            result["ready_seconds"] = None if t_ready is None else t_ready - t0
            if t_ready is None:
                result["ready_cap_seconds"] = ready_cap
                with tracker.lock:
                    result["shards_available_at_cap"] = shards - len(tracker.deployments_pending)
            else:
                t_avail = tracker.wait("t_available", 5)
                result["available_seconds"] = None if t_avail is None else t_avail - t0
                wait_operator_idle(op, quiet=1.0, timeout=30)
            after, cpu1 = op.metrics(), op.cpu_seconds()
            result["requests"] = requests_by_verb(before, after)
            result["reconciles"] = int(reconciles(after) - reconciles(before))
            result["cpu_seconds"] = cpu1 - cpu0
        finally:
            tracker.stop()
        result["watch_reconnects"] = tracker.reconnects()
        if tracker.aborted:
            raise RuntimeError(tracker.aborted)
        if result["exist_seconds"] is None:
            result["error"] = f"children not all there within {exist_timeout:.0f} s ({tracker.missing} missing)"
        self.learn("ready", result["ready_seconds"], shards)
        return result

    def baseline_once(self, size, method, round_index):
        """Applies the size's children with kubectl or parallel_apply in the
        size's namespace; times children-exist; cleans up."""
        ns, set_objs = self.size_namespace(size)
        result = {"round": round_index + 1}
        try:
            objects = []
            for s in set_objs:
                created = self.kube.create(SET_PATH.format(ns=ns), s)
                objects += render_children(self.args.operator, self.args.kubectl, self.args.kubeconfig,
                                           s, created["metadata"]["uid"])
            objects_file = os.path.join(self.workdir, f"{ns}-{method}-{round_index}.yaml")
            with open(objects_file, "w") as f:
                if method == "kubectl":
                    f.write("".join("---\n" + json.dumps(o) + "\n" for o in objects))
                else:
                    f.write("".join(json.dumps(o) + "\n" for o in objects))
            result["objects"] = len(objects)
            tracker = ConvergeTracker(self.kube, ns, set_objs)
            tracker.start()
            try:
                t0 = time.monotonic()
                if method == "kubectl":
                    p = subprocess.run([self.args.kubectl, "apply", "--server-side",
                                        "--field-manager=electric-operator", "-f", objects_file],
                                       capture_output=True, env=dict(os.environ, KUBECONFIG=self.args.kubeconfig))
                    result["client_seconds"] = time.monotonic() - t0
                    if p.returncode != 0:
                        raise RuntimeError(f"kubectl apply failed: {p.stderr.decode()[-500:]}")
                else:
                    with open(objects_file) as f:
                        p = subprocess.run([self.args.parallel_apply, "--kubeconfig", self.args.kubeconfig,
                                            "--concurrency", str(self.args.concurrency)],
                                           stdin=f, capture_output=True)
                    if p.returncode != 0:
                        raise RuntimeError(f"parallel_apply failed: {p.stderr.decode()[-500:]}")
                    report = json.loads(p.stdout.decode().strip().splitlines()[-1])
                    result["client_seconds"] = report["seconds"]
                    # Timed from its first apply: process start and connection
                    # set-up are not what this baseline is about (kubectl's
                    # are: that is what a user runs).
                    result["startup_seconds"] = report["started_monotonic"] - t0
                    t0 = report["started_monotonic"]
                t_exist = tracker.wait("t_exist", 60 + size["objects"] * 0.5)
                result["exist_seconds"] = None if t_exist is None else t_exist - t0
                if tracker.aborted:
                    raise RuntimeError(tracker.aborted)
                if t_exist is None:
                    result["error"] = f"{tracker.missing} children missing"
            finally:
                tracker.stop()
                result["watch_reconnects"] = tracker.reconnects()
        except Exception as e:  # noqa: BLE001 - a failed run is reported, the others go on
            result["error"] = f"{type(e).__name__}: {e}"
        result["cleanup_seconds"] = self.clear_namespace(ns)
        self.learn(method, result.get("exist_seconds"), result.get("objects"))
        self.learn("cleanup", result["cleanup_seconds"], size["shards"])
        self.report_run(size, method, result)
        size[method].append(result)

    def report_run(self, size, method, r):
        label = f"{size['sets']}x{size['shards_per_set']}"
        extra = ""
        if method == "operator" and "requests" in r:
            extra = (f", ready {fmt_s(r.get('ready_seconds'))}, "
                     f"{sum(r['requests'][v] for v in WRITE_VERBS)} writes, {r['reconciles']} reconciles")
        log(f"converge {label} round {r['round']} {method}: exist {fmt_s(r.get('exist_seconds'))}{extra}"
            + (f" (cleanup {r['cleanup_seconds']:.1f} s)" if "cleanup_seconds" in r else "")
            + (f" ERROR {r['error']}" if "error" in r else ""))

    # -- the whole run
    def run_all(self):
        a = self.args
        self.steady_start()
        try:
            log("phase 1: the small sizes, all rounds (phase 2, the steady-state edits and idle, after the first "
                f"{self.change_size['sets']}x{self.change_size['shards_per_set']})" if self.change_size
                else "phase 1: the small sizes, all rounds")
            for r in range(a.runs):
                for size in self.small:
                    if size is self.change_size and r == 0:
                        self.round_on_steady(size, r, a.ready_cap_seconds)
                        self.phase = 2
                        self.steady_change_and_idle()
                        continue
                    if r > 0 and not self.fits(self.cost_round(size)):
                        self.skip(size, f"round {r + 1}", self.cost_round(size))
                        continue
                    self.round_fresh(size, r)
            self.phase = 3
            log("phase 3: the big sizes on the steady-state operator")
            for size in self.big:
                if not self.fits(0):  # reserve() holds this size's round 1 already
                    self.skip(size, "round 1", self.mandatory_big(size))
                    continue
                self.round_on_steady(size, 0, None)
            self.steady_end()
        finally:
            self.steady_stop()
        self.phase = 4
        for r in range(1, a.runs):
            for size in self.big:
                if not self.fits(self.cost_round(size)):
                    self.skip(size, f"round {r + 1}", self.cost_round(size))
                    continue
                self.round_fresh(size, r)

    def skip(self, size, what, cost):
        size["skipped"].append(f"{what}: would not fit the time budget (~{cost:.0f} s)")
        log(f"converge {size['sets']}x{size['shards_per_set']} {what} skipped: does not fit the time budget "
            f"(~{cost:.0f} s)")

    def baselines(self, size, r):
        for method in ("parallel", "kubectl"):
            cost = self.cost_baseline(size, method)
            if self.phase >= 3 and method == "kubectl" and not self.fits(cost):
                self.skip(size, f"round {r + 1} kubectl", cost)
                continue
            self.baseline_once(size, method, r)

    def round_fresh(self, size, r):
        """Baselines, then the operator: a fresh one in the size's namespace."""
        label = f"{size['sets']}x{size['shards_per_set']}"
        self.baselines(size, r)
        ns, set_objs = self.size_namespace(size)
        op = self.start_operator([ns], f"converge-{label}-{r + 1}")
        try:
            res = self.operator_converge(op, ns, set_objs, self.args.ready_cap_seconds)
        except Exception as e:  # noqa: BLE001
            res = {"error": f"{type(e).__name__}: {e}"}
        finally:
            self.stop_operator(op)
        res.update({"round": r + 1, "shared_operator": False, "shards_already_there": 0})
        res["cleanup_seconds"] = self.clear_namespace(ns)
        self.learn("cleanup", res["cleanup_seconds"], size["shards"])
        if res.get("exist_seconds"):
            self.learn("exist", res["exist_seconds"], size["objects"])
        self.report_run(size, "operator", res)
        size["operator"].append(res)
        self.save_partial()

    def round_on_steady(self, size, r, ready_cap):
        """Baselines, then the operator run on the steady-state operator,
        whose sets stay."""
        label = f"{size['sets']}x{size['shards_per_set']}"
        self.baselines(size, r)
        prefix = "abcdefghijklmnopqrstuvwxyz"[self.sizes.index(size)]
        set_objs = [shard_set(self.st_ns, f"{prefix}{i}", size["shards_per_set"]) for i in range(size["sets"])]
        parallel_map(lambda s: create_source_secrets(self.kube, self.st_ns, s["metadata"]["name"],
                                                     size["shards_per_set"]), set_objs, 2)
        if ready_cap is None:
            # What the Ready wait may take, keeping what the rest needs.
            spare = self.left() - self.reserve()
            ready_cap = min(self.args.ready_cap_seconds, self.args.ready_cap_floor_seconds + max(0.0, 0.9 * spare))
        try:
            res = self.operator_converge(self.st_op, self.st_ns, set_objs, ready_cap)
        except Exception as e:  # noqa: BLE001
            res = {"error": f"{type(e).__name__}: {e}"}
        res.update({"round": r + 1, "shared_operator": True, "shards_already_there": self.st_total})
        self.report_run(size, "operator", res)
        size["operator"].append(res)
        if "error" in res:
            raise RuntimeError(f"the steady-state operator did not converge {label}: {res['error']}")
        self.learn("exist", res["exist_seconds"], size["objects"])
        self.st_total += size["shards"]
        self.st_sets += set_objs
        self.steady["shards"], self.steady["sets"] = self.st_total, len(self.st_sets)
        self.record_memory(self.st_op, self.st_total, "" if res.get("ready_seconds") else "pods still starting")
        self.save_partial()

    # -- the steady-state operator
    def steady_start(self):
        self.st_ns = self.ns.create("steady")
        self.st_op = self.start_operator([self.st_ns], "steady")
        self.st_deployments = DeploymentTracker(self.kube, self.st_ns)
        self.st_sets_tracker = SetTracker(self.kube, self.st_ns)
        start_watches(self.st_deployments.watches + self.st_sets_tracker.watches)
        time.sleep(3)
        self.record_memory(self.st_op, 0)

    def steady_stop(self):
        if self.st_op is None:
            return
        stop_watches(self.st_deployments.watches + self.st_sets_tracker.watches)
        self.stop_operator(self.st_op)
        self.st_op = None
        # The biggest cleanup of the run; bounded so the run ends in time
        # (the namespace deletion finishes whatever is left).
        self.steady["cleanup_seconds"] = self.clear_namespace(self.st_ns, timeout=max(60, self.left() - 15))
        self.ns.delete([self.st_ns], wait=False)

    def steady_change_and_idle(self):
        a, st = self.args, self.steady
        if not self.st_sets or not self.st_sets_tracker.wait_ready(self.names(self.st_sets), a.ready_cap_seconds):
            log("the change-latency set did not become Ready; no edits or idle measured")
            return
        st["change"] = self.change_latency(self.st_op, self.st_ns, self.st_sets[0], self.st_deployments,
                                           self.st_sets_tracker, a.secret_edits, image_edit=True)
        st["change"]["shards_total"] = self.st_total
        if self.st_sets_tracker.wait_ready(self.names(self.st_sets), a.ready_cap_seconds):
            self.idle_and_pokes()
        self.save_partial()

    @staticmethod
    def names(set_objs):
        return [s["metadata"]["name"] for s in set_objs]

    def record_memory(self, op, shards, when=""):
        rss, hwm = op.memory()
        key = f"{shards}{' ' + when if when else ''}"
        self.steady["memory"][key] = {"shards": shards, "when": when, "rss": rss, "hwm": hwm}
        log(f"memory at {shards} shards{' (' + when + ')' if when else ''}: RSS {mib(rss)}, peak {mib(hwm)}")

    def idle_and_pokes(self):
        a, st, op, total = self.args, self.steady, self.st_op, self.st_total
        wait_operator_idle(op, quiet=3.0, timeout=60)
        self.record_memory(op, total, "converged")
        # Idle: nothing changes; the operator should not write at all.
        m0, c0 = op.metrics(), op.cpu_seconds()
        time.sleep(a.idle_seconds)
        m1, c1 = op.metrics(), op.cpu_seconds()
        req = requests_by_verb(m0, m1)
        idle = {"shards": total, "sets": len(self.st_sets), "seconds": a.idle_seconds, "requests": req,
                "writes": sum(req[v] for v in WRITE_VERBS), "cpu_seconds": c1 - c0,
                "reconciles": int(reconciles(m1) - reconciles(m0))}
        st["idle"].append(idle)
        log(f"idle {a.idle_seconds} s at {total} shards: {idle['writes']} writes, {req['GET']} GETs, "
            f"{c1 - c0:.2f} CPU s, {idle['reconciles']} reconciles")
        self.record_memory(op, total, f"after {a.idle_seconds} s idle")

        # Steady-state reconciles: an annotation on every set queues each
        # once and changes nothing the operator owns.
        m0, c0 = op.metrics(), op.cpu_seconds()
        for name in self.names(self.st_sets):
            self.kube.merge_patch(SET_PATH.format(ns=self.st_ns) + "/" + name,
                                  {"metadata": {"annotations": {"bench.electric-operator.dev/poke": str(time.time())}}})
        deadline = time.monotonic() + 30
        while reconciles(op.metrics()) < reconciles(m0) + len(self.st_sets) and time.monotonic() < deadline:
            time.sleep(0.1)
        wait_operator_idle(op, quiet=1.0)
        m1, c1 = op.metrics(), op.cpu_seconds()
        req = requests_by_verb(m0, m1)
        n = reconciles(m1) - reconciles(m0)
        st["steady_reconcile"].append({
            "shards": total, "reconciles": int(n), "requests": req, "cpu_seconds": c1 - c0,
            "requests_per_reconcile": sum(req.values()) / n if n else None,
            "writes_per_reconcile": sum(req[v] for v in WRITE_VERBS) / n if n else None})
        log(f"steady reconciles at {total} shards: {int(n)} reconciles, requests {req}, {c1 - c0:.2f} CPU s")

    def steady_end(self):
        a, st, op, total = self.args, self.steady, self.st_op, self.st_total
        if not self.big or not any(s["operator"] for s in self.big):
            return
        # All converged at full size? The wait is capped by the budget.
        wait = max(0.0, min(a.ready_cap_seconds, self.left() - self.reserve() - a.idle_seconds - 60))
        converged = self.st_sets_tracker.wait_ready(self.names(self.st_sets), wait)
        st["converged_at_end"] = converged
        if not converged:
            with self.st_sets_tracker.cv:
                ready = sum(((self.st_sets_tracker.latest.get(n) or {}).get("status") or {}).get("readyShards", 0)
                            for n in self.names(self.st_sets))
            st["ready_shards_at_end"] = ready
            log(f"{ready}/{total} shards Ready at the end of phase 3: the cluster is still starting pods")
        wait_operator_idle(op, quiet=2.0, timeout=20)
        self.record_memory(op, total, "end of phase 3" if converged else "end of phase 3, pods still starting")
        if converged and self.fits(a.idle_seconds + 20):
            self.idle_and_pokes()
        mem = st["memory"]
        points = sorted((v for v in mem.values() if v["shards"] >= 100), key=lambda v: (v["shards"], v["rss"]))
        if len(points) >= 2 and points[-1]["shards"] > points[0]["shards"]:
            lo = min((v for v in points if v["shards"] == points[0]["shards"]), key=lambda v: v["rss"])
            st["marginal_bytes_per_shard"] = (points[-1]["rss"] - lo["rss"]) / (points[-1]["shards"] - lo["shards"])
            st["marginal_between"] = [lo["shards"], points[-1]["shards"]]
        # Single-shard edits again, now with every set present.
        target = next((s for s in self.st_sets if len(s["spec"]["shards"]) >= a.change_set_shards), self.st_sets[0])
        if a.secret_edits_at_scale:
            st["change_at_scale"] = self.change_latency(op, self.st_ns, target, self.st_deployments,
                                                        self.st_sets_tracker, a.secret_edits_at_scale,
                                                        image_edit=False, password_round=2)
            st["change_at_scale"]["shards_total"] = total
            st["change_at_scale"]["converged"] = converged
        st["peak_rss_bytes"] = op.memory()[1]
        self.save_partial()

    def change_latency(self, op, ns, set_obj, deployments, sets_tracker, edits, image_edit, password_round=1):
        name = set_obj["metadata"]["name"]
        n = len(set_obj["spec"]["shards"])
        out = {"set_shards": n}
        if image_edit:
            image = "electricsql/electric:1.7.12-bench"
            names = [f"{name}-shard-{i}" for i in range(n)]
            m0 = op.metrics()
            t0 = time.monotonic()
            self.kube.merge_patch(SET_PATH.format(ns=ns) + "/" + name, {"spec": {"image": image}})
            t_all = deployments.wait_all(names, lambda d: image_of(d) == image, 120)
            ie = out["image_edit"] = {"deployments": n, "all_updated_seconds": None if t_all is None else t_all - t0}
            ok = sets_tracker.wait_ready([name], 180)
            ie["ready_again_seconds"] = time.monotonic() - t0 if ok else None
            wait_operator_idle(op, quiet=1.0)
            m1 = op.metrics()
            ie["requests"] = requests_by_verb(m0, m1)
            ie["reconciles"] = int(reconciles(m1) - reconciles(m0))
            log(f"image edit of {n} shards: all Deployments updated in {fmt_s(ie['all_updated_seconds'])}, "
                f"set Ready again in {fmt_s(ie['ready_again_seconds'])}")
        samples, missed = [], 0
        m0 = op.metrics()
        for i in range(edits):
            shard = i % n
            dep = f"{name}-shard-{shard}"
            before = deployments.hash_of(dep)
            secret = source_secret_name(name, shard)
            url = db_url(ns, secret, password=f"bench-password-{password_round}{i:03d}"[:19])
            # From just before the Secret write is sent (its own latency included).
            t0 = time.monotonic()
            self.kube.merge_patch(f"/api/v1/namespaces/{ns}/secrets/{secret}", {"data": {"url": b64(url)}})
            t1 = deployments.wait_one(dep, lambda d: d is not None and config_hash(d) not in (None, before), 15)
            if t1 is None:
                missed += 1
            else:
                samples.append(t1 - t0)
            time.sleep(a_bit())
        wait_operator_idle(op, quiet=1.0)
        m1 = op.metrics()
        se = out["secret_edits"] = {"edits": edits, "missed": missed, "latencies_seconds": samples,
                                    **percentiles(samples), "requests": requests_by_verb(m0, m1),
                                    "reconciles": int(reconciles(m1) - reconciles(m0))}
        log(f"{edits} single-shard Secret edits: p50 {fmt_ms(se.get('p50'))}, p99 {fmt_ms(se.get('p99'))}, "
            f"missed {missed}, {se['reconciles']} reconciles")
        return out

    def finish(self):
        for size in self.sizes:
            if size["_ns"]:
                self.ns.delete([size["_ns"]], wait=False)
                size["_ns"] = None

    def cleanup(self):
        for op in list(self.operators):
            self.stop_operator(op)
        self.finish()
        self.ns.delete_all(timeout=max(30, min(240, self.left() + 60)))

    def results(self):
        sizes = []
        for size in self.sizes:
            entry = {k: v for k, v in size.items() if not k.startswith("_")}
            summarize_converge(entry)
            sizes.append(entry)
        return {"converge": sizes, "steady": self.steady, "learned_rates": self.rates}

    def save_partial(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.args.out)), exist_ok=True)
        with open(self.args.out + ".partial", "w") as f:
            json.dump(self.results(), f, indent=1)


# --- Statistics and the report ---------------------------------------------------------------


def percentiles(samples):
    if not samples:
        return {}
    s = sorted(samples)

    def rank(p):  # nearest rank
        return s[max(0, math.ceil(p / 100 * len(s)) - 1)]
    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": s[-1], "min": s[0],
            "mean": statistics.fmean(s)}


def spread(values):
    v = [x for x in values if x is not None]
    if not v:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def good(runs, key):
    return [r for r in runs if "error" not in r and r.get(key) is not None]


def summarize_converge(entry):
    for method in ("operator", "kubectl", "parallel"):
        entry[method + "_exist"] = spread([r["exist_seconds"] for r in good(entry[method], "exist_seconds")])
    entry["operator_ready"] = spread([r["ready_seconds"] for r in good(entry["operator"], "ready_seconds")])
    entry["operator_ready_not_reached"] = [
        {"round": r["round"], "cap_seconds": r["ready_cap_seconds"], "available": r["shards_available_at_cap"]}
        for r in entry["operator"] if "ready_cap_seconds" in r]
    # Ratios within a round (the methods ran back to back), then their median.
    for base in ("parallel", "kubectl"):
        by_round = {r["round"]: r["exist_seconds"] for r in good(entry[base], "exist_seconds")}
        ratios = [r["exist_seconds"] / by_round[r["round"]] for r in good(entry["operator"], "exist_seconds")
                  if by_round.get(r["round"])]
        entry[f"ratio_vs_{base}"] = spread(ratios)
    shards = entry["shards"]

    def per_shard(runs, key):
        if not runs:
            return None
        out = {v: statistics.median([r[key][v] / shards for r in runs]) for v in ("GET",) + WRITE_VERBS}
        out["writes"] = statistics.median([sum(r[key][v] for v in WRITE_VERBS) / shards for r in runs])
        return out
    entry["operator_requests_per_shard_until_exist"] = per_shard(
        [r for r in good(entry["operator"], "exist_seconds") if "requests_until_exist" in r], "requests_until_exist")
    complete = good(entry["operator"], "ready_seconds")
    entry["operator_requests_per_shard"] = per_shard(complete, "requests")
    entry["operator_writes_per_shard"] = entry["operator_requests_per_shard"]["writes"] if complete else None
    entry["operator_reconciles"] = statistics.median([r["reconciles"] for r in complete]) if complete else None
    entry["operator_cpu_seconds"] = statistics.median([r["cpu_seconds"] for r in complete]) if complete else None
    entry["runs"] = {m: len(good(entry[m], "exist_seconds")) for m in ("operator", "parallel", "kubectl")}
    entry["failed_runs"] = [f"{m} round {r.get('round')}: {r['error']}" for m in ("operator", "parallel", "kubectl")
                            for r in entry[m] if "error" in r]
    # Runs during which the API server went away (other users of the shared
    # test cluster restart it) are kept, and counted here.
    entry["disturbed_runs"] = sum(1 for m in ("operator", "parallel", "kubectl") for r in entry[m]
                                  if r.get("watch_reconnects"))


def fmt_s(x):
    return "n/a" if x is None else f"{x:.2f} s"


def fmt_ms(x):
    return "n/a" if x is None else f"{x * 1000:.0f} ms"


def mib(x):
    return f"{x / 1048576:.1f} MiB"


def fmt_spread(sp, unit=" s", digits=2):
    if not sp or sp.get("median") is None:
        return "n/a"
    m, lo, hi = sp["median"], sp["min"], sp["max"]
    if sp["n"] == 1:
        return f"{m:.{digits}f}{unit}"
    return f"{m:.{digits}f}{unit} ({lo:.{digits}f}–{hi:.{digits}f})"


def evaluate_targets(results):
    targets = []
    conv = results.get("converge", [])
    for e in conv:
        label = f"{e['sets']}×{e['shards_per_set']}"
        rp, rk = e["ratio_vs_parallel"]["median"], e["ratio_vs_kubectl"]["median"]
        if rp is not None:
            targets.append({"target": f"converge {label}: children exist within 1.5× parallel apply",
                            "measured": f"{rp:.2f}×", "met": rp <= 1.5})
        if rk is not None:
            targets.append({"target": f"converge {label}: faster than kubectl apply --server-side",
                            "measured": f"{rk:.2f}×", "met": rk < 1.0})
    st = results.get("steady", {})
    for idle in st.get("idle", []):
        targets.append({"target": f"zero write requests while idle ({idle['shards']} shards, {idle['seconds']} s)",
                        "measured": str(idle["writes"]), "met": idle["writes"] == 0})
    mem = st.get("memory", {})
    if mem:
        top = max(mem.values(), key=lambda v: (v["shards"], v["rss"]))
        label = f"{top['shards']:,} shards" + (f" ({top['when']})" if top["when"] else "")
        if top["shards"] >= 1000:
            targets.append({"target": f"RSS < 40 MiB with 1,000 shards (measured at {label})",
                            "measured": mib(top["rss"]), "met": top["rss"] < 40 * 1048576})
        else:
            targets.append({"target": "RSS < 40 MiB with 1,000 shards",
                            "measured": f"not reached; {mib(top['rss'])} at {label}", "met": False})
    if "marginal_bytes_per_shard" in st:
        mb = st["marginal_bytes_per_shard"]
        lo, hi = st["marginal_between"]
        targets.append({"target": f"marginal memory < 20 KiB per shard ({lo} → {hi} shards)",
                        "measured": f"{mb / 1024:.1f} KiB", "met": mb < 20 * 1024})
    for key in ("change", "change_at_scale"):
        ch = st.get(key, {}).get("secret_edits", {})
        if ch.get("p99") is not None:
            targets.append({"target": f"single-shard edit p99 < 250 ms ({st[key]['shards_total']} shards)",
                            "measured": fmt_ms(ch["p99"]), "met": ch["p99"] < 0.25 and not ch["missed"]})
    for e in conv:
        label = f"{e['sets']}×{e['shards_per_set']}"
        if e["operator_writes_per_shard"] is not None:
            w = e["operator_writes_per_shard"]
            targets.append({"target": f"≤ 5 writes per shard to create ({label}, until Ready)",
                            "measured": f"{w:.2f}", "met": w <= 5})
        elif e["operator_requests_per_shard_until_exist"]:
            w = e["operator_requests_per_shard_until_exist"]["writes"]
            targets.append({"target": f"≤ 5 writes per shard to create ({label}, until the children exist; "
                                      "Ready not reached)", "measured": f"{w:.2f}", "met": w <= 5})
    return targets


def ready_cell(e):
    text = fmt_spread(e["operator_ready"])
    missing = e["operator_ready_not_reached"]
    if missing:
        worst = missing[0]
        note = (f"not in {worst['cap_seconds']:.0f} s ({worst['available']}/{e['shards']} available)"
                + (f" in {len(missing)} run(s)" if len(missing) > 1 else ""))
        text = note if text == "n/a" else f"{text}; {note}"
    return text


def markdown(results):
    m = results["machine"]
    lines = [f"Measured {results['started_at']} on {m['cpus']} cores, {m['memory_bytes'] / 2**30:.1f} GiB "
             f"(load average {m.get('loadavg_at_start', '?')} at the start), Kubernetes {m.get('kubernetes', '?')} "
             f"local control plane with kwok nodes; operator concurrency {results['concurrency']}, the parallel "
             f"baseline the same; {results['duration_seconds'] / 60:.1f} min in all. "
             "Times are median (min–max) over the runs made; \"children exist\" is timed from the create "
             "(operator) or the start of the client to the watch event of the last child.", ""]
    conv = [e for e in results.get("converge", []) if any(e[k] for k in ("operator", "parallel", "kubectl"))]
    if conv:
        lines += ["| Converge: sets×shards | runs (op/par/kubectl) | operator: children exist | operator: all Ready | "
                  "parallel SSA, same objects | kubectl apply --server-side | operator ÷ parallel | operator ÷ kubectl |",
                  "|---|---|---|---|---|---|---|---|"]
        for e in conv:
            runs = "/".join(str(e["runs"][k]) for k in ("operator", "parallel", "kubectl"))
            lines.append(f"| {e['sets']}×{e['shards_per_set']} | {runs} | {fmt_spread(e['operator_exist'])} | "
                         f"{ready_cell(e)} | {fmt_spread(e['parallel_exist'])} | "
                         f"{fmt_spread(e['kubectl_exist'])} | {fmt_spread(e['ratio_vs_parallel'], '×')} | "
                         f"{fmt_spread(e['ratio_vs_kubectl'], '×')} |")
        shared = [f"{e['sets']}×{e['shards_per_set']}" for e in conv
                  if any(r.get("shared_operator") for r in e["operator"])]
        lines += ["", f"Round 1 of {', '.join(shared)} ran on the steady-state operator, which kept its sets (so "
                  "the later of these ran beside the earlier ones); every other operator run on a fresh operator. "
                  "Baselines ran just before the operator run of the same round, in their own namespace; ratios "
                  "pair runs of the same round."]
        notes = []
        for e in conv:
            label = f"{e['sets']}×{e['shards_per_set']}"
            for sk in e["skipped"]:
                notes.append(f"{label}: skipped {sk}.")
            for f in e["failed_runs"]:
                notes.append(f"{label}: failed: {f}.")
            if e["disturbed_runs"]:
                notes.append(f"{label}: in {e['disturbed_runs']} run(s) the API server went away meanwhile "
                             "(restarted by another user of the shared cluster).")
        if notes:
            lines += [""] + [f"- {n}" for n in notes]
        lines += ["", "| Operator API requests per shard to create a size | GET | POST | PUT | PATCH | DELETE "
                  "| writes | reconciles | operator CPU |", "|---|---|---|---|---|---|---|---|---|"]
        for e in conv:
            label = f"{e['sets']}×{e['shards_per_set']}"
            for key, what in (("operator_requests_per_shard_until_exist", "until the children exist"),
                              ("operator_requests_per_shard", "until Ready and idle")):
                r = e.get(key)
                if not r:
                    continue
                rec = f"{e['operator_reconciles']:.0f}" if key == "operator_requests_per_shard" else ""
                cpu = f"{e['operator_cpu_seconds']:.2f} s" if key == "operator_requests_per_shard" else ""
                lines.append(f"| {label}, {what} | {r['GET']:.2f} | {r['POST']:.2f} | {r['PUT']:.2f} | "
                             f"{r['PATCH']:.2f} | {r['DELETE']:.2f} | {r['writes']:.2f} | {rec} | {cpu} |")
    st = results.get("steady", {})
    if st.get("memory"):
        lines += ["", "| Steady state (one operator holding every size's sets) | measured |", "|---|---|"]
        for v in st["memory"].values():
            when = f", {v['when']}" if v.get("when") else ""
            lines.append(f"| RSS (peak so far) at {v['shards']} shards{when} | {mib(v['rss'])} ({mib(v['hwm'])}) |")
        if "marginal_bytes_per_shard" in st:
            lo, hi = st["marginal_between"]
            lines.append(f"| marginal memory per shard ({lo} → {hi} shards) | "
                         f"{st['marginal_bytes_per_shard'] / 1024:.1f} KiB |")
        for i in st.get("idle", []):
            lines.append(f"| idle {i['seconds']} s at {i['shards']} shards in {i['sets']} sets: writes / GETs / "
                         f"reconciles / CPU | {i['writes']} / {i['requests']['GET']} / {i['reconciles']} / "
                         f"{i['cpu_seconds']:.2f} s |")
        for s in st.get("steady_reconcile", []):
            if s["requests_per_reconcile"] is not None:
                lines.append(f"| steady-state reconcile at {s['shards']} shards ({s['reconciles']} runs): requests / "
                             f"writes / CPU per reconcile | {s['requests_per_reconcile']:.2f} / "
                             f"{s['writes_per_reconcile']:.2f} / {s['cpu_seconds'] / s['reconciles'] * 1000:.0f} ms |")
        ch = st.get("change", {})
        if "image_edit" in ch:
            ie = ch["image_edit"]
            lines.append(f"| image edit of a {ie['deployments']}-shard set ({ch['shards_total']} shards in all): "
                         f"every Deployment carries it / set Ready again | {fmt_s(ie['all_updated_seconds'])} / "
                         f"{fmt_s(ie['ready_again_seconds'])} |")
        for key in ("change", "change_at_scale"):
            se = st.get(key, {}).get("secret_edits")
            if se:
                busy = "" if st[key].get("converged", True) else ", pods of other sets still starting"
                lines.append(f"| {se['edits']} single-shard Secret edits ({st[key]['shards_total']} shards in all{busy}): "
                             f"p50 / p90 / p99 / max, Secret write → new config hash | {fmt_ms(se.get('p50'))} / "
                             f"{fmt_ms(se.get('p90'))} / {fmt_ms(se.get('p99'))} / {fmt_ms(se.get('max'))}"
                             + (f" ({se['missed']} missed)" if se["missed"] else "") + " |")
        if st.get("converged_at_end") is False:
            lines.append(f"| Ready shards when the run ended | {st.get('ready_shards_at_end')}/{st.get('shards')} |")
    targets = results.get("targets", [])
    if targets:
        lines += ["", "| Target | measured | met |", "|---|---|---|"]
        for t in targets:
            lines.append(f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |")
    if results.get("failure"):
        lines += ["", f"The run stopped early: {results['failure']}"]
    return "\n".join(lines) + "\n"


def machine_info(kube):
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu_model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    info = {"cpus": os.cpu_count(), "memory_bytes": mem, "cpu_model": cpu_model,
            "kernel": platform.release(), "python": platform.python_version()}
    try:
        info["kubernetes"] = kube.get("/version")["gitVersion"]
    except Exception:  # noqa: BLE001
        pass
    return info


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--operator", required=True)
    p.add_argument("--parallel-apply", required=True)
    p.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    p.add_argument("--kubectl", default=os.environ.get("EO_KUBECTL", "kubectl"))
    p.add_argument("--out", default="bench/results/latest.json")
    p.add_argument("--log-dir", default=None, help="operator logs (default: logs/ next to --out)")
    p.add_argument("--concurrency", type=int, default=4, help="the operator's --concurrency and the baseline's")
    p.add_argument("--sizes", default="1x10,1x100,10x50,1x512", help="converge sizes, SETSxSHARDS, smallest first")
    p.add_argument("--runs", type=int, default=3, help="rounds of converge runs, as the time budget allows")
    p.add_argument("--budget-seconds", type=float, default=870,
                   help="runs are skipped when they would not end within this")
    p.add_argument("--reserve-seconds", type=float, default=30, help="kept for the final cleanup")
    p.add_argument("--big-threshold", type=int, default=500,
                   help="sizes with at least this many shards run after the steady-state measurements")
    p.add_argument("--ready-cap-seconds", type=float, default=120,
                   help="longest wait for Ready after the children exist (pods are the cluster's business)")
    p.add_argument("--ready-cap-floor-seconds", type=float, default=30,
                   help="shortest Ready wait of a big size in phase 3, when the budget is tight")
    p.add_argument("--change-set-shards", type=int, default=100, help="the set whose image and Secrets are edited")
    p.add_argument("--idle-seconds", type=int, default=60)
    p.add_argument("--secret-edits", type=int, default=50)
    p.add_argument("--secret-edits-at-scale", type=int, default=20)
    p.add_argument("--namespace-prefix", default="bench")
    a = p.parse_args()
    if not a.namespace_prefix.startswith("bench"):
        p.error("--namespace-prefix must start with bench")
    a.log_dir = a.log_dir or os.path.join(os.path.dirname(os.path.abspath(a.out)), "logs")
    os.makedirs(a.log_dir, exist_ok=True)
    load = os.getloadavg()

    bench = Bench(a)

    def on_signal(_sig, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    failure = None
    try:
        bench.run_all()
    except KeyboardInterrupt:
        failure = "interrupted"
    except Exception as e:  # noqa: BLE001 - reported; the partial results are kept
        failure = f"{type(e).__name__}: {e}"
        log(f"failed: {failure}")
    finally:
        log("cleaning up")
        bench.cleanup()
    results = bench.results()
    machine = machine_info(bench.kube)
    machine["loadavg_at_start"] = f"{load[0]:.1f}"
    results.update({"machine": machine, "concurrency": a.concurrency, "operator_binary": os.path.abspath(a.operator),
                    "started_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(time.time() - bench.elapsed())),
                    "duration_seconds": bench.elapsed(), "budget_seconds": a.budget_seconds})
    if failure:
        results["failure"] = failure
    results["targets"] = evaluate_targets(results)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=1)
    if os.path.exists(a.out + ".partial"):
        os.remove(a.out + ".partial")
    md = markdown(results)
    with open(os.path.splitext(a.out)[0] + ".md", "w") as f:
        f.write(md)
    print(md)
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
