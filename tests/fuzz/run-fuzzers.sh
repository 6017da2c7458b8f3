#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in their own build folder
# and runs each for a while on a copy of its seed corpus. Exit 0 when none crashed, 1 when one
# did (the input is kept under BUILD_DIR/artifacts), 2 on a usage or build error, 77 with
# --skip-if-unavailable when clang cannot build fuzzers here. See docs/fuzzing.md.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: tests/fuzz/run-fuzzers.sh [OPTIONS] [TARGET...]
  --seconds N            fuzz each target N seconds (default 10)
  --grow                 merge the new inputs that add coverage into tests/fuzz/corpus/<target>
  --build-dir DIR        the clang build folder (default build/fuzz)
  --jobs N               ninja -j N (default 1: the machine is shared)
  --skip-if-unavailable  exit 77 (meson's "skipped") if clang cannot link -fsanitize=fuzzer
  -h, --help             this text
TARGET: frame reassembler order_book packet hftd_config hftd_args xsim_config xsim_args
ctl_args control_server (default: every one this tree builds)
USAGE
}

root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=10
grow=0
build_dir=$root/build/fuzz
jobs=1
skip_unavailable=0
targets=()
while [ $# -gt 0 ]; do
  case $1 in
  --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
  --seconds=*) seconds=${1#*=}; shift ;;
  --grow) grow=1; shift ;;
  --build-dir) build_dir=${2:?--build-dir needs a folder}; shift 2 ;;
  --build-dir=*) build_dir=${1#*=}; shift ;;
  --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
  --jobs=*) jobs=${1#*=}; shift ;;
  --skip-if-unavailable) skip_unavailable=1; shift ;;
  -h | --help) usage; exit 0 ;;
  -*) echo "run-fuzzers.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  *) targets+=("$1"); shift ;;
  esac
done
case $seconds in '' | *[!0-9]*) echo "run-fuzzers.sh: --seconds needs a whole number" >&2; exit 2 ;; esac
case $jobs in '' | *[!0-9]*) echo "run-fuzzers.sh: --jobs needs a whole number" >&2; exit 2 ;; esac

unavailable() {
  echo "run-fuzzers.sh: cannot build fuzzers here: $1" >&2
  if [ "$skip_unavailable" -eq 1 ]; then
    exit 77
  fi
  exit 2
}

# clang with libFuzzer (Debian: clang and libclang-rt-14-dev) and the sanitizers.
command -v clang >/dev/null || unavailable "clang is not installed (Debian package clang)"
command -v clang++ >/dev/null || unavailable "clang++ is not installed (Debian package clang)"
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  >"$probe_dir/probe.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe_dir/probe.cpp" -o "$probe_dir/probe" \
  >"$probe_dir/probe.log" 2>&1; then
  cat "$probe_dir/probe.log" >&2
  unavailable "clang++ cannot link -fsanitize=fuzzer,address,undefined (Debian package libclang-rt-14-dev)"
fi

if [ ! -f "$build_dir/build.ninja" ]; then
  echo "== configuring $build_dir (clang, -Dfuzzing=true, ASan + UBSan)"
  # The libraries under test get coverage instrumentation too (fuzzer-no-link); the fuzz
  # targets themselves add -fsanitize=fuzzer (tests/fuzz/meson.build). No -Werror: the gcc
  # builds gate warnings, and clang-only ones (sd-bus's SD_BUS_ERROR_NULL is a C99 compound
  # literal to clang -Wpedantic) must not stop a fuzzing run.
  CC=clang CXX=clang++ meson setup "$build_dir" "$root" \
    -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
    --buildtype=debugoptimized -Dwerror=false \
    "-Dcpp_args=['-fsanitize=fuzzer-no-link','-Wno-c99-extensions']" \
    -Dintegration_tests=false >"$probe_dir/setup.log" 2>&1 || {
    cat "$probe_dir/setup.log" >&2
    echo "run-fuzzers.sh: meson setup failed" >&2
    exit 2
  }
fi

# The fuzz targets of this build: all of tests/fuzz/meson.build (a missing component fails meson).
mapfile -t available < <(meson introspect --targets "$build_dir" | /usr/bin/env python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["name"].startswith("fuzz_") and t["type"] == "executable":
        print(t["name"][len("fuzz_"):])' | sort)
[ ${#available[@]} -gt 0 ] || { echo "run-fuzzers.sh: no fuzz targets in $build_dir" >&2; exit 2; }
if [ ${#targets[@]} -eq 0 ]; then
  targets=("${available[@]}")
fi
ninja_targets=()
for t in "${targets[@]}"; do
  if ! printf '%s\n' "${available[@]}" | grep -qx "$t"; then
    echo "run-fuzzers.sh: unknown target '$t' (have: ${available[*]})" >&2
    exit 2
  fi
  ninja_targets+=("tests/fuzz/fuzz_$t")
done

echo "== building ${#targets[@]} fuzz targets (ninja -j$jobs)"
if ! ninja -C "$build_dir" -j"$jobs" "${ninja_targets[@]}" >"$build_dir/fuzz-ninja.log" 2>&1; then
  tail -40 "$build_dir/fuzz-ninja.log" >&2
  echo "run-fuzzers.sh: build failed (log: $build_dir/fuzz-ninja.log)" >&2
  exit 2
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
artifacts=$build_dir/artifacts
mkdir -p "$artifacts"
crashed=()
printf '%-16s %10s %10s %8s  %s\n' target execs exec/s corpus result
for t in "${targets[@]}"; do
  seeds=$root/tests/fuzz/corpus/$t
  work=$probe_dir/$t
  mkdir -p "$work/corpus" "$artifacts/$t"
  # A copy: a short run must not change the repository's corpus.
  if [ -d "$seeds" ]; then
    cp -R "$seeds/." "$work/corpus/"
  fi
  before=$(find "$work/corpus" -type f | wc -l)
  args=("$work/corpus" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2560
        -print_final_stats=1 -artifact_prefix="$artifacts/$t/")
  if [ -f "$root/tests/fuzz/dict/$t.dict" ]; then
    args+=(-dict="$root/tests/fuzz/dict/$t.dict")
  fi
  rc=0
  "$build_dir/tests/fuzz/fuzz_$t" "${args[@]}" >"$artifacts/$t.log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$artifacts/$t.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$artifacts/$t.log" | tail -1)
  after=$(find "$work/corpus" -type f | wc -l)
  if [ "$rc" -ne 0 ]; then
    crashed+=("$t")
    result="CRASH (exit $rc): log $artifacts/$t.log"
  else
    result=ok
  fi
  printf '%-16s %10s %10s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$before->$after" "$result"
  if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR: |invariant broken|runtime error|Test unit written|SUMMARY' "$artifacts/$t.log" \
      | head -8 | sed 's/^/    /'
  elif [ "$grow" -eq 1 ]; then
    # Only the inputs that add coverage join the repository's corpus.
    mkdir -p "$seeds"
    "$build_dir/tests/fuzz/fuzz_$t" -merge=1 "$seeds" "$work/corpus" >"$artifacts/$t.merge.log" 2>&1 ||
      echo "    merge into $seeds failed: see $artifacts/$t.merge.log"
  fi
done

if [ ${#crashed[@]} -gt 0 ]; then
  echo "== crashed: ${crashed[*]}; reproduce with $build_dir/tests/fuzz/fuzz_TARGET $artifacts/TARGET/crash-..."
  exit 1
fi
echo "== ${#targets[@]} fuzz targets ran ${seconds} s each without a crash"
