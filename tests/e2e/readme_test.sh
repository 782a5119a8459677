#!/usr/bin/env bash
# The README's API reference is generated from the CRD and must match it, and
# the README keeps the two set-up commands.
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0; failed=0
check() {  # description command...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}
check "README API reference matches the CRD" python3 scripts/api-reference.py --check
check "README gives make demo" grep -q 'make demo' README.md
check "README gives make test" grep -q 'make test' README.md
echo "$passed passed, $failed failed"
((failed == 0))
