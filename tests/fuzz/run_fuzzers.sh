#!/usr/bin/env bash
# Builds the libFuzzer targets in their own tree and runs each for a bounded time.
#
#   tests/fuzz/run_fuzzers.sh [options] [SECONDS] [TARGET...]
#
# SECONDS (default 60) is each target's fuzzing time (-max_total_time); TARGET is one of
# http_parser chunked_decoder config_toml control_api (default: all). For each target: every
# input of tests/fuzz/regressions/TARGET/ is run alone as a plain input (each one still
# failing is listed), then those of tests/fuzz/seeds/TARGET/ (plus gunicorn's request corpus
# for http_parser); if all pass, the fuzzer runs from the seeds, the dictionary
# tests/fuzz/dicts/TARGET.dict and the corpus it grew in earlier runs (BUILD_DIR/corpus/TARGET).
# Exit status: 0 when every target ran clean; 1 on any crash, leak, timeout or failed
# invariant (a new finding is saved in BUILD_DIR/artifacts/TARGET/ and its first bytes are
# printed); 2 when the tools are missing or the build fails.
#
# Options:
#   --build-dir DIR  the fuzz tree (default: build-fuzz at the top of the checkout)
#   --jobs N         targets fuzzed at once (default 1; the build uses -j2 at most)
#   --no-build       use the binaries already built
#   --replay-only    only run the regression and seed inputs (no fuzzing); implies --no-build
#                    when the binaries exist
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FUZZ_DIR="$ROOT/tests/fuzz"
BUILD_DIR="$ROOT/build-fuzz"
JOBS=1
BUILD=1
REPLAY_ONLY=0
SECONDS_PER_TARGET=60
ALL_TARGETS=(http_parser chunked_decoder config_toml control_api)
TARGETS=()

while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --replay-only) REPLAY_ONLY=1; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) SECONDS_PER_TARGET="$1"; shift ;;
    *)
      if [[ " ${ALL_TARGETS[*]} " == *" $1 "* ]]; then TARGETS+=("$1"); shift
      else echo "run_fuzzers.sh: unknown argument '$1'" >&2; exit 2; fi ;;
  esac
done
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL_TARGETS[@]}")

max_len_of() {  # inputs longer than the limits under test add nothing
  case "$1" in
    http_parser) echo 20000 ;;
    chunked_decoder) echo 16384 ;;
    config_toml) echo 65536 ;;
    control_api) echo 16384 ;;
  esac
}

configure_and_build() {
  local cc=clang-14 cxx=clang++-14
  if ! command -v "$cxx" >/dev/null ||
     [ ! -e "$("$cxx" --print-runtime-dir)/libclang_rt.fuzzer-x86_64.a" ] ||
     [ ! -e "$("$cxx" --print-runtime-dir)/libclang_rt.asan-x86_64.a" ]; then
    echo "run_fuzzers.sh: needs clang-14, libfuzzer-14-dev and libclang-rt-14-dev" \
         "(apt-get install -y clang-14 libfuzzer-14-dev libclang-rt-14-dev)" >&2
    exit 2
  fi
  local t0=$SECONDS
  CC=$cc CXX=$cxx cmake -S "$ROOT" -B "$BUILD_DIR" -DWSGID_FUZZ=ON \
      -DCMAKE_C_COMPILER=$cc -DCMAKE_CXX_COMPILER=$cxx \
      -DPython_EXECUTABLE=/usr/bin/python3 -DPYBIND11_FINDPYTHON=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
      >"$BUILD_DIR/logs/configure.log" 2>&1 \
    || { cat "$BUILD_DIR/logs/configure.log"; echo "run_fuzzers.sh: configure failed" >&2; exit 2; }
  local names=()
  for t in "${TARGETS[@]}"; do names+=("${t}_fuzz"); done
  cmake --build "$BUILD_DIR" -j 2 --target "${names[@]}" >"$BUILD_DIR/logs/build.log" 2>&1 \
    || { tail -40 "$BUILD_DIR/logs/build.log"; echo "run_fuzzers.sh: build failed" >&2; exit 2; }
  echo "fuzz: built ${names[*]} in $((SECONDS - t0)) s"
}

# Prints a finding: the saved input's first bytes and how to keep it as a regression case.
report_artifacts() {
  local t="$1" f
  for f in "$BUILD_DIR/artifacts/$t"/*; do
    [ -e "$f" ] || continue
    echo "---- $t: $(basename "$f") ($(stat -c %s "$f") bytes); first 256 bytes:"
    head -c 256 "$f" | od -A d -c | head -20
    echo "     keep it: cp '$f' tests/fuzz/regressions/$t/"
  done
}

# The first lines that say what went wrong in a libFuzzer log, and the stack without the
# fuzzer's and libc's frames.
summarize_failure() {
  local log="$1" frames
  grep -aE '^==[0-9]+==ERROR|^SUMMARY|runtime error|invariant violated|^prefix of|terminate called|what\(\)|^ParseCommandLine|^status ' "$log" | head -8
  # The project's own frames say most; else whatever is not libFuzzer's or libc's.
  frames=$(grep -aE '^ +#[0-9]+ ' "$log" | grep -aE " $ROOT/[^ ]+:[0-9]+")
  [ -z "$frames" ] && frames=$(grep -aE '^ +#[0-9]+ ' "$log" | grep -vE 'libFuzzer|fuzzer::|libc\.so|pthread_kill|raise\.c|abort\.c|__sanitizer_print_stack_trace|libstdc\+\+|libc_start|in _start |in main ')
  echo "$frames" | sed -E 's/\(BuildId: [0-9a-f]+\)//' \
    | sed -E 's/<[^<>]*(<[^<>]*(<[^<>]*>[^<>]*)*>[^<>]*)*>/<...>/g' | sed -E 's/std::__cxx11::basic_string<...>/std::string/g' \
    | cut -c1-200 | head -"${2:-12}"
}

# Runs one target: each regression input on its own (so every one still failing is
# listed), the seed inputs once each, then (unless replay-only) SECONDS_PER_TARGET of
# fuzzing, skipped while a regression still fails (it would only find that bug again).
# Output in BUILD_DIR/logs/TARGET.log (TARGET.regressions.log for the regression inputs).
run_target() {
  local t="$1" bin="$BUILD_DIR/bin/${1}_fuzz" log="$BUILD_DIR/logs/$1.log"
  local rlog="$BUILD_DIR/logs/$1.regressions.log"
  local t0=$SECONDS status=0 f
  : >"$log"
  : >"$rlog"
  mkdir -p "$BUILD_DIR/corpus/$t" "$BUILD_DIR/artifacts/$t"
  local common=(-rss_limit_mb=2048 -timeout=25 -max_len="$(max_len_of "$t")"
                -artifact_prefix="$BUILD_DIR/artifacts/$t/")
  local regressions=() failing=()
  for f in "$FUZZ_DIR/regressions/$t"/*; do [ -f "$f" ] && regressions+=("$f"); done
  for f in "${regressions[@]}"; do
    local one="$BUILD_DIR/logs/$t.one.log"
    if ! "$bin" "${common[@]}" "$f" >"$one" 2>&1; then
      failing+=("$f")
      { echo "==== $f"; cat "$one"; } >>"$rlog"
    fi
  done
  rm -f "$BUILD_DIR/logs/$t.one.log"
  local inputs=()
  for f in "$FUZZ_DIR/seeds/$t"/*; do [ -f "$f" ] && inputs+=("$f"); done
  if [ "$t" = http_parser ]; then
    for f in "$ROOT"/tests/conformance/gunicorn-http/*/*.raw; do inputs+=("$f"); done
  fi
  local seeds_ok=1
  if [ ${#inputs[@]} -gt 0 ]; then
    "$bin" "${common[@]}" "${inputs[@]}" >>"$log" 2>&1 || seeds_ok=0
  fi
  local replayed=$(( ${#regressions[@]} + ${#inputs[@]} ))
  if [ ${#failing[@]} -gt 0 ] || [ $seeds_ok = 0 ]; then
    status=1
    echo "fuzz: $t FAILED: ${#failing[@]} of ${#regressions[@]} regression inputs fail$(
        [ $seeds_ok = 0 ] && echo ", and a seed input fails") (logs: $rlog, $log)"
    for f in "${failing[@]}"; do
      echo "-- regressions/$t/$(basename "$f"):"
      sed -n "\|^==== $f\$|,/^==== /p" "$rlog" >"$BUILD_DIR/logs/$t.tmp"
      summarize_failure "$BUILD_DIR/logs/$t.tmp" 4 | sed 's/^/   /'
    done
    rm -f "$BUILD_DIR/logs/$t.tmp"
    if [ $seeds_ok = 0 ]; then
      echo "-- seed input $(grep -a '^Running: ' "$log" | tail -1 | cut -c10-):"
      summarize_failure "$log" 4 | sed 's/^/   /'
    fi
    return $status
  fi
  if [ "$REPLAY_ONLY" = 0 ]; then
    local seeds=()
    if [ "$t" = http_parser ]; then
      ls "$ROOT"/tests/conformance/gunicorn-http/*/*.raw >"$BUILD_DIR/corpus/$t.seed_list"
      seeds=(-seed_inputs="@$BUILD_DIR/corpus/$t.seed_list")
    fi
    echo "== fuzzing $t for $SECONDS_PER_TARGET s" >>"$log"
    "$bin" "${common[@]}" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
        -dict="$FUZZ_DIR/dicts/$t.dict" "${seeds[@]}" \
        "$BUILD_DIR/corpus/$t" "$FUZZ_DIR/seeds/$t" >>"$log" 2>&1 || status=1
  fi
  local execs cov
  execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -ao '[0-9]*$' | tail -1)
  cov=$(grep -aoE '(#[0-9]+[[:space:]]+DONE|INITED).*cov: [0-9]+' "$log" | tail -1 \
        | grep -aoE 'cov: [0-9]+' | grep -aoE '[0-9]+')
  if [ $status -eq 0 ]; then
    echo "fuzz: $t ok: $replayed inputs replayed${execs:+, $execs runs fuzzed}${cov:+, coverage $cov}," \
         "corpus $(ls "$BUILD_DIR/corpus/$t" | wc -l) files, $((SECONDS - t0)) s"
  else
    echo "fuzz: $t FAILED while fuzzing after $((SECONDS - t0)) s (log: $log):"
    summarize_failure "$log"
    report_artifacts "$t"
  fi
  return $status
}

mkdir -p "$BUILD_DIR/logs"
if [ "$REPLAY_ONLY" = 1 ] && [ -x "$BUILD_DIR/bin/${TARGETS[0]}_fuzz" ]; then BUILD=0; fi
[ "$BUILD" = 1 ] && configure_and_build
for t in "${TARGETS[@]}"; do
  [ -x "$BUILD_DIR/bin/${t}_fuzz" ] || { echo "run_fuzzers.sh: $BUILD_DIR/bin/${t}_fuzz missing" >&2; exit 2; }
  # A new run's findings only: earlier ones are in the logs of that run.
  rm -f "$BUILD_DIR/artifacts/$t"/* 2>/dev/null
done

T0=$SECONDS
passed=0
failed=0
declare -A pids=()
results_dir="$(mktemp -d)"
trap 'rm -rf "$results_dir"' EXIT
for t in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n 2>/dev/null || true; done
  ( run_target "$t" >"$results_dir/$t.out"; echo $? >"$results_dir/$t.rc" ) &
  pids[$t]=$!
done
wait
for t in "${TARGETS[@]}"; do
  cat "$results_dir/$t.out"
  if [ "$(cat "$results_dir/$t.rc" 2>/dev/null)" = 0 ]; then passed=$((passed + 1))
  else failed=$((failed + 1)); fi
done
echo "fuzz: ${#TARGETS[@]} targets in $((SECONDS - T0)) s"
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
