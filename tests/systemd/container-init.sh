#!/bin/bash
# SPDX-License-Identifier: MIT
# PID 1 of the systemd tests' fresh pid/mount/net/uts/ipc/cgroup namespaces (started through
# unshare by container_boot in container-lib.sh, for run-systemd-test.sh and
# tests/tools/systemd_flow_test.sh): builds a throw-away root and execs systemd in it.
#
#   container-init.sh STATE_DIR TEST_TARGET_FILE
#
# The root is an overlay of the host's / whose upper layer lives on a tmpfs mounted in this
# mount namespace only, so every write (installed files, users, journals) vanishes with it and
# the host's files are never modified. /proc/sys, /proc/sysrq-trigger and /sys are read-only
# (systemd's container interface), /run, /tmp, /var/tmp and /dev are fresh tmpfs, and the host's
# enabled units and all generators are masked: systemd boots straight into hft-test.target.
set -euo pipefail

state=${1:?usage: container-init.sh STATE_DIR TEST_TARGET_FILE}
target_file=${2:?usage: container-init.sh STATE_DIR TEST_TARGET_FILE}

die() { echo "container-init: $*" >&2; exit 1; }
[[ $$ -eq 1 ]] || die "must run as PID 1 of a new pid namespace (started by container-lib.sh)"
[[ -d $state/fs ]] || die "$state/fs is missing"

# shellcheck source-path=SCRIPTDIR source=throwaway-root.sh
source "$(dirname "${BASH_SOURCE[0]}")/throwaway-root.sh"
throwaway_root "$state" hft-systemd-test
# The cgroup namespace is rooted at the cgroup the harness made for us: systemd sees it as /.
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$root/sys/fs/cgroup"

# The console is a log file the harness can read (and prints when a step fails).
touch "$root/dev/console"
mount --bind "$state/console.log" "$root/dev/console"

# systemd configuration, all in the overlay's upper layer.
etc=$root/etc/systemd/system
mkdir -p "$etc" "$root/etc/systemd/system-generators" "$root/etc/systemd/journald.conf.d"
install -m 0644 "$target_file" "$etc/hft-test.target"
ln -sfn hft-test.target "$etc/default.target"
# No generator runs (fstab, getty, sysv scripts, the host's own like postgresql's).
for g in /usr/lib/systemd/system-generators/* /lib/systemd/system-generators/* \
         /etc/systemd/system-generators/* /usr/local/lib/systemd/system-generators/*; do
  [[ -e $g ]] && ln -sfn /dev/null "$root/etc/systemd/system-generators/${g##*/}"
done
# Mask every unit that anything wants or requires (the host's enabled units and the vendor
# boot set) except the journal, plus the units that touch global kernel state or the clock.
keep=" systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket "
mask=(systemd-sysctl.service systemd-modules-load.service systemd-binfmt.service
  systemd-remount-fs.service systemd-random-seed.service systemd-tmpfiles-setup.service
  systemd-tmpfiles-setup-dev.service systemd-tmpfiles-clean.service systemd-tmpfiles-clean.timer
  systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
  systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service
  systemd-timesyncd.service systemd-time-wait-sync.service systemd-firstboot.service
  systemd-machine-id-commit.service systemd-update-utmp.service systemd-logind.service
  systemd-journal-flush.service systemd-pstore.service systemd-sysusers.service
  proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount sys-kernel-config.mount
  sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount
  dev-hugepages.mount dev-mqueue.mount kmod-static-nodes.service ldconfig.service
  getty.target console-getty.service dbus.socket dbus.service)
while IFS= read -r -d '' link; do
  mask+=("${link##*/}")
done < <(find "$root/etc/systemd/system" "$root/usr/lib/systemd/system" \
  "$root/usr/local/lib/systemd/system" \( -path '*.wants/*' -o -path '*.requires/*' \) \
  -print0 2>/dev/null)
for unit in "${mask[@]}"; do
  [[ $keep == *" $unit "* ]] || ln -sfn /dev/null "$etc/$unit"
done
# The journal stays in this namespace's /run; the host's /var/log/journal is not written.
printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\n' \
  > "$root/etc/systemd/journald.conf.d/hft-test.conf"
tr -d '-' < /proc/sys/kernel/random/uuid > "$root/etc/machine-id"
hostname hft-systemd-test
echo hft-systemd-test > "$root/etc/hostname"

throwaway_enter

# Capabilities nothing in the test needs and that reach past the namespaces (modules, clock,
# raw I/O, kernel log, alarms) leave the bounding set before systemd starts.
exec setpriv --bounding-set -sys_module,-sys_time,-sys_rawio,-syslog,-wake_alarm,-block_suspend,-mac_admin,-mac_override,-sys_pacct \
  env -i container=hft-systemd-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  /lib/systemd/systemd --system systemd.unit=hft-test.target systemd.show_status=false \
  </dev/null
