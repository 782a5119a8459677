"""Watching what the operator (or a baseline) does: when every expected child
exists, when every set is Ready, what each Deployment looks like now."""

import threading
import time

from client import Watch, start_watches, stop_watches
from shapes import SET_API_VERSION, SET_KIND


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


class ConvergeTracker:
    """Watches one namespace: when every child in `expected` ({(apiVersion,
    kind): names}, from render) exists, when every set of `set_names` is
    Ready, when every expected Deployment is available. Other objects in the
    namespace are ignored."""

    def __init__(self, kube, ns, expected, set_names):
        self.expected = expected
        self.missing = sum(len(v) for v in expected.values())
        self.set_names = set(set_names)
        self.not_ready = set(set_names)
        self.deployments_pending = set(next((v for (_, k), v in expected.items() if k == "Deployment"), set()))
        self.t_exist = self.t_ready = self.t_available = None
        self.aborted = None
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)
        self.watches = [Watch(kube, kube.collection(av, kind, ns), self._child(kind, names))
                        for (av, kind), names in expected.items()]
        if set_names:
            self.watches.append(Watch(kube, kube.collection(SET_API_VERSION, SET_KIND, ns), self._set))

    def _child(self, kind, expected):
        seen = set()

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

    def available(self):
        with self.lock:
            return len(next((v for (_, k), v in self.expected.items() if k == "Deployment"), ())) - \
                len(self.deployments_pending)

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
        self.watches = [Watch(kube, kube.collection("apps/v1", "Deployment", ns), self._on)]

    def _on(self, etype, obj, t):
        with self.cv:
            self.latest[obj["metadata"]["name"]] = (None if etype == "DELETED" else obj, t)
            self.cv.notify_all()

    def get(self, name):
        with self.cv:
            return self.latest.get(name, (None, 0))[0]

    def wait_one(self, name, pred, timeout):
        """Arrival time of the first event of `name` that matches."""
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


class SetTracker:
    """The latest state of every ElectricShardSet in a namespace."""

    def __init__(self, kube, ns):
        self.latest = {}
        self.cv = threading.Condition()
        self.watches = [Watch(kube, kube.collection(SET_API_VERSION, SET_KIND, ns), self._on)]

    def _on(self, etype, obj, t):
        with self.cv:
            self.latest[obj["metadata"]["name"]] = None if etype == "DELETED" else obj
            self.cv.notify_all()

    def not_ready(self, names):
        with self.cv:
            return [n for n in names if not (self.latest.get(n) and set_is_ready(self.latest[n]))]

    def ready_shards(self, names):
        with self.cv:
            return sum(((self.latest.get(n) or {}).get("status") or {}).get("readyShards", 0) for n in names)

    def wait_ready(self, names, timeout):
        deadline = time.monotonic() + timeout
        with self.cv:
            while [n for n in names if not (self.latest.get(n) and set_is_ready(self.latest[n]))]:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(min(left, 1.0))
            return True
