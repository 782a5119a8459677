#!/usr/bin/env bash
# `make demo`: start the local control plane, install the CRD, run the operator
# against it, apply the 3-shard sample and show what the operator made.
#
# The sample's Secrets hold placeholder URLs; the demo then points them at
# three databases of a real local PostgreSQL server (tests/postgres/postgres),
# so the operator's database checks pass as they would on a real cluster.
#
# The operator keeps running in the background after the demo (its log is in
# build/demo/operator.log); `make cluster-down` and `tests/postgres/postgres
# down` stop everything.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tests/cluster/cluster up
# shellcheck disable=SC1091
source build/cluster/env
export KUBECONFIG
mkdir -p build/demo

# The CRD command of docs/install.md, so a later `kubectl apply -k manifests/`
# meets a CRD installed the same way.
kubectl apply --server-side --force-conflicts -f crds/ >/dev/null
kubectl wait --for=condition=Established crd/electricshardsets.electric-operator.dev --timeout=60s >/dev/null

if [[ -f build/demo/operator.pid ]] && kill -0 "$(cat build/demo/operator.pid)" 2>/dev/null; then
  echo "operator already running (pid $(cat build/demo/operator.pid))"
else
  nohup build/bin/electric-operator run --kubeconfig "$KUBECONFIG" --log-format text \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
    > build/demo/operator.log 2>&1 &
  echo $! > build/demo/operator.pid
  echo "operator started (pid $!, log build/demo/operator.log)"
fi

# The sample (manifests/samples) with its placeholder Secrets replaced by
# three databases of a real local PostgreSQL: a role that may replicate, one
# database per shard. The Secrets come first, so the checks see real URLs.
[[ -f build/postgres/env ]] || tests/postgres/postgres up
# shellcheck disable=SC1091
source build/postgres/env
psql_admin() { PGPASSWORD=$EO_PG_PASSWORD psql -h "$EO_PG_HOST" -p "$EO_PG_LOGICAL_PORT" -U postgres -qtA "$@"; }
demo_password=$(openssl rand -hex 12)
if [[ -z $(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'electric'") ]]; then
  psql_admin -c "CREATE ROLE electric LOGIN REPLICATION"
fi
psql_admin -c "ALTER ROLE electric PASSWORD '$demo_password'"
kubectl apply -f manifests/samples/namespace.yaml >/dev/null
for shard in 0 1 2; do
  [[ -n $(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'shard_$shard'") ]] ||
    psql_admin -c "CREATE DATABASE shard_$shard OWNER electric"
  kubectl create secret generic "pg-shard-$shard" -n electric-demo --dry-run=client -o yaml \
    --from-literal=url="postgresql://electric:$demo_password@$EO_PG_HOST:$EO_PG_LOGICAL_PORT/shard_$shard?sslmode=disable" |
    kubectl apply -f - >/dev/null
done
echo "Secrets pg-shard-0..2 point at databases shard_0..2 of the local PostgreSQL on port $EO_PG_LOGICAL_PORT"
kubectl apply -f manifests/samples/electricshardset.yaml >/dev/null
echo "applied manifests/samples/electricshardset.yaml: ElectricShardSet myapp with 3 shards in namespace electric-demo"

# Ready, and not Degraded: every shard's database passed its checks.
for _ in $(seq 1 90); do
  ready=$(kubectl get ess myapp -n electric-demo -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}{.status.conditions[?(@.type=="Degraded")].status}' 2>/dev/null || true)
  [[ $ready == TrueFalse ]] && break
  sleep 1
done

echo
kubectl get ess -n electric-demo
echo
echo "shards (phase, reason; the database checks ran against the local PostgreSQL):"
kubectl get ess myapp -n electric-demo -o jsonpath='{range .status.shards[*]}  {.name}: {.phase} {.reason} {.message}{"\n"}{end}'
echo
kubectl get deployments,services,persistentvolumeclaims,secrets,configmaps -n electric-demo \
  -l app.kubernetes.io/managed-by=electric-operator
echo
echo "routing ConfigMap (what a proxy reads):"
kubectl get configmap myapp-routing -n electric-demo -o jsonpath='{.data.shards\.json}'
echo
echo
echo "export KUBECONFIG=$KUBECONFIG"
echo "stop: kill \$(cat build/demo/operator.pid); make cluster-down; tests/postgres/postgres down"
[[ $ready == TrueFalse ]] || { echo "the set did not become Ready (and not Degraded) within 90 s; see build/demo/operator.log" >&2; exit 1; }
