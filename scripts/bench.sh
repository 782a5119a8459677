#!/usr/bin/env bash
# Runs the benchmarks of issue 7 against the local control plane: prints a
# markdown table, writes bench/results/latest.json (and latest.md beside it).
# `make bench` runs it after `make build`; the whole run fits in 15 minutes.
#
#   scripts/bench.sh                          everything
#   scripts/bench.sh --sizes 1x10 --runs 1    extra flags go to bench/driver.py
#
# Knobs: EO_OPERATOR_BIN (default build/bin/electric-operator),
# EO_BENCH_BUDGET_SECONDS (default 870: the driver stops repeating converge
# runs when the next would not fit), EO_BENCH_KEEP_CLUSTER=1 (leave a cluster
# this script started running).
#
# Brings the cluster up (tests/cluster/cluster up) when it is not running, and
# down at the end only if it started it. The parallel server-side-apply
# baseline (bench/parallel_apply.cpp, on operator/kube/ alone) is built by
# `make build` beside the operator. Creates only namespaces named bench-*, and
# deletes them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
budget=${EO_BENCH_BUDGET_SECONDS:-870}

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

# The build and the cluster start count against the 15 minutes too.
left=$((budget - SECONDS))
echo "== running the benchmarks (budget ${left}s; progress on stderr)"
python3 bench/driver.py \
  --operator "$operator" \
  --parallel-apply "$parallel_apply" \
  --kubeconfig "$KUBECONFIG" \
  --kubectl "$kubectl" \
  --out bench/results/latest.json \
  --log-dir build/bench/logs \
  --budget-seconds "$left" \
  "$@"
