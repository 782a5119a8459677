#!/usr/bin/env bash
# Breaks a suite on purpose in each way a test run can lie, runs it through
# scripts/test.sh's own functions, and checks that the runner names the suite
# and counts a failure (or a skip). Closes with "N passed, M failed".
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/test.sh
. "$here/../../scripts/test.sh"
results_dir=$(mktemp -d)
trap 'rm -rf "$results_dir"' EXIT
ok=0; bad=0

# expect DESCRIPTION "P F S" REGEX COMMAND...: COMMAND, run on fresh counters,
# leaves counts P F S and prints a line matching REGEX.
expect() {
  local description=$1 counts=$2 regex=$3 out got; shift 3
  out=$(passed=0 failed=0 skipped=0 failures=() skips=(); "$@"; closing_line; echo "counts $passed $failed $skipped")
  got=$(sed -n 's/^counts //p' <<<"$out")
  if [[ $got == "$counts" ]] && grep -qE "$regex" <<<"$out"; then
    ok=$((ok + 1)); echo "ok - $description"
  else
    bad=$((bad + 1)); echo "FAIL - $description: want counts $counts and /$regex/, got:"; sed 's/^/     /' <<<"$out"
  fi
}
fake() { FAKE_MODE=$1 run_gtest "fake-$1" "${2:-20}" "$here/fake_gtest"; }
allowing() { may_skip=$1; shift; "$@"; }
script_suite() {  # NAME BODY [TIMEOUT]: a shell suite running BODY
  printf '%s\n' "$2" >"$results_dir/$1.sh"
  run_script "$1" "${3:-20}" "$results_dir/$1.sh"
}

expect "a passing binary passes" "2 0 0" '^2 passed, 0 failed$' fake pass
expect "a binary that writes a passing JSON, then aborts, fails" "2 1 0" \
  'FAILED fake-abort: exit status 134' fake abort
expect "a LeakSanitizer report fails" "2 1 0" 'FAILED fake-leak: .*LeakSanitizer' fake leak
expect "a skip fails where every test must run" "1 1 0" \
  'FAILED fake-skip: Fake.Second skipped, but must run here' fake skip
expect "an allowed skip is counted apart and named" "1 0 1" \
  '^skipped: fake-skip: Fake.Second$' allowing 'Fake\.Second' fake skip
expect "the closing line adds only ', K skipped'" "1 0 1" '^1 passed, 0 failed, 1 skipped$' \
  allowing 'Fake\.Second' fake skip
expect "a truncated JSON fails" "0 1 0" 'FAILED fake-truncated: result file truncated' fake truncated
expect "a hang fails, naming the test that hung" "0 1 0" \
  'FAILED fake-hang: timed out in Fake.Second' fake hang 2
expect "a shell suite without a summary line fails" "0 1 0" \
  'FAILED no-summary: no summary line' script_suite no-summary 'echo "ok - looks fine"'
expect "a shell suite's failures are counted and named" "1 1 0" \
  'FAILED two: broken' script_suite two 'echo "ok - fine"; echo "FAIL - broken"; echo "1 passed, 1 failed"; exit 1'
expect "a shell suite that exits non-zero after a clean summary fails" "1 1 0" \
  'exit status 3 with no failure counted' script_suite late 'echo "1 passed, 0 failed"; exit 3'
expect "a hung shell suite fails, naming its last line" "0 1 0" \
  'FAILED slow: timed out after: ok - step one' script_suite slow 'echo "ok - step one"; exec sleep 60' 2

echo "$ok passed, $bad failed"
((bad == 0))
