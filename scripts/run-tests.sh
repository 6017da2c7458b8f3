#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test command (README, .ci/run): installs what is missing, then builds and tests
#   release                      every suite (unit, integration, scripts, analysis)
#   address,undefined sanitizer  unit and integration
#   thread sanitizer             unit and integration
#   fuzzers (clang, ASan+UBSan)  each libFuzzer target for HFT_FUZZ_SECONDS (default 15) on its
#                                corpus: a crash it finds fails the run (tests/fuzz/run-fuzzers.sh)
# and ends with one line "N passed, N failed". Exit 0 only when nothing failed.
# HFT_TEST_BUILDS="release asan tsan fuzz" chooses the builds (default all four).
set -euo pipefail
# Root for apt-get and for the systemd suite (it boots systemd in namespaces of its own): as
# root it runs as it is, as a user it asks sudo once (a fresh Debian system has no sudo for root).
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "run-tests: needs root (apt-get, the systemd suite) and sudo is not installed: run it as root" >&2
    exit 1
  fi
  exec sudo --preserve-env=HFT_TEST_BUILDS,HFT_FUZZ_SECONDS,CI bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh

builds=${HFT_TEST_BUILDS:-release asan tsan fuzz}
jobs=$(nproc)
total_ok=0
total_fail=0
failed_builds=()

setup() { # dir, meson options...
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$root" "$@" >/dev/null
  else
    meson setup "$dir" "$root" "$@" >/dev/null
  fi
}

run_suite() { # name, dir, meson test args...
  local name=$1 dir=$2
  shift 2
  echo "== $name: building"
  if ! ninja -C "$dir" >"$dir/ninja.log" 2>&1; then
    tail -50 "$dir/ninja.log"
    echo "== $name: BUILD FAILED"
    failed_builds+=("$name")
    total_fail=$((total_fail + 1))
    return 0
  fi
  echo "== $name: testing"
  local rc=0
  meson test -C "$dir" --print-errorlogs --num-processes "$jobs" "$@" || rc=$?
  local json="$dir/meson-logs/testlog.json"
  local ok fail
  ok=$(/usr/bin/python3 -c 'import json,sys
n=0
for line in open(sys.argv[1]):
    r=json.loads(line); n+= r["result"] in ("OK","EXPECTEDFAIL","SKIP")
print(n)' "$json")
  fail=$(/usr/bin/python3 -c 'import json,sys
n=0
for line in open(sys.argv[1]):
    r=json.loads(line); n+= r["result"] not in ("OK","EXPECTEDFAIL","SKIP")
print(n)' "$json")
  echo "== $name: $ok passed, $fail failed"
  total_ok=$((total_ok + ok))
  total_fail=$((total_fail + fail))
  [ "$rc" -eq 0 ] || failed_builds+=("$name")
}

for b in $builds; do
  case $b in
  release)
    # -Dsystemd_tests: also the tests that boot systemd for deploy.sh, collect_data.sh and the
    # Debian package (root; each skips with the reason otherwise).
    setup build/release --buildtype=release -Dsystemd_tests=true
    run_suite release build/release --no-suite fuzz-run
    ;;
  asan)
    setup build/asan --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      run_suite asan+ubsan build/asan --suite unit --suite integration --no-suite load \
      --no-suite systemd --no-suite tools --timeout-multiplier 3
    ;;
  tsan)
    setup build/tsan --buildtype=debugoptimized -Db_sanitize=thread -Db_lundef=false
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
      run_suite tsan build/tsan --suite unit --suite integration --no-suite load \
      --no-suite systemd --no-suite tools --timeout-multiplier 4
    ;;
  fuzz)
    # Bounded: every target runs the same time, so a crash within reach of its corpus fails CI.
    # No --skip-if-unavailable: install-deps.sh installs clang and libclang-rt-14-dev.
    echo "== fuzzers: ${HFT_FUZZ_SECONDS:-15} s per target"
    if bash tests/fuzz/run-fuzzers.sh --seconds "${HFT_FUZZ_SECONDS:-15}" --jobs "$jobs" \
      --build-dir build/fuzz; then
      total_ok=$((total_ok + 1))
      echo "== fuzzers: passed"
    else
      total_fail=$((total_fail + 1))
      failed_builds+=(fuzz)
      echo "== fuzzers: FAILED (a crash, or the fuzz build failed: see above)"
    fi
    ;;
  *)
    echo "run-tests: unknown build '$b' in HFT_TEST_BUILDS (release, asan, tsan, fuzz)" >&2
    exit 2
    ;;
  esac
done

[ ${#failed_builds[@]} -eq 0 ] || echo "run-tests: failures in: ${failed_builds[*]}"
echo "$total_ok passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ ${#failed_builds[@]} -eq 0 ]
