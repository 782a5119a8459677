#!/usr/bin/env bash
# Static checks of the kustomize install (no cluster needed): manifests/, the
# namespaced overlay and the samples render with `kubectl kustomize`, hold the
# expected objects, grant the same rules in the ClusterRole and the overlay's
# Role, run a restricted, probed, bounded Deployment, and carry the project
# version.
set -u
. "$(dirname "$0")/lib.sh"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
KUBECTL="${EO_KUBECTL:-kubectl}"

build() { "$KUBECTL" kustomize "$REPO_ROOT/$1" > "$2"; }
check "kubectl kustomize manifests/ renders" build manifests "$WORK/base.yaml"
check "kubectl kustomize manifests/overlays/namespaced renders" build manifests/overlays/namespaced "$WORK/overlay.yaml"
check "kubectl kustomize manifests/samples renders" build manifests/samples "$WORK/samples.yaml"

# The CRD is installed apart (kubectl apply --server-side -f crds/), so that
# `kubectl delete -k` of an install never deletes every set with it; crds/
# must hold nothing but CRDs for that command to work.
check "crds/ holds only the CRD" \
  diff <(echo CustomResourceDefinition) <(yq -r '.kind' "$REPO_ROOT"/crds/*)

expected_base="ClusterRole//electric-operator
ClusterRole//electricshardset-editor
ClusterRole//electricshardset-viewer
ClusterRoleBinding//electric-operator
Deployment/electric-operator-system/electric-operator
Lease/electric-operator-system/electric-operator-leader
Namespace//electric-operator-system
Role/electric-operator-system/electric-operator-leader-election
RoleBinding/electric-operator-system/electric-operator-leader-election
Service/electric-operator-system/electric-operator-metrics
ServiceAccount/electric-operator-system/electric-operator"
check "manifests/ holds exactly the cluster-wide install" diff <(echo "$expected_base") <(kinds "$WORK/base.yaml")

expected_overlay="ClusterRole//electricshardset-editor
ClusterRole//electricshardset-viewer
Deployment/electric-operator-system/electric-operator
Lease/electric-operator-system/electric-operator-leader
Namespace//electric-operator-system
Role/electric-demo/electric-operator
Role/electric-operator-system/electric-operator-leader-election
RoleBinding/electric-demo/electric-operator
RoleBinding/electric-operator-system/electric-operator-leader-election
Service/electric-operator-system/electric-operator-metrics
ServiceAccount/electric-operator-system/electric-operator"
check "the namespaced overlay swaps the operator's ClusterRole for a Role in electric-demo, and owns no watched namespace" \
  diff <(echo "$expected_overlay") <(kinds "$WORK/overlay.yaml")
check "the namespaced overlay passes --namespace=electric-demo" \
  diff <(echo --namespace=electric-demo) <(deployment_args "$WORK/overlay.yaml" | grep -- '^--namespace=')
check "manifests/ passes no --namespace flag" bash -c "! grep -q -- '^--namespace=' <<<'$(deployment_args "$WORK/base.yaml")'"
check "overlay Role rules == ClusterRole rules" \
  diff <(rules "$WORK/base.yaml" ClusterRole electric-operator) <(rules "$WORK/overlay.yaml" Role electric-operator)
check "every binding names the installed ServiceAccount, and only it" \
  diff <(echo "ServiceAccount electric-operator-system/electric-operator") \
       <(yq -r 'select(.kind | test("Binding$")) | .subjects[] | "\(.kind) \(.namespace)/\(.name)"' "$WORK/overlay.yaml" "$WORK/base.yaml" | sort -u)

least_privilege() {
  # The operator's roles (not the ones for people): no wildcard, no pods or
  # pods/exec, no nodes or namespaces, and sets are read, and patched only for
  # the operator's finalizer (no create, update or delete).
  local operator_roles='select((.kind == "ClusterRole" or .kind == "Role") and (.metadata.name | startswith("electricshardset-") | not))'
  local all
  all="$(yq -c "$operator_roles | .rules[]" "$1")"
  [ -n "$all" ] &&
  ! grep -q '"\*"' <<<"$all" &&
  ! grep -Eq '"(pods|pods/exec|nodes|namespaces)"' <<<"$all" &&
  [ "$(yq -c "$operator_roles | .rules[] | select(.resources | index(\"electricshardsets\")) | .verbs" "$1" | sort -u)" = '["get","list","watch","patch"]' ]
}
check "no wildcard, no pods/exec, nodes or namespaces; sets read, patched only for the finalizer" least_privilege "$WORK/base.yaml"
check "the same holds in the namespaced overlay" least_privilege "$WORK/overlay.yaml"
check "electricshardset-editor/-viewer aggregate into admin, edit and view" user_roles_aggregate "$WORK/base.yaml"
check "the namespaced overlay ships them too" user_roles_aggregate "$WORK/overlay.yaml"

check "the Deployment is restricted-PSS compliant, probed and bounded" deployment_is_restricted "$WORK/base.yaml"
check "the operator namespace enforces the restricted Pod Security Standard" \
  test "$(yq -r 'select(.kind == "Namespace") | .metadata.labels["pod-security.kubernetes.io/enforce"]' "$WORK/base.yaml")" = restricted
check "Electric pods are held to Pod Security baseline" \
  bash -c "grep -qx -- '--max-pod-security-level=baseline' <<<'$(deployment_args "$WORK/base.yaml")'"
check "leader election targets the pod's namespace" \
  bash -c "grep -qx -- '--leader-election-namespace=\$(POD_NAMESPACE)' <<<'$(deployment_args "$WORK/base.yaml")'"
check "no empty maps, lists or nulls (CRD aside)" no_empty_values "$WORK/base.yaml"
check_flags_known "every flag the Deployment passes is one the operator knows" "$WORK/base.yaml"
check_flags_known "every flag the overlay's Deployment passes is one the operator knows" "$WORK/overlay.yaml"

version="$(project_version)"
check "image tag == project version ($version)" test "$(deployment_image "$WORK/base.yaml")" = "electric-operator:$version"
check "version label == project version" \
  test "$(yq -r 'select(.kind == "Deployment") | .metadata.labels["app.kubernetes.io/version"]' "$WORK/base.yaml")" = "$version"

check "the sample set has shards 0, 1, 2 in electric-demo" \
  test "$(yq -c 'select(.kind == "ElectricShardSet") | [.metadata.namespace, .metadata.name, [.spec.shards[].name]]' "$WORK/samples.yaml")" = '["electric-demo","myapp",["0","1","2"]]'
check "each sample shard's Secret exists with key url and a placeholder password" \
  test "$(yq -r 'select(.kind == "Secret") | "\(.metadata.name) \(.stringData.url)"' "$WORK/samples.yaml" | grep -c 'REPLACE_ME@')" = 3
check "sample Secrets are the ones the set references" \
  diff <(yq -r 'select(.kind == "ElectricShardSet") | .spec.shards[].databaseURLSecretRef | "\(.name)/\(.key)"' "$WORK/samples.yaml") \
       <(yq -r 'select(.kind == "Secret") | "\(.metadata.name)/\(.stringData | keys[0])"' "$WORK/samples.yaml")

finish
