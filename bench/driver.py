#!/usr/bin/env python3
"""`make bench`: the scale benchmarks of issue 11 against the local control plane.

scripts/bench.sh brings the cluster up and runs this:

  bench/driver.py --operator build/bin/electric-operator \\
      --parallel-apply build/bin/parallel_apply --kubeconfig K \\
      --out bench/results/latest.json [--readme README.md] [--quick]

It writes the results as JSON (with the `targets` list of issue 11: target,
measured, met), the tables as markdown beside it (.md), and with --readme
the README's generated block. What runs, in which order, and how the time
budget is shared: bench/scenarios.py. The modules:

  client.py     the API server (REST, discovery, watches) and the operator process
  shapes.py     the bench's inputs, and the operator's children from `electric-operator render`
  cluster.py    kwok nodes, pre-bound volumes, namespaces, cleanup
  trackers.py   watches that time children-exist and Ready
  scenarios.py  the scenarios and the budget
  report.py     statistics, targets, markdown, the README block

Only the Python standard library and kubectl. Everything it creates lives in
namespaces named bench-* or carries the label electric-operator.dev/bench,
and is deleted at the end (also on Ctrl-C or SIGTERM).
"""

import argparse
import json
import os
import platform
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402
from client import log  # noqa: E402
from scenarios import Bench  # noqa: E402

# The sizes of a full run (the issue's) and of --quick (every scenario end
# to end in a few minutes, far below the targets' sizes).
FULL = {"converge_sizes": "1x10,1x100", "runs": "3,1", "ratio_size": "1x512", "ratio_runs": 1,
        "scale": "1000,2000", "max_set_shards": 500, "foreign_secrets": 10000, "foreign_secret_kib": 64,
        "edits": 100, "idle_seconds": 60}
QUICK = {"converge_sizes": "1x10", "runs": "1", "ratio_size": "1x20", "ratio_runs": 1,
         "scale": "50,100", "max_set_shards": 50, "foreign_secrets": 500, "foreign_secret_kib": 64,
         "edits": 10, "idle_seconds": 10}


def machine_info(kube):
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu_model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    info = {"cpus": os.cpu_count(), "memory_bytes": mem, "cpu_model": cpu_model,
            "kernel": platform.release(), "python": platform.python_version()}
    try:
        info["kubernetes"] = kube.get("/version")["gitVersion"]
    except Exception:  # noqa: BLE001
        pass
    return info


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--operator", required=True)
    p.add_argument("--parallel-apply", required=True)
    p.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    p.add_argument("--kubectl", default=os.environ.get("EO_KUBECTL", "kubectl"))
    p.add_argument("--out", default="bench/results/latest.json")
    p.add_argument("--readme", help="also replace the generated results block of this README")
    p.add_argument("--log-dir", default=None, help="operator logs (default: logs/ next to --out)")
    p.add_argument("--quick", action="store_true", help="small sizes: every scenario end to end in minutes")
    p.add_argument("--concurrency", type=int, default=4, help="the operator's --concurrency and the baseline's")
    p.add_argument("--converge-sizes", help=f"SETSxSHARDS,... on a fresh operator until Ready "
                                            f"(default {FULL['converge_sizes']})")
    p.add_argument("--runs", help="rounds of each converge size, the first always, later ones as the budget "
                                  f"allows: one count, or one per size (default {FULL['runs']})")
    p.add_argument("--ratio-size", help=f"the scale operator's first step (default {FULL['ratio_size']})")
    p.add_argument("--ratio-runs", type=int, help="runs of the ratio size in all: the scale operator's first step, "
                                                  "then on a fresh operator (children exist only) as the budget "
                                                  f"allows (default {FULL['ratio_runs']})")
    p.add_argument("--scale", help=f"shard counts at which the scale operator converges (default {FULL['scale']})")
    p.add_argument("--max-set-shards", type=int, help=f"largest set the scale steps make (default {FULL['max_set_shards']})")
    p.add_argument("--foreign-secrets", type=int, help=f"default {FULL['foreign_secrets']}")
    p.add_argument("--foreign-secret-kib", type=int, help=f"default {FULL['foreign_secret_kib']}")
    p.add_argument("--foreign-apart", action="store_true",
                   help="run the foreign Secrets on their own, not during the last scale point's Ready wait")
    p.add_argument("--edits", type=int, help=f"single-shard edits at the first scale point (default {FULL['edits']})")
    p.add_argument("--edit-shards", type=int, default=20, help="the edits cycle over this many shards")
    p.add_argument("--idle-seconds", type=int, help=f"default {FULL['idle_seconds']}")
    p.add_argument("--ready-cap-seconds", type=float, default=120,
                   help="longest Ready wait of a converge run on a fresh operator")
    p.add_argument("--scale-ready-cap-seconds", type=float, default=600,
                   help="longest Ready wait at a scale point (the budget may cut it)")
    p.add_argument("--ready-floor-seconds", type=float, default=30,
                   help="shortest Ready wait at a scale point when the budget is tight")
    p.add_argument("--pods-per-node", type=int, default=1100, help="pod capacity of the kwok nodes the bench adds")
    p.add_argument("--spare-pods", type=int, default=150, help="room beyond the largest size")
    p.add_argument("--budget-seconds", type=float, default=1170,
                   help="what the run may take; optional runs are skipped and waits cut to stay within it")
    p.add_argument("--reserve-seconds", type=float, default=20, help="kept free beyond the predicted cleanup")
    p.add_argument("--started-at", type=float, help="epoch seconds when `make bench` started (for the report)")
    p.add_argument("--namespace-prefix", default="bench")
    a = p.parse_args(argv)
    if not a.namespace_prefix.startswith("bench"):
        p.error("--namespace-prefix must start with bench")
    for key, value in (QUICK if a.quick else FULL).items():
        if getattr(a, key) is None:
            setattr(a, key, value)
    a.log_dir = a.log_dir or os.path.join(os.path.dirname(os.path.abspath(a.out)), "logs")
    return a


def write_outputs(a, results):
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=1)
    if os.path.exists(a.out + ".partial"):
        os.remove(a.out + ".partial")
    md = report.markdown(results)
    with open(os.path.splitext(a.out)[0] + ".md", "w") as f:
        f.write(md)
    if a.readme:
        if report.update_readme(a.readme, md):
            log(f"updated the results block of {a.readme}")
        else:
            log(f"{a.readme} has no generated results block; left alone")
    return md


def main():
    a = parse_args()
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
    elapsed = bench.budget.elapsed()
    results.update({"machine": machine, "concurrency": a.concurrency, "operator_binary": os.path.abspath(a.operator),
                    "started_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(time.time() - elapsed)),
                    "duration_seconds": elapsed, "budget_seconds": a.budget_seconds,
                    "over_budget_seconds": max(0.0, elapsed - a.budget_seconds),
                    "sizes": {k: getattr(a, k) for k in FULL}})
    if a.started_at:
        results["make_bench_seconds"] = time.time() - a.started_at
    if a.quick:
        results["quick"] = "a --quick run: sizes far below the targets'; a row measured at another size says so and is not met"
    if failure:
        results["failure"] = failure
    report.finish(results)
    print(write_outputs(a, results))
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
