#!/usr/bin/env bash
# Runs manifests/gitops/argocd-health.lua (the Argo CD health check) against
# sample ElectricShardSets in testdata/argocd-health/ and compares the health
# status with the expected one. Each YAML object is turned into a Lua table
# literal with jq (via yq), assigned to the global `obj` as Argo CD does, and
# the script's returned table is printed. Runs under every Lua found: 5.1 is
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

interpreters=()
seen=" "
for candidate in lua5.1 lua5.4 lua; do
  path="$(command -v "$candidate" 2>/dev/null)" || continue
  real="$(readlink -f "$path")"
  case "$seen" in *" $real "*) continue ;; esac   # `lua` is often an alias
  seen="$seen$real "
  interpreters+=("$candidate")
done
if [ ${#interpreters[@]} -eq 0 ]; then
  fail "no Lua interpreter found (apt-get install lua5.1)"
  finish
fi
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
