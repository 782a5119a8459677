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
# Then issue 10's database-check benchmark (bench/database_checks.cpp) on the
# test harness's PostgreSQL servers (started when not running, stopped after),
# writing bench/results/database_checks.json and its README block.
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

# What this script started, stopped at exit.
stop_cluster=0 stop_postgres=0
on_exit() {
  if ((stop_postgres)); then tests/postgres/postgres down >/dev/null 2>&1 || true; fi
  if ((stop_cluster)); then
    echo "== stopping the local control plane"
    tests/cluster/cluster down >/dev/null 2>&1 || true
  fi
}
trap on_exit EXIT
if ! tests/cluster/cluster status >/dev/null 2>&1; then
  echo "== starting the local control plane"
  tests/cluster/cluster up
  [[ ${EO_BENCH_KEEP_CLUSTER:-} == 1 ]] || stop_cluster=1
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

# Issue 10's database checks: the operator's checker at 512 shards on the
# test harness's four PostgreSQL servers, against one connection per shard.
checks_bench=${EO_DATABASE_CHECKS_BENCH_BIN:-$(dirname "$operator")/database_checks_bench}
checks_out=bench/results/database_checks.json checks_size=(--shards 512 --rounds 5)
if (($#)); then checks_out=build/bench/database_checks.json checks_size=(--shards 64 --rounds 2); fi
if [[ -x $checks_bench ]]; then
  if ! pg_env=$(tests/postgres/postgres env 2>/dev/null); then
    tests/postgres/postgres up >/dev/null
    stop_postgres=1
    pg_env=$(tests/postgres/postgres env)
  fi
  mkdir -p "$(dirname "$checks_out")"
  echo "== database checks (${checks_size[*]})"
  table=$("$checks_bench" --env "$pg_env" "${checks_size[@]}" --out "$checks_out")
  echo "$table"
  if [[ $checks_out == bench/results/* ]]; then
    python3 - "$table" <<'PY'
import sys
sys.path.insert(0, "bench")
import report
begin = "<!-- bench:database-checks:begin (generated by scripts/bench.sh from bench/database_checks.cpp) -->"
if not report.update_readme("README.md", sys.argv[1], begin, "<!-- bench:database-checks:end -->"):
    sys.exit("bench: README.md has no database-checks block")
PY
  fi
else
  echo "bench: no $checks_bench (run: make build); the database-check benchmark is skipped" >&2
fi
