# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# fixtures.sh: fake /etc, /proc, /sys trees and a small assertion kit for the scripts/ tests.
# Sourced by tests/scripts/*_test.sh; the trees live under a mktemp dir the test removes on exit.

# ---------------------------------------------------------------------------- assertions
T_PASSED=0
T_FAILED=0

ok() {
  T_PASSED=$((T_PASSED + 1))
  printf 'ok     %s\n' "$1"
}

not_ok() {
  T_FAILED=$((T_FAILED + 1))
  printf 'NOT OK %s\n' "$1"
  if [[ $# -gt 1 ]]; then printf '       %s\n' "${@:2}"; fi
}

expect_eq() { # WHAT GOT WANT
  if [[ $2 == "$3" ]]; then ok "$1"; else not_ok "$1" "want: $3" "got:  $2"; fi
}

expect_contains() { # WHAT HAYSTACK NEEDLE
  if [[ $2 == *"$3"* ]]; then ok "$1"; else not_ok "$1" "want text containing: $3" "got: $2"; fi
}

expect_not_contains() { # WHAT HAYSTACK NEEDLE
  if [[ $2 != *"$3"* ]]; then ok "$1"; else not_ok "$1" "want no: $3" "got: $2"; fi
}

expect_file() { # WHAT FILE WANT-CONTENT (trailing newline ignored)
  if [[ ! -e $2 ]]; then not_ok "$1" "missing file $2"; return; fi
  expect_eq "$1" "$(<"$2")" "$3"
}

finish() {
  printf '\n%d passed, %d failed\n' "$T_PASSED" "$T_FAILED"
  if ((T_FAILED > 0 || T_PASSED == 0)); then exit 1; fi
  exit 0
}

# w FILE CONTENT: write one fixture file, creating its directory.
w() {
  mkdir -p "${1%/*}"
  printf '%s\n' "$2" >"$1"
}

# ---------------------------------------------------------------------------- trees
# Both trees model an 8-CPU, one-node machine; hftd's cores are 6 and 7.
readonly FIX_NCPU=8
readonly TUNED_CMDLINE='BOOT_IMAGE=/boot/vmlinuz root=UUID=0f1e ro quiet isolcpus=managed_irq,domain,6,7 nohz_full=6,7 rcu_nocbs=6,7 irqaffinity=0-5 hugepagesz=1G hugepages=8'
readonly FIX_IRQS='0 1 8 9 24 25 26'

_common_tree() {
  local r=$1 c
  w "$r/sys/devices/system/cpu/present" 0-7
  w "$r/sys/devices/system/cpu/possible" 0-7
  w "$r/sys/devices/system/cpu/online" 0-7
  w "$r/sys/devices/system/node/node0/cpulist" 0-7
  for ((c = 0; c < FIX_NCPU; c++)); do mkdir -p "$r/sys/devices/system/cpu/cpu$c/topology"; done
  w "$r/proc/1/comm" systemd
  w "$r/etc/default/grub" 'GRUB_DEFAULT=0
GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"
GRUB_CMDLINE_LINUX=""'
}

# set_hugepages ROOT SIZE_KB TOTAL FREE: system-wide and node0 counts.
set_hugepages() {
  local r=$1 kb=$2
  w "$r/sys/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages" "$3"
  w "$r/sys/kernel/mm/hugepages/hugepages-${kb}kB/free_hugepages" "$4"
  w "$r/sys/devices/system/node/node0/hugepages/hugepages-${kb}kB/nr_hugepages" "$3"
  w "$r/sys/devices/system/node/node0/hugepages/hugepages-${kb}kB/free_hugepages" "$4"
}

# make_tuned_tree ROOT: every verify_system.sh check passes for cores 6,7.
make_tuned_tree() {
  local r=$1 c i u
  _common_tree "$r"
  w "$r/proc/cmdline" "$TUNED_CMDLINE"
  w "$r/sys/devices/system/cpu/isolated" 6-7
  w "$r/sys/devices/system/cpu/nohz_full" 6-7
  w "$r/sys/devices/system/cpu/smt/control" off
  for ((c = 0; c < FIX_NCPU; c++)); do
    w "$r/sys/devices/system/cpu/cpu$c/topology/thread_siblings_list" "$c"
    w "$r/sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor" performance
  done
  set_hugepages "$r" 1048576 8 8
  set_hugepages "$r" 2048 512 512
  w "$r/sys/kernel/mm/transparent_hugepage/enabled" 'always madvise [never]'
  w "$r/sys/kernel/mm/transparent_hugepage/defrag" 'always defer defer+madvise madvise [never]'
  for i in $FIX_IRQS; do w "$r/proc/irq/$i/smp_affinity_list" 0-5; done
  w "$r/proc/irq/default_smp_affinity" 3f
  w "$r/sys/devices/virtual/workqueue/cpumask" 3f
  w "$r/etc/default/irqbalance" '#IRQBALANCE_ONESHOT=
IRQBALANCE_BANNED_CPULIST=6,7'
  w "$r/proc/412/comm" irqbalance # running, with the ban
  w "$r/proc/swaps" 'Filename				Type		Size		Used		Priority'
  w "$r/proc/sys/kernel/numa_balancing" 0
  w "$r/proc/sys/kernel/timer_migration" 0
  w "$r/sys/devices/system/clocksource/clocksource0/current_clocksource" tsc
  for u in hftd hftctl exchange-sim; do
    w "$r/opt/hft/bin/$u" '#!/bin/sh'
    chmod 0755 "$r/opt/hft/bin/$u"
  done
  for u in hftd.service hft-exchange-sim.service hft-monitor.service hft.target; do
    w "$r/etc/systemd/system/$u" '[Unit]'
  done
}

# make_untuned_tree ROOT: a stock install; every check is at its worst.
make_untuned_tree() {
  local r=$1 c i
  _common_tree "$r"
  w "$r/proc/cmdline" 'BOOT_IMAGE=/boot/vmlinuz root=UUID=0f1e ro quiet splash'
  w "$r/sys/devices/system/cpu/isolated" ''
  w "$r/sys/devices/system/cpu/nohz_full" '(null)'
  w "$r/sys/devices/system/cpu/smt/control" on
  for ((c = 0; c < FIX_NCPU; c++)); do # cpuN and cpuN+4 share a physical core
    w "$r/sys/devices/system/cpu/cpu$c/topology/thread_siblings_list" "$((c % 4)),$((c % 4 + 4))"
    w "$r/sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor" powersave
  done
  set_hugepages "$r" 1048576 0 0
  set_hugepages "$r" 2048 0 0
  w "$r/sys/kernel/mm/transparent_hugepage/enabled" '[always] madvise never'
  w "$r/sys/kernel/mm/transparent_hugepage/defrag" 'always defer defer+madvise [madvise] never'
  for i in $FIX_IRQS; do w "$r/proc/irq/$i/smp_affinity_list" 0-7; done
  w "$r/proc/irq/default_smp_affinity" ff
  w "$r/sys/devices/virtual/workqueue/cpumask" ff
  w "$r/etc/default/irqbalance" '#IRQBALANCE_ONESHOT=
#IRQBALANCE_BANNED_CPULIST='
  w "$r/proc/412/comm" irqbalance # running, no ban
  w "$r/proc/swaps" 'Filename				Type		Size		Used		Priority
/swap.img                               file		2097148		0		-2'
  w "$r/proc/sys/kernel/numa_balancing" 1
  w "$r/proc/sys/kernel/timer_migration" 1
  w "$r/sys/devices/system/clocksource/clocksource0/current_clocksource" hpet
}

# tree_state ROOT: a fingerprint of every path, mode, mtime and content, to prove a run wrote nothing.
tree_state() {
  (cd "$1" && find . -printf '%p %m %T@ %s\n' | sort && find . -type f -exec md5sum {} + | sort)
}
