#!/usr/bin/env bash
# Least privilege against the real control plane (tests/cluster), issue 15:
#
# - a namespace that enforces the Pod Security "baseline" level runs the
#   3-shard sample set: the operator's defaults (no token, no escalation, all
#   capabilities dropped, RuntimeDefault seccomp) pass admission, and kwok
#   runs the pods;
# - a set whose template asks for a privileged container is refused by the
#   operator (--max-pod-security-level=baseline, the default): shard Failed,
#   reason PodSecurityViolation naming the field, Degraded, no Deployment;
# - with the flag lifted (privileged) the operator creates the Deployment and
#   the namespace's admission rejects its pods (the ReplicaSet cannot create
#   one), so admission stays the last word; the shard's status says so
#   (PodCreationFailed, from the Deployment's ReplicaFailure condition),
#   Degraded, with a Warning Event;
# - the README's non-root recipe runs in a namespace enforcing "restricted"
#   with the operator at --max-pod-security-level=restricted, which refuses
#   the sample set (root by default) in the baseline namespace;
# - spec.networkPolicy renders a NetworkPolicy that selects the set's shard
#   pods and admits only the listed peers on port 3000; turned off, it goes;
# - the editor/viewer ClusterRoles aggregate: a user bound to `edit` may
#   create sets, one bound to `view` may only read them (kubectl auth can-i
#   with impersonation).
#
# Usage: tests/e2e/pod_security_test.sh
# Needs: a running cluster (tests/cluster/cluster up), a built operator
# ($EO_OPERATOR_BIN, default build/bin/electric-operator), curl, jq, yq.
# The operator runs out of cluster with the admin kubeconfig and watches only
# the test's namespace (RBAC sufficiency is install_test.sh's job). The test
# removes its namespace, and the ClusterRoles and CRD when it created them.
set -u
. "$(dirname "$0")/lib.sh"

use_running_cluster
BINARY="${EO_OPERATOR_BIN:-$REPO_ROOT/build/bin/electric-operator}"
TIMEOUT="${EO_E2E_TIMEOUT:-120}"
NS=eo-pss-e2e
NS_RESTRICTED=eo-pss-restricted-e2e
CRD=electricshardsets.electric-operator.dev
WORK="$(mktemp -d)"
OPERATOR_PID=""
if [ ! -x "$BINARY" ]; then
  fail "no operator binary at $BINARY (build it, or set EO_OPERATOR_BIN)"
  finish
fi

crd_created=false
roles_created=false
k get crd "$CRD" >/dev/null 2>&1 || crd_created=true
k get clusterrole electricshardset-editor >/dev/null 2>&1 || roles_created=true

absent() { ! k get "$@" >/dev/null 2>&1; }

# start_operator LOG [run flags...]: the binary in the background, watching
# only $NS, until /readyz answers. Without database checks: the sets' URLs
# are placeholders, and a set under the slot finalizer would then wait for
# databases that do not exist when the namespace goes.
start_operator() {
  local log="$1" health_port; shift
  health_port="$(free_port)" || return 1
  "$BINARY" run --namespace "$NS" --metrics-bind-address 0 --database-check-interval 0 \
    --health-probe-bind-address "127.0.0.1:$health_port" --log-format text "$@" > "$log" 2>&1 &
  OPERATOR_PID=$!
  await_readyz "$OPERATOR_PID" "http://127.0.0.1:$health_port" "$log" || { stop_operator; return 1; }
}

# operator_started DESCRIPTION LOG [run flags...]: start_operator in this
# shell and report it. Not through check: its command substitution would set
# OPERATOR_PID in a subshell, stop_operator would stop nothing, and the old
# operator would go on reconciling beside the next one at another level.
operator_started() {
  local description="$1"; shift
  local running
  if ! start_operator "$@"; then
    fail "$description"
    tail -n 20 "$1" | sed 's/^/       /'
    return 1
  fi
  running="$(operators_running)"
  if [ "$running" = 1 ]; then
    pass "$description, the only one of this test running"
  else
    fail "$description, but $running operators of this test are running"
    return 1
  fi
}

# How many operators of this test are running: one after a start, none after
# a stop, or two would race to write the same status.
operators_running() { pgrep -fc -- "^$BINARY run --namespace $NS " || true; }

stop_operator() {
  [ -z "$OPERATOR_PID" ] && return 0
  kill -TERM "$OPERATOR_PID" 2>/dev/null
  local deadline=$((SECONDS + 40))
  while kill -0 "$OPERATOR_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 1; done
  kill -KILL "$OPERATOR_PID" 2>/dev/null
  wait "$OPERATOR_PID" 2>/dev/null
  OPERATOR_PID=""
}

cleanup() {
  stop_operator
  k delete namespace "$NS" "$NS_RESTRICTED" --ignore-not-found --wait=false >/dev/null 2>&1
  if $roles_created; then
    k delete -f "$REPO_ROOT/manifests/base/user-roles.yaml" --ignore-not-found >/dev/null 2>&1
  fi
  if $crd_created; then
    # Only once the namespace (and the sets in it) is gone: deleting the CRD
    # first would leave the namespace waiting on their finalizer-free removal.
    k wait --for=delete "namespace/$NS" "namespace/$NS_RESTRICTED" --timeout=60s >/dev/null 2>&1
    k delete crd "$CRD" --ignore-not-found --wait=false >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- set-up ---------------------------------------------------------------------
check "CRD installed" k apply --server-side --force-conflicts -f "$REPO_ROOT/crds/"
check "CRD established" k wait --for=condition=Established "crd/$CRD" --timeout=60s
check "editor/viewer ClusterRoles applied" k apply -f "$REPO_ROOT/manifests/base/user-roles.yaml"
check "namespace $NS created" k create namespace "$NS"
check "$NS enforces Pod Security baseline" \
  k label namespace "$NS" pod-security.kubernetes.io/enforce=baseline pod-security.kubernetes.io/enforce-version=latest

# The sample set, moved into $NS.
sample_in_ns() {
  k kustomize "$REPO_ROOT/manifests/samples" |
    yq -y --arg ns "$NS" 'select(.kind != "Namespace") | .metadata.namespace = $ns'
}
apply_sample_in_ns() { sample_in_ns | k apply -f -; }
check "the sample set and its Secrets applied in $NS" apply_sample_in_ns

# --- the sample runs under baseline -----------------------------------------------
status_of() {  # SET: "ready/count ReadyStatus"
  k get ess "$1" -n "$NS" -o jsonpath='{.status.readyShards}/{.status.shardCount} {.status.conditions[?(@.type=="Ready")].status}'
}
sample_ready() { [ "$(status_of myapp)" = "3/3 True" ]; }
pods_running() {
  [ "$(k get pods -n "$NS" -l electric-operator.dev/shard-set=myapp \
        -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c '^Running$')" -eq 3 ]
}
pods_locked_down() {
  local verdict
  verdict="$(k get pods -n "$NS" -l electric-operator.dev/shard-set=myapp -o json | jq -c '[.items[] | .spec as $p |
    $p.containers[0].securityContext as $c |
    $p.automountServiceAccountToken == false and
    ([$p.volumes[] | select(.projected != null)] | length) == 0 and
    $c.allowPrivilegeEscalation == false and $c.capabilities.drop == ["ALL"] and
    $c.seccompProfile.type == "RuntimeDefault"] | unique')"
  [ "$verdict" = "[true]" ] || { echo "pods locked down: $verdict"; return 1; }
}

if operator_started "operator started (default --max-pod-security-level)" "$WORK/operator.log"; then
  if wait_until "$TIMEOUT" sample_ready; then
    pass "the sample set is Ready under baseline: $(status_of myapp)"
  else
    fail "the sample set did not become Ready in ${TIMEOUT}s: '$(status_of myapp 2>&1)'"
    k get events -n "$NS" --field-selector type=Warning 2>&1 | tail -n 10 | sed 's/^/       /'
  fi
  check "its 3 pods were admitted and run" wait_until 30 pods_running
  check "its pods carry no token, no escalation, no capabilities, RuntimeDefault seccomp" pods_locked_down

  # --- a privileged template is refused by the operator -------------------------
  cat > "$WORK/privileged.yaml" <<EOF
apiVersion: electric-operator.dev/v1alpha1
kind: ElectricShardSet
metadata: {name: priv, namespace: $NS}
spec:
  shards:
    - {name: "0", databaseURLSecretRef: {name: pg-shard-0, key: url}}
  storage: {size: 1Gi}
  template:
    securityContext: {privileged: true}
EOF
  check "a set with a privileged template is accepted by the API server" k apply -f "$WORK/privileged.yaml"
  shard_reason() { k get ess priv -n "$NS" -o jsonpath='{.status.shards[0].reason}'; }
  refused() { [ "$(shard_reason)" = PodSecurityViolation ]; }
  if wait_until "$TIMEOUT" refused; then
    pass "its shard is refused with PodSecurityViolation"
  else
    fail "its shard was not refused: reason '$(shard_reason 2>&1)'"
  fi
  message_names_field() {
    k get ess priv -n "$NS" -o jsonpath='{.status.shards[0].message}' | grep -F 'spec.template.securityContext.privileged'
  }
  warning_event() {
    k get events -n "$NS" --field-selector involvedObject.name=priv,reason=PodSecurityViolation -o name | grep -q .
  }
  check "the message names the field" message_names_field
  check "the shard is Failed" test "$(k get ess priv -n "$NS" -o jsonpath='{.status.shards[0].phase}')" = Failed
  check "the set is Degraded" test "$(k get ess priv -n "$NS" -o jsonpath='{.status.conditions[?(@.type=="Degraded")].status}')" = True
  check "a Warning Event says so" wait_until 30 warning_event
  check "no Deployment for it" absent deployment priv-shard-0 -n "$NS"
  check "the sample set is unaffected" sample_ready
  stop_operator

  # --- lifted: the operator creates it, the namespace's admission refuses the pod -----
  if operator_started "operator restarted with --max-pod-security-level=privileged" \
        "$WORK/operator-privileged.log" --max-pod-security-level=privileged; then
    check "the Deployment is created" wait_until "$TIMEOUT" k get deployment priv-shard-0 -n "$NS"
    admission_refused() {
      k get deployment priv-shard-0 -n "$NS" \
        -o jsonpath='{.status.conditions[?(@.type=="ReplicaFailure")].message}' | grep -q 'violates PodSecurity "baseline'
    }
    check "the namespace's Pod Security admission refuses its pod (ReplicaFailure)" wait_until "$TIMEOUT" admission_refused
    no_priv_pod() { [ -z "$(k get pods -n "$NS" -l electric-operator.dev/shard-set=priv -o name)" ]; }
    check "no pod of it exists" no_priv_pod
    status_says_refused() {
      [ "$(k get ess priv -n "$NS" -o jsonpath='{.status.shards[0].reason}')" = PodCreationFailed ] &&
      k get ess priv -n "$NS" -o jsonpath='{.status.shards[0].message}' | grep -q 'violates PodSecurity "baseline'
    }
    creation_event() {
      k get events -n "$NS" --field-selector involvedObject.name=priv,reason=PodCreationFailed -o name | grep -q .
    }
    check "the shard's status says admission refused the pod (PodCreationFailed)" wait_until "$TIMEOUT" status_says_refused
    check "the set is Degraded for it" \
      test "$(k get ess priv -n "$NS" -o jsonpath='{.status.conditions[?(@.type=="Degraded")].status}')" = True
    check "a Warning Event says so" wait_until 30 creation_event
    stop_operator
  fi
fi

# --- the optional NetworkPolicy ---------------------------------------------------
if operator_started "operator started again (default level)" "$WORK/operator-np.log"; then
  check "networkPolicy enabled on the sample set" k patch ess myapp -n "$NS" --type merge \
    -p '{"spec":{"networkPolicy":{"enabled":true,"from":[{"podSelector":{"matchLabels":{"app":"api"}}}]}}}'
  check "NetworkPolicy myapp-network-policy is created" wait_until 60 k get networkpolicy myapp-network-policy -n "$NS"
  selects_shard_pods() {
    local selector
    selector="$(k get networkpolicy myapp-network-policy -n "$NS" -o json |
      jq -r '.spec.podSelector.matchLabels | to_entries | map("\(.key)=\(.value)") | join(",")')"
    [ -n "$selector" ] &&
    [ "$(k get pods -n "$NS" -l "$selector" -o name | sort)" = "$(k get pods -n "$NS" -l electric-operator.dev/shard-set=myapp -o name | sort)" ] &&
    [ "$(k get pods -n "$NS" -l "$selector" -o name | wc -l)" -eq 3 ]
  }
  check "it selects exactly the set's 3 shard pods" selects_shard_pods
  admits_only_the_peer_on_3000() {
    [ "$(k get networkpolicy myapp-network-policy -n "$NS" -o json | jq -c '[.spec.policyTypes, .spec.ingress]')" = \
      '[["Ingress"],[{"from":[{"podSelector":{"matchLabels":{"app":"api"}}}],"ports":[{"port":3000,"protocol":"TCP"}]}]]' ]
  }
  check "it admits only the listed peer, on port 3000, and leaves egress alone" admits_only_the_peer_on_3000
  check "networkPolicy disabled" k patch ess myapp -n "$NS" --type merge -p '{"spec":{"networkPolicy":{"enabled":false}}}'
  check "the NetworkPolicy is deleted" wait_until 60 absent networkpolicy myapp-network-policy -n "$NS"
  stop_operator
fi

# --- the README's non-root recipe under restricted ----------------------------------
restricted_namespace() {
  k create namespace "$NS_RESTRICTED" &&
  k label namespace "$NS_RESTRICTED" pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest
}
check "namespace $NS_RESTRICTED enforces Pod Security restricted" restricted_namespace
cat > "$WORK/nonroot.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata: {name: pg, namespace: $NS_RESTRICTED}
stringData: {url: "postgresql://electric:REPLACE_ME@pg.db.svc.cluster.local:5432/app"}
---
apiVersion: electric-operator.dev/v1alpha1
kind: ElectricShardSet
metadata: {name: nonroot, namespace: $NS_RESTRICTED}
spec:
  shards:
    - {name: "0", databaseURLSecretRef: {name: pg, key: url}}
  storage: {size: 1Gi}
  template:
    podSecurityContext:
      runAsNonRoot: true
      runAsUser: 65534
      runAsGroup: 65534
      fsGroup: 65534
      fsGroupChangePolicy: OnRootMismatch
YAML
check "a set with the README's non-root recipe applied" k apply -f "$WORK/nonroot.yaml"
if operator_started "operator started with --max-pod-security-level=restricted" \
      "$WORK/operator-restricted.log" --namespace "$NS_RESTRICTED" --max-pod-security-level=restricted; then
  nonroot_ready() {
    [ "$(k get ess nonroot -n "$NS_RESTRICTED" -o jsonpath='{.status.readyShards}/{.status.shardCount}')" = 1/1 ]
  }
  sample_refused() {
    [ "$(k get ess myapp -n "$NS" -o jsonpath='{.status.shards[0].reason}')" = PodSecurityViolation ]
  }
  check "the operator accepts it and restricted admission runs its pod" wait_until "$TIMEOUT" nonroot_ready
  check "the sample set, root by default, is refused under restricted" wait_until 60 sample_refused
  stop_operator
fi

# --- roles for people -------------------------------------------------------------
check "alice holds edit in $NS" k create rolebinding alice-edit -n "$NS" --clusterrole=edit --user=alice
check "bob holds view in $NS" k create rolebinding bob-view -n "$NS" --clusterrole=view --user=bob
can_i() {  # EXPECTED USER VERB RESOURCE [can-i flags...]
  local expected="$1" user="$2" answer; shift 2
  answer="$(k auth can-i "$@" -n "$NS" --as="$user" 2>/dev/null)"
  [ "$answer" = "$expected" ] || { echo "can-i $* as $user: $answer, want $expected"; return 1; }
}
# Aggregation is the controller-manager's work: wait until edit has the rule.
check "edit aggregates electricshardset-editor" wait_until 60 can_i yes alice create electricshardsets.electric-operator.dev
for verb in get list watch patch update delete; do
  check "alice (edit) can $verb sets" can_i yes alice "$verb" electricshardsets.electric-operator.dev
done
check "alice (edit) cannot write a set's status" can_i no alice patch electricshardsets.electric-operator.dev --subresource=status
check "view aggregates electricshardset-viewer" wait_until 60 can_i yes bob get electricshardsets.electric-operator.dev
for verb in list watch; do
  check "bob (view) can $verb sets" can_i yes bob "$verb" electricshardsets.electric-operator.dev
done
for verb in create patch update delete; do
  check "bob (view) cannot $verb sets" can_i no bob "$verb" electricshardsets.electric-operator.dev
done
check "nobody else gets anything" can_i no carol get electricshardsets.electric-operator.dev

finish
