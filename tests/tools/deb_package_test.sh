#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian package (debian/): builds it with dpkg-buildpackage from a copy of the source tree
# (the checkout stays clean), then checks what the .deb holds and what lintian says of it.
#
#   deb_package_test.sh SOURCE_ROOT [CACHE_DIR]
# The build is scripts/build-deb.sh's: a .deb built before from the same working tree (in CACHE_DIR,
# default a temporary directory) is reused, not built again.
# Exit 0 pass, 1 fail, 77 skipped (no dpkg-buildpackage, dpkg-deb, lintian or build
# dependencies). HFT_TEST_KEEP_DEB=DIR copies the built .deb to DIR; HFT_TEST_DEB=FILE checks
# that .deb (built before, e.g. by dpkg-buildpackage in CI) instead of building one.
set -euo pipefail

src=${1:?usage: deb_package_test.sh SOURCE_ROOT [CACHE_DIR]}
failures=0

skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

prebuilt=${HFT_TEST_DEB:-}
if [[ -z $prebuilt ]]; then
  command -v dpkg-buildpackage >/dev/null ||
    skip "no dpkg-buildpackage (packages dpkg-dev, debhelper: scripts/install-deps.sh)"
fi
for t in dpkg-deb dpkg-checkbuilddeps lintian tar; do
  command -v "$t" >/dev/null || skip "no $t (scripts/install-deps.sh installs it)"
done
if [[ ! -f $src/debian/control ]]; then
  echo "FAIL: no debian/control in $src"
  exit 1
fi

tmp=$(mktemp -d /tmp/hft-deb-test.XXXXXX)
cache=${2:-$tmp/cache}
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n $prebuilt ]]; then
  [[ -f $prebuilt ]] || {
    echo "FAIL: HFT_TEST_DEB=$prebuilt is not a file"
    exit 1
  }
  deb=$prebuilt
  echo "checking $deb (HFT_TEST_DEB; not building)"
else
  # scripts/build-deb.sh: dpkg-buildpackage on a copy of the working tree, or the .deb it built
  # before from the same tree (CACHE_DIR, shared with deb_lifecycle_test.sh).
  rc=0
  deb=$(bash "$src/scripts/build-deb.sh" "$src" "$cache" | tail -n 1) || rc=$?
  case $rc in
  0) ;;
  77) skip "no package built (scripts/build-deb.sh above)" ;;
  *)
    fail "building the package failed (scripts/build-deb.sh exited $rc)"
    exit 1
    ;;
  esac
  pass "dpkg-buildpackage -b built $(basename "$deb")"
  if [[ -n ${HFT_TEST_KEEP_DEB:-} ]]; then
    mkdir -p "$HFT_TEST_KEEP_DEB"
    cp "$deb" "$HFT_TEST_KEEP_DEB/"
  fi
fi

# ------------------------------------------------------------------ control data
info=$(dpkg-deb -I "$deb")
grep -q '^ Package: hft$' <<<"$info" || fail "control: Package is not hft"
grep -q '^ Version: 0\.1\.0-1$' <<<"$info" || fail "control: Version is not 0.1.0-1"
grep -q '^ Depends: .*libspdlog' <<<"$info" || fail "control: Depends has no shlibs (libspdlog)"
pass "dpkg-deb -I: Package hft, Version 0.1.0-1, shared-library Depends"

mkdir "$tmp/ctrl"
dpkg-deb --ctrl-tarfile "$deb" | tar -C "$tmp/ctrl" -xf -
for c in /etc/hft/hftd.toml /etc/hft/exchange-sim.toml /etc/logrotate.d/hft-monitor; do
  grep -qx "$c" "$tmp/ctrl/conffiles" 2>/dev/null || fail "conffiles: $c is not a conffile"
done
pass "conffiles: $(tr '\n' ' ' <"$tmp/ctrl/conffiles")"
# The users and directories are made at install (before the units could start), and the units
# are neither enabled nor started by the package.
grep -q 'systemd-sysusers' "$tmp/ctrl/postinst" || fail "postinst does not run systemd-sysusers"
grep -q 'systemd-tmpfiles' "$tmp/ctrl/postinst" || fail "postinst does not run systemd-tmpfiles"
# dh_installsystemd --no-enable re-enables only what was enabled before ("debian-installed");
# --no-start leaves out deb-systemd-invoke start/restart.
grep -q 'deb-systemd-helper debian-installed' "$tmp/ctrl/postinst" ||
  fail "postinst enables the units on a first install (not dh_installsystemd --no-enable)"
grep -q 'deb-systemd-invoke' "$tmp/ctrl/postinst" && fail "postinst starts or restarts a unit"
grep -q 'deb-systemd-invoke stop' "$tmp/ctrl/prerm" 2>/dev/null || fail "prerm does not stop the units"
# Purge takes the logs (Debian policy 10.8) and the simulator's state, never the sessions.
grep -q 'rm -rf "${DPKG_ROOT:-}/var/log/hft"' "$tmp/ctrl/postrm" 2>/dev/null ||
  fail "postrm does not delete /var/log/hft on purge"
grep -q 'rm -rf.*/var/lib/hft\b' "$tmp/ctrl/postrm" && fail "postrm deletes /var/lib/hft (the sessions)"
grep -q 'deb-systemd-helper purge' "$tmp/ctrl/postrm" || fail "postrm lacks dh_installsystemd's purge"
pass "maintainer scripts: sysusers and tmpfiles at install, no unit enabled or started, stop on remove, logs purged"

# ------------------------------------------------------------------ contents
contents=$(dpkg-deb -c "$deb" | awk '{print $NF}')
for f in ./usr/bin/hftd ./usr/bin/hftctl ./usr/bin/exchange-sim \
  ./lib/systemd/system/hft.target ./lib/systemd/system/hftd.service \
  ./lib/systemd/system/hft-exchange-sim.service ./lib/systemd/system/hft-monitor.service \
  ./usr/lib/sysusers.d/hft.conf ./usr/lib/tmpfiles.d/hft.conf \
  ./usr/share/man/man8/hftd.8.gz ./usr/share/man/man1/hftctl.1.gz \
  ./usr/share/man/man1/exchange-sim.1.gz \
  ./etc/hft/hftd.toml ./etc/hft/exchange-sim.toml ./etc/logrotate.d/hft-monitor \
  ./usr/share/hft/scripts/collect_data.sh ./usr/share/hft/scripts/lib.sh \
  ./usr/share/hft/cores.conf.example ./usr/share/doc/hft/copyright; do
  grep -qxF "$f" <<<"$contents" || fail "dpkg-deb -c: no $f"
done
pass "dpkg-deb -c: programs, units, sysusers/tmpfiles, man pages, configuration, scripts"

# The packaged files work: the programs run, the units point at /usr, the man pages render.
mkdir "$tmp/root"
dpkg-deb -x "$deb" "$tmp/root"
for p in hftd hftctl exchange-sim; do
  v=$("$tmp/root/usr/bin/$p" --version 2>&1) || fail "$p --version failed: $v"
  grep -q '0\.1\.0' <<<"$v" || fail "$p --version does not say 0.1.0: $v"
done
pass "the packaged hftd, hftctl and exchange-sim run (--version)"
grep -q '^ExecStart=/usr/bin/hftd --config /etc/hft/hftd.toml' \
  "$tmp/root/lib/systemd/system/hftd.service" || fail "hftd.service does not run /usr/bin/hftd"
if command -v man >/dev/null; then
  for m in man8/hftd.8 man1/hftctl.1 man1/exchange-sim.1; do
    out=$(man -l "$tmp/root/usr/share/man/$m.gz" 2>/dev/null | head -n 5)
    grep -q NAME <<<"$out" || fail "man -l $m.gz shows no NAME section"
  done
  pass "man pages render"
fi

# ------------------------------------------------------------------ lintian
lintian_out=$(lintian --fail-on error "$deb" 2>&1) || fail "lintian reports errors"
echo "lintian:"
echo "${lintian_out:-  (nothing)}"
grep -q '^E: ' <<<"$lintian_out" && fail "lintian: an E: tag"
[[ $failures -eq 0 ]] && pass "lintian: no errors"

if [[ $failures -ne 0 ]]; then
  echo "deb_package: $failures failure(s)"
  exit 1
fi
echo "deb_package: all checks passed"
