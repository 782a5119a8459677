"""API access and the operator process, for the benchmarks.

Kube: a minimal REST client over the kubeconfig's credentials (the Python
standard library only), with the collection paths of any kind taken from the
API server's discovery, so no kind's plural is restated here.
Watch: list then watch, timestamping each event as it arrives.
Operator: the operator binary as a separate process; its /metrics, and its
CPU and memory from /proc (the operator exports no process metrics).
"""

import base64
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status


class Kube:
    """REST client over the kubeconfig's credentials (one keep-alive
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
        cert, key = material(user, "client-certificate"), material(user, "client-key")
        if cert:
            ctx.load_cert_chain(cert, key)
        self.headers = {}
        if user.get("token"):
            self.headers["Authorization"] = "Bearer " + user["token"]
        self.ctx = ctx
        self._local = threading.local()
        self._discovery = {}
        self._discovery_lock = threading.Lock()

    def connect(self, timeout=60):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json", ok=(200, 201, 202)):
        data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        headers = dict(self.headers, Accept="application/json")
        if data is not None:
            headers["Content-Type"] = content_type
        # Other users of a shared test cluster may restart the API server:
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

    def delete(self, path, query=None):
        return self.request("DELETE", path + ("?" + urllib.parse.urlencode(query) if query else ""), ok=None)[0]

    # -- where a kind lives, from discovery
    def _resources(self, api_version):
        with self._discovery_lock:
            if api_version not in self._discovery:
                base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
                listed = self.get(base)["resources"]
                self._discovery[api_version] = (base, {r["kind"]: r for r in listed if "/" not in r["name"]})
            return self._discovery[api_version]

    def collection(self, api_version, kind, ns=None):
        """The collection path of `kind`: /api/v1/namespaces/NS/secrets."""
        base, by_kind = self._resources(api_version)
        if kind not in by_kind:
            raise RuntimeError(f"the API server serves no {kind} in {api_version}")
        r = by_kind[kind]
        return base + (f"/namespaces/{ns}" if r["namespaced"] and ns else "") + "/" + r["name"]

    def path_of(self, obj):
        """The object path of a manifest (apiVersion, kind, metadata)."""
        meta = obj["metadata"]
        return self.collection(obj["apiVersion"], obj["kind"], meta.get("namespace")) + "/" + meta["name"]


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
    """The operator binary as a separate process, watching `namespaces`;
    returns once /readyz answers 200 (its caches are synced)."""

    def __init__(self, binary, kubeconfig, namespaces, concurrency, log_path, ready_timeout=120):
        self.metrics_port, self.health_port = free_port(), free_port()
        args = [binary, "run", "--kubeconfig", kubeconfig, "--concurrency", str(concurrency),
                "--metrics-bind-address", f"127.0.0.1:{self.metrics_port}",
                "--health-probe-bind-address", f"127.0.0.1:{self.health_port}", "--log-level", "warn",
                # The scenarios' databases are fictitious hosts; what the
                # database checks cost is not what these scenarios measure.
                "--database-check-interval", "0"]
        for ns in namespaces:
            args += ["--namespace", ns]
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {self.proc.returncode}; see {log_path}")
            if self._http(self.health_port, "/readyz")[0] == 200:
                self.ready_seconds = time.monotonic() - self.started
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"operator not ready within {ready_timeout} s; see {log_path}")

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
        return parse_metrics(text)

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        # utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory(self):
        """(VmRSS, VmHWM) in bytes: now, and the peak since the process started."""
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


def parse_metrics(text):
    """Prometheus text format -> {(name, frozenset(labels)): value}."""
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


def metric_sum(samples, name, **labels):
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def requests_by_verb(before, after):
    out = {}
    for verb in ("GET",) + WRITE_VERBS:
        out[verb] = int(round(metric_sum(after, "rest_client_requests_total", method=verb)
                              - metric_sum(before, "rest_client_requests_total", method=verb)))
    return out


def writes(requests):
    return sum(requests[v] for v in WRITE_VERBS)


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


def wait_memory_settled(op, quiet=3.0, tolerance=256 * 1024, timeout=120):
    """Until RSS moved by less than `tolerance` for `quiet` s (a cache filling
    from a watch makes no requests, so idleness alone does not show it)."""
    deadline = time.monotonic() + timeout
    ref, since = op.memory()[0], time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        rss = op.memory()[0]
        if abs(rss - ref) > tolerance:
            ref, since = rss, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return True
    return False
