#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# setup_kernel_test.sh: scripts/setup_kernel.sh against fake trees only (never --root /): the GRUB
# drop-in, idempotence, --dry-run, --revert, the systemd-boot path, --runtime and bad input.
# Usage: setup_kernel_test.sh SOURCE_ROOT
# The expected GRUB lines hold a literal $GRUB_CMDLINE_LINUX_DEFAULT.
# shellcheck disable=SC2016
set -uo pipefail

SRC=${1:?usage: $0 SOURCE_ROOT}
SETUP=$SRC/scripts/setup_kernel.sh
VERIFY=$SRC/scripts/verify_system.sh
# shellcheck source-path=SCRIPTDIR
# shellcheck source=fixtures.sh
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/setup_kernel_test.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT

OUT=''
RC=''
# run TREE [ARGS...]: setup_kernel.sh on a fake tree; stdout+stderr in OUT, exit code in RC.
run() {
  local tree=$1
  shift
  case $tree in
    "$WORK"/?*) ;;
    *) echo "refusing to run setup_kernel.sh outside $WORK: $tree" >&2; exit 1 ;;
  esac
  OUT=$("$SETUP" --root "$tree" "$@" 2>&1)
  RC=$?
}

# fresh NAME: a new untuned tree (8 CPUs, GRUB) under WORK; prints its path.
fresh() {
  make_untuned_tree "$WORK/$1"
  printf '%s' "$WORK/$1"
}

# stamp FILE: inode, mtime (ns) and checksum: a rewrite of identical content still changes it.
stamp() { printf '%s %s' "$(stat -c '%i %y' "$1")" "$(md5sum <"$1")"; }

grub_line() { grep -v '^#' "$1"; }

GRUB_LINE='GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT isolcpus=managed_irq,domain,6,7 nohz_full=6,7 rcu_nocbs=6,7 irqaffinity=0-5 hugepagesz=1G hugepages=8"'

echo "# GRUB: writes one drop-in with exactly the expected parameters"
t=$(fresh grub)
dropin=$t/etc/default/grub.d/99-hft.cfg
grub_before=$(stamp "$t/etc/default/grub")
run "$t"
expect_eq "first run exits 0" "$RC" 0
expect_eq "drop-in holds exactly one setting, with the defaults (cores 6,7; 8 x 1G)" \
  "$(grub_line "$dropin")" "$GRUB_LINE"
expect_contains "drop-in opens with a header comment" "$(head -n1 "$dropin")" "# Written by hft scripts/setup_kernel.sh"
expect_eq "drop-in mode is 0644" "$(stat -c %a "$dropin")" 644
expect_eq "/etc/default/grub itself is untouched" "$(stamp "$t/etc/default/grub")" "$grub_before"
expect_contains "update-grub is only printed under a fake root" "$OUT" "would run: update-grub"
expect_contains "says a reboot is required" "$OUT" "REBOOT REQUIRED"
expect_eq "no temporary file left behind" "$(find "$t/etc/default/grub.d" -name '.hft-tmp*' | wc -l)" 0

echo "# GRUB: a second run changes nothing and says so"
before=$(stamp "$dropin")
run "$t"
expect_eq "second run exits 0" "$RC" 0
expect_contains "second run reports no change" "$OUT" "no change"
expect_not_contains "second run asks for no reboot" "$OUT" "REBOOT REQUIRED"
expect_not_contains "second run runs no update-grub" "$OUT" "update-grub"
expect_eq "second run leaves inode, mtime and content alone" "$(stamp "$dropin")" "$before"

echo "# GRUB: --dry-run prints a unified diff and changes nothing"
run "$t" --dry-run --cores 2-4 --hugepages 2
expect_eq "dry run exits 0" "$RC" 0
expect_contains "dry run diff removes the old line" "$OUT" "-$GRUB_LINE"
expect_contains "dry run diff adds the new line (2-4, housekeeping 0,1,5-7, 2 pages)" "$OUT" \
  '+GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT isolcpus=managed_irq,domain,2-4 nohz_full=2-4 rcu_nocbs=2-4 irqaffinity=0,1,5-7 hugepagesz=1G hugepages=2"'
expect_contains "dry run output is a unified diff" "$OUT" "+++ $dropin (new)"
expect_eq "dry run leaves the drop-in alone" "$(stamp "$dropin")" "$before"
t2=$(fresh grub_dry)
run "$t2" --dry-run
expect_contains "dry run on a clean tree shows the whole new file" "$OUT" "+$GRUB_LINE"
expect_eq "dry run on a clean tree creates nothing" "$(find "$t2/etc/default" -newer "$t2/proc/cmdline" -path '*grub.d*' | wc -l)" 0
if [[ -e $t2/etc/default/grub.d ]]; then not_ok "dry run created grub.d"; else ok "dry run created no grub.d"; fi

echo "# GRUB: options change the parameters"
run "$t" --cores 2-3 --housekeeping 0,1 --hugepages 0
expect_eq "--cores 2-3 --housekeeping 0,1 --hugepages 0" "$(grub_line "$dropin")" \
  'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT isolcpus=managed_irq,domain,2,3 nohz_full=2,3 rcu_nocbs=2,3 irqaffinity=0,1"'
expect_contains "a changed drop-in asks for a reboot" "$OUT" "REBOOT REQUIRED"
run "$t" --cores=6,7 --hugepages=8
expect_eq "--opt=value forms work and bring the defaults back" "$(grub_line "$dropin")" "$GRUB_LINE"

echo "# GRUB: --revert removes the drop-in"
run "$t" --revert --dry-run
expect_contains "revert dry run shows the removal" "$OUT" "-$GRUB_LINE"
if [[ -e $dropin ]]; then ok "revert dry run keeps the drop-in"; else not_ok "revert dry run keeps the drop-in"; fi
run "$t" --revert
expect_eq "revert exits 0" "$RC" 0
if [[ -e $dropin ]]; then not_ok "revert removes the drop-in"; else ok "revert removes the drop-in"; fi
expect_contains "revert runs update-grub (printed)" "$OUT" "would run: update-grub"
expect_contains "revert asks for a reboot" "$OUT" "REBOOT REQUIRED"
run "$t" --revert
expect_contains "a second revert has nothing to do" "$OUT" "nothing to revert"
expect_not_contains "a second revert runs no update-grub" "$OUT" "update-grub"

echo "# systemd-boot / kernel-install: edits /etc/kernel/cmdline in place"
t=$(fresh sdboot)
kc=$t/etc/kernel/cmdline
w "$kc" 'root=UUID=0f1e rw quiet isolcpus=3 hugepagesz=2M hugepages=64 splash'
run "$t"
expect_eq "systemd-boot run exits 0" "$RC" 0
expect_file "old isolcpus replaced in place, 2M reservation and the rest kept" "$kc" \
  'root=UUID=0f1e rw quiet isolcpus=managed_irq,domain,6,7 nohz_full=6,7 rcu_nocbs=6,7 irqaffinity=0-5 hugepagesz=1G hugepages=8 hugepagesz=2M hugepages=64 splash'
if [[ -e $t/etc/default/grub.d/99-hft.cfg ]]; then not_ok "no GRUB drop-in on systemd-boot"; else ok "no GRUB drop-in on systemd-boot"; fi
expect_not_contains "no update-grub on systemd-boot" "$OUT" "update-grub"
expect_contains "names kernel-install as the next step" "$OUT" "kernel-install add"
before=$(stamp "$kc")
run "$t"
expect_contains "second systemd-boot run reports no change" "$OUT" "no change"
expect_eq "second systemd-boot run leaves the file alone" "$(stamp "$kc")" "$before"
run "$t" --cores 5 --hugepages 4
expect_file "re-run with other cores replaces, never duplicates" "$kc" \
  'root=UUID=0f1e rw quiet isolcpus=managed_irq,domain,5 nohz_full=5 rcu_nocbs=5 irqaffinity=0-4,6,7 hugepagesz=1G hugepages=4 hugepagesz=2M hugepages=64 splash'
run "$t" --revert
expect_file "revert removes only the hft parameters" "$kc" 'root=UUID=0f1e rw quiet hugepagesz=2M hugepages=64 splash'
t=$(fresh sdboot_append)
w "$t/etc/kernel/cmdline" 'root=UUID=0f1e rw'
run "$t" --hugepages 0
expect_file "parameters are appended when there were none" "$t/etc/kernel/cmdline" \
  'root=UUID=0f1e rw isolcpus=managed_irq,domain,6,7 nohz_full=6,7 rcu_nocbs=6,7 irqaffinity=0-5'

echo "# --runtime writes the expected values into the fake /proc and /sys"
t=$(fresh runtime)
mkdir -p "$t/proc/irq/11/smp_affinity_list" # a directory: the write is refused, like a per-CPU IRQ
before_state=$(tree_state "$t")
run "$t" --runtime --dry-run
expect_eq "runtime dry run exits 0" "$RC" 0
expect_contains "runtime dry run shows what it would write" "$OUT" "WOULD thp enabled"
expect_eq "runtime dry run changes nothing" "$(tree_state "$t")" "$before_state"
run "$t" --runtime
expect_eq "runtime exits 0 (a refused IRQ is not a failure)" "$RC" 0
expect_file "THP enabled = never" "$t/sys/kernel/mm/transparent_hugepage/enabled" never
expect_file "THP defrag = never" "$t/sys/kernel/mm/transparent_hugepage/defrag" never
expect_file "numa_balancing = 0" "$t/proc/sys/kernel/numa_balancing" 0
expect_file "timer_migration = 0" "$t/proc/sys/kernel/timer_migration" 0
expect_eq "every governor = performance" \
  "$(cat "$t"/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor | sort -u)" performance
expect_file "irqbalance bans 6,7; comments kept" "$t/etc/default/irqbalance" \
  $'#IRQBALANCE_ONESHOT=\n#IRQBALANCE_BANNED_CPULIST=\nIRQBALANCE_BANNED_CPULIST=6,7'
expect_contains "irqbalance restart is only printed" "$OUT" "would run: systemctl try-restart irqbalance.service"
expect_eq "every IRQ affinity = 0-5" \
  "$(cat "$t"/proc/irq/[0-9]*/smp_affinity_list 2>/dev/null | sort -u)" 0-5
expect_contains "the refused IRQ is counted" "$OUT" "1 refused"
expect_file "default_smp_affinity = 3f" "$t/proc/irq/default_smp_affinity" 3f
expect_file "workqueue cpumask = 3f" "$t/sys/devices/virtual/workqueue/cpumask" 3f
for label in "thp enabled" "thp defrag" numa_balancing timer_migration "cpu governor" irqbalance \
  "irq affinity" default_smp_affinity "workqueue cpumask"; do
  expect_contains "step printed: $label" "$OUT" "SET   $label"
done
before=$(stamp "$t/etc/default/irqbalance")
run "$t" --runtime
expect_eq "second runtime run leaves /etc/default/irqbalance alone" "$(stamp "$t/etc/default/irqbalance")" "$before"
expect_contains "second runtime run reports the ban as already there" "$OUT" "OK    irqbalance"
expect_not_contains "second runtime run restarts nothing" "$OUT" "try-restart"

echo "# --runtime: the result passes verify_system.sh"
vout=$("$VERIFY" --root "$t" 2>/dev/null)
for check in thp irq_affinity default_smp_affinity irqbalance cpu_governor numa_balancing timer_migration; do
  expect_eq "verify after --runtime: $check PASS" "$(awk -v n="$check" '$2 == n { print $1 }' <<<"$vout")" PASS
done

echo "# --runtime: missing files are a SKIP, not a failure"
t=$(fresh runtime_skip)
rm -r "$t/sys/devices/virtual/workqueue" "$t"/sys/devices/system/cpu/cpu*/cpufreq "$t/etc/default/irqbalance"
run "$t" --runtime
expect_eq "runtime with missing files exits 0" "$RC" 0
expect_contains "missing workqueue cpumask is a SKIP" "$OUT" "SKIP  workqueue cpumask"
expect_contains "missing cpufreq is a SKIP" "$OUT" "SKIP  cpu governor"
expect_contains "missing irqbalance config is a SKIP" "$OUT" "SKIP  irqbalance"

echo "# bad input exits 2 with a message"
t=$(fresh bad)
before_state=$(tree_state "$t")
bad() { # WHAT WANT-TEXT ARGS...
  local what=$1 want=$2
  shift 2
  run "$t" "$@"
  expect_eq "$what exits 2" "$RC" 2
  expect_contains "$what: message says '$want'" "$OUT" "$want"
}
bad "--cores 6,x" "--cores '6,x' is not a CPU list" --cores 6,x
bad "--cores 7-6" "e.g. --cores 6,7" --cores 7-6
bad "--cores ''" "--cores needs a value" --cores ''
bad "--cores 9 (not present)" "core 9 is not present (present: 0-7" --cores 9
bad "--cores 0-7 (no housekeeping left)" "no housekeeping core left" --cores 0-7
bad "--housekeeping overlapping --cores" "core 6 is in both" --housekeeping 0-6
bad "--hugepages -1" "--hugepages '-1' is not a count" --hugepages -1
bad "--revert --runtime" "do not combine" --revert --runtime
bad "an unknown option" "unknown argument '--force'" --force
bad "--root that does not exist" "is not a directory" --root "$WORK/nope"
expect_eq "bad input wrote nothing" "$(tree_state "$t")" "$before_state"
t=$(fresh noboot)
rm "$t/etc/default/grub"
run "$t"
expect_eq "no GRUB and no /etc/kernel/cmdline exits 1" "$RC" 1
expect_contains "... and prints the parameters to add by hand" "$OUT" "add by hand: isolcpus=managed_irq,domain,6,7"
OUT=$("$SETUP" --help)
expect_contains "--help shows usage" "$OUT" "Usage: setup_kernel.sh"

finish
