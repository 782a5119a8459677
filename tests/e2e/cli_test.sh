#!/usr/bin/env bash
# The operator binary's command line as a user meets it, no cluster needed:
# each command's own --help, and `render` as a CI step (the file's namespace
# wins over --namespace, a typo fails with the field's path and prints no
# document, numeric-looking ConfigMap keys come out quoted).
set -u
. "$(dirname "$0")/lib.sh"

BIN="$(operator_binary)"
if [ ! -x "$BIN" ]; then
  skip "the command line (no operator binary at $BIN)"
  finish
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# --- help ---------------------------------------------------------------------

help_of() { "$BIN" "$@" 2>&1; }
check "run --help is run's usage" grep -q '^  electric-operator run \[flags\]$' <(help_of run --help)
check "run --help lists run's flags only" \
  bash -c '[[ $1 == *--leader-elect* && $1 != *--filename* ]]' _ "$(help_of run --help)"
check "render --help is render's usage" grep -q '^  electric-operator render -f FILE \[flags\]$' <(help_of render --help)
check "render --help lists render's flags only" \
  bash -c '[[ $1 == *--filename* && $1 != *--leader-elect* ]]' _ "$(help_of render --help)"
check "--help still lists the flags of run and render" \
  bash -c 'for f in --kubeconfig --leader-elect --shutdown-grace-period --filename; do [[ $1 == *$f* ]] || exit 1; done' _ \
  "$(help_of --help)"

# --- render -------------------------------------------------------------------

set_file() {  # set_file NAME METADATA SHARDS_KEY
  cat > "$WORK/$1.yaml" <<EOF
apiVersion: electric-operator.dev/v1alpha1
kind: ElectricShardSet
metadata: $2
spec:
  $3:
    - {name: "0", databaseURLSecretRef: {name: pg-0, key: url}}
EOF
  echo "$WORK/$1.yaml"
}
with_ns="$(set_file with-ns '{name: myapp, namespace: prod}' shards)"
without_ns="$(set_file without-ns '{name: myapp}' shards)"
typo="$(set_file typo '{name: myapp, namespace: prod}' shard)"

check "render keeps the file's namespace over --namespace" \
  bash -c '"$1" render -f "$2" --namespace staging > "$3/out" && grep -q "namespace: prod" "$3/out" && ! grep -q staging "$3/out"' \
  _ "$BIN" "$with_ns" "$WORK"
check "render --namespace fills in a namespace the file leaves open" \
  bash -c '"$1" render -f "$2" --namespace staging | grep -q "namespace: staging"' _ "$BIN" "$without_ns"
check_fails "render names an unknown field and exits non-zero" 'spec\.shard: unknown field \(did you mean spec\.shards\?\)' \
  "$BIN" render -f "$typo"
check "render prints no document when it fails" \
  bash -c '! "$1" render -f "$2" > "$3/typo.out" 2>/dev/null && [ ! -s "$3/typo.out" ]' _ "$BIN" "$typo" "$WORK"
check "render quotes a routing key that looks like a number" \
  bash -c '"$1" render -f "$2" | grep -qE "^  \"0\": http://myapp-shard-0\.prod\.svc"' _ "$BIN" "$with_ns"

finish
