"""The scenarios of `make bench`, in one run, and the time budget they share.

In order (every convergence run side by side with the parallel
server-side-apply client on the same objects, just before it):

1. converge (--converge-sizes, 1x10 and 1x100): per round the baselines in a
   namespace of their own (the parallel client, then kubectl if it fits),
   then a fresh operator until every set is Ready and the operator idle:
   children-exist ratios, writes per shard until Ready. Round 1 always;
   later rounds (--runs, 3 of 1x10 and 1 of 1x100) if the budget allows.
2. foreign Secrets: a fresh operator holding a 1x10 set; RSS before and
   after --foreign-secrets Secrets of --foreign-secret-kib KiB, none of them
   the operator's, appear in its namespace. It runs during the last scale
   point's Ready wait (see foreign_overlaps), unless --foreign-apart.
3. scale: one operator; sets added in steps, the first of them
   --ratio-size (1x512: the ratio target), each step a convergence run timed
   to children-exist beside its baseline; at each point of --scale (1,000
   and 2,000 shards) it waits until every set is Ready, then reads RSS. At
   the first point: idle writes and CPU, a restart (startup peak against the
   restarted process's steady RSS), single-shard edit latency.
4. more runs of --ratio-size (--ratio-runs in all) on a fresh operator, to
   children-exist only, if the budget allows.
5. cleanup: namespaces, volumes, nodes.

The budget (--budget-seconds, from EO_BENCH_BUDGET_SECONDS less what the
build and the cluster start took) is shared like this: every stage has a
cost predicted from rates measured so far in the run; optional work runs
only when it fits beside the predicted cost of every mandatory stage still
ahead; the Ready waits at the scale points are cut to what is left; a
mandatory stage that no longer fits at all is skipped. Every skip and cut is
listed in the results with its predicted cost.
"""

import base64
import json
import math
import os
import secrets as pysecrets
import subprocess
import tempfile
import threading
import time

import cluster
import shapes
from client import (Kube, Operator, log, reconciles, requests_by_verb, start_watches, stop_watches,
                    wait_memory_settled, wait_operator_idle, writes)
from report import fmt_ms, fmt_s, mib, percentiles
from trackers import ConvergeTracker, DeploymentTracker, SetTracker


def parse_size(text):
    sets, shards = (int(x) for x in text.lower().split("x"))
    return sets, shards


def split_evenly(total, most):
    """`total` shards in as few sets of at most `most` as can be, as even as can be."""
    if total <= 0:
        return []
    k = math.ceil(total / most)
    return [total // k + (1 if i < total % k else 0) for i in range(k)]


def size_label(sizes):
    if len(set(sizes)) == 1:
        return f"{len(sizes)}×{sizes[0]}"
    return f"{len(sizes)} sets, {sum(sizes)} shards"


def plan_steps(ratio_size, points, most):
    """[[step shard counts per set, ...] per point]: the ratio size first,
    then what each point adds, split into sets of at most `most`."""
    sets, shards = ratio_size
    first = [shards] * sets
    out, total = [], 0
    for i, point in enumerate(points):
        steps = []
        if i == 0 and sum(first) <= point:
            steps.append(first)
            total = sum(first)
        rest = split_evenly(point - total, most)
        if rest:
            steps.append(rest)
        total = max(total, point)
        out.append(steps)
    return out


class Budget:
    """Seconds left, and what the rest of the run is predicted to need."""

    # Seconds per unit, first guesses from this project's 2-core machine,
    # replaced by what the run measures.
    GUESSES = {
        "exist": 0.010,      # operator, per child object, until every child exists
        "parallel": 0.008,   # parallel SSA client, per object
        "kubectl": 0.045,    # kubectl apply --server-side, per object
        "ready": 0.22,       # the cluster, per shard, from the children to Ready (volume binding)
        "cleanup": 0.03,     # per shard, clearing a namespace
        "volumes": 0.006,    # per claim, pre-binding a volume
        "sources": 0.005,    # per shard, creating its source Secret
        "secret_mib": 0.15,  # per MiB of foreign Secrets created
    }

    def __init__(self, seconds, reserve):
        self.seconds, self.reserve = seconds, reserve
        self.started = time.monotonic()
        self.rates = dict(self.GUESSES)
        self.skipped = []
        self.cuts = []

    def elapsed(self):
        return time.monotonic() - self.started

    def left(self):
        return self.seconds - self.elapsed()

    def fits(self, cost, later=0.0):
        return cost * 1.1 + later + self.reserve < self.left()

    def cap(self, wanted, later, floor):
        return max(floor, min(wanted, self.left() - later - self.reserve))

    def rate(self, key):
        return self.rates[key]

    def learn(self, key, seconds, units):
        if seconds is not None and units:
            self.rates[key] = seconds / units

    def skip(self, what, cost, why="would not fit the time budget"):
        self.skipped.append({"what": what, "predicted_seconds": round(cost), "why": why})
        log(f"skipped {what}: {why} (~{cost:.0f} s predicted, {self.left():.0f} s left)")


class Bench:
    def __init__(self, args):
        self.args = args
        self.kube = Kube(args.kubeconfig, args.kubectl)
        self.fixtures = cluster.Fixtures(self.kube, args.namespace_prefix)
        self.renderer = shapes.Renderer(args.operator, args.kubectl, args.kubeconfig)
        self.budget = Budget(args.budget_seconds, args.reserve_seconds)
        self.workdir = tempfile.mkdtemp(prefix="eo-bench-")
        self.operators = []
        self.storage_class = None
        self.converge = []
        self.memory = []
        self.phases = []
        self.foreign = None
        self.scale = {"points": []}
        self.setup = {}
        self.converge_sizes = [parse_size(s) for s in args.converge_sizes.split(",") if s]
        self.ratio_size = parse_size(args.ratio_size)
        self.points = [int(p) for p in args.scale.split(",") if p]
        self.steps = plan_steps(self.ratio_size, self.points, args.max_set_shards)
        # Mandatory stages still ahead, for the reserve.
        self.ahead = ([f"converge {s}x{n}" for s, n in self.converge_sizes] + ["foreign"]
                      + [f"scale {p}" for p in self.points] + ["cleanup"])

    def foreign_overlaps(self):
        """The foreign Secrets run while the scale operator's last point
        waits for Ready, unless --foreign-apart: a separate operator in a
        namespace the scale operator does not watch, measured on its own
        RSS, and nothing is measured on the scale operator meanwhile."""
        return not self.args.foreign_apart and bool(self.points)

    # --- the budget ------------------------------------------------------------------
    def objects_of(self, shards, sets):
        """Children of `sets` sets holding `shards` shards, as render counts
        them (learned from the first render; 4 per shard and 2 per set until then)."""
        per_shard, per_set = getattr(self, "_child_counts", (4, 2))
        return shards * per_shard + sets * per_set

    def cost_baseline(self, shards, sets, method):
        return self.objects_of(shards, sets) * self.budget.rate(method) + shards * self.budget.rate("cleanup") + 8

    def cost_converge(self, sets, shards_per_set, ready=True):
        shards = sets * shards_per_set
        return (self.cost_baseline(shards, sets, "parallel") + shards * self.budget.rate("volumes")
                + self.objects_of(shards, sets) * self.budget.rate("exist")
                + (min(shards * self.budget.rate("ready") + 10, self.args.ready_cap_seconds) if ready else 0)
                + shards * self.budget.rate("cleanup") + 12)

    def cost_stage(self, stage, minimal=False):
        """Predicted seconds of a mandatory stage; `minimal`: with the Ready
        waits of the scale points at their floor (what cutting leaves)."""
        a, b = self.args, self.budget
        if stage.startswith("converge "):
            return self.cost_converge(*parse_size(stage.split()[1]))
        if stage == "foreign":
            cost = a.foreign_secrets * a.foreign_secret_kib / 1024 * b.rate("secret_mib") + 45
            last = f"scale {self.points[-1]}" if self.points else None
            if self.foreign_overlaps() and last in self.ahead:
                # Runs during the last scale point's Ready wait: only what outlasts it counts.
                wait = self.cost_stage(last, minimal) - self.cost_stage(last, minimal=True) + a.ready_floor_seconds
                cost = max(0.0, cost - wait)
            return cost
        if stage.startswith("scale "):
            i = self.points.index(int(stage.split()[1]))
            added = self.points[i] - (self.points[i - 1] if i else 0)
            cost = (a.ready_floor_seconds if minimal
                    else min(a.scale_ready_cap_seconds, max(a.ready_floor_seconds, added * b.rate("ready"))))
            for step in self.steps[i]:
                shards, sets = sum(step), len(step)
                cost += (self.cost_baseline(shards, sets, "parallel") + shards * (b.rate("volumes") + b.rate("sources"))
                         + self.objects_of(shards, sets) * b.rate("exist") + 10)
            if i == 0:
                cost += a.idle_seconds + 45 + a.edits * 0.7
            return cost
        if stage == "cleanup":
            return 30 + max(self.points or [0]) * b.rate("cleanup")
        raise KeyError(stage)

    def later(self, minimal=False):
        """What the mandatory stages still ahead need: optional work must
        leave their predicted cost; a cut wait leaves their minimal one."""
        return sum(self.cost_stage(s, minimal) for s in self.ahead)

    def begin(self, stage):
        """Starts a mandatory stage: False (and listed) when even its
        minimal cost no longer fits beside the cleanup."""
        if stage in self.ahead:
            self.ahead.remove(stage)
        cost = self.cost_stage(stage)
        if not self.budget.fits(self.cost_stage(stage, minimal=True), self.cost_stage("cleanup")):
            self.budget.skip(stage, cost, "out of time budget (a mandatory stage)")
            return False
        log(f"== {stage} (~{cost:.0f} s predicted, {self.budget.left():.0f} s left)")
        return True

    def phase(self, name, started):
        self.phases.append({"name": name, "seconds": round(time.monotonic() - started, 1)})

    # --- processes and objects --------------------------------------------------------
    def start_operator(self, namespaces, tag):
        op = Operator(self.args.operator, self.args.kubeconfig, namespaces, self.args.concurrency,
                      os.path.join(self.args.log_dir, f"operator-{tag}.log"))
        self.operators.append(op)
        return op

    def stop_operator(self, op):
        op.stop()
        if op in self.operators:
            self.operators.remove(op)

    def record_memory(self, op, process, shards, when):
        rss, hwm = op.memory()
        self.memory.append({"process": process, "shards": shards, "when": when, "rss": rss, "hwm": hwm})
        log(f"memory ({process}) at {shards} shards, {when}: RSS {mib(rss)}, peak {mib(hwm)}")
        return rss, hwm

    def make_sets(self, ns, names_and_sizes):
        return [shapes.shard_set(ns, name, n, self.storage_class) for name, n in names_and_sizes]

    def create_sources(self, set_objs):
        started = time.monotonic()
        items = [(s["metadata"]["namespace"], name, url) for s in set_objs
                 for (name, _), url in shapes.source_values(s).items()]
        cluster.parallel_map(lambda it: self.kube.create(self.kube.collection("v1", "Secret", it[0]),
                                                         shapes.source_secret(*it)), items)
        self.budget.learn("sources", time.monotonic() - started, len(items))

    def render(self, set_objs):
        rendered = [self.renderer.render(s) for s in set_objs]
        if not hasattr(self, "_child_counts") and rendered:
            r = rendered[0]
            total = sum(len(v) for v in r.expected().values())
            n = len(r.set_obj["spec"]["shards"])
            # A set of n shards has k * n + c children (k, c small): per
            # shard k, per set c, good enough for n > c.
            self._child_counts = (total // n, total - total // n * n)
        return rendered

    def prebind(self, rendered):
        claims = shapes.pvc_claims(rendered)
        started = time.monotonic()
        self.fixtures.prebind_volumes(claims)
        self.budget.learn("volumes", time.monotonic() - started, len(claims))

    def clear(self, ns, rendered, shards, timeout=300):
        """Clears `ns` of the sets and the children of the kinds and labels
        `rendered` (one or more sets' render) shows."""
        expected = shapes.expected_children(rendered)
        collections = ([self.kube.collection(shapes.SET_API_VERSION, shapes.SET_KIND, ns)]
                       + [self.kube.collection(av, kind, ns) for av, kind in expected])
        seconds = self.fixtures.clear_namespace(ns, collections, rendered[0].common_labels(), timeout)
        self.budget.learn("cleanup", seconds, shards)
        return seconds

    def new_entry(self, sizes, where, shards_before=0):
        entry = {"label": size_label(sizes), "sets": len(sizes),
                 "shards_per_set": sizes[0] if len(set(sizes)) == 1 else None, "shards": sum(sizes),
                 "where": where, "shards_before": shards_before, "operator": [], "parallel": [],
                 "kubectl": [], "skipped": [], "_base_ns": None}
        self.converge.append(entry)
        return entry

    # --- one timed run -----------------------------------------------------------------
    def exist_timeout(self, objects):
        """How long children may take to appear: generous (a stall, not a
        slow run, should end it), but never past what the budget leaves."""
        return min(60 + objects * 0.5, max(60.0, self.budget.left() - self.later(minimal=True)))

    def operator_run(self, op, ns, set_objs, rendered, ready_cap=None):
        """Creates `set_objs` under a running operator; times children-exist
        and, with `ready_cap`, Ready (waiting at most that long: pods are the
        cluster's business), counting the operator's requests until the
        children exist and until it is idle after Ready."""
        expected = shapes.expected_children(rendered)
        objects = sum(len(v) for v in expected.values())
        shards = shapes.shard_count(set_objs)
        tracker = ConvergeTracker(self.kube, ns, expected, shapes.set_names(set_objs) if ready_cap else [])
        tracker.start()
        exist_timeout = self.exist_timeout(objects)
        result = {"shards": shards, "objects": objects}
        try:
            before, cpu0 = op.metrics(), op.cpu_seconds()
            t0 = result["created_monotonic"] = time.monotonic()
            for s in set_objs:
                self.kube.create(self.kube.collection(shapes.SET_API_VERSION, shapes.SET_KIND, ns), s)
            t_exist = tracker.wait("t_exist", exist_timeout)
            result["exist_seconds"] = None if t_exist is None else t_exist - t0
            result["requests_until_exist"] = requests_by_verb(before, op.metrics())
            if t_exist is None:
                result["error"] = f"children not all there within {exist_timeout:.0f} s ({tracker.missing} missing)"
            elif ready_cap:
                t_ready = tracker.wait("t_ready", max(0.0, t0 + ready_cap - time.monotonic()))
                result["ready_seconds"] = None if t_ready is None else t_ready - t0
                if t_ready is None:
                    result["ready_cap_seconds"] = ready_cap
                    result["shards_available_at_cap"] = tracker.available()
                else:
                    wait_operator_idle(op, quiet=1.0, timeout=30)
                    self.budget.learn("ready", t_ready - t_exist, shards)
                after, cpu1 = op.metrics(), op.cpu_seconds()
                result["requests"] = requests_by_verb(before, after)
                result["reconciles"] = int(reconciles(after) - reconciles(before))
                result["cpu_seconds"] = cpu1 - cpu0
        finally:
            tracker.stop()
        result["watch_reconnects"] = tracker.reconnects()
        if tracker.aborted:
            raise RuntimeError(tracker.aborted)
        self.budget.learn("exist", result["exist_seconds"], objects)
        return result

    def baseline_run(self, entry, method, template_sets, round_no):
        """Applies the children of `template_sets` (made again in the
        entry's baseline namespace, for real uids) with the parallel SSA
        client or kubectl; times children-exist; clears the namespace."""
        if entry["_base_ns"] is None:
            entry["_base_ns"] = self.fixtures.namespace("base")
        ns = entry["_base_ns"]
        result = {"round": round_no}
        rendered = []
        try:
            set_objs = [dict(s, metadata={"name": s["metadata"]["name"], "namespace": ns}) for s in template_sets]
            rendered = self.render(set_objs)
            expected = shapes.expected_children(rendered)
            objects = []
            for s, r in zip(set_objs, rendered):
                created = self.kube.create(self.kube.collection(shapes.SET_API_VERSION, shapes.SET_KIND, ns), s)
                objects += shapes.make_concrete(r, created["metadata"]["uid"], shapes.source_values(s))
            path = os.path.join(self.workdir, f"{ns}-{method}-{round_no}.jsonl")
            with open(path, "w") as f:
                sep = "---\n" if method == "kubectl" else ""
                f.write("".join(sep + json.dumps(o) + "\n" for o in objects))
            result["objects"] = len(objects)
            tracker = ConvergeTracker(self.kube, ns, expected, [])
            tracker.start()
            try:
                t0 = time.monotonic()
                if method == "kubectl":
                    p = subprocess.run([self.args.kubectl, "apply", "--server-side",
                                        "--field-manager=electric-operator", "-f", path],
                                       capture_output=True, env=dict(os.environ, KUBECONFIG=self.args.kubeconfig))
                    result["client_seconds"] = time.monotonic() - t0
                    if p.returncode != 0:
                        raise RuntimeError(f"kubectl apply failed: {p.stderr.decode()[-500:]}")
                else:
                    with open(path) as f:
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
                t_exist = tracker.wait("t_exist", self.exist_timeout(len(objects)))
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
        result["cleanup_seconds"] = self.clear(ns, rendered, entry["shards"]) if rendered else 0.0
        self.budget.learn(method, result.get("exist_seconds"), result.get("objects"))
        entry[method].append(result)
        self.report_run(entry, method, result)
        return result

    def report_run(self, entry, method, r):
        extra = ""
        if method == "operator" and "requests" in r:
            extra = (f", ready {fmt_s(r.get('ready_seconds'))}, {writes(r['requests'])} writes, "
                     f"{r['reconciles']} reconciles")
        log(f"converge {entry['label']} ({entry['where']}) round {r.get('round')} {method}: "
            f"exist {fmt_s(r.get('exist_seconds'))}{extra}"
            + (f" (cleanup {r['cleanup_seconds']:.1f} s)" if "cleanup_seconds" in r else "")
            + (f" ERROR {r['error']}" if "error" in r else ""))

    def baselines(self, entry, template_sets, round_no, kubectl):
        self.baseline_run(entry, "parallel", template_sets, round_no)
        if not kubectl:
            return
        cost = self.cost_baseline(entry["shards"], entry["sets"], "kubectl")
        if self.budget.fits(cost, self.later()):
            self.baseline_run(entry, "kubectl", template_sets, round_no)
        else:
            entry["skipped"].append(f"round {round_no} kubectl")
            self.budget.skip(f"converge {entry['label']} round {round_no} kubectl", cost)

    # --- 1. converge on a fresh operator ----------------------------------------------------
    def converge_fresh(self, entry, round_no, kubectl=True, ready=True):
        """Baselines, then a fresh operator in the entry's own namespace
        (until Ready with `ready`, else until the children exist)."""
        if "_ns" not in entry:
            entry["_ns"] = self.fixtures.namespace("conv")
            entry["_sets"] = self.make_sets(entry["_ns"], [(f"s{i:02d}", entry["shards_per_set"])
                                                           for i in range(entry["sets"])])
            self.create_sources(entry["_sets"])
        ns, set_objs = entry["_ns"], entry["_sets"]
        self.baselines(entry, set_objs, round_no, kubectl)
        rendered = self.render(set_objs)
        self.prebind(rendered)
        op = self.start_operator([ns], f"converge-{entry['label']}-{round_no}")
        try:
            res = self.operator_run(op, ns, set_objs, rendered,
                                    ready_cap=self.args.ready_cap_seconds if ready else None)
        except Exception as e:  # noqa: BLE001
            res = {"error": f"{type(e).__name__}: {e}"}
        finally:
            self.stop_operator(op)
        res["round"] = round_no
        res["cleanup_seconds"] = self.clear(ns, rendered, entry["shards"])
        entry["operator"].append(res)
        self.report_run(entry, "operator", res)
        self.save_partial()

    def rounds(self):
        """Rounds per converge size: --runs is one count for all, or one per size."""
        counts = [int(x) for x in str(self.args.runs).split(",")]
        return [counts[min(i, len(counts) - 1)] for i in range(len(self.converge_sizes))]

    def run_converge(self):
        started = time.monotonic()
        entries = [self.new_entry([n] * s, "fresh operator") for s, n in self.converge_sizes]
        rounds = self.rounds()
        for r in range(1, max(rounds + [1]) + 1):
            for entry, (s, n), wanted in zip(entries, self.converge_sizes, rounds):
                if r > wanted:
                    continue
                stage = f"converge {s}x{n}"
                if r == 1:
                    if self.begin(stage):
                        self.converge_fresh(entry, r)
                    else:
                        entry["skipped"].append("round 1")
                    continue
                cost = self.cost_converge(s, n)
                if self.budget.fits(cost, self.later()):
                    self.converge_fresh(entry, r)
                else:
                    entry["skipped"].append(f"round {r}")
                    self.budget.skip(f"converge {entry['label']} round {r}", cost)
        self.phase("converge", started)

    # --- 2. foreign Secrets -----------------------------------------------------------------
    def run_foreign_guarded(self):
        """run_foreign for a thread: a failure is a result, not an exit."""
        try:
            self.run_foreign()
        except Exception as e:  # noqa: BLE001
            self.foreign = {"error": f"{type(e).__name__}: {e}"}
            log(f"foreign Secrets failed: {self.foreign['error']}")

    def run_foreign(self):
        a = self.args
        if not self.begin("foreign"):
            self.foreign = {"skipped": "out of time budget"}
            return
        started = time.monotonic()
        ns = self.fixtures.namespace("foreign")
        set_objs = self.make_sets(ns, [("f00", 10)])
        self.create_sources(set_objs)
        rendered = self.render(set_objs)
        self.prebind(rendered)
        op = self.start_operator([ns], "foreign")
        out = {"secrets": a.foreign_secrets, "kib": a.foreign_secret_kib, "shards": 10}
        try:
            sets = SetTracker(self.kube, ns)
            start_watches(sets.watches)
            try:
                for s in set_objs:
                    self.kube.create(self.kube.collection(shapes.SET_API_VERSION, shapes.SET_KIND, ns), s)
                out["set_ready"] = sets.wait_ready(shapes.set_names(set_objs), 60)
            finally:
                stop_watches(sets.watches)
            wait_operator_idle(op, quiet=2.0, timeout=30)
            wait_memory_settled(op, quiet=3.0, timeout=30)
            out["rss_before"], out["hwm_before"] = self.record_memory(op, "foreign", 10, "before foreign Secrets")
            m0 = op.metrics()
            t0 = time.monotonic()
            self.create_foreign_secrets(ns, a.foreign_secrets, a.foreign_secret_kib)
            out["create_seconds"] = time.monotonic() - t0
            self.budget.learn("secret_mib", out["create_seconds"], a.foreign_secrets * a.foreign_secret_kib / 1024)
            # The operator's watch delivers them after the writes: wait until
            # its memory stops moving.
            out["settled"] = wait_memory_settled(op, quiet=5.0, timeout=180)
            wait_operator_idle(op, quiet=2.0, timeout=60)
            out["rss_after"], out["hwm_after"] = self.record_memory(
                op, "foreign", 10, f"after {a.foreign_secrets} foreign Secrets")
            out["rss_added"] = out["rss_after"] - out["rss_before"]
            out["requests"] = requests_by_verb(m0, op.metrics())
            log(f"foreign Secrets: {a.foreign_secrets} × {a.foreign_secret_kib} KiB in "
                f"{out['create_seconds']:.1f} s; RSS added {mib(out['rss_added'])}")
        except Exception as e:  # noqa: BLE001
            out["error"] = f"{type(e).__name__}: {e}"
            log(f"foreign Secrets failed: {out['error']}")
        finally:
            self.stop_operator(op)
        # Gone in the background; cleanup waits for it.
        self.kube.delete(f"/api/v1/namespaces/{ns}")
        self.foreign = out
        overlapped = self.foreign_overlaps() and threading.current_thread() is not threading.main_thread()
        self.phase("foreign Secrets" + (" (during the scale run's last Ready wait)" if overlapped else ""), started)
        self.save_partial()

    def create_foreign_secrets(self, ns, count, kib):
        path = self.kube.collection("v1", "Secret", ns)

        def one(i):
            self.kube.create(path, {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                                    "metadata": {"name": f"foreign-{i:05d}", "labels": {"app": "not-electric"}},
                                    "data": {"blob": base64.b64encode(os.urandom(kib * 1024)).decode()}})
        cluster.parallel_map(one, range(count), workers=8)

    # --- 3. scale ------------------------------------------------------------------------------
    def run_scale(self):
        a = self.args
        started = time.monotonic()
        ns = self.fixtures.namespace("scale")
        op = self.start_operator([ns], "scale")
        process = "scale"
        deployments, sets = DeploymentTracker(self.kube, ns), SetTracker(self.kube, ns)
        start_watches(deployments.watches + sets.watches)
        self.scale.update({"namespace": ns, "steps": [[size_label(s) for s in p] for p in self.steps]})
        all_sets, total, counter = [], 0, 0
        try:
            time.sleep(2)
            self.record_memory(op, process, 0, "started")
            for i, point in enumerate(self.points):
                if not self.begin(f"scale {point}"):
                    self.scale["points"].append({"shards": point, "skipped": "out of time budget"})
                    break
                t_point = None
                for sizes in self.steps[i]:
                    names = [(f"s{counter + j:02d}", n) for j, n in enumerate(sizes)]
                    counter += len(sizes)
                    set_objs = self.make_sets(ns, names)
                    self.create_sources(set_objs)
                    rendered = self.render(set_objs)
                    self.prebind(rendered)
                    entry = self.new_entry(sizes, "scale operator", total)
                    self.baselines(entry, set_objs, 1, kubectl=False)
                    res = self.operator_run(op, ns, set_objs, rendered)
                    t_point = t_point or res["created_monotonic"]
                    res["round"] = 1
                    entry["operator"].append(res)
                    self.report_run(entry, "operator", res)
                    if "error" in res:
                        raise RuntimeError(f"the scale operator did not converge {entry['label']}: {res['error']}")
                    all_sets += set_objs
                    total += sum(sizes)
                    self.record_memory(op, process, total, "children created")
                # Every set Ready, as long as the budget allows.
                # The first point carries most targets: the points after it
                # keep only their minimal cost.
                wait = self.budget.cap(a.scale_ready_cap_seconds, self.later(minimal=True), a.ready_floor_seconds)
                if wait < a.scale_ready_cap_seconds:
                    self.budget.cuts.append({"what": f"Ready wait at {total} shards", "seconds": round(wait)})
                log(f"waiting up to {wait:.0f} s for {total} shards to be Ready")
                foreign = None
                if i == len(self.points) - 1 and self.foreign is None and self.foreign_overlaps():
                    foreign = threading.Thread(target=self.run_foreign_guarded, daemon=True)
                    foreign.start()
                converged = sets.wait_ready(shapes.set_names(all_sets), wait)
                ready_at = time.monotonic()
                if foreign:
                    foreign.join()
                pt = {"shards": total, "sets": len(all_sets), "converged": converged,
                      "ready_seconds": ready_at - t_point if converged else None,
                      "ready_shards": sets.ready_shards(shapes.set_names(all_sets)), "wait_cap_seconds": round(wait)}
                wait_operator_idle(op, quiet=3.0, timeout=60)
                wait_memory_settled(op, quiet=3.0, timeout=30)
                pt["rss"], pt["hwm"] = self.record_memory(op, process, total,
                                                          "all Ready" if converged else "not all Ready")
                pt["process"] = process
                self.scale["points"].append(pt)
                log(f"{pt['ready_shards']}/{total} shards Ready" + (f" in {pt['ready_seconds']:.0f} s" if converged else ""))
                if converged:
                    self.budget.learn("ready", pt["ready_seconds"], total - (self.points[i - 1] if i else 0))
                self.save_partial()
                if i == 0:
                    self.idle(op, total, len(all_sets), converged)
                    op, process = self.restart(op, ns, total, converged)
                    self.edits(op, ns, all_sets[0], deployments)
                    self.save_partial()
        finally:
            stop_watches(deployments.watches + sets.watches)
            self.stop_operator(op)
            self.marginal()
            t = time.monotonic()
            if all_sets:
                self.scale["cleanup_seconds"] = self.clear(ns, self.render(all_sets[:1]), total,
                                                           timeout=max(60, self.budget.left() - 30))
            log(f"scale namespace cleared in {time.monotonic() - t:.0f} s")
            self.phase("scale", started)

    def idle(self, op, total, sets, converged):
        a = self.args
        wait_operator_idle(op, quiet=3.0, timeout=60)
        m0, c0 = op.metrics(), op.cpu_seconds()
        time.sleep(a.idle_seconds)
        m1, c1 = op.metrics(), op.cpu_seconds()
        req = requests_by_verb(m0, m1)
        self.scale["idle"] = {"shards": total, "sets": sets, "seconds": a.idle_seconds, "converged": converged,
                              "requests": req, "writes": writes(req), "cpu_seconds": c1 - c0,
                              "reconciles": int(reconciles(m1) - reconciles(m0))}
        log(f"idle {a.idle_seconds} s at {total} shards: {writes(req)} writes, {req['GET']} GETs, "
            f"{c1 - c0:.2f} CPU s")

    def restart(self, op, ns, total, converged):
        """Stops the operator and starts another with every set present:
        its peak RSS (VmHWM) while it lists and reconciles everything,
        against its own RSS once settled. Returns the operator to go on with."""
        before = op.memory()[0]
        self.stop_operator(op)
        t0 = time.monotonic()
        op2 = self.start_operator([ns], "scale-restarted")
        out = {"shards": total, "converged": converged, "rss_before_restart": before,
               "ready_seconds": op2.ready_seconds}
        out["idle"] = wait_operator_idle(op2, quiet=3.0, timeout=120)
        out["settled_seconds"] = time.monotonic() - t0
        wait_memory_settled(op2, quiet=5.0, timeout=60)
        rss, hwm = self.record_memory(op2, "restarted", total, "settled after the restart")
        out.update({"steady_rss": rss, "peak_rss": hwm, "ratio": hwm / rss if rss else None})
        req = requests_by_verb({}, op2.metrics())
        out["requests_since_start"] = req
        self.scale["restart"] = out
        log(f"restart at {total} shards: peak {mib(hwm)}, steady {mib(rss)} ({out['ratio']:.2f}×), "
            f"{writes(req)} writes")
        return op2, "restarted"

    def edits(self, op, ns, set_obj, deployments):
        """Single-shard edits: a source Secret's value changes; timed from
        just before the write to the watch event of its Deployment's new pod
        template (a new config hash)."""
        a = self.args
        name = set_obj["metadata"]["name"]
        rendered = self.render([set_obj])[0]
        deps = sorted(d["metadata"]["name"] for d in rendered.of_kind("Deployment"))
        by_dep = shapes.deployment_sources(rendered)
        secrets = self.kube.collection("v1", "Secret", ns)
        samples, missed = [], 0
        m0 = op.metrics()
        for i in range(a.edits):
            dep = deps[i % min(len(deps), a.edit_shards)]
            secret, key = by_dep[dep]
            before = shapes.pod_template(deployments.get(dep))
            url = shapes.db_url(ns, secret, password=f"bench-edit-{i:04d}-{pysecrets.token_hex(3)}")
            t0 = time.monotonic()
            self.kube.merge_patch(f"{secrets}/{secret}", {"data": {key: shapes.b64(url)}})
            t1 = deployments.wait_one(dep, lambda d: d is not None and shapes.pod_template(d) != before, 15)
            if t1 is None:
                missed += 1
            else:
                samples.append(t1 - t0)
            # Edits arrive independently of the operator's rhythm.
            time.sleep(0.2 + pysecrets.randbelow(200) / 1000)
        wait_operator_idle(op, quiet=1.0, timeout=30)
        m1 = op.metrics()
        self.scale["edits"] = {"edits": a.edits, "missed": missed, "shards": self.scale["points"][0]["shards"],
                               "latencies_seconds": samples, **percentiles(samples),
                               "requests": requests_by_verb(m0, m1),
                               "reconciles": int(reconciles(m1) - reconciles(m0))}
        p = self.scale["edits"]
        log(f"{a.edits} single-shard edits: p50 {fmt_ms(p.get('p50'))}, p99 {fmt_ms(p.get('p99'))}, missed {missed}")

    def marginal(self):
        """Bytes per shard between the scale points, on one process."""
        pts = [p for p in self.scale["points"] if "rss" in p]
        restarted = self.scale.get("restart")
        if restarted and len(pts) >= 2 and pts[1].get("process") == "restarted":
            lo = {"shards": restarted["shards"], "rss": restarted["steady_rss"], "process": "restarted"}
        elif pts:
            lo = pts[0]
        else:
            return
        hi = pts[-1]
        if hi["shards"] > lo["shards"] and hi.get("process", "scale") == lo.get("process", "scale"):
            self.scale["marginal"] = {"bytes_per_shard": (hi["rss"] - lo["rss"]) / (hi["shards"] - lo["shards"]),
                                      "from": lo["shards"], "to": hi["shards"], "process": hi.get("process"),
                                      "converged": bool(hi.get("converged"))}

    # --- 4. more rounds of the ratio size ------------------------------------------------------
    def run_ratio_rounds(self):
        sets, n = self.ratio_size
        entry = None
        for r in range(2, self.args.ratio_runs + 1):
            cost = self.cost_converge(sets, n, ready=False)
            if not self.budget.fits(cost, self.later()):
                self.budget.skip(f"converge {sets}x{n} round {r} (fresh operator)", cost)
                if entry:
                    entry["skipped"].append(f"round {r}")
                continue
            entry = entry or self.new_entry([n] * sets, "fresh operator")
            self.converge_fresh(entry, r, kubectl=False, ready=False)

    # --- the whole run ----------------------------------------------------------------------
    def run_all(self):
        a = self.args
        started = time.monotonic()
        most = max(self.points + [s * n for s, n in self.converge_sizes] + [self.ratio_size[0] * self.ratio_size[1]])
        self.setup["nodes"] = self.fixtures.ensure_nodes(most + a.spare_pods, a.pods_per_node)
        self.storage_class = self.fixtures.ensure_storage_class()
        self.phase("setup", started)
        self.run_converge()
        if not self.foreign_overlaps():
            self.run_foreign()
        try:
            self.run_scale()
        finally:
            if self.foreign is None:  # the scale run ended before its last point
                self.run_foreign()
        self.run_ratio_rounds()

    def cleanup(self):
        for op in list(self.operators):
            self.stop_operator(op)
        if "cleanup" in self.ahead:
            self.ahead.remove("cleanup")
        started = time.monotonic()
        self.setup["cleanup"] = self.fixtures.cleanup(namespace_timeout=max(30, min(240, self.budget.left() + 60)))
        self.phase("cleanup", started)

    def results(self):
        entries = [{k: v for k, v in e.items() if not k.startswith("_")} for e in self.converge]
        return {"converge": entries, "foreign_secrets": self.foreign, "scale": self.scale, "memory": self.memory,
                "setup": self.setup, "phases": self.phases, "skipped": self.budget.skipped,
                "budget_cuts": self.budget.cuts, "learned_rates": self.budget.rates,
                "child_counts": getattr(self, "_child_counts", None)}

    def save_partial(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.args.out)), exist_ok=True)
        with open(self.args.out + ".partial", "w") as f:
            json.dump(self.results(), f, indent=1)
