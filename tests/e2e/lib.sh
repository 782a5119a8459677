# Shared helpers for the e2e shell tests. Source it, call `pass`/`fail` (or
# `check DESCRIPTION COMMAND...`), and end with `finish`, which prints the
# closing line "N passed, M failed" and exits non-zero on any failure.

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$E2E_DIR/../.." && pwd)"
PASSED=0
FAILED=0
SKIPPED=0

pass() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "skip - $*"; }

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0; its output is
# shown only on failure.
check() {
  local description="$1"; shift
  local output
  if output="$("$@" 2>&1)"; then
    pass "$description"
  else
    fail "$description"
    printf '%s\n' "$output" | sed 's/^/       /' | tail -n 30
  fi
}

# check_fails DESCRIPTION EXPECTED_REGEX COMMAND...: passes when COMMAND exits
# non-zero and its output matches EXPECTED_REGEX (grep -E), so that a failure
# for another reason (a typo, a missing tool) does not count as the one wanted.
check_fails() {
  local description="$1" expected="$2" output; shift 2
  if output="$("$@" 2>&1)"; then
    fail "$description (command succeeded)"
  elif grep -qE -- "$expected" <<<"$output"; then
    pass "$description"
  else
    fail "$description (failed, but without /$expected/)"
    printf '%s\n' "$output" | sed 's/^/       /' | tail -n 10
  fi
}

finish() {
  if [ "$SKIPPED" -gt 0 ]; then
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
  else
    echo "$PASSED passed, $FAILED failed"
  fi
  [ "$FAILED" -eq 0 ]
  exit $?
}

# Loads the running local control plane's env file (KUBECONFIG, admin and
# exported; EO_KUBECTL, EO_HELM, EO_APISERVER_URL, EO_CA_FILE) and sets
# KUBECTL for k; without a running cluster the suite fails and finishes.
use_running_cluster() {
  local env_file="${EO_CLUSTER_DIR:-$REPO_ROOT/build/cluster}/env"
  if [ ! -f "$env_file" ]; then
    fail "no running test cluster ($env_file missing; run tests/cluster/cluster up)"
    finish
  fi
  # shellcheck disable=SC1090
  . "$env_file"
  export KUBECONFIG
  KUBECTL="${EO_KUBECTL:-kubectl}"
}
k() { "$KUBECTL" "$@"; }

# Finds helm: $HELM, then the running cluster's env file (EO_HELM), then
# $EO_TOOLS_DIR/helm, then the newest helm the cluster harness built into its
# tools cache, then PATH.
find_helm() {
  local candidate env_file="${EO_CLUSTER_DIR:-$REPO_ROOT/build/cluster}/env"
  if [ -f "$env_file" ]; then
    candidate="$(. "$env_file" >/dev/null 2>&1; echo "${EO_HELM:-}")"
  fi
  for candidate in "${HELM:-}" "${candidate:-}" "${EO_HELM:-}" "${EO_TOOLS_DIR:+$EO_TOOLS_DIR/helm}" \
                   $(ls -t "$HOME"/.cache/electric-operator/tools/*/helm 2>/dev/null) \
                   "$(command -v helm 2>/dev/null)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

# --- rendered-manifest helpers (FILE is a multi-document YAML stream) ---------

# kinds FILE: "Kind/namespace/name" of every object, sorted.
kinds() { yq -r 'select(. != null) | "\(.kind)/\(.metadata.namespace // "")/\(.metadata.name)"' "$1" | sort; }

# rules FILE KIND NAME: the object's RBAC rules as canonical JSON.
rules() { yq -cS --arg kind "$2" --arg name "$3" 'select(.kind == $kind and .metadata.name == $name) | .rules' "$1" | head -n 1; }

# The project version, from CMakeLists.txt (its one source).
project_version() { sed -n 's/^project(electric-operator VERSION \([0-9.]*\).*/\1/p' "$REPO_ROOT/CMakeLists.txt"; }

# user_roles_aggregate FILE: electricshardset-editor aggregates into admin and
# edit and may write sets (never their status); electricshardset-viewer
# aggregates into view only and may only read.
user_roles_aggregate() {
  local editor viewer
  editor="$(yq -c 'select(.kind == "ClusterRole" and .metadata.name == "electricshardset-editor") |
    [.metadata.labels["rbac.authorization.k8s.io/aggregate-to-admin"], .metadata.labels["rbac.authorization.k8s.io/aggregate-to-edit"],
     .metadata.labels["rbac.authorization.k8s.io/aggregate-to-view"], (.rules | map({"r": .resources, "v": .verbs}))]' "$1")"
  viewer="$(yq -c 'select(.kind == "ClusterRole" and .metadata.name == "electricshardset-viewer") |
    [.metadata.labels["rbac.authorization.k8s.io/aggregate-to-admin"], .metadata.labels["rbac.authorization.k8s.io/aggregate-to-edit"],
     .metadata.labels["rbac.authorization.k8s.io/aggregate-to-view"], (.rules | map({"r": .resources, "v": .verbs}))]' "$1")"
  diff <(echo '["true","true",null,[{"r":["electricshardsets"],"v":["create","delete","deletecollection","get","list","patch","update","watch"]},{"r":["electricshardsets/status"],"v":["get"]}]]') <(echo "$editor") &&
  diff <(echo '[null,null,"true",[{"r":["electricshardsets"],"v":["get","list","watch"]},{"r":["electricshardsets/status"],"v":["get"]}]]') <(echo "$viewer")
}

deployment_args() { yq -r 'select(.kind == "Deployment") | .spec.template.spec.containers[0].args[]' "$1"; }
deployment_image() { yq -r 'select(.kind == "Deployment") | .spec.template.spec.containers[0].image' "$1"; }

deployment_is_restricted() {
  local verdict
  verdict="$(yq -c 'select(.kind == "Deployment") | .spec.template.spec as $p | $p.containers[0].securityContext as $c |
    $p.securityContext.runAsNonRoot == true and $p.securityContext.runAsUser == 65532 and
    $p.securityContext.seccompProfile.type == "RuntimeDefault" and
    $c.allowPrivilegeEscalation == false and $c.readOnlyRootFilesystem == true and
    $c.capabilities.drop == ["ALL"] and
    $p.containers[0].livenessProbe.httpGet.path == "/healthz" and
    $p.containers[0].readinessProbe.httpGet.path == "/readyz" and
    ($p.containers[0].resources.limits | has("memory")) and
    ($p.containers[0].resources.requests | has("cpu"))' "$1")"
  [ "$verdict" = true ] || { echo "verdict: ${verdict:-no Deployment}"; return 1; }
}

# Prints "Kind/name: path, path" for each object holding {} , [] or null.
# CRDs are exempt: `default: {}` and `subresources: {status: {}}` mean something.
empty_values() {
  yq -r 'select(. != null and .kind != "CustomResourceDefinition") | {id: "\(.kind)/\(.metadata.name)", paths: [paths(. == null or . == {} or . == []) | map(tostring) | join(".")]}
         | select(.paths | length > 0) | "\(.id): \(.paths | join(", "))"' "$1"
}
no_empty_values() { local found; found="$(empty_values "$1")"; [ -z "$found" ] || { echo "$found"; return 1; }; }
# The textual form GitOps diffs see: "key: {}", "key: []", "key: null", "key: ".
no_empty_lines() { ! grep -nE ': ?(\{\}|\[\]|null|~)?$' "$1" | grep -vE ':$'; }

# flags_known FILE: every --flag the rendered Deployment passes is one the
# operator binary ($EO_OPERATOR_BIN, default build/bin/electric-operator)
# lists in its --help. Returns 2 when there is no binary to ask.
# wait_until TIMEOUT COMMAND...: polls every 2 s until COMMAND succeeds.
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 2
  done
}

# free_port: a loopback TCP port nothing listens on, below the kernel's
# ephemeral range: a port inside it can be taken by any outgoing connection
# (kubectl, the control plane) between this check and the operator's bind.
free_port() {
  local first_ephemeral=32768 port
  read -r first_ephemeral _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  ((first_ephemeral > 10100)) || first_ephemeral=32768
  for port in $(shuf -i "10000-$((first_ephemeral - 1))" -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

# await_readyz PID HEALTH_URL LOG: waits up to 60 s for an operator started
# in the background to answer /readyz; on failure (it exited, or the time is
# up) prints its log's tail and returns 1.
await_readyz() {
  local deadline=$((SECONDS + 60))
  until curl -fsS "$2/readyz" >/dev/null 2>&1; do
    if ! kill -0 "$1" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "operator did not become ready; log tail:"; tail -n 20 "$3"
      return 1
    fi
    sleep 1
  done
}

operator_binary() { echo "${EO_OPERATOR_BIN:-$REPO_ROOT/build/bin/electric-operator}"; }
flags_known() {
  local help flag unknown=""
  [ -x "$(operator_binary)" ] || return 2
  help="$("$(operator_binary)" --help 2>&1)" || return 1
  for flag in $(deployment_args "$1" | grep -- '^--' | sed 's/=.*//' | sort -u); do
    grep -qE -- "(^|[[:space:]])$flag([[:space:]=\[]|$)" <<<"$help" || unknown="$unknown $flag"
  done
  [ -z "$unknown" ] || { echo "flags unknown to $(operator_binary) --help:$unknown"; return 1; }
}
# check_flags_known DESCRIPTION FILE: check, or skip when no binary is built.
check_flags_known() {
  if [ -x "$(operator_binary)" ]; then
    check "$1" flags_known "$2"
  else
    skip "$1 (no operator binary at $(operator_binary))"
  fi
}
