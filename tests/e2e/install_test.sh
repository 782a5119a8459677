#!/usr/bin/env bash
# Install paths against the real control plane (tests/cluster):
#
#   kustomize   `kubectl apply -k manifests/` (cluster-wide)
#   namespaced  `kubectl apply -k manifests/overlays/namespaced`
#   helm        `helm install` into another namespace, `helm upgrade` with
#               changed values (switching to namespaced RBAC), `helm uninstall`
#
# Usage: tests/e2e/install_test.sh [kustomize|namespaced|helm]...  (default: all)
#
# Each scenario installs the CRD with the one documented command, installs
# the operator, checks that everything was created, then runs the
# operator binary OUT of cluster as the installed ServiceAccount: a token from
# the TokenRequest API (`kubectl create token`) and the cluster CA, never the
# admin kubeconfig. The 3-shard sample (manifests/samples) must converge to
# Ready=True 3/3 with that identity and no "forbidden" in the operator's log,
# which proves the RBAC is sufficient; `kubectl auth can-i --as=<the SA>` then
# proves it is not excessive. Every scenario removes what it created.
#
# The in-cluster operator Deployment is left as installed: the test cluster
# has no image registry and kwok only simulates pods, so its pod is admitted
# (which checks it against the namespace's "restricted" Pod Security level)
# and marked Ready, but runs no code and never competes with the binary under
# test for the Lease.
#
# Needs: a running cluster (tests/cluster/cluster up), a built operator
# ($EO_OPERATOR_BIN, default build/bin/electric-operator), curl, jq, yq.
#
# Uninstalling never loses data: `kubectl delete -k` of every install leaves
# the watched namespace, the CRD and the sets alone (checked after each).
#
# Sharing the cluster: with EO_E2E_EXCLUSIVE=1 (the default when CI=true) the
# test owns the cluster: it deletes an unused CRD first so each install is what
# creates it, deletes it again on the way out, and runs the cluster-wide
# operator over every namespace. Otherwise (a developer's cluster that other
# tests use at the same time) it never deletes the CRD and the operator only
# reconciles the sample namespace, so it cannot disturb anyone's sets.
set -u
. "$(dirname "$0")/lib.sh"

SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -eq 0 ] && SCENARIOS=(kustomize namespaced helm)

use_running_cluster
BINARY="${EO_OPERATOR_BIN:-$REPO_ROOT/build/bin/electric-operator}"
TIMEOUT="${EO_E2E_TIMEOUT:-180}"
CRD=electricshardsets.electric-operator.dev
SAMPLE_NS=electric-demo
HELM_NS=eo-helm-system
WORK="$(mktemp -d)"
OPERATOR_PID=""
CRD_EXISTED_AT_START=false
k get crd "$CRD" >/dev/null 2>&1 && CRD_EXISTED_AT_START=true
EXCLUSIVE=false
case "${EO_E2E_EXCLUSIVE:-${CI:-}}" in 1|true|yes) EXCLUSIVE=true ;; esac
# Flags that keep a cluster-wide operator to the sample namespace when the
# cluster is shared.
SHARED_SCOPE=()
$EXCLUSIVE || SHARED_SCOPE=(--namespace "$SAMPLE_NS")

if [ ! -x "$BINARY" ]; then
  fail "no operator binary at $BINARY (build it, or set EO_OPERATOR_BIN)"
  finish
fi

# --- helpers -------------------------------------------------------------------

# sa_kubeconfig NAMESPACE SERVICEACCOUNT FILE: a kubeconfig holding only a
# TokenRequest token of the ServiceAccount and the cluster's CA, made the way
# docs/install.md ("Running the operator outside the cluster") tells users to.
sa_kubeconfig() {
  local token
  token="$(k create token "$2" -n "$1" --duration=1h)" || return 1
  (umask 077
   k config view --minify --raw -o json | jq --arg t "$token" '.users[0].user = {token: $t}' > "$3") || return 1
  # Nothing of the admin identity may remain in it.
  [ "$(jq -c '.users[0].user | keys' "$3")" = '["token"]' ]
}

# Other operator processes that would reconcile the sample namespace (e.g. a
# `make demo` operator left running with the admin kubeconfig): if one runs,
# a converged sample would prove nothing about the ServiceAccount's RBAC.
conflicting_operators() {
  pgrep -a -f 'electric-operator run' 2>/dev/null | while read -r pid cmdline; do
    [ "$pid" = "${OPERATOR_PID:-}" ] && continue
    case "$cmdline" in
      *pgrep*) continue ;;
      *"--namespace $SAMPLE_NS"*|*"--namespace=$SAMPLE_NS"*) echo "$pid $cmdline" ;;
      *--namespace*) ;;
      *) echo "$pid $cmdline" ;;
    esac
  done
}

# start_operator KUBECONFIG LEADER_NAMESPACE LOG [run flags...]: starts the
# binary in the background and waits for /readyz. The sample's database URLs
# are placeholders, so its database checks are off (what they report is
# tested against real servers in tests/integration/database_checks_test.cpp).
start_operator() {
  local kubeconfig="$1" leader_ns="$2" log="$3"; shift 3
  local metrics_port health_port others
  others="$(conflicting_operators)"
  if [ -n "$others" ]; then
    echo "another operator reconciles $SAMPLE_NS; stop it first (pid, command):"
    echo "$others"
    return 1
  fi
  metrics_port="$(free_port)" && health_port="$(free_port)" || return 1
  "$BINARY" run --kubeconfig "$kubeconfig" \
    --leader-elect --leader-election-namespace "$leader_ns" \
    --metrics-bind-address "127.0.0.1:$metrics_port" \
    --health-probe-bind-address "127.0.0.1:$health_port" \
    --log-format text --log-level debug --database-check-interval 0 "$@" > "$log" 2>&1 &
  OPERATOR_PID=$!
  OPERATOR_HEALTH="http://127.0.0.1:$health_port"
  OPERATOR_METRICS="http://127.0.0.1:$metrics_port"
  await_readyz "$OPERATOR_PID" "$OPERATOR_HEALTH" "$log" || { stop_operator; return 1; }
}

# run_briefly SECONDS LOG ARGS...: runs the binary for a few seconds, then
# stops it (for runs that are expected never to become ready).
run_briefly() {
  local seconds="$1" log="$2"; shift 2
  "$BINARY" "$@" > "$log" 2>&1 &
  OPERATOR_PID=$!
  sleep "$seconds"
  stop_operator
}

stop_operator() {
  [ -z "$OPERATOR_PID" ] && return 0
  kill -TERM "$OPERATOR_PID" 2>/dev/null
  local deadline=$((SECONDS + 40))   # --shutdown-grace-period 30s + margin
  while kill -0 "$OPERATOR_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 1; done
  kill -KILL "$OPERATOR_PID" 2>/dev/null
  wait "$OPERATOR_PID" 2>/dev/null
  OPERATOR_PID=""
}

sample_status() {
  k get ess myapp -n "$SAMPLE_NS" \
    -o jsonpath='{.status.readyShards}/{.status.shardCount} {.status.conditions[?(@.type=="Ready")].status}'
}
sample_converged() { [ "$(sample_status 2>/dev/null)" = "3/3 True" ]; }
# `kubectl get ess` shows the contract's four columns; -o wide adds Degraded,
# Paused and the Ready condition's reason (issue 16, item 7).
ess_header() { k get ess myapp -n "$SAMPLE_NS" "$@" | head -n 1 | tr -s ' '; }
ess_wide_extra() { k get ess myapp -n "$SAMPLE_NS" -o wide --no-headers | awk '{print $6, $7, $8}'; }

# The sample's children, as the operator creates them (api.md).
children_complete() {
  [ "$(k get deployments,services,persistentvolumeclaims -n "$SAMPLE_NS" -l electric-operator.dev/shard-set=myapp -o name | wc -l)" -eq 9 ] &&
  [ "$(k get configmap myapp-routing -n "$SAMPLE_NS" -o jsonpath='{.data.shards\.json}' | jq '.shards | length')" -eq 3 ]
}
children_untracked() {
  # GitOps tools track and prune by app.kubernetes.io/instance; children never carry it.
  [ "$(k get deployments,services,persistentvolumeclaims,secrets,configmaps -n "$SAMPLE_NS" \
        -l electric-operator.dev/shard-set=myapp -o json |
       jq '[.items[] | select(.metadata.labels["app.kubernetes.io/instance"] != null)] | length')" -eq 0 ]
}
# The operator logs a refused call as "403 Forbidden: ..." (see the control
# in scenario_namespaced, which checks that this grep does see refusals).
log_has_no_forbidden() { ! grep -iE -m 5 'forbidden|\b403\b' "$1"; }
log_has_forbidden() { grep -qiE 'forbidden|\b403\b' "$1"; }
absent() { ! k get "$@" >/dev/null 2>&1; }

# can SA_NAMESPACE EXPECTED(yes|no) can-i ARGS...
can() {
  local sa_ns="$1" expected="$2"; shift 2
  local answer
  answer="$(k auth can-i "$@" --as="system:serviceaccount:$sa_ns:electric-operator" 2>/dev/null)"
  [ "$answer" = "$expected" ] || { echo "can-i $*: $answer, want $expected"; return 1; }
}
check_can() {
  local sa_ns="$1" expected="$2" word=can; shift 2
  [ "$expected" = no ] && word=cannot
  check "$sa_ns/electric-operator $word $*" can "$sa_ns" "$expected" "$@"
}

# Verbs the operator must never hold, whatever the install mode.
check_never_allowed() {
  local sa_ns="$1"
  check_can "$sa_ns" no delete electricshardsets.electric-operator.dev -n "$SAMPLE_NS"
  check_can "$sa_ns" no delete electricshardsets.electric-operator.dev --all-namespaces
  check_can "$sa_ns" no create electricshardsets.electric-operator.dev -n "$SAMPLE_NS"
  # patch is granted, for its finalizer only (electric-operator.dev/replication-slots);
  # update, which could replace a whole set, is not.
  check_can "$sa_ns" no update electricshardsets.electric-operator.dev -n "$SAMPLE_NS"
  check_can "$sa_ns" no create pods --subresource=exec -n "$SAMPLE_NS"
  check_can "$sa_ns" no get pods -n "$SAMPLE_NS"
  check_can "$sa_ns" no list nodes
  check_can "$sa_ns" no get namespaces
  check_can "$sa_ns" no create leases.coordination.k8s.io -n default
  check_can "$sa_ns" no update leases.coordination.k8s.io/someone-elses-lease -n "$sa_ns"
  check_can "$sa_ns" no create clusterrolebindings.rbac.authorization.k8s.io
}
# Verbs it needs in a namespace it watches.
check_needed_in() {
  local sa_ns="$1" ns="$2"
  check_can "$sa_ns" yes watch electricshardsets.electric-operator.dev -n "$ns"
  check_can "$sa_ns" yes patch electricshardsets.electric-operator.dev --subresource=status -n "$ns"
  check_can "$sa_ns" yes patch electricshardsets.electric-operator.dev -n "$ns"
  check_can "$sa_ns" yes get secrets -n "$ns"
  check_can "$sa_ns" yes create deployments.apps -n "$ns"
  check_can "$sa_ns" yes delete persistentvolumeclaims -n "$ns"
  check_can "$sa_ns" yes watch networkpolicies.networking.k8s.io -n "$ns"
  check_can "$sa_ns" yes delete networkpolicies.networking.k8s.io -n "$ns"
  check_can "$sa_ns" yes patch events -n "$ns"
  check_can "$sa_ns" yes create leases.coordination.k8s.io -n "$sa_ns"
  check_can "$sa_ns" yes update leases.coordination.k8s.io/electric-operator-leader -n "$sa_ns"
}

apply_sample() { check "kubectl apply -k manifests/samples" k apply -k "$REPO_ROOT/manifests/samples"; }

# The one CRD install and upgrade command of docs/install.md, for every path.
install_crd() { k apply --server-side --force-conflicts -f "$1"; }
check_install_crd() {
  check "kubectl apply --server-side --force-conflicts -f crds/" install_crd "$REPO_ROOT/crds/"
  check "CRD established" k wait --for=condition=Established "crd/$CRD" --timeout=60s
}

# expect_converged LOG: the sample set reaches Ready=True 3/3 with the
# operator whose log is LOG, and never meets a 403.
expect_converged() {
  local log="$1"
  if wait_until "$TIMEOUT" sample_converged; then
    pass "sample set converged: $(sample_status)"
  else
    fail "sample set did not converge in ${TIMEOUT}s: '$(sample_status 2>&1)'"
    k get ess myapp -n "$SAMPLE_NS" -o jsonpath='{.status.conditions}' 2>&1 | head -c 2000; echo
    tail -n 20 "$log" | sed 's/^/       /'
  fi
  check "children created: 3 Deployments, 3 Services, 3 PVCs, routing ConfigMap with 3 shards" children_complete
  check "kubectl get ess: NAME SHARDS READY STATUS AGE" test "$(ess_header)" = "NAME SHARDS READY STATUS AGE"
  check "kubectl get ess -o wide adds DEGRADED PAUSED REASON" \
    test "$(ess_header -o wide)" = "NAME SHARDS READY STATUS AGE DEGRADED PAUSED REASON"
  check "kubectl get ess -o wide: False False AllShardsReady" test "$(ess_wide_extra)" = "False False AllShardsReady"
  check "no child carries app.kubernetes.io/instance" children_untracked
  check "the operator was never forbidden anything" log_has_no_forbidden "$log"
}

delete_sample() {
  k delete -k "$REPO_ROOT/manifests/samples" --ignore-not-found --wait --timeout="${TIMEOUT}s" >/dev/null 2>&1
  wait_until "$TIMEOUT" absent namespace "$SAMPLE_NS"
}

delete_crd_if_idle() {
  k get crd "$CRD" >/dev/null 2>&1 || return 0
  $EXCLUSIVE || return 1
  if [ "$(k get ess --all-namespaces -o name 2>/dev/null | wc -l)" -gt 0 ]; then return 1; fi
  k delete crd "$CRD" --wait --timeout="${TIMEOUT}s" >/dev/null
}

# delete_install KUSTOMIZATION: `kubectl delete -k`, as a user uninstalls.
delete_install() { k delete -k "$1" --ignore-not-found --wait --timeout="${TIMEOUT}s"; }

# What a user's namespace must still hold after an uninstall: the namespace
# (not terminating), the set, and its running children.
sample_survives() {
  [ "$(k get namespace "$SAMPLE_NS" -o jsonpath='{.status.phase}')" = Active ] &&
  k get crd "$CRD" >/dev/null &&
  k get ess myapp -n "$SAMPLE_NS" >/dev/null &&
  [ "$(k get deployments -n "$SAMPLE_NS" -l electric-operator.dev/shard-set=myapp -o name | wc -l)" -eq 3 ]
}
# kubectl's own account of what `delete -k` would delete names no namespace
# but the operator's own, and no CRD.
delete_spares_user_data() {
  local plan
  plan="$(k delete -k "$1" --dry-run=client 2>&1)" || { echo "$plan"; return 1; }
  echo "$plan"
  ! grep -E '^(namespace|customresourcedefinition)' <<<"$plan" | grep -v '^namespace "electric-operator-system"'
}
# check_uninstall_keeps_user_data KUSTOMIZATION: the blocker of a namespaced
# overlay that owned (and so deleted) the watched namespace, as a test.
check_uninstall_keeps_user_data() {
  check "kubectl delete -k ${1#"$REPO_ROOT"/} --dry-run=client names no user namespace and no CRD" \
    delete_spares_user_data "$1"
  check "kubectl delete -k ${1#"$REPO_ROOT"/} removes the install" delete_install "$1"
  check "after the uninstall, $SAMPLE_NS, the CRD, the set and its Deployments are all still there" sample_survives
}

cleanup() {
  stop_operator
  delete_sample
  "$HELM_BIN" uninstall electric-operator -n "$HELM_NS" >/dev/null 2>&1
  k delete namespace "$HELM_NS" electric-demo-extra --ignore-not-found --wait=false >/dev/null 2>&1
  delete_install "$REPO_ROOT/manifests/overlays/namespaced" >/dev/null 2>&1
  delete_install "$REPO_ROOT/manifests" >/dev/null 2>&1
  if $CRD_EXISTED_AT_START && ! k get crd "$CRD" >/dev/null 2>&1; then
    k apply --server-side -f "$REPO_ROOT/crds/electric-operator.dev_electricshardsets.yaml" >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A scenario starts from no CRD (when no sets use it), so the install is what
# creates it.
fresh_start() {
  delete_sample
  if ! delete_crd_if_idle; then
    echo "note: the CRD is in use (or the cluster is shared); it is left in place"
  fi
}

installed_objects_exist() {
  local path="$1"
  local missing
  missing="$(k get -k "$path" -o name 2>&1 | grep -i 'not found' || true)"
  [ -z "$missing" ] || { echo "$missing"; return 1; }
}

# --- scenario: kubectl apply -k manifests/ (cluster-wide) ------------------------------

scenario_kustomize() {
  echo "# kubectl apply -k manifests/ (cluster-wide)"
  fresh_start
  local ns=electric-operator-system
  check_install_crd
  check "kubectl apply -k manifests/" k apply -k "$REPO_ROOT/manifests"
  check "kubectl apply -k manifests/ again is quiet (no warning about the CRD or anything else)" \
    test -z "$(k apply -k "$REPO_ROOT/manifests" 2>&1 >/dev/null)"
  check "every object of manifests/ exists" installed_objects_exist "$REPO_ROOT/manifests"
  check "operator Deployment admitted under restricted PSS and rolled out (kwok pod)" \
    k -n "$ns" rollout status deployment/electric-operator --timeout="${TIMEOUT}s"

  apply_sample
  if sa_kubeconfig "$ns" electric-operator "$WORK/sa-kustomize.kubeconfig" &&
     start_operator "$WORK/sa-kustomize.kubeconfig" "$ns" "$WORK/operator-kustomize.log" "${SHARED_SCOPE[@]}"; then
    pass "operator runs out of cluster with the ServiceAccount's token ${SHARED_SCOPE[*]:-(all namespaces)}"
    expect_converged "$WORK/operator-kustomize.log"
    check "the operator holds the Lease in $ns" \
      test "$(k get lease electric-operator-leader -n "$ns" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)" != ""
  else
    fail "operator did not start with the ServiceAccount's token"
  fi
  stop_operator

  check_never_allowed "$ns"
  check_needed_in "$ns" "$SAMPLE_NS"
  check_can "$ns" yes list electricshardsets.electric-operator.dev --all-namespaces

  switch_to_namespaced
  check_uninstall_keeps_user_data "$REPO_ROOT/manifests/overlays/namespaced"
  check "the namespaced uninstall leaves no cluster-wide RBAC behind" \
    absent clusterrole,clusterrolebinding electric-operator
  delete_sample
}

# The documented switch (docs/install.md) from the cluster-wide install to
# the namespaced overlay: apply the overlay, then delete the cluster-wide RBAC
# that kustomize does not remove by itself. The sample keeps converging under
# the new, narrower identity.
switch_to_namespaced() {
  local ns=electric-operator-system overlay="$REPO_ROOT/manifests/overlays/namespaced"
  check "switch: kubectl apply -k manifests/overlays/namespaced" k apply -k "$overlay"
  check "switch: kubectl delete clusterrolebinding,clusterrole electric-operator" \
    k delete clusterrolebinding,clusterrole electric-operator --wait
  check "switch: no ClusterRole or ClusterRoleBinding left" absent clusterrole,clusterrolebinding electric-operator
  check_can "$ns" no list secrets --all-namespaces
  check_can "$ns" yes get secrets -n "$SAMPLE_NS"
  if sa_kubeconfig "$ns" electric-operator "$WORK/sa-switched.kubeconfig" &&
     start_operator "$WORK/sa-switched.kubeconfig" "$ns" "$WORK/operator-switched.log" --namespace "$SAMPLE_NS"; then
    check "switch: a deleted shard Deployment is restored under the namespaced RBAC" restore_shard_0
    check "switch: the namespaced operator was never forbidden anything" log_has_no_forbidden "$WORK/operator-switched.log"
  else
    fail "operator did not start after the switch to namespaced RBAC"
  fi
  stop_operator
}

# --- scenario: kubectl apply -k manifests/overlays/namespaced ------------------------------

scenario_namespaced() {
  echo "# kubectl apply -k manifests/overlays/namespaced"
  fresh_start
  local ns=electric-operator-system overlay="$REPO_ROOT/manifests/overlays/namespaced"
  check_install_crd
  # The overlay never creates the watched namespace: it is the user's.
  apply_sample
  check "kubectl apply -k manifests/overlays/namespaced" k apply -k "$overlay"
  check "every object of the overlay exists" installed_objects_exist "$overlay"
  check "no ClusterRole or ClusterRoleBinding for the operator" \
    absent clusterrole,clusterrolebinding electric-operator
  check "operator Deployment rolled out (kwok pod)" \
    k -n "$ns" rollout status deployment/electric-operator --timeout="${TIMEOUT}s"

  if sa_kubeconfig "$ns" electric-operator "$WORK/sa-namespaced.kubeconfig" &&
     start_operator "$WORK/sa-namespaced.kubeconfig" "$ns" "$WORK/operator-namespaced.log" --namespace "$SAMPLE_NS"; then
    pass "operator runs out of cluster with the ServiceAccount's token, watching $SAMPLE_NS"
    expect_converged "$WORK/operator-namespaced.log"
  else
    fail "operator did not start with the ServiceAccount's token"
  fi
  stop_operator

  # Control: the same token, pointed at a namespace the overlay does not
  # grant, is refused, and the log check above would have seen it.
  run_briefly 5 "$WORK/operator-unwatched.log" run --kubeconfig "$WORK/sa-namespaced.kubeconfig" \
    --namespace default --metrics-bind-address 0 --health-probe-bind-address 0 --log-format text
  check "control: watching an ungranted namespace is refused (403 in the log)" \
    log_has_forbidden "$WORK/operator-unwatched.log"

  check_never_allowed "$ns"
  check_needed_in "$ns" "$SAMPLE_NS"
  check_can "$ns" no get secrets -n default
  check_can "$ns" no get secrets -n "$ns"
  check_can "$ns" no list secrets --all-namespaces
  check_can "$ns" no list electricshardsets.electric-operator.dev --all-namespaces
  check_can "$ns" no create deployments.apps -n default

  check_uninstall_keeps_user_data "$overlay"
  delete_sample
}

# --- scenario: helm install / upgrade / uninstall --------------------------------------------

helm_release_kinds() { "$HELM_BIN" get manifest electric-operator -n "$HELM_NS" | yq -r 'select(. != null) | .kind' | sort | tr '\n' ' '; }
shard_0_uid() { local uid; uid="$(k get deployment myapp-shard-0 -n "$SAMPLE_NS" -o jsonpath='{.metadata.uid}')" && [ -n "$uid" ] && echo "$uid"; }
shard_0_available() { [ "$(k get deployment myapp-shard-0 -n "$SAMPLE_NS" -o jsonpath='{.status.availableReplicas}')" = 1 ]; }
# restore_shard_0: deletes shard 0's Deployment (which must succeed) and
# waits for a NEW one (another uid) to become available and the set Ready.
restore_shard_0() {
  local old_uid new_uid
  old_uid="$(shard_0_uid)" || { echo "no Deployment myapp-shard-0 to delete"; return 1; }
  k delete deployment myapp-shard-0 -n "$SAMPLE_NS" --wait=true || return 1
  wait_until "$TIMEOUT" shard_0_uid || { echo "not recreated in ${TIMEOUT}s"; return 1; }
  new_uid="$(shard_0_uid)"
  [ "$new_uid" != "$old_uid" ] || { echo "the Deployment was never deleted (uid $old_uid)"; return 1; }
  wait_until "$TIMEOUT" shard_0_available || { echo "the new Deployment never became available"; return 1; }
  wait_until "$TIMEOUT" sample_converged || { echo "the set did not converge: $(sample_status)"; return 1; }
}
deployment_arg_present() { k get deployment electric-operator -n "$HELM_NS" -o jsonpath='{.spec.template.spec.containers[0].args}' | jq -e --arg a "$1" 'index($a) != null'; }

# A chart's CRD changed since `helm install` created it: the documented
# upgrade command takes the fields over from Helm's field manager, where a
# plain server-side apply conflicts with it. Ends with the chart's CRD again.
crd_description() { k get crd "$CRD" -o jsonpath='{.spec.versions[0].schema.openAPIV3Schema.description}'; }
check_crd_upgrade_under_helm() {
  local changed="$WORK/crds-changed"
  mkdir -p "$changed"
  yq -y '.spec.versions[0].schema.openAPIV3Schema.description = "changed by the CRD upgrade test"' \
    "$1/crds/electric-operator.dev_electricshardsets.yaml" > "$changed/crd.yaml"
  check_fails "control: a plain kubectl apply --server-side of a changed CRD conflicts with helm" \
    'conflict' k apply --server-side -f "$changed"
  check "kubectl apply --server-side --force-conflicts -f <chart>/crds/ upgrades a CRD helm installed" \
    install_crd "$changed"
  check "the upgraded CRD is served" test "$(crd_description)" = "changed by the CRD upgrade test"
  check "the same command restores the chart's CRD" install_crd "$1/crds/"
  check "the chart's CRD is served again" test "$(crd_description)" != "changed by the CRD upgrade test"
}

scenario_helm() {
  echo "# helm install / upgrade / uninstall (release namespace $HELM_NS)"
  if [ -z "${HELM_BIN:-}" ]; then fail "helm not found"; return; fi
  fresh_start
  local chart="$REPO_ROOT/helm/electric-operator" crd_created=false
  k get crd "$CRD" >/dev/null 2>&1 || crd_created=true

  check "helm install (namespace $HELM_NS)" \
    "$HELM_BIN" install electric-operator "$chart" -n "$HELM_NS" --create-namespace --wait --timeout "${TIMEOUT}s"
  if $crd_created; then
    check "helm install created the CRD from crds/" k wait --for=condition=Established "crd/$CRD" --timeout=60s
  else
    skip "CRD existed before helm install (sets use it elsewhere)"
  fi
  check "release holds SA, ClusterRole+Binding, the editor/viewer ClusterRoles, leader Role+Binding and Lease, Service, Deployment" \
    test "$(helm_release_kinds)" = "ClusterRole ClusterRole ClusterRole ClusterRoleBinding Deployment Lease Role RoleBinding Service ServiceAccount "
  $crd_created && check_crd_upgrade_under_helm "$chart"

  apply_sample
  if sa_kubeconfig "$HELM_NS" electric-operator "$WORK/sa-helm.kubeconfig" &&
     start_operator "$WORK/sa-helm.kubeconfig" "$HELM_NS" "$WORK/operator-helm.log" \
       --leader-election-id electric-operator-leader "${SHARED_SCOPE[@]}"; then
    pass "operator runs out of cluster with the release's ServiceAccount token ${SHARED_SCOPE[*]:-(all namespaces)}"
    expect_converged "$WORK/operator-helm.log"
  else
    fail "operator did not start with the release's ServiceAccount token"
  fi
  stop_operator
  check_never_allowed "$HELM_NS"
  check_needed_in "$HELM_NS" "$SAMPLE_NS"
  check_can "$HELM_NS" no create leases.coordination.k8s.io -n electric-operator-system

  # Upgrade: other values, and namespaced RBAC watching only the sample namespace.
  check "helm upgrade with changed values (watchNamespaces, logLevel, concurrency, extraLabels)" \
    "$HELM_BIN" upgrade electric-operator "$chart" -n "$HELM_NS" --wait --timeout "${TIMEOUT}s" \
      --set "watchNamespaces={$SAMPLE_NS}" --set logLevel=debug --set concurrency=2 --set extraLabels.team=e2e
  check "release is at revision 2" \
    test "$("$HELM_BIN" status electric-operator -n "$HELM_NS" -o json | jq -r '.version')" = 2
  check "upgrade removed the ClusterRole" absent clusterrole electric-operator
  check "upgrade removed the ClusterRoleBinding" absent clusterrolebinding electric-operator
  check "upgrade created the Role and RoleBinding in $SAMPLE_NS" \
    k get role,rolebinding electric-operator -n "$SAMPLE_NS"
  check "Deployment args carry --namespace=$SAMPLE_NS" deployment_arg_present "--namespace=$SAMPLE_NS"
  check "Deployment args carry --log-level=debug" deployment_arg_present --log-level=debug
  check "Deployment args carry --concurrency=2" deployment_arg_present --concurrency=2
  check "extraLabels reach the Deployment" \
    test "$(k get deployment electric-operator -n "$HELM_NS" -o jsonpath='{.metadata.labels.team}')" = e2e
  check_can "$HELM_NS" no get secrets -n default
  check_can "$HELM_NS" no list secrets --all-namespaces
  check_can "$HELM_NS" yes get secrets -n "$SAMPLE_NS"
  check "helm upgrade --reuse-values --set-json 'watchNamespaces=[]' returns to cluster-wide RBAC" \
    "$HELM_BIN" upgrade electric-operator "$chart" -n "$HELM_NS" --wait --timeout "${TIMEOUT}s" \
      --reuse-values --set-json 'watchNamespaces=[]'
  check "the ClusterRole is back" k get clusterrole electric-operator
  check "the Role in $SAMPLE_NS is gone" absent role electric-operator -n "$SAMPLE_NS"
  check_can "$HELM_NS" yes list secrets --all-namespaces
  check "helm upgrade back to namespaced RBAC" \
    "$HELM_BIN" upgrade electric-operator "$chart" -n "$HELM_NS" --wait --timeout "${TIMEOUT}s" \
      --reuse-values --set "watchNamespaces={$SAMPLE_NS}"

  # The namespaced RBAC still runs the set: a deleted child is restored.
  if start_operator "$WORK/sa-helm.kubeconfig" "$HELM_NS" "$WORK/operator-helm-upgraded.log" \
       --leader-election-id electric-operator-leader --namespace "$SAMPLE_NS"; then
    check "after the upgrade a deleted shard Deployment is restored and the set converges" restore_shard_0
    check "the upgraded operator was never forbidden anything" log_has_no_forbidden "$WORK/operator-helm-upgraded.log"
  else
    fail "operator did not start after the upgrade"
  fi
  stop_operator

  check "helm uninstall" "$HELM_BIN" uninstall electric-operator -n "$HELM_NS" --wait --timeout "${TIMEOUT}s"
  check "uninstall keeps $SAMPLE_NS, the CRD, the set and its Deployments" sample_survives
  check "uninstall removed the operator's ServiceAccount" absent serviceaccount electric-operator -n "$HELM_NS"
  check "uninstall removed the leader-election Lease" absent lease electric-operator-leader -n "$HELM_NS"

  delete_sample
  k delete namespace "$HELM_NS" --wait --timeout="${TIMEOUT}s" >/dev/null 2>&1
  $crd_created && k delete crd "$CRD" --wait --timeout="${TIMEOUT}s" >/dev/null 2>&1
}

# --- main ----------------------------------------------------------------------------------

HELM_BIN="$(find_helm)" || HELM_BIN=""
for scenario in "${SCENARIOS[@]}"; do
  case "$scenario" in
    kustomize) scenario_kustomize ;;
    namespaced) scenario_namespaced ;;
    helm) scenario_helm ;;
    *) fail "unknown scenario $scenario (kustomize, namespaced, helm)" ;;
  esac
done
finish
