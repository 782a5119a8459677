#!/usr/bin/env bash
# The churn soak (tests/integration/soak_test.cpp) at full length: 100 sets
# of 1 to 10 shards created, edited and deleted for 10 minutes against the
# local control plane, the release operator measured from /proc. `make soak`
# runs it after `make build`; `make test` runs the same test for 2 minutes
# with 30 sets (the test's defaults).
#
# Knobs: EO_SOAK_SECONDS (600), EO_SOAK_SETS (100),
# EO_SOAK_CHANGES_PER_SECOND (3), EO_SOAK_SEED (12), EO_SOAK_OPERATOR_BIN
# (build/bin/electric-operator). Writes tests/integration/results/soak.json,
# whose figures the README's "Soak" section shows.
#
# Brings the cluster up when it is not running, and down at the end only if
# it started it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

stop_cluster=0
trap '((stop_cluster)) && tests/cluster/cluster down >/dev/null 2>&1 || true' EXIT
if ! tests/cluster/cluster status >/dev/null 2>&1; then
  tests/cluster/cluster up
  stop_cluster=1
fi
# shellcheck disable=SC1091
source "$(tests/cluster/cluster env)"
export KUBECONFIG EO_KUBECTL EO_CLUSTER_DIR EO_APISERVER_URL
export EO_SOAK_SECONDS=${EO_SOAK_SECONDS:-600} EO_SOAK_SETS=${EO_SOAK_SETS:-100}
export EO_SOAK_RESULTS=${EO_SOAK_RESULTS:-$root/tests/integration/results/soak.json}
# The test has churn plus up to 5 minutes for the warm-up and as much to converge.
timeout --kill-after=30 $((EO_SOAK_SECONDS + 900)) \
  build/bin/integration_tests --gtest_filter='SoakTest.*' --gtest_brief=1
echo "results: ${EO_SOAK_RESULTS#"$root"/}"
