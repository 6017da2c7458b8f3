#!/bin/bash
# SPDX-License-Identifier: MIT
# `systemd-analyze verify` on the units as installed: `meson install` into a temporary DESTDIR,
# then verify there with --root, so ExecStart= paths and dependencies resolve as they will on
# the target. Any message at all fails the test (verify exits 0 on unknown keys). Then prints
# `systemd-analyze security` for each service: recorded, not judged (docs/security.md).
#
#   verify-units.sh BUILD_DIR          (env: HFT_UNITDIR, set by tests/systemd/meson.build)
set -euo pipefail

build=${1:?usage: verify-units.sh BUILD_DIR}
: "${HFT_UNITDIR:?}"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found (package systemd)" >&2; exit 1; }

root=$(mktemp -d "${TMPDIR:-/tmp}/hft-verify-units.XXXXXX")
trap 'rm -rf "$root"' EXIT
"${MESON:-meson}" install -C "$build" --destdir "$root" --no-rebuild --quiet >"$root/.install.log" 2>&1 ||
  { cat "$root/.install.log" >&2; echo "meson install into $root failed" >&2; exit 1; }

# What the units reference from the system: the vendor units (sysinit.target, ...), copied
# without replacing ours, /bin/kill of ExecReload=, and the monitor's /bin/ln and /usr/bin/find.
mkdir -p "$root/usr/lib/systemd/system" "$root/bin"
cp -a -n /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/"
cp /bin/kill /bin/ln "$root/bin/"
mkdir -p "$root/usr/bin"
cp /usr/bin/find "$root/usr/bin/find"

units=()
for u in hftd.service hft-exchange-sim.service hft-monitor.service hft.target; do
  [[ -f $root$HFT_UNITDIR/$u ]] || { echo "$u was not installed into $HFT_UNITDIR" >&2; exit 1; }
  units+=("$root$HFT_UNITDIR/$u")
done

# As root, systemd-analyze's test manager writes /run/systemd/systemd-units-load: give it a
# private, empty /run so the host's is never touched.
analyze() {
  if [[ $(id -u) -eq 0 ]]; then
    unshare --mount --propagation private -- sh -c \
      'mount -t tmpfs -o mode=0755 hft-verify-run /run && exec "$@"' sh systemd-analyze "$@"
  else
    systemd-analyze "$@"
  fi
}

rc=0
out=$(analyze verify --root="$root" "${units[@]}" 2>&1) || rc=$?
if ((rc != 0)) || [[ -n $out ]]; then
  echo "systemd-analyze verify (exit $rc):" >&2
  echo "${out//$root/}" >&2
  exit 1
fi
echo "systemd-analyze verify: hftd.service hft-exchange-sim.service hft-monitor.service hft.target: clean"

for u in hftd.service hft-exchange-sim.service hft-monitor.service; do
  echo
  echo "== systemd-analyze security $u"
  analyze security --offline=yes --root="$root" --no-pager "$root$HFT_UNITDIR/$u" 2>&1 |
    grep -E '^(✗|→)' | sed -E 's/ {2,}/  /g' || true
done
