#!/usr/bin/env bash
# Upgrade without restarts (issue 12, item 6), against the real control plane
# (tests/cluster):
#
# - the previous release ($EO_UPGRADE_FROM, default v0.1.0) is built from its
#   own tree (scripts/build-tag.sh) and runs two ElectricShardSets of 20
#   shards in all (one with the defaults, one with most spec fields set) in
#   the namespace $EO_UPGRADE_NAMESPACE (default e2e-upgrade) until both are
#   Ready for their generation and every child exists;
# - upgrade: it stops (SIGTERM) and the current build ($EO_OPERATOR_BIN,
#   default build/bin/electric-operator) takes over: once it is ready and has
#   reconciled every set and gone quiet, no child may have changed (same
#   resourceVersion; every Deployment keeps its generation and pod template,
#   so no pod restarts: the pods keep their uids), and each set keeps its
#   metadata.generation (its status may be rewritten);
# - downgrade: the same, from the current build back to the release.
#
# Each step prints the operator's writes: rest_client_requests_total by
# method and code from its /metrics, the "reconciled with N writes" lines of
# its debug log (child applies and deletions by the worker), the set status
# writes seen by a watch on the sets, and the Events it recorded. A change is
# printed field by field (object, path, old and new value; Secret data as a
# digest only), since any change is a finding about the upgrade path.
#
# Usage: tests/e2e/upgrade_test.sh
# Needs: a running cluster (tests/cluster/cluster up), git with the release
# tag (a shallow clone has none: the test skips), cmake, ninja, curl, jq.
# The operators run out of cluster with the admin kubeconfig and watch only
# the test's namespace, without database checks (the URLs are placeholders).
# The test removes its namespace, and the CRD when it created it.
# EO_UPGRADE_KEEP=1 keeps the work directory (operator logs, snapshots).
# The helpers below run through check and wait_until, which shellcheck does
# not follow, so it would call them unreachable.
# shellcheck disable=SC2317
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

TAG="${EO_UPGRADE_FROM:-v0.1.0}"
NS="${EO_UPGRADE_NAMESPACE:-e2e-upgrade}"
NEW_BIN="$(operator_binary)"
TIMEOUT="${EO_E2E_TIMEOUT:-120}"
# How long the operator's reconcile count (and the namespace) must stand
# still before the step counts as settled: longer than the 2 s settle window
# of status writes, short enough for the whole test to stay near 2 minutes.
QUIET_SECONDS="${EO_UPGRADE_QUIET_SECONDS:-10}"
MANAGED=app.kubernetes.io/managed-by=electric-operator
CHILD_KINDS=deployments,services,persistentvolumeclaims,secrets,configmaps,networkpolicies
CRD=electricshardsets.electric-operator.dev
SETS=(alpha beta)
ALPHA_SHARDS=12
BETA_SHARDS=8

# --- preconditions ----------------------------------------------------------------

# A shallow clone (CI's default checkout) fetches no tags: nothing to upgrade
# from is a reason to skip, not a failure of the operator.
if ! git -C "$REPO_ROOT" rev-parse --verify -q "refs/tags/$TAG^{commit}" >/dev/null 2>&1; then
  skip "upgrade from $TAG (the tag is not in this clone, e.g. a shallow clone; git fetch --tags)"
  finish
fi
use_running_cluster
if [ ! -x "$NEW_BIN" ]; then
  fail "no operator binary at $NEW_BIN (build it, or set EO_OPERATOR_BIN)"
  finish
fi

build_started=$SECONDS
if ! OLD_BIN="$("$REPO_ROOT/scripts/build-tag.sh" "$TAG")"; then
  fail "build $TAG from its own tree (scripts/build-tag.sh $TAG)"
  finish
fi
build_seconds=$((SECONDS - build_started))
pass "$TAG built from its own tree in ${build_seconds}s: $OLD_BIN"
TAG_SRC="${EO_TAGS_DIR:-$REPO_ROOT/build/tags}/$TAG/src"
test_started=$SECONDS
echo "from: $TAG ($("$OLD_BIN" --version 2>&1)), $(git -C "$REPO_ROOT" rev-parse --short "$TAG^{commit}")"
echo "to:   $NEW_BIN ($("$NEW_BIN" --version 2>&1)), $(git -C "$REPO_ROOT" describe --tags --always --dirty 2>/dev/null)"
# Two identical binaries would make the whole test vacuous.
binaries_differ() { ! cmp -s "$OLD_BIN" "$NEW_BIN"; }
check "the current build differs from $TAG's" binaries_differ

WORK="$(mktemp -d)"
OPERATOR_PID=""
METRICS_URL=""
WATCH_PID=""
crd_created=false
k get crd "$CRD" >/dev/null 2>&1 || crd_created=true

# --- operator processes -------------------------------------------------------------

# Operators of this test (either binary) watching $NS: two at once would race
# to write the same objects and blur whose writes are counted.
operators_running() { pgrep -fc -- "electric-operator run --namespace $NS " || true; }

# start_operator BIN LOG: in the background, in this shell (not in a command
# substitution, which would keep OPERATOR_PID in a subshell), until /readyz
# answers. --log-level debug for the "reconciled with N writes" lines.
start_operator() {
  local bin="$1" log="$2" metrics_port health_port
  metrics_port="$(free_port)" && health_port="$(free_port)" || return 1
  [ "$metrics_port" != "$health_port" ] || health_port="$(free_port)" || return 1
  "$bin" run --namespace "$NS" --database-check-interval 0 \
    --metrics-bind-address "127.0.0.1:$metrics_port" \
    --health-probe-bind-address "127.0.0.1:$health_port" \
    --log-format text --log-level debug > "$log" 2>&1 &
  OPERATOR_PID=$!
  METRICS_URL="http://127.0.0.1:$metrics_port"
  await_readyz "$OPERATOR_PID" "http://127.0.0.1:$health_port" "$log" || { stop_operator; return 1; }
}

# stop_operator: SIGTERM and wait; 1 when it had to be killed or exited
# non-zero (a release that cannot stop cleanly fails its upgrade too).
stop_operator() {
  [ -z "$OPERATOR_PID" ] && return 0
  local rc=0 deadline=$((SECONDS + 45))
  kill -TERM "$OPERATOR_PID" 2>/dev/null
  while kill -0 "$OPERATOR_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if kill -0 "$OPERATOR_PID" 2>/dev/null; then
    kill -KILL "$OPERATOR_PID" 2>/dev/null
    echo "operator $OPERATOR_PID did not exit within 45 s of SIGTERM; killed"
    rc=1
  fi
  local status=0
  wait "$OPERATOR_PID" 2>/dev/null || status=$?
  if [ "$rc" -eq 0 ] && [ "$status" -ne 0 ]; then echo "operator exited with status $status"; rc=1; fi
  OPERATOR_PID=""
  return "$rc"
}

# A watch on the sets for the length of one step: each event is a write that
# changed a set (the status, since generation must not move).
# kubectl itself, not the k function: `k ... &` would put a subshell in
# between, and SIGTERM to that subshell leaves kubectl running.
start_set_watch() {
  "$KUBECTL" get electricshardsets -n "$NS" --watch-only --output-watch-events -o json > "$1" 2>"$1.err" &
  WATCH_PID=$!
  sleep 1   # the watch is open before the operator starts
}
# stop_set_watch: 1 when the watch had ended by itself (an error), so that
# its count of zero writes would mean nothing.
stop_set_watch() {
  [ -z "$WATCH_PID" ] && return 0
  local alive=0
  kill -0 "$WATCH_PID" 2>/dev/null || alive=1
  kill "$WATCH_PID" 2>/dev/null
  wait "$WATCH_PID" 2>/dev/null
  WATCH_PID=""
  return "$alive"
}

cleanup() {
  stop_set_watch
  stop_operator >/dev/null
  if k get namespace "$NS" >/dev/null 2>&1; then
    k delete namespace "$NS" --ignore-not-found --wait=false >/dev/null 2>&1
    k wait --for=delete "namespace/$NS" --timeout=90s >/dev/null 2>&1
  fi
  # Only once the sets are gone: deleting the CRD first would leave the
  # namespace waiting on the removal of its sets.
  if $crd_created; then k delete crd "$CRD" --ignore-not-found --wait=false >/dev/null 2>&1; fi
  crd_created=false
  if [ "${EO_UPGRADE_KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- metrics ------------------------------------------------------------------------

metrics() { curl -fsS --max-time 5 "$METRICS_URL/metrics"; }
# metric_sum NAME: the sum of a counter over all its label sets.
metric_sum() {
  metrics | awk -v n="$1" 'index($0, n "{") == 1 || $1 == n { s += $NF } END { printf "%d\n", s }'
}
# requests_by_method: "METHOD code=N ..." per method, from rest_client_requests_total.
requests_by_method() {
  metrics | awk '
    /^rest_client_requests_total[{]/ {
      m = "?"; c = "?"
      if (match($0, /method="[^"]*"/)) m = substr($0, RSTART + 8, RLENGTH - 9)
      if (match($0, /code="[^"]*"/)) c = substr($0, RSTART + 6, RLENGTH - 7)
      n[m] += $NF; by[m] = by[m] " " c "=" int($NF)
    }
    END { for (m in n) printf "%s %d (%s)\n", m, n[m], substr(by[m], 2) }' | sort
}
writes_of() {  # METHOD, from a requests_by_method listing on stdin: its total, 0 if none
  awk -v m="$1" '$1 == m { print $2; found = 1 } END { if (!found) print 0 }'
}

# wait_reconciled: every set reconciled at least once by this process
# (controller_runtime_reconcile_total >= number of sets), then the count
# standing still for QUIET_SECONDS: the operator has nothing left to do.
RECONCILES=0
wait_reconciled() {
  local deadline=$((SECONDS + TIMEOUT)) count last=-1 since=$SECONDS
  while :; do
    count="$(metric_sum controller_runtime_reconcile_total)" || count=0
    if [ "$count" != "$last" ]; then last="$count"; since=$SECONDS; fi
    if [ "$count" -ge "${#SETS[@]}" ] && [ $((SECONDS - since)) -ge "$QUIET_SECONDS" ]; then
      RECONCILES="$count"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "controller_runtime_reconcile_total is $count after ${TIMEOUT}s (wanted >= ${#SETS[@]}, then still for ${QUIET_SECONDS}s)"
      return 1
    fi
    sleep 1
  done
}

# --- the sets -----------------------------------------------------------------------

# Placeholder database URLs (REPLACE_ME is not a password), one Secret per
# shard with a direct and a pooled URL, and an API secret for beta.
objects_yaml() {
  local i
  for i in $(seq 0 $((ALPHA_SHARDS + BETA_SHARDS - 1))); do
    cat <<EOF
---
apiVersion: v1
kind: Secret
metadata: {name: pg-$i, namespace: $NS}
type: Opaque
stringData:
  url: postgresql://electric:REPLACE_ME@pg-$i.db.invalid:5432/app
  pooled: postgresql://electric:REPLACE_ME@pgbouncer-$i.db.invalid:6432/app
EOF
  done
  cat <<EOF
---
apiVersion: v1
kind: Secret
metadata: {name: beta-api, namespace: $NS}
type: Opaque
stringData: {secret: REPLACE_ME}
---
# The defaults: a generated API secret, the default routing ConfigMap.
apiVersion: electric-operator.dev/v1alpha1
kind: ElectricShardSet
metadata: {name: alpha, namespace: $NS}
spec:
  storage: {size: 1Gi}
  shards:
EOF
  for i in $(seq 0 $((ALPHA_SHARDS - 1))); do
    echo "    - {name: \"$i\", databaseURLSecretRef: {name: pg-$i, key: url}}"
  done
  # Most fields set, so that a change in how any of them renders between the
  # releases shows up as a changed child.
  cat <<EOF
---
apiVersion: electric-operator.dev/v1alpha1
kind: ElectricShardSet
metadata: {name: beta, namespace: $NS}
spec:
  apiSecretRef: {name: beta-api, key: secret}
  imagePullPolicy: IfNotPresent
  databaseChecks: Disabled
  template:
    env: [{name: ELECTRIC_USAGE_REPORTING, value: "false"}]
    podAnnotations: {example.com/team: sync}
    podLabels: {team: sync}
    resources:
      requests: {cpu: 100m, memory: 256Mi}
      limits: {memory: 1Gi}
    securityContext: {runAsNonRoot: true, runAsUser: 65534}
  storage: {size: 2Gi, accessModes: [ReadWriteOnce]}
  service: {type: ClusterIP, port: 3000}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenShardRemoved: Delete}
  replicationSlotRetentionPolicy: {whenDeleted: Retain, whenShardRemoved: Retain}
  routing: {configMapName: beta-shards}
  networkPolicy:
    enabled: true
    from: [{podSelector: {matchLabels: {app: api}}}]
  shards:
EOF
  for i in $(seq 0 $((BETA_SHARDS - 1))); do
    local n=$((ALPHA_SHARDS + i)) extra=""
    [ "$i" = 0 ] && extra=", storage: {size: 3Gi}"
    [ "$i" = 1 ] && extra=", env: [{name: ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD, value: \"5000000\"}]"
    [ "$i" = 2 ] && extra=", resources: {requests: {cpu: 200m, memory: 512Mi}}"
    [ "$i" = 3 ] && extra=", replicationStreamID: beta_custom_3"
    echo "    - {name: \"$i\", databaseURLSecretRef: {name: pg-$n, key: url}, pooledDatabaseURLSecretRef: {name: pg-$n, key: pooled}$extra}"
  done
}

expected_children() {
  local set shards i
  for set in "${SETS[@]}"; do
    shards=$ALPHA_SHARDS; [ "$set" = beta ] && shards=$BETA_SHARDS
    for i in $(seq 0 $((shards - 1))); do
      printf '%s\n' "Deployment/$set-shard-$i" "Service/$set-shard-$i" \
        "PersistentVolumeClaim/$set-shard-$i-data" "Secret/$set-shard-$i"
    done
  done
  printf '%s\n' Secret/alpha-api-secret ConfigMap/alpha-routing ConfigMap/beta-shards NetworkPolicy/beta-network-policy
}
children_exist() {
  diff <(expected_children | sort) \
       <(k get "$CHILD_KINDS" -n "$NS" -l "$MANAGED" -o json | jq -r '.items[] | "\(.kind)/\(.metadata.name)"' | sort)
}

# Every set Ready=True for its current generation with all shards ready.
sets_ready() {
  local sets
  sets="$(k get electricshardsets -n "$NS" -o json)" || return 1
  jq -e --argjson want "${#SETS[@]}" '[.items[] | .metadata.generation as $g | select(
      .status.observedGeneration == $g and
      .status.readyShards == (.spec.shards | length) and
      any(.status.conditions[]?; .type == "Ready" and .status == "True" and (.observedGeneration // $g) == $g))]
    | length == $want' <<<"$sets" >/dev/null && return 0
  jq -r '.items[] | "\(.metadata.name): generation \(.metadata.generation), observed \(.status.observedGeneration), ready \(.status.readyShards)/\(.spec.shards | length), \([.status.conditions[]? | "\(.type)=\(.status)"] | join(" "))"' <<<"$sets"
  # Pods that do not run are the usual cause on a shared cluster: kwok's
  # nodes hold 110 pods each, and another suite may have filled them.
  k get pods -n "$NS" -o json | jq -r '"pods: " + ([.items[] | .status.phase] | group_by(.) | map("\(.[0])=\(length)") | join(" ")),
    ([.items[] | .status.conditions[]? | select(.type == "PodScheduled" and .status == "False") | .message] | unique | .[:3][] | "  unschedulable: " + .)'
  return 1
}

# --- snapshots ------------------------------------------------------------------------

# snapshot DIR: what must not change, one line per object (children.txt,
# sets.txt, pods.txt), what may (sets-status.txt), and the objects themselves
# (objects.json) to tell which field changed. Secret data is kept as a
# digest only: no value reaches a file or the output.
snapshot() {
  local dir="$1" children sets digests templates
  mkdir -p "$dir"
  children="$(k get "$CHILD_KINDS" -n "$NS" -l "$MANAGED" -o json)" || return 1
  sets="$(k get electricshardsets -n "$NS" -o json)" || return 1
  digests="$(jq -c '.items[] | select(.kind == "Secret") | [.metadata.name, (.data // {})]' <<<"$children" |
    while read -r entry; do
      jq -nc --arg name "$(jq -r '.[0]' <<<"$entry")" --arg sum "$(jq -cS '.[1]' <<<"$entry" | sha256sum | cut -c1-16)" '{($name): $sum}'
    done | jq -sc 'add // {}')"
  templates="$(jq -c '.items[] | select(.kind == "Deployment") | [.metadata.name, .spec.template]' <<<"$children" |
    while read -r entry; do
      jq -nc --arg name "$(jq -r '.[0]' <<<"$entry")" --arg sum "$(jq -S '.[1]' <<<"$entry" | sha256sum | cut -c1-16)" '{($name): $sum}'
    done | jq -sc 'add // {}')"
  jq --argjson d "$digests" '[.items[] | if .kind == "Secret" then .data = {"sha256 of data": $d[.metadata.name]} else . end]' \
    <<<"$children" > "$dir/children.json" || return 1
  jq '[.items[]]' <<<"$sets" > "$dir/sets.json" || return 1
  jq -s 'add' "$dir/children.json" "$dir/sets.json" > "$dir/objects.json"
  jq -r --argjson t "$templates" '.[] | "\(.kind)/\(.metadata.name) resourceVersion=\(.metadata.resourceVersion)" +
      (if .kind == "Deployment" then " generation=\(.metadata.generation) template=\($t[.metadata.name])" else "" end)' \
    "$dir/children.json" | sort > "$dir/children.txt"
  jq -r '.[] | "ElectricShardSet/\(.metadata.name) generation=\(.metadata.generation)"' "$dir/sets.json" | sort > "$dir/sets.txt"
  jq -r '.[] | "ElectricShardSet/\(.metadata.name) resourceVersion=\(.metadata.resourceVersion)"' "$dir/sets.json" | sort > "$dir/sets-status.txt"
  k get pods -n "$NS" -o json |
    jq -r '.items[] | "Pod/\(.metadata.name) uid=\(.metadata.uid) restarts=\([.status.containerStatuses[]?.restartCount] | add // 0)"' |
    sort > "$dir/pods.txt"
}

# flat FILE ID: one "path = value" line per leaf of object ID (Kind/name).
flat() {
  jq -r --arg id "$2" '.[] | select("\(.kind)/\(.metadata.name)" == $id) |
    paths(scalars) as $p | "\($p | map(tostring) | join(".")) = \(getpath($p) | tojson)"' "$1"
}

# changes BEFORE AFTER FILE: the objects whose line in FILE differs, each with
# the fields that changed (managedFields included: they say who wrote).
changes() {
  local before="$1" after="$2" file="$3" id
  diff "$before/$file" "$after/$file" >/dev/null && return 0
  diff "$before/$file" "$after/$file" | grep '^[<>]' | sed 's/^/  /'
  for id in $(diff "$before/$file" "$after/$file" | sed -n 's/^[<>] \([^ ]*\).*/\1/p' | sort -u); do
    echo "  $id, changed fields (- before, + after):"
    diff <(flat "$before/objects.json" "$id") <(flat "$after/objects.json" "$id") | grep '^[<>]' |
      sed -e 's/^</    -/' -e 's/^>/    +/' | head -n 60
  done
  return 1
}

# wait_quiet: until the children, the sets and the pods stand still for
# QUIET_SECONDS (the Deployment controller, kwok and the volume provisioner
# finish their own writes), so that the baseline holds only settled values.
wait_quiet() {
  local deadline=$((SECONDS + TIMEOUT)) last="" now since=$SECONDS
  while :; do
    now="$(k get "$CHILD_KINDS,electricshardsets,pods" -n "$NS" -o json |
           jq -r '.items[] | "\(.kind)/\(.metadata.name) \(.metadata.resourceVersion)"' | sort | sha256sum)"
    if [ "$now" != "$last" ]; then last="$now"; since=$SECONDS; fi
    [ $((SECONDS - since)) -ge "$QUIET_SECONDS" ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then echo "the namespace did not settle in ${TIMEOUT}s"; return 1; fi
    sleep 1
  done
}

events_of_sets() {
  k get events -n "$NS" -o json | jq -r '.items[] | select(.involvedObject.kind == "ElectricShardSet") |
    "\(.metadata.name) count=\(.count // 1) \(.type) \(.reason) \(.involvedObject.name): \(.message)"' | sort
}

# --- one step: a binary takes over from the one before -----------------------------------

# step NAME BIN PREVIOUS_SNAPSHOT: start BIN, wait until it is ready, has
# reconciled every set and is quiet, compare with PREVIOUS_SNAPSHOT, report
# its writes, stop it and check that stopping wrote nothing.
step() {
  local name="$1" bin="$2" prev="$3" dir running requests watch_events
  dir="$WORK/$name"
  mkdir -p "$dir"
  events_of_sets > "$dir/events-before.txt"
  start_set_watch "$dir/set-watch.json"
  if ! start_operator "$bin" "$dir/operator.log"; then
    fail "$name: operator ready (/readyz 200): $bin"
    stop_set_watch
    return 1
  fi
  pass "$name: operator ready (/readyz 200): $bin"
  running="$(operators_running)"
  if [ "$running" = 1 ]; then pass "$name: the only operator of this test running"
  else fail "$name: $running operators of this test running"; fi
  local waited=$SECONDS
  if wait_reconciled; then
    pass "$name: reconciled every set ($RECONCILES reconciles, then none for ${QUIET_SECONDS}s; $((SECONDS - waited))s)"
  else
    fail "$name: reconciled every set"
  fi
  # A reconcile that failed (a 422 on an apply the old objects refuse, say)
  # writes nothing either, so zero writes alone would hide it.
  local errors
  errors="$(metric_sum controller_runtime_reconcile_errors_total)"
  if [ "$errors" = 0 ]; then pass "$name: no reconcile errors"
  else fail "$name: $errors reconcile errors"; grep -E ' (warn|error) ' "$dir/operator.log" | tail -n 10 | sed 's/^/       /'; fi
  check "$name: every set still Ready=True for its generation" sets_ready
  snapshot "$dir" || fail "$name: snapshot"
  requests="$(requests_by_method)"
  if stop_set_watch; then pass "$name: the watch on the sets stayed open for the whole step"
  else fail "$name: the watch on the sets ended early: $(head -c 300 "$dir/set-watch.json.err")"; fi

  local diffs
  if diffs="$(changes "$prev" "$dir" pods.txt)"; then pass "$name: no pod replaced or restarted ($(wc -l < "$dir/pods.txt") pods)"
  else fail "$name: pods replaced or restarted"; printf '%s\n' "$diffs"; fi
  local deployments_before deployments_after
  deployments_before="$(grep '^Deployment/' "$prev/children.txt" | sed 's/ resourceVersion=[^ ]*//')"
  deployments_after="$(grep '^Deployment/' "$dir/children.txt" | sed 's/ resourceVersion=[^ ]*//')"
  if [ "$deployments_before" = "$deployments_after" ]; then
    pass "$name: zero pod-template changes (every Deployment's generation and template hash unchanged)"
  else
    fail "$name: pod templates changed"; diff <(echo "$deployments_before") <(echo "$deployments_after") | grep '^[<>]' | sed 's/^/  /'
  fi
  if diffs="$(changes "$prev" "$dir" children.txt)"; then
    pass "$name: no child written (all $(wc -l < "$dir/children.txt") resourceVersions unchanged)"
  else
    fail "$name: children written"; printf '%s\n' "$diffs"
  fi
  if diffs="$(changes "$prev" "$dir" sets.txt)"; then pass "$name: every set's metadata.generation unchanged"
  else fail "$name: a set's generation changed"; printf '%s\n' "$diffs"; fi

  # What it wrote, for the report: only status writes are allowed above.
  watch_events="$(jq -s 'length' "$dir/set-watch.json" 2>/dev/null || echo "?")"
  echo "  $name: requests by method (code=count): $(tr '\n' ';' <<<"$requests" | sed 's/;$//; s/;/; /g')"
  echo "  $name: writes: PATCH $(writes_of PATCH <<<"$requests"), PUT $(writes_of PUT <<<"$requests"), POST $(writes_of POST <<<"$requests"), DELETE $(writes_of DELETE <<<"$requests")"
  echo "  $name: worker child writes (debug log): $(grep -c 'reconciled with [0-9]* writes' "$dir/operator.log") reconciles with writes," \
       "$(sed -n 's/.*reconciled with \([0-9]*\) writes.*/\1/p' "$dir/operator.log" | awk '{s += $1} END {print s + 0}') writes"
  grep -E 'created Secret|deleted |removed another manager|finalizer|stored .* in a form' "$dir/operator.log" | sed 's/^/    log: /' | head -n 20
  echo "  $name: set writes seen by the watch: $watch_events"
  if [ "$watch_events" != 0 ] && [ "$watch_events" != "?" ]; then
    jq -r '"    \(.type) \(.object.metadata.name) resourceVersion=\(.object.metadata.resourceVersion)"' "$dir/set-watch.json" | head -n 20
    changes "$prev" "$dir" sets-status.txt | sed 's/^/  /'
  fi
  events_of_sets > "$dir/events-after.txt"
  if ! diff -q "$dir/events-before.txt" "$dir/events-after.txt" >/dev/null; then
    echo "  $name: Events recorded on the sets:"
    diff "$dir/events-before.txt" "$dir/events-after.txt" | sed -n 's/^> /    /p' | head -n 20
  fi

  # Stopping writes nothing either: the next step compares against this.
  if stop_operator; then pass "$name: operator exited on SIGTERM with status 0"
  else fail "$name: operator exited on SIGTERM with status 0"; tail -n 20 "$dir/operator.log" | sed 's/^/       /'; fi
  snapshot "$dir/stopped" || fail "$name: snapshot after stop"
  if diffs="$(changes "$dir" "$dir/stopped" children.txt)"; then pass "$name: stopping wrote no child"
  else fail "$name: stopping wrote children"; printf '%s\n' "$diffs"; fi
  LAST_SNAPSHOT="$dir/stopped"
}

# --- set-up: the release runs the sets ----------------------------------------------------

if k get namespace "$NS" >/dev/null 2>&1; then
  echo "deleting $NS left by an earlier run"
  k delete namespace "$NS" --wait=true --timeout=120s >/dev/null 2>&1
fi
# The release runs under its own CRD; the current CRD goes on before the
# current build, as the README's upgrade order says.
if diff -q "$TAG_SRC/crds/electric-operator.dev_electricshardsets.yaml" \
           "$REPO_ROOT/crds/electric-operator.dev_electricshardsets.yaml" >/dev/null 2>&1; then
  echo "the CRD is unchanged since $TAG"
else
  echo "the CRD changed since $TAG: the test applies $TAG's, then the current one before the upgrade"
fi
check "$TAG's CRD applied" k apply --server-side --force-conflicts -f "$TAG_SRC/crds/"
check "CRD established" k wait --for=condition=Established "crd/$CRD" --timeout=60s
check "namespace $NS created" k create namespace "$NS"
apply_objects() { objects_yaml | k apply --server-side --field-manager e2e-upgrade -f -; }
check "placeholder Secrets and the sets applied ($((ALPHA_SHARDS + BETA_SHARDS)) shards in ${#SETS[@]} sets)" apply_objects

INSTALL="$WORK/install"
mkdir -p "$INSTALL"
install_started=$SECONDS
if start_operator "$OLD_BIN" "$INSTALL/operator.log"; then
  pass "install: $TAG operator ready (/readyz 200)"
else
  fail "install: $TAG operator ready"
  cleanup; finish
fi
check "install: every set Ready=True for its generation" wait_until "$TIMEOUT" sets_ready
check "install: every set Ready=True for its generation (now)" sets_ready
check "install: every child exists ($(expected_children | wc -l) objects)" children_exist
check "install: the namespace settled (no writes for ${QUIET_SECONDS}s)" wait_quiet
echo "  install: $TAG converged and settled in $((SECONDS - install_started))s"
snapshot "$INSTALL" || fail "install: snapshot"
echo "  install: requests by method (code=count): $(requests_by_method | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
if stop_operator; then pass "install: $TAG exited on SIGTERM with status 0"
else fail "install: $TAG exited on SIGTERM with status 0"; fi
snapshot "$INSTALL/stopped" || fail "install: snapshot after stop"
if diffs="$(changes "$INSTALL" "$INSTALL/stopped" children.txt)"; then pass "install: stopping $TAG wrote no child"
else fail "install: stopping $TAG wrote children"; printf '%s\n' "$diffs"; fi
LAST_SNAPSHOT="$INSTALL/stopped"

# --- upgrade and downgrade ----------------------------------------------------------------

check "current CRD applied (before the upgrade)" k apply --server-side --force-conflicts -f "$REPO_ROOT/crds/"
step upgrade "$NEW_BIN" "$LAST_SNAPSHOT"
# The downgrade keeps the current CRD: a CRD is not rolled back with the
# operator (the README documents no CRD downgrade), so the release must live
# with it.
step downgrade "$OLD_BIN" "$LAST_SNAPSHOT"
# Across both steps: the children as the release first wrote them.
if diffs="$(changes "$INSTALL/stopped" "$LAST_SNAPSHOT" children.txt)"; then
  pass "after upgrade and downgrade every child is as $TAG first wrote it"
else
  fail "after upgrade and downgrade children differ from $TAG's install"; printf '%s\n' "$diffs"
fi

# --- clean-up -------------------------------------------------------------------------------

check "no operator of this test left running" test "$(operators_running)" = 0
cleanup_started=$SECONDS
delete_namespace() {
  k delete namespace "$NS" --wait=false >/dev/null && k wait --for=delete "namespace/$NS" --timeout=90s
}
check "namespace $NS deleted" delete_namespace
echo "timing: tag build ${build_seconds}s; test $((SECONDS - test_started))s (namespace deletion $((SECONDS - cleanup_started))s)"
cleanup
trap - EXIT
finish
