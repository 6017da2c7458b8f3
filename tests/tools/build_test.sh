#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/build.sh --dist gives x86-64 ELF programs, and docker/Dockerfile only uses paths that
# exist (Docker itself cannot run here: the test runs the scripts the image runs).
#
#   build_test.sh SOURCE_ROOT BUILD_ROOT
# BUILD_ROOT is meson's build directory, already built: build.sh reuses it. With
# HFT_TEST_FRESH_BUILD=1 it also configures and builds from scratch in a temporary directory,
# as the Docker image does (a few minutes).
set -euo pipefail

src=${1:?usage: build_test.sh SOURCE_ROOT BUILD_ROOT}
build_root=${2:?usage: build_test.sh SOURCE_ROOT BUILD_ROOT}
build=$src/scripts/build.sh
dockerfile=$src/docker/Dockerfile
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

tmp=$(mktemp -d /tmp/hft-build-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

check_dist() { # DIR: the three programs, x86-64 ELF executables
  local p info
  for p in hftd hftctl exchange-sim; do
    if [[ ! -x $1/$p ]]; then
      fail "$1/$p missing or not executable"
      continue
    fi
    info=$(file -b "$1/$p")
    [[ $info == ELF\ 64-bit\ LSB* && $info == *x86-64* ]] || fail "$p: $info"
  done
  [[ $("$1/hftd" --version) == hftd\ * ]] || fail "dist hftd --version"
}

# ------------------------------------------------------------------ build.sh --dist
rc=0
"$build" --build-dir "$build_root" --programs-only --dist "$tmp/dist" >"$tmp/build.log" 2>&1 || rc=$?
if [[ $rc -ne 0 ]]; then
  cat "$tmp/build.log"
  fail "build.sh --dist exited $rc"
fi
check_dist "$tmp/dist"
grep -Eq "^hftd +$build_root/daemon/hftd$" "$tmp/build.log" || fail "build.sh does not print where hftd is"
grep -q "dist/hftd: ELF 64-bit" "$tmp/build.log" || fail "build.sh does not show the dist programs"
pass "build.sh --dist gives x86-64 ELF hftd, hftctl, exchange-sim"

if [[ ${HFT_TEST_FRESH_BUILD:-0} == 1 ]]; then
  rc=0
  BUILD_TYPE=Release BUILD_DIR=$tmp/fresh "$build" --programs-only --dist "$tmp/dist-fresh" \
    >"$tmp/fresh.log" 2>&1 || rc=$?
  [[ $rc -eq 0 ]] || { tail -n 30 "$tmp/fresh.log"; fail "fresh build.sh exited $rc"; }
  check_dist "$tmp/dist-fresh"
  grep -q "buildtype.*release\|configuring $tmp/fresh (release)" "$tmp/fresh.log" ||
    fail "BUILD_TYPE=Release is not a release build"
  pass "a fresh configure and build (what the Docker image runs)"
fi

expect_usage() {
  local rc=0
  "$build" "$@" >/dev/null 2>&1 || rc=$?
  [[ $rc -eq 2 ]] || fail "build.sh $* exited $rc, not 2"
}
expect_usage --bogus
expect_usage --buildtype fastest --build-dir "$tmp/never"
expect_usage --jobs 0
rc=0
BUILD_TYPE=Nightly "$build" --build-dir "$tmp/never" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "an unknown BUILD_TYPE gives $rc, not 2"
[[ ! -e $tmp/never ]] || fail "a usage error created the build directory"
"$build" --help | grep -q -- '--dist DIR' || fail "build.sh --help does not document --dist"
pass "build.sh usage errors exit 2"

# ------------------------------------------------------------------ docker/Dockerfile, statically
[[ -f $dockerfile ]] || fail "docker/Dockerfile is missing"
grep -Eq '^FROM debian:12( |$)' "$dockerfile" || fail "the image is not FROM debian:12"
# Every COPY source exists in the build context (the repository root).
while read -r -a words; do
  for ((i = 1; i < ${#words[@]} - 1; i++)); do
    [[ ${words[i]} == --* ]] && continue
    [[ -e $src/${words[i]} ]] || fail "Dockerfile COPY source ${words[i]} does not exist"
  done
done < <(grep -E '^COPY ' "$dockerfile")
# Every scripts/... path it runs exists and is executable by bash.
mapfile -t used < <(grep -Eo 'scripts/[A-Za-z0-9_.-]+' "$dockerfile" | sort -u)
[[ ${#used[@]} -gt 0 ]] || fail "the Dockerfile runs no script"
for s in "${used[@]}"; do
  [[ -f $src/$s ]] || fail "Dockerfile uses $s, which does not exist"
  bash -n "$src/$s" || fail "$s has a syntax error"
done
printf '%s\n' "${used[@]}" | grep -qx scripts/install-deps.sh || fail "the image does not run install-deps.sh"
grep -Eq '^CMD .*scripts/build.sh.*--dist.*/src/dist' "$dockerfile" || fail "the image does not build into /src/dist"
grep -q 'WORKDIR /src' "$dockerfile" || fail "the image does not work in /src"
grep -Eq '^CMD .*scripts/build.sh.*&& bash scripts/build-deb.sh /src [^ ]+ /src/dist"' "$dockerfile" ||
  fail "the image does not build the Debian package into /src/dist after the programs"
# The package's build dependencies are in the list the image installs.
deps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$src/debian/control" | sed -n 's/^ \([a-z0-9.+-]*\).*/\1/p')
for d in $deps; do
  case $d in
  debhelper-compat | dh-sequence-installsysusers) d=debhelper ;; # provided by debhelper
  g++) d="build-essential" ;;
  esac
  grep -Eq "(^|[ (])$d( |$)" "$src/scripts/install-deps.sh" ||
    fail "Build-Depends $d is not installed by scripts/install-deps.sh (the image could not build the package)"
done
pass "docker/Dockerfile references only existing scripts, builds into /src/dist, then the .deb"

if [[ $failures -gt 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all build checks passed"
