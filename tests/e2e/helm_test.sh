#!/usr/bin/env bash
# Static checks of the Helm chart (no cluster needed):
# - the chart's crds/ is an identical copy of crds/ (helm/sync-crd.sh --check);
# - `helm lint` and `helm template` pass with the default values and with
#   values-namespaced.yaml, and render the expected objects in each mode;
# - values.schema.json rejects a wrong type, an unknown key (top level and
#   nested), a bad enum and an out-of-range port;
# - no rendered key is empty ({} / [] / null), which GitOps tools would diff;
# - the chart's RBAC rules equal the kustomize ClusterRole and overlay Role;
# - chart version, appVersion and the kustomize image tag equal the project
#   version in CMakeLists.txt.
set -u
. "$(dirname "$0")/lib.sh"

CHART="$REPO_ROOT/helm/electric-operator"
NAMESPACED_VALUES="$E2E_DIR/values-namespaced.yaml"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

HELM_BIN="$(find_helm)" || true
if [ -z "${HELM_BIN:-}" ]; then
  fail "helm not found (build/cluster/env, PATH or \$HELM)"
  finish
fi
echo "helm: $HELM_BIN ($("$HELM_BIN" version --short 2>/dev/null))"
helm() { "$HELM_BIN" "$@"; }
# `helm template` checks Chart.yaml's kubeVersion against a built-in default,
# which is v1.20 for a helm built with plain `go install` (no version ldflags);
# state the oldest version the chart supports instead.
KUBE_VERSION=v1.29.0

check "chart crds/ is identical to crds/" "$REPO_ROOT/helm/sync-crd.sh" --check

# --- lint and template --------------------------------------------------------
check "helm lint (default values)" helm lint --strict --kube-version "$KUBE_VERSION" "$CHART"
check "helm lint (namespaced values)" helm lint --strict --kube-version "$KUBE_VERSION" "$CHART" -f "$NAMESPACED_VALUES"
# render OUTPUT [helm template flags...]
render() { local out="$1"; shift; helm template electric-operator "$CHART" -n electric-operator-system --kube-version "$KUBE_VERSION" "$@" > "$out"; }
check "helm template (default values)" render "$WORK/default.yaml"
check "helm template (namespaced values)" render "$WORK/namespaced.yaml" -f "$NAMESPACED_VALUES"
check_fails "kubeVersion refuses Kubernetes 1.28" 'incompatible with Kubernetes v1\.28' \
  helm template electric-operator "$CHART" --kube-version v1.28.9

# kinds FILE: "Kind/namespace/name" of every rendered object, sorted.

expected_default="ClusterRole//electric-operator
ClusterRole//electricshardset-editor
ClusterRole//electricshardset-viewer
ClusterRoleBinding//electric-operator
Deployment/electric-operator-system/electric-operator
Lease/electric-operator-system/electric-operator-leader
Role/electric-operator-system/electric-operator-leader-election
RoleBinding/electric-operator-system/electric-operator-leader-election
Service/electric-operator-system/electric-operator-metrics
ServiceAccount/electric-operator-system/electric-operator"
check "default values render exactly the cluster-wide objects" \
  diff <(echo "$expected_default") <(kinds "$WORK/default.yaml")

expected_namespaced="ClusterRole//electricshardset-editor
ClusterRole//electricshardset-viewer
Deployment/electric-operator-system/electric-operator
Lease/electric-operator-system/electric-operator-leader
Role/electric-demo-extra/electric-operator
Role/electric-demo/electric-operator
Role/electric-operator-system/electric-operator-leader-election
RoleBinding/electric-demo-extra/electric-operator
RoleBinding/electric-demo/electric-operator
RoleBinding/electric-operator-system/electric-operator-leader-election
Service/electric-operator-system/electric-operator-metrics
ServiceAccount/electric-operator-system/electric-operator
ServiceMonitor/electric-operator-system/electric-operator"
check "namespaced values render Roles per watched namespace and no ClusterRole for the operator" \
  diff <(echo "$expected_namespaced") <(kinds "$WORK/namespaced.yaml")


# namespace_flags_are FILE FLAG...: the Deployment's --namespace flags are
# exactly FLAG... (none when no FLAG); the Deployment must render args at all.
namespace_flags_are() {
  local args
  args="$(deployment_args "$1")" && [ -n "$args" ] || { echo "no Deployment args rendered in $1"; return 1; }
  # grep's 1 is "no such flag", an answer; 2 is an error.
  diff <(printf '%s\n' "${@:2}" | grep -v '^$') <(grep -- '^--namespace=' <<<"$args" || [ $? -eq 1 ])
}
check "namespaced values pass one --namespace flag per watched namespace" \
  namespace_flags_are "$WORK/namespaced.yaml" --namespace=electric-demo --namespace=electric-demo-extra
check "default values pass no --namespace flag" namespace_flags_are "$WORK/default.yaml"

lease_id_matches_role() {
  deployment_args "$1" | grep -qx -- '--leader-election-id=electric-operator-leader' &&
  [ "$(yq -r 'select(.kind == "Role" and .metadata.name == "electric-operator-leader-election") | .rules[1].resourceNames[0]' "$1")" = electric-operator-leader ]
}
check "electricshardset-editor/-viewer aggregate into admin, edit and view" user_roles_aggregate "$WORK/default.yaml"
check "the namespaced rendering ships them too" user_roles_aggregate "$WORK/namespaced.yaml"
user_roles_off() {
  ! render /dev/stdout --set userRoles.enabled=false | grep -q 'electricshardset-'
}
check "userRoles.enabled=false renders neither" user_roles_off
check "leader election on by default, Lease id matches the Role's resourceName" lease_id_matches_role "$WORK/default.yaml"

leader_election_off() {
  local out
  out="$(render /dev/stdout --set leaderElection.enabled=false)" &&
  ! grep -q -- '--leader-elect' <<<"$out" && ! grep -q 'leader-election' <<<"$out"
}
check "leaderElection.enabled=false drops the flag and the Lease Role" leader_election_off

metrics_port_is() {
  deployment_args "$1" | grep -qx -- "--metrics-bind-address=:$2" &&
  [ "$(yq -r 'select(.kind == "Service") | .spec.ports[0].port' "$1")" = "$2" ] &&
  [ "$(yq -r 'select(.kind == "Deployment") | .spec.template.spec.containers[0].ports[] | select(.name == "metrics") | .containerPort' "$1")" = "$2" ]
}
check "metrics port value reaches the flag, container port and Service" metrics_port_is "$WORK/namespaced.yaml" 9090
pod_security_level_is() {  # FILE LEVEL
  deployment_args "$1" | grep -qx -- "--max-pod-security-level=$2"
}
check "Electric pods are held to Pod Security baseline by default" pod_security_level_is "$WORK/default.yaml" baseline
check "maxPodSecurityLevel reaches the flag" \
  pod_security_level_is <(render /dev/stdout --set maxPodSecurityLevel=restricted) restricted
check "image defaults to electric-operator:<appVersion>" \
  test "$(deployment_image "$WORK/default.yaml")" = electric-operator:0.1.0

check "the chart Deployment is restricted-PSS compliant, probed and bounded" deployment_is_restricted "$WORK/default.yaml"

check_flags_known "every flag of the default rendering is one the operator knows" "$WORK/default.yaml"
check_flags_known "every flag of the namespaced rendering is one the operator knows" "$WORK/namespaced.yaml"

# --- schema -------------------------------------------------------------------
lint_must_fail() {
  local description="$1"; shift
  local output
  if output="$(helm lint "$CHART" "$@" 2>&1)"; then
    fail "$description: helm lint accepted $*"
  elif grep -qi 'schema' <<<"$output"; then
    pass "$description"
  else
    fail "$description: helm lint failed, but not on the schema"
    printf '%s\n' "$output" | sed 's/^/       /' | tail -n 10
  fi
}
lint_must_fail "wrong type (replicaCount=abc) fails on the schema" --set replicaCount=abc
lint_must_fail "wrong type (leaderElection.enabled=\"yes\") fails on the schema" --set-string leaderElection.enabled=yes
lint_must_fail "unknown top-level key fails on the schema" --set replicas=2
lint_must_fail "unknown nested key fails on the schema" --set image.tagg=1.0
lint_must_fail "unknown serviceMonitor key fails on the schema" --set metrics.serviceMonitor.enable=true
lint_must_fail "bad logLevel fails on the schema" --set logLevel=verbose
lint_must_fail "bad maxPodSecurityLevel fails on the schema" --set maxPodSecurityLevel=Baseline
lint_must_fail "port out of range fails on the schema" --set metrics.port=70000
lint_must_fail "watchNamespaces not a list fails on the schema" --set watchNamespaces=electric-demo
lint_must_fail "bad namespace name fails on the schema" --set 'watchNamespaces[0]=Electric_Demo'

# --- no empty keys --------------------------------------------------------------
for mode in default namespaced; do
  check "no empty maps, lists or nulls in the $mode rendering" no_empty_values "$WORK/$mode.yaml"
  check "no empty-looking lines in the $mode rendering" no_empty_lines "$WORK/$mode.yaml"
done
printf 'kind: ConfigMap\nmetadata:\n  name: x\n  annotations:\ndata: {}\n' > "$WORK/empty.yaml"
check_fails "the empty-key checks catch an empty key (self-test)" '^ConfigMap/x: .*metadata\.annotations' no_empty_values "$WORK/empty.yaml"
check_fails "the empty-line check catches an empty map (self-test)" '^[0-9]+:data: \{\}$' no_empty_lines "$WORK/empty.yaml"

# --- the chart and the kustomize manifests grant the same -------------------------
if kubectl kustomize "$REPO_ROOT/manifests" > "$WORK/kustomize.yaml" 2>&1; then
  chart_rules="$(rules "$WORK/default.yaml" ClusterRole electric-operator)"
  check "chart ClusterRole rules == manifests ClusterRole rules" \
    diff <(echo "$chart_rules") <(rules "$WORK/kustomize.yaml" ClusterRole electric-operator)
  check "chart namespaced Role rules == chart ClusterRole rules" \
    diff <(echo "$chart_rules") <(rules "$WORK/namespaced.yaml" Role electric-operator)
  for role in electricshardset-editor electricshardset-viewer; do
    check "chart $role rules == manifests $role rules" \
      diff <(rules "$WORK/default.yaml" ClusterRole "$role") <(rules "$WORK/kustomize.yaml" ClusterRole "$role")
  done
  check "chart leader-election Role == manifests leader-election Role" \
    diff <(rules "$WORK/default.yaml" Role electric-operator-leader-election) \
         <(rules "$WORK/kustomize.yaml" Role electric-operator-leader-election)
else
  fail "kubectl kustomize manifests/: $(cat "$WORK/kustomize.yaml")"
fi

# --- one version ------------------------------------------------------------------
project_version="$(project_version)"
check "Chart version == project version ($project_version)" \
  grep -qx "version: $project_version" "$CHART/Chart.yaml"
check "Chart appVersion == project version" \
  grep -qx "appVersion: \"$project_version\"" "$CHART/Chart.yaml"

finish
