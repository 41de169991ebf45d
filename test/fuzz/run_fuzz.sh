#!/usr/bin/env bash
# The ctest fuzz/frontend: replay every reproducer in test/fuzz/regressions/,
# then fuzz the front end for a bounded time from a fresh corpus seeded with
# the repository's .ncl files. Fails on any crash, leak, sanitizer report,
# timeout (10 s on one input; 30 s on a reproducer) or RSS over 2 GB.
#
#   run_fuzz.sh FUZZER SOURCE_DIR WORK_DIR [SECONDS]
set -euo pipefail
fuzzer=$(realpath "$1") src=$(realpath "$2") work=$3 seconds=${4:-60}
here=$src/test/fuzz

# The start of the report (error, first stack frames), then the log's end
# (the reproducer's path and stats): a stack overflow's stack runs for pages.
report() {
  awk '/ERROR|runtime error:|ALARM|out-of-memory|deadly signal/ && !n {n=1} n && n++ <= 60' "$1"
  echo "   [...]"
  tail -n 25 "$1"
}
opts=(-timeout=10 -rss_limit_mb=2048 -dict="$here/ncl.dict" -print_final_stats=1)
# LLVM's BumpPtrAllocator poisons a fresh slab and unpoisons what it hands
# out only where its header was compiled with ASan: the attribute uniquer is
# shared with libMLIR (not instrumented), whose allocations in a slab our
# instrumented code started stay poisoned, so reading them (an ArrayAttr of
# the dialect's own attributes) would be reported falsely. Real heap errors
# are still caught; only manual poisoning is ignored.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allow_user_poisoning=0

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cd "$work"

# 1. Reproducers of bugs found earlier: each must now run cleanly.
mapfile -t regressions < <(find "$here/regressions" -maxdepth 1 -type f ! -name 'README*' | sort)
if [ ${#regressions[@]} -gt 0 ]; then
  echo "== replaying ${#regressions[@]} reproducer(s) from test/fuzz/regressions/"
  # Reproducers are far larger than what the fuzzer generates (a 20 000-term
  # sum takes ~6 s under ASan on a loaded machine): 30 s each. Their speed
  # without sanitizers is bounded by fuzz/parse-time.
  "$fuzzer" "${opts[@]}" -timeout=30 -artifact_prefix="$work/artifacts/" "${regressions[@]}" \
    >"$work/replay.log" 2>&1 || { report "$work/replay.log"; exit 1; }
  echo "   all ran cleanly"
fi

# 2. A fresh corpus from the examples, benchmarks and lit inputs (generated
#    corpora are never committed), then a bounded fuzzing run.
n=0
while IFS= read -r -d '' f; do
  cp "$f" "$work/corpus/seed-$n-$(basename "$f")"
  n=$((n + 1))
done < <(find "$src/examples" "$src/bench" "$src/test/lit/nclc" -name '*.ncl' -type f -print0 2>/dev/null)
status=0
echo "== fuzzing for ${seconds} s from $n seed file(s)"
"$fuzzer" "${opts[@]}" -max_total_time="$seconds" -artifact_prefix="$work/artifacts/" \
  "$work/corpus" >"$work/fuzz.log" 2>&1 || status=$?
# The full log is long; on failure its end holds the report and the stack.
if [ $status -ne 0 ]; then
  echo "fuzz/frontend: the fuzzer failed (exit $status); end of $work/fuzz.log:" >&2
  report "$work/fuzz.log" >&2
else
  grep -E '^(Done|stat::)' "$work/fuzz.log" || true
fi
if compgen -G "$work/artifacts/*" >/dev/null; then
  echo "fuzz/frontend: the fuzzer left reproducers in $work/artifacts/:" >&2
  ls -l "$work/artifacts/" >&2
  exit 1
fi
exit $status
