#!/usr/bin/env bash
# The churn soak (tests/integration/soak_test.cpp) at full length: 100 sets
# of 1 to 10 shards created, edited and deleted for 10 minutes against the
# local control plane, the release operator measured from /proc. `make soak`
# runs it after `make build`; `make test` runs the same test for 2 minutes
# with 30 sets (the test's defaults).
#
# Knobs: EO_SOAK_SECONDS (600), EO_SOAK_SETS (100), EO_SOAK_CHANGE_INTERVAL_MS
# (2000: the local cluster provisions about 1.7 volumes a second, and 100
# sets churned faster only queue claims), EO_SOAK_SEED (12), EO_SOAK_OPERATOR_BIN
# (build/bin/electric-operator). Writes tests/integration/results/soak.json,
# whose figures the README's "Soak" section shows.
#
# Brings the cluster up when it is not running, and down at the end only if
# it started it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# The cluster's three kwok nodes hold 110 pods each; 100 sets keep about 330
# shards. A node of the soak's own, a copy of kwok-node-0 (its annotation is
# how kwok knows to run it) with room for 1,000 more, is removed at the end.
readonly SOAK_NODE=soak-kwok-0
stop_cluster=0
cleanup() {
  [[ -z ${EO_KUBECTL:-} ]] || "$EO_KUBECTL" delete node "$SOAK_NODE" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  if ((stop_cluster)); then tests/cluster/cluster down >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
if ! tests/cluster/cluster status >/dev/null 2>&1; then
  tests/cluster/cluster up
  stop_cluster=1
fi
# shellcheck disable=SC1090
source "$(tests/cluster/cluster env)"
export KUBECONFIG EO_KUBECTL EO_CLUSTER_DIR EO_APISERVER_URL
"$EO_KUBECTL" delete node "$SOAK_NODE" --ignore-not-found >/dev/null  # left by an interrupted run
"$EO_KUBECTL" get node kwok-node-0 -o json | jq --arg name "$SOAK_NODE" '{
    apiVersion: "v1", kind: "Node",
    metadata: {name: $name,
               labels: (.metadata.labels + {"kubernetes.io/hostname": $name}),
               annotations: (.metadata.annotations | with_entries(select(.key | startswith("kubectl.kubernetes.io/") | not)))},
    status: {allocatable: (.status.allocatable + {pods: "1000"}), capacity: (.status.capacity + {pods: "1000"})}
  }' | "$EO_KUBECTL" create -f - >/dev/null
"$EO_KUBECTL" wait --for=condition=Ready "node/$SOAK_NODE" --timeout=60s >/dev/null
export EO_SOAK_SECONDS=${EO_SOAK_SECONDS:-600} EO_SOAK_SETS=${EO_SOAK_SETS:-100}
export EO_SOAK_CHANGE_INTERVAL_MS=${EO_SOAK_CHANGE_INTERVAL_MS:-2000}
export EO_SOAK_RESULTS=${EO_SOAK_RESULTS:-$root/tests/integration/results/soak.json}
# The churn, and for the warm-up and the convergence after it each 2 minutes
# and a second per shard (at most 1,000).
timeout --kill-after=30 $((EO_SOAK_SECONDS + 2 * (120 + 1000) + 60)) \
  build/bin/integration_tests --gtest_filter='SoakTest.*' --gtest_brief=1
echo "results: ${EO_SOAK_RESULTS#"$root"/}"
