#!/usr/bin/env bash
# Runs the scale benchmarks of issue 11 against the local control plane:
# prints markdown tables, writes bench/results/latest.json (and latest.md
# beside it) and the README's generated results block. `make bench` runs it
# after `make build`; the whole of `make bench` fits EO_BENCH_BUDGET_SECONDS.
#
#   scripts/bench.sh                       the full run (the issue's sizes)
#   scripts/bench.sh --quick               small sizes, every scenario end to end
#   scripts/bench.sh --scale 200,400 ...   other flags go to bench/driver.py
#
# A run with any flag writes build/bench/latest.json instead and leaves the
# README alone (pass --out and --readme to say otherwise): only the full run
# stands for the project.
#
# Knobs: EO_OPERATOR_BIN (default build/bin/electric-operator),
# EO_BENCH_BUDGET_SECONDS (default 1200: all of `make bench`, counted from
# EO_BENCH_STARTED, the epoch second the Makefile started, so the build and
# the cluster start are inside it; the driver gets what is left and skips
# optional runs or cuts waits to stay within it), EO_BENCH_KEEP_CLUSTER=1
# (leave a cluster this script started running).
#
# Brings the cluster up (tests/cluster/cluster up) when it is not running, and
# down at the end only if it started it. The parallel server-side-apply
# baseline (bench/parallel_apply.cpp, on operator/kube/ alone) is built by
# `make build` beside the operator. Creates only namespaces named bench-* and
# cluster objects labelled electric-operator.dev/bench, and deletes them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=${EO_BENCH_STARTED:-$(date +%s)}
budget=${EO_BENCH_BUDGET_SECONDS:-1200}

operator=${EO_OPERATOR_BIN:-$root/build/bin/electric-operator}
[[ -x $operator ]] || { echo "bench: no operator binary at $operator (run: make build)" >&2; exit 1; }

parallel_apply=${EO_PARALLEL_APPLY_BIN:-$(dirname "$operator")/parallel_apply}
[[ -x $parallel_apply ]] || { echo "bench: no baseline binary at $parallel_apply (run: make build)" >&2; exit 1; }

if ! tests/cluster/cluster status >/dev/null 2>&1; then
  echo "== starting the local control plane"
  tests/cluster/cluster up
  if [[ ${EO_BENCH_KEEP_CLUSTER:-} != 1 ]]; then
    trap 'echo "== stopping the local control plane"; tests/cluster/cluster down >/dev/null 2>&1 || true' EXIT
  fi
fi
# shellcheck disable=SC1090
source "$(tests/cluster/cluster env)"
kubectl=${EO_KUBECTL:-kubectl}

"$kubectl" apply --server-side --force-conflicts --field-manager=electric-operator-bench \
  -f crds/electric-operator.dev_electricshardsets.yaml >/dev/null
"$kubectl" wait --for=condition=Established --timeout=60s crd/electricshardsets.electric-operator.dev >/dev/null

outputs=(--out bench/results/latest.json --readme README.md)
if (($#)); then
  outputs=(--out build/bench/latest.json)
fi

# The build and the cluster start count against the budget too; stopping a
# cluster this script started (a few seconds) is the margin.
left=$((budget - ($(date +%s) - started)))
if ((left < 300)); then
  echo "bench: only ${left}s of the ${budget}s budget left after the build and the cluster start;" \
    "the driver will skip what does not fit (EO_BENCH_BUDGET_SECONDS raises it)" >&2
fi
echo "== running the benchmarks (budget ${left}s of ${budget}s; progress on stderr)"
python3 bench/driver.py \
  --operator "$operator" \
  --parallel-apply "$parallel_apply" \
  --kubeconfig "$KUBECONFIG" \
  --kubectl "$kubectl" \
  --log-dir build/bench/logs \
  --budget-seconds "$left" \
  --started-at "$started" \
  "${outputs[@]}" \
  "$@"
