"""What the benchmarks add to the local control plane, and take away again.

- Namespaces named bench-* (with a per-run suffix, so that an interrupted run
  never collides with the next).
- kwok nodes with room for every shard's pod: the cluster's own three hold
  110 pods each. They copy the metadata of a node kwok already runs (that is
  how kwok knows to manage them, see tests/cluster/cluster's fake_nodes) and
  differ in name and pod capacity.
- A StorageClass with no provisioner and PersistentVolumes pre-bound to the
  claims the operator will make (their names from render). The cluster's
  hostpath provisioner runs at client-go's default 5 requests/s, about 1.7
  claims a second, so 2,000 shards would wait 20 minutes for volumes; a
  pre-bound volume needs only kube-controller-manager's binder (about 5
  claims a second here).

Everything carries BENCH_LABEL; cleanup() removes it all, also what an
earlier, interrupted run left.
"""

import concurrent.futures
import copy
import math
import secrets as pysecrets
import time
import urllib.parse

from client import ApiError, log
from shapes import SOURCE_LABEL

BENCH_LABEL = "electric-operator.dev/bench"
STORAGE_CLASS = "bench-prebound"
NODE_PREFIX = "bench-kwok-"


def parallel_map(fn, items, workers=8):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


def selector(labels):
    return urllib.parse.urlencode({"labelSelector": labels})


class Fixtures:
    def __init__(self, kube, prefix):
        self.kube, self.prefix = kube, prefix
        self.run_id = pysecrets.token_hex(2)
        self.namespaces = []
        self.counter = 0
        self.volumes = 0

    # -- namespaces
    def namespace(self, what):
        self.counter += 1
        name = f"{self.prefix}-{what}-{self.counter}-{self.run_id}"[:63].rstrip("-")
        self.kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                 "metadata": {"name": name, "labels": {BENCH_LABEL: "true"}}})
        self.namespaces.append(name)
        return name

    def clear_namespace(self, ns, collections, labels, timeout=300):
        """Deletes every set in `ns` (the first of `collections`), every
        object of the other collections that carries `labels`, and what the
        cluster made from them (ReplicaSets, Pods), until none is left; the
        bench's source Secrets and the namespace's own objects (such as
        kube-root-ca.crt) stay. Faster than deleting the namespace (whose
        controller walks every API type) and as clean. Pods go without grace
        (kwok runs nothing), so their claims' protection finalizers can go
        at once too, instead of at kube-controller-manager's rate."""
        started = time.monotonic()
        sets, children = collections[0], collections[1:]
        ours = selector(",".join(f"{k}={v}" for k, v in sorted(labels.items())))
        paths = [(sets, selector(f"!{SOURCE_LABEL}"))] + [(p, ours) for p in dict.fromkeys(
            children + [self.kube.collection("apps/v1", "ReplicaSet", ns), self.kube.collection("v1", "Pod", ns)])]
        claims = self.kube.collection("v1", "PersistentVolumeClaim", ns)
        left = []
        while time.monotonic() - started < timeout:
            left = []
            for path, sel in paths:
                if self.kube.get(f"{path}?{sel}&limit=1")["items"]:
                    left.append(path)
                    how = "gracePeriodSeconds=0" if path.endswith("/pods") else "propagationPolicy=Background"
                    self.kube.request("DELETE", f"{path}?{sel}&{how}", ok=None)
            if not left:
                return time.monotonic() - started
            if not self.kube.get(f"{self.kube.collection('v1', 'Pod', ns)}?limit=1")["items"]:
                self._drop_finalizers(claims)
            time.sleep(0.5)
        log(f"{ns}: objects still present after {timeout:.0f} s in {', '.join(left)}")
        return time.monotonic() - started

    def _drop_finalizers(self, collection):
        terminating = [o for o in self.kube.get(collection)["items"]
                       if o["metadata"].get("deletionTimestamp") and o["metadata"].get("finalizers")]

        def one(o):
            self.kube.request("PATCH", f"{collection}/{o['metadata']['name']}",
                              {"metadata": {"finalizers": None}}, "application/merge-patch+json", ok=None)
        parallel_map(one, terminating)

    # -- nodes
    def ensure_nodes(self, pods_needed, pods_per_node):
        """Enough kwok nodes of our own that `pods_needed` pods fit beside
        what the cluster's nodes already hold; waits until they are Ready."""
        nodes = self.kube.get("/api/v1/nodes")["items"]
        kwok = [n for n in nodes if n.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", "").startswith("kwok")]
        if not kwok:
            raise RuntimeError("no kwok node to copy: is this the local control plane (tests/cluster)?")
        theirs = [n for n in kwok if not n["metadata"]["name"].startswith(NODE_PREFIX)]
        room = sum(int(n["status"].get("allocatable", {}).get("pods", "0")) for n in theirs)
        want = max(0, math.ceil((pods_needed - room) / pods_per_node))
        template = theirs[0] if theirs else kwok[0]
        names = [f"{NODE_PREFIX}{i}" for i in range(want)]
        for name in names:
            self._node(template, name, pods_per_node)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = [n for n in names if self._node_ready(name=n)]
            if len(ready) == len(names):
                return {"added": len(names), "pods_per_node": pods_per_node, "pods_before": room,
                        "pods_total": room + len(names) * pods_per_node}
            time.sleep(0.5)
        raise RuntimeError(f"kwok nodes not Ready within 60 s: {names}")

    def _node(self, template, name, pods):
        meta = template["metadata"]
        labels = dict(meta.get("labels", {}), **{BENCH_LABEL: "true"})
        for key, value in list(labels.items()):
            if value == meta["name"]:  # kubernetes.io/hostname and the like
                labels[key] = name
        status = {k: dict(copy.deepcopy(template["status"].get(k, {})), pods=str(pods))
                  for k in ("allocatable", "capacity")}
        body = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels, "annotations": {
                    k: v for k, v in meta.get("annotations", {}).items() if not k.startswith("kubectl.kubernetes.io/")}},
                "status": status}
        try:
            self.kube.create("/api/v1/nodes", body)
        except ApiError as e:
            if e.status != 409:
                raise
            # Left by an earlier run: give it this run's capacity.
            self.kube.request("PATCH", f"/api/v1/nodes/{name}/status", {"status": status},
                              "application/merge-patch+json")

    def _node_ready(self, name):
        st, node = self.kube.request("GET", f"/api/v1/nodes/{name}", ok=None)
        if st != 200:
            return False
        conds = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
        return conds.get("Ready") == "True"

    # -- volumes
    def ensure_storage_class(self):
        try:
            self.kube.create("/apis/storage.k8s.io/v1/storageclasses", {
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": STORAGE_CLASS, "labels": {BENCH_LABEL: "true"}},
                "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "Immediate",
                "reclaimPolicy": "Retain"})
        except ApiError as e:
            if e.status != 409:
                raise
        return STORAGE_CLASS

    def prebind_volumes(self, claims):
        """One PersistentVolume per claim manifest (as render prints it),
        bound to it in advance: same class, size and access modes."""
        def one(pvc):
            self.volumes += 1
            meta, spec = pvc["metadata"], pvc["spec"]
            name = f"bench-{self.run_id}-{self.volumes}"
            self.kube.create("/api/v1/persistentvolumes", {
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": name, "labels": {BENCH_LABEL: "true"}},
                "spec": {"capacity": {"storage": spec["resources"]["requests"]["storage"]},
                         "accessModes": spec["accessModes"], "storageClassName": spec.get("storageClassName", ""),
                         "persistentVolumeReclaimPolicy": "Retain",
                         # kwok mounts nothing: the path is never used.
                         "hostPath": {"path": f"/nonexistent/electric-operator-bench/{name}"},
                         "claimRef": {"namespace": meta["namespace"], "name": meta["name"]}}})
        parallel_map(one, claims)

    # -- the end
    def cleanup(self, namespace_timeout=240):
        """Deletes this run's namespaces (and any bench-* left by an earlier
        one), then the volumes, nodes and StorageClass. Volumes and nodes go
        in the background; only the namespaces are waited for."""
        started = time.monotonic()
        listed = self.kube.get(f"/api/v1/namespaces?{selector(BENCH_LABEL)}")["items"]
        names = sorted({n["metadata"]["name"] for n in listed} | set(self.namespaces))
        for ns in names:
            self.kube.delete(f"/api/v1/namespaces/{ns}")
        pending = list(names)
        while pending and time.monotonic() - started < namespace_timeout:
            for ns in pending:
                # The namespace controller waits for every claim's protection finalizer.
                if not self.kube.get(f"/api/v1/namespaces/{ns}/pods?limit=1").get("items", []):
                    self._drop_finalizers(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")
            pending = [ns for ns in pending if self.kube.exists(f"/api/v1/namespaces/{ns}")]
            if pending:
                time.sleep(1)
        if pending:
            log(f"namespaces still terminating after {namespace_timeout} s: {pending}")
        self.kube.request("DELETE", f"/api/v1/persistentvolumes?{selector(BENCH_LABEL)}", ok=None)
        self.kube.request("DELETE", f"/api/v1/nodes?{selector(BENCH_LABEL)}", ok=None)
        self.kube.delete(f"/apis/storage.k8s.io/v1/storageclasses/{STORAGE_CLASS}")
        self.namespaces = []
        return {"seconds": time.monotonic() - started, "namespaces_left": pending}
