#!/usr/bin/env bash
# Runs manifests/gitops/argocd-health.lua (the Argo CD health check) against
# sample ElectricShardSets in testdata/argocd-health/ and compares the health
# status with the expected one. Each YAML object is turned into a Lua table
# literal with jq (via yq), assigned to the global `obj` as Argo CD does, and
# the script's returned table is printed. Runs under Lua 5.1 and 5.4: 5.1 is
# what Argo CD embeds (gopher-lua), 5.4 catches reliance on 5.1 quirks.
set -u
. "$(dirname "$0")/lib.sh"

SCRIPT="$REPO_ROOT/manifests/gitops/argocd-health.lua"
DATA="$E2E_DIR/testdata/argocd-health"

declare -A EXPECTED=(
  [no-status]=Progressing
  [stale-generation]=Progressing
  [ready]=Healthy
  [rolling-out]=Progressing
  [degraded]=Degraded
  [paused]=Suspended
  [stale-degraded-condition]=Progressing
  [not-ready-only]=Progressing
)

# YAML -> Lua table constructor. Arrays become sequences (1-based, as Argo
# CD's JSON-to-Lua conversion makes them); null becomes nil.
JQ_TO_LUA='def lua:
  if type == "object" then "{" + (to_entries | map("[" + (.key | tojson) + "]=" + (.value | lua)) | join(",")) + "}"
  elif type == "array" then "{" + (map(lua) | join(",")) + "}"
  elif type == "null" then "nil"
  else tojson end;
lua'

# Both are required (scripts/install-deps.sh installs them): dropping 5.1
# would stop testing the Lua Argo CD actually runs.
interpreters=()
for lua in lua5.1 lua5.4; do
  if command -v "$lua" >/dev/null 2>&1; then interpreters+=("$lua"); else fail "$lua not found (scripts/install-deps.sh installs it)"; fi
done
if ! command -v yq >/dev/null 2>&1; then
  fail "yq not found (apt-get install yq)"
  finish
fi

for lua in "${interpreters[@]}"; do
  for name in $(printf '%s\n' "${!EXPECTED[@]}" | sort); do
    file="$DATA/$name.yaml"
    table="$(yq -r "$JQ_TO_LUA" "$file")" || { fail "$lua $name: cannot convert $file"; continue; }
    got="$("$lua" -e "obj = $table
      local hs = dofile('$SCRIPT')
      assert(type(hs.message) == 'string' and hs.message ~= '', 'empty message')
      io.write(hs.status, '\t', hs.message)" 2>&1)"
    status="${got%%$'\t'*}"
    if [ "$status" = "${EXPECTED[$name]}" ]; then
      pass "$lua $name -> $got"
    else
      fail "$lua $name: want ${EXPECTED[$name]}, got: $got"
    fi
  done
done

# Every test case on disk is listed above, so none is silently skipped.
for file in "$DATA"/*.yaml; do
  name="$(basename "$file" .yaml)"
  if [ -z "${EXPECTED[$name]:-}" ]; then fail "$file has no expected status"; fi
done

finish
