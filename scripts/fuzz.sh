#!/usr/bin/env bash
# Runs each libFuzzer target of build-fuzz/bin/ (make build-fuzz) for a
# while, one after the other on one core, and prints per target the
# executions and the findings (crash, leak, UB, invariant failure, timeout,
# out-of-memory), then the closing line "N passed, M failed" that
# scripts/test.sh counts (one per target; a finding fails it).
#
#   scripts/fuzz.sh                      every target, EO_FUZZ_SECONDS each (300)
#   EO_FUZZ_SECONDS=30 scripts/fuzz.sh   what make test runs
#   scripts/fuzz.sh quantity http_request   only these
#
# Each target starts from its seeds (tests/fuzz/corpus/<target>/, read only)
# and the corpus earlier runs grew (build-fuzz/corpus/<target>/, where new
# inputs go). A finding is saved under build-fuzz/findings/<target>/; replay
# it with build-fuzz/bin/fuzz_<target> <file>. The summary goes to
# EO_FUZZ_RESULTS (default tests/fuzz/results/latest.json).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
root=$PWD
seconds=${EO_FUZZ_SECONDS:-300}
bin_dir=${EO_FUZZ_BIN_DIR:-$root/build-fuzz/bin}
work_dir=${EO_FUZZ_WORK_DIR:-$root/build-fuzz}
results=${EO_FUZZ_RESULTS:-$root/tests/fuzz/results/latest.json}

targets=("$@")
if ((${#targets[@]} == 0)); then
  for source in tests/fuzz/fuzz_*.cpp; do
    name=$(basename "$source" .cpp)
    targets+=("${name#fuzz_}")
  done
fi

# libFuzzer stops at the first finding and exits non-zero; ASan's leak check
# runs at each input's end (-detect_leaks), UBSan is built not to recover.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0; failed=0
rows=()
started=$(date +%s)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
for target in "${targets[@]}"; do
  binary=$bin_dir/fuzz_$target
  seeds=$root/tests/fuzz/corpus/$target
  corpus=$work_dir/corpus/$target
  findings=$work_dir/findings/$target
  log=$work_dir/logs/$target.log
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  if [[ ! -x $binary ]]; then
    echo "FAIL - fuzz_$target: missing $binary (make build-fuzz)"
    failed=$((failed + 1))
    rows+=("{\"target\": \"$target\", \"seconds\": 0, \"executions\": 0, \"findings\": 1, \"finding\": \"binary missing\"}")
    continue
  fi
  before=$(find "$findings" -type f | wc -l)
  # -timeout: one input running 10 s is a finding (a hang); the outer
  # timeout only guards against the fuzzer itself not stopping.
  timeout --kill-after=10 $((seconds + 120)) "$binary" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "$seeds" >"$log" 2>&1
  rc=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
  coverage=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  features=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
  units=$(find "$corpus" -type f | wc -l)
  new_findings=$(($(find "$findings" -type f | wc -l) - before))
  what=""
  if ((rc != 0 || new_findings > 0)); then
    # The first report line names the kind: "ERROR: AddressSanitizer: ...",
    # "ERROR: libFuzzer: timeout", "runtime error: ...", "FUZZ INVARIANT FAILED ...".
    what=$(grep -m1 -E 'FUZZ INVARIANT FAILED|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log" |
           sed 's/^==[0-9]*==//; s/"/\\"/g')
    [[ -n $what ]] || what="exit status $rc"
    artifact=$(grep -m1 -o "Test unit written to [^ ]*" "$log" | sed 's/Test unit written to //')
    echo "FAIL - fuzz_$target: $what${artifact:+ (input: ${artifact#"$root"/})}"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
  findings_count=$(( (rc != 0 || new_findings > 0) ? 1 : 0 ))
  printf '   fuzz_%-14s %12s executions in %4s s (%s/s), cov %s, corpus %s, %d finding(s)\n' \
    "$target" "${executions:-0}" "${took:-$seconds}" \
    "$(( ${executions:-0} / (${took:-$seconds} > 0 ? ${took:-$seconds} : 1) ))" \
    "${coverage:-?}" "$units" "$findings_count"
  rows+=("{\"target\": \"$target\", \"seconds\": ${took:-$seconds}, \"executions\": ${executions:-0}, \"coverage\": ${coverage:-0}, \"features\": ${features:-0}, \"corpus\": $units, \"findings\": $findings_count${what:+, \"finding\": \"$what\"}}")
done

mkdir -p "$(dirname "$results")"
{
  echo "{"
  echo "  \"date\": \"$(date -u -d "@$started" +%Y-%m-%dT%H:%MZ)\","
  echo "  \"seconds_per_target\": $seconds,"
  echo "  \"cores\": $(nproc),"
  echo "  \"load_average_at_start\": \"$load_at_start\","
  echo "  \"wall_seconds\": $(($(date +%s) - started)),"
  echo "  \"targets\": ["
  for i in "${!rows[@]}"; do
    sep=","; ((i == ${#rows[@]} - 1)) && sep=""
    echo "    ${rows[$i]}$sep"
  done
  echo "  ]"
  echo "}"
} >"$results"
echo "results: ${results#"$root"/}"
echo "$passed passed, $failed failed"
((failed == 0))
