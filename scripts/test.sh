#!/usr/bin/env bash
# Runs every test suite and prints one closing line "N passed, M failed".
#
# Unit tests run in the normal and the sanitizer (ASan+UBSan) build. Then the
# local control plane starts (tests/cluster/cluster up), and the cluster,
# integration (sanitizer build, operator binary as a separate process) and e2e
# suites run against it. The cluster is stopped at the end, also on failure.
#
#   scripts/test.sh               everything
#   scripts/test.sh --unit-only   no cluster
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

unit_only=false
[[ ${1:-} == --unit-only ]] && unit_only=true

results_dir=$root/build/test-results
rm -rf "$results_dir"; mkdir -p "$results_dir"
passed=0; failed=0; failed_suites=()

count_gtest() {  # suite-name json-file exit-code
  local name=$1 file=$2 rc=$3 p f
  if [[ -s $file ]]; then
    read -r p f < <(python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
t=d.get("tests",0); fl=d.get("failures",0); dis=d.get("disabled",0)
print(t-fl-dis, fl)' "$file")
  else
    p=0; f=1
  fi
  ((rc != 0 && f == 0)) && f=1   # crashed after writing, or sanitizer report
  passed=$((passed + p)); failed=$((failed + f))
  ((f > 0)) && failed_suites+=("$name")
  echo "== $name: $p passed, $f failed"
}

count_script() {  # suite-name log-file exit-code
  local name=$1 log=$2 rc=$3 line p=0 f=0
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [[ -n $line ]]; then
    p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
  fi
  ((rc != 0 && f == 0)) && f=1
  passed=$((passed + p)); failed=$((failed + f))
  ((f > 0)) && failed_suites+=("$name")
  echo "== $name: $p passed, $f failed"
}

run_gtest() {  # suite-name binary [args...]
  local name=$1 bin=$2; shift 2
  [[ -x $bin ]] || { echo "== $name: missing $bin"; failed=$((failed + 1)); failed_suites+=("$name"); return; }
  local out=$results_dir/$name.json
  echo "== running $name"
  "$bin" --gtest_output="json:$out" "$@" 2>&1 | tee "$results_dir/$name.log" | grep -E '^\[  (FAILED|  OK  ) |^\[==========\]|ERROR|Sanitizer' | grep -v '^\[       OK' || true
  count_gtest "$name" "$out" "${PIPESTATUS[0]}"
}

run_script() {  # suite-name script
  local name=$1 script=$2
  echo "== running $name"
  bash "$script" > "$results_dir/$name.log" 2>&1
  local rc=$?
  tail -n 15 "$results_dir/$name.log"
  count_script "$name" "$results_dir/$name.log" "$rc"
}

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1

for layer in kube runtime electric app; do
  run_gtest "unit-$layer" "build/bin/unit_$layer"
  run_gtest "unit-$layer-asan" "build-asan/bin/unit_$layer"
done

if ! $unit_only; then
  trap 'tests/cluster/cluster down >/dev/null 2>&1 || true' EXIT
  if tests/cluster/cluster up; then
    # shellcheck disable=SC1091
    source build/cluster/env
    export KUBECONFIG EO_OPERATOR_BIN=$root/build-asan/bin/electric-operator
    run_script cluster tests/cluster/cluster_test.sh
    run_gtest integration build-asan/bin/integration_tests
    for t in tests/e2e/*_test.sh; do
      [[ -e $t ]] && EO_OPERATOR_BIN=$root/build/bin/electric-operator run_script "e2e-$(basename "$t" _test.sh)" "$t"
    done
  else
    echo "== the local control plane did not start"; failed=$((failed + 1)); failed_suites+=(cluster-up)
  fi
fi

((failed > 0)) && echo "failed suites: ${failed_suites[*]}"
echo "$passed passed, $failed failed"
((failed == 0))
