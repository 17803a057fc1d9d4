#!/usr/bin/env bash
# The sanitizer tier: builds the whole project with AddressSanitizer and
# UndefinedBehaviorSanitizer (-DWSGID_SANITIZE=ON) in its own tree, then runs that tree's unit
# tier and its integration and conformance tiers. Those start the sanitized wsgid,
# wsgid-worker and wsgictl through WSGID_BIN_DIR, which ctest sets to the tree's bin/.
#
#   tests/sanitize/run_sanitized.sh [--build-dir DIR] [--jobs N] [--gcc] [--no-build]
#                                   [--exclude REGEX] [TIER...]
#
# TIER: unit, integration, conformance (default: all three); --exclude: ctest -E, replacing
# the default, which leaves out what measures speed or memory size rather than memory errors
# or UB (tests/sanitize/README.md says why each; --exclude '' runs all): integration.test_soak
# (RSS flat over minutes) and test_autoscale (throughput); test_python_matrix and
# test_pip_install build their own unsanitized trees (other Pythons, pip's wheel). A file with only some such cases
# skips those itself when WSGID_SANITIZED=1 (test_faults). Every sanitizer report of every
# process (test binaries, master, each worker, wsgictl) is written to
# BUILD_DIR/sanitizer-logs/ (a worker's report would otherwise only reach a test's temporary
# log, and the master would just replace the worker), and any report fails the run even when
# the tests passed. Exit status: 0 when every test passed and no report was written.
# WSGID_SANITIZED=1 is exported, so a test about timing or CPU use (not memory or UB) can
# skip itself under ASan.
#
# The tree (default build-asan/) is built with clang-14: its ASan and UBSan share one runtime,
# so UBSan reports honour log_path too. --gcc builds with g++ (default tree build-asan-gcc/);
# gcc links ASan and UBSan as two runtimes and UBSan then ignores log_path: its reports only
# reach each process's stderr (a worker's goes to the test's server log), so the check of
# sanitizer-logs/ sees the ASan and LSan reports only.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR=""
JOBS=2
BUILD=1
EXCLUDE='^integration\.(test_soak|test_autoscale|test_python_matrix|test_pip_install)$'
CC_NAME=clang-14
CXX_NAME=clang++-14
TIERS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --gcc) CC_NAME=gcc; CXX_NAME=g++; shift ;;
    --exclude) EXCLUDE="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    unit|integration|conformance) TIERS+=("$1"); shift ;;
    *) echo "run_sanitized.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ ${#TIERS[@]} -eq 0 ] && TIERS=(unit integration conformance)
# A tree is tied to its compiler: the gcc one has its own default directory.
[ -z "$BUILD_DIR" ] && BUILD_DIR="$ROOT/build-asan$([ "$CC_NAME" = gcc ] && echo -gcc)"
[ "$JOBS" -gt 2 ] && JOBS=2  # the machines have 2 cores, shared

# -O1 and line tables only: about half the build time of -O2 -g, the stacks keep file:line,
# and ASan's own guidance is -O1 for a usable speed.
if [ "$CC_NAME" = gcc ]; then OPT_FLAGS="-O1 -g1 -DNDEBUG"; else OPT_FLAGS="-O1 -gline-tables-only -DNDEBUG"; fi

T0=$SECONDS
if [ "$BUILD" = 1 ]; then
  mkdir -p "$BUILD_DIR"
  CC=$CC_NAME CXX=$CXX_NAME cmake -S "$ROOT" -B "$BUILD_DIR" -DWSGID_SANITIZE=ON \
      -DCMAKE_C_COMPILER=$CC_NAME -DCMAKE_CXX_COMPILER=$CXX_NAME \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$OPT_FLAGS" \
      -DPython_EXECUTABLE=/usr/bin/python3 -DPYBIND11_FINDPYTHON=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD_DIR/configure.log" 2>&1 \
    || { cat "$BUILD_DIR/configure.log"; echo "run_sanitized.sh: configure failed" >&2; exit 2; }
  cmake --build "$BUILD_DIR" -j "$JOBS" >"$BUILD_DIR/build.log" 2>&1 \
    || { tail -50 "$BUILD_DIR/build.log"; echo "run_sanitized.sh: build failed" >&2; exit 2; }
  echo "sanitize: built $BUILD_DIR in $((SECONDS - T0)) s"
fi

LOGS="$BUILD_DIR/sanitizer-logs"
rm -rf "$LOGS"
mkdir -p "$LOGS"
# Every error is fatal and reported with its stack, in a file per process
# (LOGS/asan.<exe>.<pid>, LOGS/ubsan.<exe>.<pid>).
# - ASan: halt_on_error is the default for ASan errors; stated for clarity.
# - UBSan (gcc): checks recover by default (print and go on): halt_on_error=1 makes the first
#   one abort the process, print_stacktrace=1 adds the stack.
# - Leaks (LSan) stay on everywhere, without suppressions: the only leak check is at a normal
#   exit, wsgid-worker always leaves through _exit() (it must not finalise CPython under its
#   app threads), so the interpreter's allocations, which live until the process ends by
#   design, are never scanned; the master, wsgictl and the unit tests, which embed no Python,
#   are checked in full. tests/sanitize/README.md has the details.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:log_path=$LOGS/asan:log_exe_name=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$LOGS/ubsan:log_exe_name=1"
export LSAN_OPTIONS="print_suppressions=0"
export WSGID_SANITIZED=1

passed=0
failed=0
status=0
run_tier() {  # NAME REGEX
  local name="$1" regex="$2" t0=$SECONDS out="$BUILD_DIR/ctest-$1.log"
  local exclude=()
  [ -n "$EXCLUDE" ] && exclude=(-E "$EXCLUDE")
  ( cd "$BUILD_DIR" && ctest -R "$regex" "${exclude[@]}" --output-on-failure -j "$JOBS" \
      --timeout 600 ) >"$out" 2>&1
  local rc=$?
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of' "$out" | tail -1)
  local p f
  p=$(echo "$line" | grep -oE '[0-9]+% tests passed, ([0-9]+) tests failed out of ([0-9]+)' \
      | awk '{print $NF - $4}')
  f=$(echo "$line" | grep -oE '([0-9]+) tests failed' | grep -oE '^[0-9]+')
  if [ -z "$line" ]; then
    echo "sanitize: $name: no tests ran (rc $rc; log $out)"; tail -20 "$out"; status=1; return
  fi
  passed=$((passed + p)); failed=$((failed + f))
  echo "sanitize: $name: $p passed, $f failed in $((SECONDS - t0)) s (log: $out)"
  if [ "$f" != 0 ] || [ $rc -ne 0 ]; then
    status=1
    sed -n '/The following tests FAILED/,$p' "$out"
  fi
}
for tier in "${TIERS[@]}"; do
  case "$tier" in
    unit) run_tier unit '^unit\.' ;;
    integration) run_tier integration '^integration\.' ;;
    conformance) run_tier conformance '^conformance\.' ;;
  esac
done

reports=("$LOGS"/*)
if [ -e "${reports[0]}" ]; then
  status=1
  echo "sanitize: ${#reports[@]} sanitizer report(s) in $LOGS:"
  for r in "${reports[@]}"; do
    echo "---- $(basename "$r")"
    grep -E 'ERROR: |runtime error|SUMMARY|^ +#[0-9]+ ' "$r" | head -30
  done
else
  echo "sanitize: no sanitizer reports"
fi
echo "sanitize: total $((SECONDS - T0)) s"
echo "sanitize: $passed passed, $failed failed"
exit $status
