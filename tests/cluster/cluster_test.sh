#!/usr/bin/env bash
# cluster_test.sh: proves the local control plane does what the operator's
# tests rely on: real /version, claims that bind and grow, Deployments that
# become available (controller-manager, scheduler and kwok together), garbage
# collection of owned objects, and RBAC enforced on a TokenRequest token.
#
# Usage: tests/cluster/cluster up && tests/cluster/cluster_test.sh
# Works in its own namespace, removes it at the end, and closes with the line
# "N passed, M failed"; exits non-zero when anything failed.
set -uo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HARNESS_DIR
readonly ENV_FILE=${EO_CLUSTER_DIR:-$(cd "$HARNESS_DIR/../.." && pwd)/build/cluster}/env
if [[ ! -f $ENV_FILE ]]; then
	echo "cluster_test: no cluster is up (run $HARNESS_DIR/cluster up)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
# shellcheck disable=SC1090
source "$ENV_FILE"

NS=eo-cluster-test-$(date +%s)-$RANDOM
readonly NS
readonly WAIT=${EO_TEST_TIMEOUT:-120}
SCRATCH=$(mktemp -d)
readonly SCRATCH
chmod 700 "$SCRATCH"
passed=0
failed=0

k() { "$EO_KUBECTL" "$@"; }
kn() { "$EO_KUBECTL" -n "$NS" "$@"; }

pass() {
	passed=$((passed + 1))
	echo "ok - $1"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL - $1${2:+: $2}"
}

# eventually SECONDS COMMAND...: true once COMMAND succeeds within SECONDS.
eventually() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 1
	done
}

cleanup() {
	k delete namespace "$NS" --ignore-not-found --wait=false >/dev/null 2>&1
	rm -rf "$SCRATCH"
}
trap cleanup EXIT

# --- the API server is the real release ----------------------------------------

version=$(k get --raw /version | python3 -c 'import json,sys; print(json.load(sys.stdin)["gitVersion"])' 2>&1)
if [[ $version == "$EO_K8S_VERSION" ]]; then pass "/version reports $version"; else fail "/version" "got '$version', want $EO_K8S_VERSION"; fi
readyz=$(k get --raw /readyz 2>&1)
if [[ $readyz == ok ]]; then pass "/readyz is ok"; else fail "/readyz" "$readyz"; fi

k create namespace "$NS" >/dev/null || { fail "create namespace $NS"; echo "$passed passed, $failed failed"; exit 1; }

# --- a claim binds, and a Deployment that mounts it becomes available ---------

kn apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.invalid/web:1
        volumeMounts:
        - {name: data, mountPath: /data}
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: data}
EOF

claim_bound() { [[ $(kn get pvc data -o jsonpath='{.status.phase}') == Bound ]]; }
if eventually "$WAIT" claim_bound; then
	pv=$(kn get pvc data -o jsonpath='{.spec.volumeName}')
	class=$(kn get pvc data -o jsonpath='{.spec.storageClassName}')
	pass "PVC bound to $pv by the default StorageClass '$class'"
else
	pv=""
	fail "PVC bound" "$(kn describe pvc data 2>&1 | tail -5)"
fi

if kn wait deployment/web --for=condition=Available --timeout="${WAIT}s" >/dev/null 2>&1 &&
	[[ $(kn get deployment web -o jsonpath='{.status.availableReplicas}/{.spec.replicas}') == 2/2 ]]; then
	pass "Deployment mounting the PVC is 2/2 available"
else
	fail "Deployment 2/2 available" "$(kn get deployment,pods -o wide 2>&1)"
fi

pods_running=$(kn get pods -l app=web -o jsonpath='{range .items[*]}{.status.phase}/{.spec.nodeName} {end}')
if [[ $(grep -o 'Running/kwok-node-[0-9]*' <<<"$pods_running" | wc -l) -eq 2 ]]; then
	pass "pods Running on kwok nodes ($pods_running)"
else
	fail "pods Running on kwok nodes" "$pods_running"
fi

# --- the claim can grow (StorageClass allowVolumeExpansion) -------------------

kn patch pvc data --type=merge -p '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}' >/dev/null 2>&1
claim_grown() { [[ $(kn get pvc data -o jsonpath='{.status.capacity.storage}') == 2Gi ]]; }
if eventually "$WAIT" claim_grown; then
	pass "PVC expanded to 2Gi"
else
	fail "PVC expanded to 2Gi" "$(kn get pvc data -o jsonpath='{.status}' 2>&1)"
fi

# --- owned objects are garbage-collected --------------------------------------

owner_uid=$(kn create configmap owner --from-literal=role=owner -o jsonpath='{.metadata.uid}' 2>&1)
owned_uid=$(kn apply -o jsonpath='{.metadata.uid}' -f - 2>&1 <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: owned
  ownerReferences:
  - apiVersion: v1
    kind: ConfigMap
    name: owner
    uid: $owner_uid
data:
  role: owned
EOF
)
# Garbage collection is only shown if the owned object existed, with this
# owner, and "gone" means the API server said NotFound, not any kubectl error.
owned_by_owner() { [[ $(kn get configmap owned -o jsonpath='{.metadata.ownerReferences[0].uid}') == "$owner_uid" ]]; }
# (Output captured first: under pipefail, kubectl's own exit 1 would fail a pipe.)
says_not_found() { local out; out=$("$@" 2>&1); [[ $out == *"(NotFound)"* ]]; }
owned_gone() { says_not_found kn get configmap owned; }
if [[ $owner_uid =~ ^[0-9a-f-]{36}$ && $owned_uid =~ ^[0-9a-f-]{36}$ ]] && owned_by_owner; then
	pass "owned ConfigMap created with an ownerReference to its owner"
	kn delete configmap owner --wait=false >/dev/null
	if eventually "$WAIT" owned_gone; then
		pass "owned ConfigMap garbage-collected after its owner was deleted"
	else
		fail "garbage collection" "$(kn get configmap owned 2>&1)"
	fi
else
	fail "owned ConfigMap created" "owner uid '$owner_uid', owned: $owned_uid"
fi

# --- RBAC is enforced on a TokenRequest token ---------------------------------

kn create serviceaccount reader >/dev/null
kn create role configmap-reader --verb=get,list --resource=configmaps >/dev/null
kn create rolebinding reader --role=configmap-reader --serviceaccount="$NS:reader" >/dev/null
# The token goes only into a private file, never onto a command line or the output.
if kn create token reader --duration=10m >"$SCRATCH/token" 2>"$SCRATCH/token.err" && [[ -s $SCRATCH/token ]]; then
	printf 'Authorization: Bearer %s\n' "$(<"$SCRATCH/token")" >"$SCRATCH/auth-header"
	pass "TokenRequest issued a token for ServiceAccount reader"
else
	fail "TokenRequest" "$(cat "$SCRATCH/token.err")"
fi
# status_of METHOD PATH: the HTTP status the API server answers the reader with.
status_of() {
	curl --silent --output /dev/null --write-out '%{http_code}' --max-time 10 --cacert "$EO_CA_FILE" \
		-H @"$SCRATCH/auth-header" -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} \
		"$EO_APISERVER_URL$2"
}
whoami=$(curl --silent --max-time 10 --cacert "$EO_CA_FILE" -H @"$SCRATCH/auth-header" -X POST \
	-H 'Content-Type: application/json' \
	--data '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' \
	"$EO_APISERVER_URL/apis/authentication.k8s.io/v1/selfsubjectreviews" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["userInfo"]["username"])' 2>&1)
if [[ $whoami == "system:serviceaccount:$NS:reader" ]]; then pass "token authenticates as $whoami"; else fail "token identity" "$whoami"; fi
code=$(status_of GET "/api/v1/namespaces/$NS/configmaps")
if [[ $code == 200 ]]; then pass "allowed verb (list configmaps) answers 200"; else fail "allowed verb" "HTTP $code"; fi
code=$(status_of POST "/api/v1/namespaces/$NS/configmaps" '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"denied"}}')
if [[ $code == 403 ]]; then pass "verb outside the Role (create configmaps) answers 403"; else fail "denied verb" "HTTP $code"; fi
code=$(status_of GET "/api/v1/namespaces/$NS/secrets")
if [[ $code == 403 ]]; then pass "resource outside the Role (list secrets) answers 403"; else fail "denied resource" "HTTP $code"; fi

# --- deletion flows back: pods go away, then the claim and its volume ---------

kn delete deployment web --wait=false >/dev/null
pods_gone() { local names; names=$(kn get pods -l app=web -o name) && [[ -z $names ]]; }
if eventually "$WAIT" pods_gone; then pass "deleting the Deployment removes its pods"; else fail "pods removed" "$(kn get pods 2>&1)"; fi
kn delete pvc data --wait=false >/dev/null
volume_gone() { [[ -n $pv ]] && says_not_found k get pv "$pv"; }
if eventually "$WAIT" volume_gone; then pass "deleting the PVC deletes its volume $pv"; else fail "volume deleted" "$(k get pv 2>&1)"; fi

if k delete namespace "$NS" --timeout="${WAIT}s" >/dev/null 2>&1; then
	pass "namespace $NS deleted"
else
	fail "namespace deleted" "$(k get namespace "$NS" -o jsonpath='{.status}' 2>&1)"
fi

echo "$passed passed, $failed failed"
((failed == 0))
