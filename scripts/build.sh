#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# build.sh: configure (meson) and build (ninja) hft; --dist copies hftd, hftctl and exchange-sim
# into a directory. The Dockerfile runs it, and so can a human.
set -euo pipefail

readonly PROG=${0##*/}
readonly PROGRAMS=(daemon/hftd ctl/hftctl exchange-sim/exchange-sim)

usage() {
  cat <<EOF
Usage: $PROG [options] [-- MESON_SETUP_OPTIONS...]

Configure and build hft with meson and ninja, then print where the programs are.

Options:
  --build-dir DIR     build directory (default BUILD_DIR, else REPO/build/BUILDTYPE)
  --buildtype TYPE    meson build type: release, debugoptimized, debug, plain, minsize; CMake
                      spellings (Release, RelWithDebInfo, Debug, MinSizeRel) work too
                      (default BUILD_TYPE, else release)
  --dist DIR          copy hftd, hftctl and exchange-sim into DIR (created if needed)
  --programs-only     build only the three programs, not the tests and benchmarks
  --reconfigure       run meson setup --reconfigure even when the build directory exists
  -j, --jobs N        ninja jobs (default: ninja's choice)
  -h, --help          this help

Anything after -- goes to meson setup (e.g. -- -Dintegration_tests=false).
A build directory that exists is reused as configured unless --reconfigure or meson options
are given. Environment: BUILD_TYPE, BUILD_DIR (the Docker image uses both).

Exit status: 0 built (and copied), 1 configure, build or copy failed, 2 bad usage.
EOF
}

die() {
  printf '%s: error: %s\n' "$PROG" "$1" >&2
  shift
  if [[ $# -gt 0 ]]; then printf '  %s\n' "$@" >&2; fi
  exit 1
}

# die_usage, need_value, split_opt
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh" || exit 1

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-}
buildtype=${BUILD_TYPE:-release}
dist=''
programs_only=0
reconfigure=0
jobs=()
meson_opts=()

while [[ $# -gt 0 ]]; do
  split_opt "$@"
  set -- "${OPT_ARGS[@]}"
  opt=$1
  case $opt in
  --build-dir) need_value "$@"; build_dir=$2; shift 2 ;;
  --buildtype) need_value "$@"; buildtype=$2; shift 2 ;;
  --dist) need_value "$@"; dist=$2; shift 2 ;;
  --programs-only) programs_only=1; shift ;;
  --reconfigure) reconfigure=1; shift ;;
  -j | --jobs)
    need_value "$@"
    [[ $2 =~ ^[1-9][0-9]*$ ]] || die_usage "$1: '$2' is not a positive number"
    jobs=(-j "$2"); shift 2 ;;
  -h | --help) usage; exit 0 ;;
  --) shift; meson_opts=("$@"); break ;;
  *) die_usage "unknown option '$opt'" ;;
  esac
done

# The seed passes -e BUILD_TYPE=Release: accept CMake's names as well as meson's.
case ${buildtype,,} in
release) buildtype=release ;;
relwithdebinfo | debugoptimized) buildtype=debugoptimized ;;
debug) buildtype=debug ;;
minsizerel | minsize) buildtype=minsize ;;
plain) buildtype=plain ;;
*) die_usage "unknown build type '$buildtype' (release, debugoptimized, debug, minsize, plain)" ;;
esac
[[ -n $build_dir ]] || build_dir=$repo/build/$buildtype

for tool in meson ninja; do
  command -v "$tool" >/dev/null ||
    die "$tool not found" "install the build dependencies: scripts/install-deps.sh (as root)"
done

if [[ ! -f $build_dir/build.ninja ]]; then
  echo "$PROG: configuring $build_dir ($buildtype)"
  meson setup "$build_dir" "$repo" --buildtype="$buildtype" "${meson_opts[@]}" ||
    die "meson setup failed for $build_dir" "read the messages above; scripts/install-deps.sh installs what is missing"
elif [[ $reconfigure -eq 1 || ${#meson_opts[@]} -gt 0 ]]; then
  echo "$PROG: reconfiguring $build_dir ($buildtype)"
  meson setup --reconfigure "$build_dir" "$repo" --buildtype="$buildtype" "${meson_opts[@]}" ||
    die "meson setup --reconfigure failed for $build_dir"
fi

targets=()
if [[ $programs_only -eq 1 ]]; then targets=("${PROGRAMS[@]}"); fi
echo "$PROG: building in $build_dir"
ninja -C "$build_dir" "${jobs[@]}" "${targets[@]}" || die "the build failed in $build_dir" "read the compiler messages above"

for p in "${PROGRAMS[@]}"; do
  [[ -x $build_dir/$p ]] || die "$build_dir/$p was not built" "is its folder's meson.build complete?"
  printf '%-13s %s\n' "${p##*/}" "$build_dir/$p"
done

if [[ -n $dist ]]; then
  mkdir -p "$dist" || die "cannot create $dist"
  for p in "${PROGRAMS[@]}"; do
    install -m 0755 "$build_dir/$p" "$dist/" || die "cannot copy $p into $dist"
  done
  echo "$PROG: copied into $dist:"
  for p in "${PROGRAMS[@]}"; do
    if command -v file >/dev/null; then
      file "$dist/${p##*/}"
    else
      echo "$dist/${p##*/}"
    fi
  done
fi
