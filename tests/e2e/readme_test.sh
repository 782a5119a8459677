#!/usr/bin/env bash
# The README's API reference is generated from the CRD and must match it, the
# README keeps the two set-up commands, and docs/api.md carries the project's
# API contract (../shared/design/api.md beside the checkout) verbatim.
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

contract=../shared/design/api.md
api_doc_body() { sed -n '/^---$/,$p' docs/api.md | tail -n +2; }
if [[ -f $contract ]]; then
  check "docs/api.md holds the API contract verbatim" diff <(api_doc_body) "$contract"
else
  echo "FAIL: the API contract $contract is not beside the checkout"; failed=$((failed + 1))
fi
check "the README links docs/api.md" grep -q '(docs/api.md)' README.md
echo "$passed passed, $failed failed"
((failed == 0))
