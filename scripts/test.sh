#!/usr/bin/env bash
# Runs every test suite and prints one closing line "N passed, M failed"
# (", K skipped" added when K > 0). tests/README.md says what counts as what.
#
# Unit tests run in the normal and the sanitizer (ASan+UBSan) build, and
# each fuzz target for about 30 s (EO_FUZZ_TEST_SECONDS). Then
# real PostgreSQL servers (tests/postgres/postgres up) and the local control
# plane start (tests/cluster/cluster up), and the cluster,
# integration (sanitizer build, operator binary as a separate process,
# shuffled with a printed seed) and e2e suites run against them. Both are
# stopped at the end, also on failure.
#
#   scripts/test.sh               everything
#   scripts/test.sh --unit-only   no cluster
#
# Sourcing this file only defines the counting functions; tests/runner/ does
# that to prove the runner reports crashes, skips and hangs.
set -uo pipefail

passed=0; failed=0; skipped=0; failures=(); skips=()
# gtest tests (Suite.Name regex) allowed to skip. Empty: every test can run
# here (the cluster harness compacts etcd, install-deps installs the Python
# parser), so any skip means a test did not test.
may_skip=${EO_MAY_SKIP:-}
timeout_unit=${EO_TIMEOUT_UNIT:-600}
timeout_cluster=${EO_TIMEOUT_CLUSTER:-2400}
# Sanitizer reports that may reach a log without changing the exit status
# (a report in a child process, or halt_on_error off).
sanitizer_report='ERROR: AddressSanitizer|runtime error:|LeakSanitizer|ERROR: UndefinedBehaviorSanitizer'

# note_* name a failure or skip; record_* also count it.
note_failure() { failures+=("$1: $2"); echo "   FAILED $1: $2"; }
note_skip() { skips+=("$1: $2"); echo "   skipped $1: $2"; }
record_failure() { failed=$((failed + 1)); note_failure "$@"; }
record_skip() { skipped=$((skipped + 1)); note_skip "$@"; }

# The test that was running when a gtest binary stopped: the last
# "[ RUN      ]" without its OK/FAILED/SKIPPED line.
hung_gtest() {
  awk '/^\[ RUN      \] /{t=$4} /^\[( +OK|  FAILED|  SKIPPED) +\] /{if ($4==t) t=""} END{print t}' "$1"
}

# Reads a gtest JSON result: prints "passed N", "failed NAME" and
# "skipped NAME" lines, or exits non-zero when the file is not whole JSON.
read_gtest_json() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ok = 0
for s in d["testsuites"]:
    for t in s["testsuite"]:
        name = s["name"] + "." + t["name"]
        if t.get("status") == "NOTRUN": continue
        if t.get("failures"): print("failed", name)
        elif t.get("result") == "SKIPPED": print("skipped", name)
        else: ok += 1
print("passed", ok)' "$1" 2>/dev/null
}

count_gtest() {  # suite-name json-file log-file exit-code
  local name=$1 json=$2 log=$3 rc=$4 parsed kind test suite_failed=$failed report
  report=$(grep -m1 -E "$sanitizer_report" "$log")
  if ((rc == 124 || rc == 137)); then
    record_failure "$name" "timed out in $(hung_gtest "$log")"
  elif [[ ! -s $json ]]; then
    record_failure "$name" "no result file (exit status $rc)"
  elif ! parsed=$(read_gtest_json "$json"); then
    record_failure "$name" "result file truncated or not JSON (exit status $rc)"
  else
    while read -r kind test; do
      case $kind in
        passed) passed=$((passed + test)) ;;
        failed) record_failure "$name" "$test" ;;
        skipped)
          if [[ -n $may_skip && $test =~ ^($may_skip)$ ]]; then record_skip "$name" "$test"
          else record_failure "$name" "$test skipped, but must run here"; fi ;;
      esac
    done <<<"$parsed"
  fi
  # A crash after the last test, or a sanitizer report, fails the suite once.
  if ((failed == suite_failed)) && [[ $rc != 0 || -n $report ]]; then
    record_failure "$name" "exit status $rc after its tests passed${report:+; $report}"
  fi
  return 0
}

count_script() {  # suite-name log-file exit-code
  local name=$1 log=$2 rc=$3 line p f s
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$log" | tail -n 1)
  if ((rc == 124 || rc == 137)); then
    record_failure "$name" "timed out after: $(grep -v '^$' "$log" | tail -n 1)"
    return 0
  fi
  [[ -n $line ]] || { record_failure "$name" "no summary line (exit status $rc)"; return 0; }
  read -r p _ f _ s _ <<<"${line//,/}"
  # The summary line counts; the "FAIL - " and "skip - " lines name.
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
  while read -r test; do note_failure "$name" "$test"; done < <(sed -n 's/^FAIL - //p' "$log")
  while read -r test; do note_skip "$name" "$test"; done < <(sed -n 's/^skip - //p' "$log")
  ((rc != 0 && f == 0)) && record_failure "$name" "exit status $rc with no failure counted"
  return 0
}

run_gtest() {  # suite-name timeout-seconds binary [args...]
  local name=$1 limit=$2 bin=$3; shift 3
  [[ -x $bin ]] || { record_failure "$name" "missing $bin"; return; }
  local json=$results_dir/$name.json log=$results_dir/$name.log rc
  echo "== running $name"
  timeout --kill-after=10 "$limit" "$bin" --gtest_output="json:$json" "$@" >"$log" 2>&1
  rc=$?
  grep -E '^\[  FAILED  \] [^ ]+ \(|^\[==========\] [0-9]+ tests .* ran' "$log"
  count_gtest "$name" "$json" "$log" "$rc"
}

run_script() {  # suite-name timeout-seconds script (bash, or python3 for *.py)
  local name=$1 limit=$2 script=$3 log=$results_dir/$1.log rc interpreter=bash
  [[ $script == *.py ]] && interpreter=python3
  echo "== running $name"
  timeout --kill-after=10 "$limit" "$interpreter" "$script" >"$log" 2>&1
  rc=$?
  tail -n 3 "$log"
  count_script "$name" "$log" "$rc"
}

closing_line() {
  ((${#failures[@]} > 0)) && printf 'failed: %s\n' "${failures[@]}"
  ((${#skips[@]} > 0)) && printf 'skipped: %s\n' "${skips[@]}"
  echo "$passed passed, $failed failed$( ((skipped > 0)) && echo ", $skipped skipped")"
}

run_cluster_suites() {
  # shellcheck disable=SC1091
  source build/cluster/env
  export KUBECONFIG EO_OPERATOR_BIN=$root/build-asan/bin/electric-operator
  run_script cluster "$timeout_cluster" tests/cluster/cluster_test.sh
  # Compacted etcd makes "a watch from a compacted version is gone" testable
  # on a young cluster, instead of a skip.
  tests/cluster/cluster etcd-compact || record_failure cluster "etcd-compact failed"
  # Shuffled, so no test passes only because of the one before it; the seed
  # is printed so a failing order can be repeated (EO_TEST_SHUFFLE=0: file order).
  local order=()
  if [[ ${EO_TEST_SHUFFLE:-1} != 0 ]]; then
    local seed=${EO_TEST_SEED:-$((RANDOM + 1))}
    echo "== integration order: --gtest_shuffle --gtest_random_seed=$seed (EO_TEST_SEED=$seed repeats it)"
    order=(--gtest_shuffle --gtest_random_seed="$seed")
  fi
  # The API-fault tests' proxy (Toxiproxy, built once and cached); without
  # it they would only skip.
  if EO_FAULT_PROXY_BIN=$(tests/faults/fault-proxy); then export EO_FAULT_PROXY_BIN
  else record_failure fault-proxy "building the fault proxy failed"; fi
  run_gtest integration "$timeout_cluster" build-asan/bin/integration_tests "${order[@]}"
  local t
  for t in tests/e2e/*_test.sh; do
    [[ -e $t ]] && EO_OPERATOR_BIN=$root/build/bin/electric-operator run_script "e2e-$(basename "$t" _test.sh)" "$timeout_cluster" "$t"
  done
}

main() {
  cd "$(dirname "$0")/.." || exit 1
  root=$PWD
  local unit_only=false layer
  [[ ${1:-} == --unit-only ]] && unit_only=true
  results_dir=$root/build/test-results
  rm -rf "$results_dir"; mkdir -p "$results_dir"
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export ASAN_OPTIONS=detect_leaks=1
  # Known leaks inside third-party code only, each explained in the file.
  export LSAN_OPTIONS=suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0

  run_script runner "$timeout_unit" tests/runner/runner_test.sh
  run_script bench-unit "$timeout_unit" bench/unit_tests.py
  for layer in base kube runtime postgres electric app; do
    run_gtest "unit-$layer" "$timeout_unit" "build/bin/unit_$layer"
    run_gtest "unit-$layer-asan" "$timeout_unit" "build-asan/bin/unit_$layer"
  done
  # A data race fails the run (TSan's exit status after the tests passed).
  for layer in runtime app; do
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitizers/tsan.supp \
      run_gtest "unit-$layer-tsan" "$timeout_unit" "build-tsan/bin/unit_$layer"
  done
  # Each libFuzzer target (build-fuzz/, ASan+UBSan) for EO_FUZZ_TEST_SECONDS;
  # a crash, leak, UB or broken invariant fails the run (scripts/fuzz.sh).
  local fuzz_seconds=${EO_FUZZ_TEST_SECONDS:-30} fuzz_targets=(tests/fuzz/fuzz_*.cpp)
  EO_FUZZ_SECONDS=$fuzz_seconds EO_FUZZ_RESULTS=$results_dir/fuzz.json \
    run_script fuzz $((${#fuzz_targets[@]} * (fuzz_seconds + 60))) scripts/fuzz.sh

  if ! $unit_only; then
    trap 'tests/cluster/cluster down >/dev/null 2>&1 || true; tests/postgres/postgres down >/dev/null 2>&1 || true' EXIT
    # The database checks' tests need real PostgreSQL servers beside the cluster.
    tests/postgres/postgres up || record_failure postgres-up "the PostgreSQL test servers did not start"
    if tests/cluster/cluster up; then run_cluster_suites
    else record_failure cluster-up "the local control plane did not start"; fi
  fi
  closing_line
  ((failed == 0))
}

[[ ${BASH_SOURCE[0]} == "$0" ]] && main "$@"
