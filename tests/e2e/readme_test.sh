#!/usr/bin/env bash
# The README's API reference is generated from the CRD and must match it, the
# README keeps the two set-up commands, and docs/api.md carries the project's
# API contract (../shared/design/api.md beside the checkout) verbatim.
set -u
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

check "README API reference matches the CRD" python3 scripts/api-reference.py --check
check "README gives make demo" grep -q 'make demo' README.md
check "README gives make test" grep -q 'make test' README.md

contract=../shared/design/api.md
api_doc_body() { sed -n '/^---$/,$p' docs/api.md | tail -n +2; }
if [[ -f $contract ]]; then
  check "docs/api.md holds the API contract verbatim" diff <(api_doc_body) "$contract"
else
  # A clone with no contract beside it has nothing to compare with.
  skip "docs/api.md against the API contract: $contract is not beside this checkout"
fi
check "the README links docs/api.md" grep -q '(docs/api.md)' README.md
finish
