#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# verify_system_test.sh: every check of scripts/verify_system.sh passes on a tuned fake tree and
# fails (or warns) on a broken one; exit codes, --json, --config; one read-only run on this machine.
# Usage: verify_system_test.sh SOURCE_ROOT
set -uo pipefail

SRC=${1:?usage: $0 SOURCE_ROOT}
VERIFY=$SRC/scripts/verify_system.sh
PY=/usr/bin/python3
# shellcheck source-path=SCRIPTDIR
# shellcheck source=fixtures.sh
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/verify_system_test.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
TUNED=$WORK/tuned
make_tuned_tree "$TUNED"

OUT=''
RC=''
# run TREE [ARGS...]: verify_system.sh against a fake tree; stdout in OUT, exit code in RC.
run() {
  local tree=$1
  shift
  OUT=$("$VERIFY" --root "$tree" "$@" 2>"$WORK/stderr")
  RC=$?
}

# line NAME: the output line of one check, runs of spaces squeezed to one.
line() { awk -v n="$1" '$2 == n' <<<"$OUT" | tr -s ' '; }

# expect_line NAME "STATUS NAME VALUE": the exact line; non-PASS lines must end in a fix.
expect_line() {
  local got want=$2
  got=$(line "$1")
  if [[ $want == PASS* ]]; then
    expect_eq "$1: $want" "$got" "$want"
  elif [[ $got == "$want fix: "?* ]]; then
    ok "$1: $want (+ fix)"
  else
    not_ok "$1: $want (+ fix)" "want: $want fix: ..." "got:  $got"
  fi
}

# variant NAME: a fresh copy of the tuned tree to break one thing in; prints its path.
variant() {
  rm -rf -- "${WORK:?}/$1"
  cp -a "$TUNED" "$WORK/$1"
  printf '%s' "$WORK/$1"
}

echo "# tuned tree: every check passes, exit 0"
run "$TUNED"
expect_eq "tuned tree exits 0" "$RC" 0
expect_line isolcpus "PASS isolcpus cmdline=6,7 sysfs=6-7"
expect_line nohz_full "PASS nohz_full cmdline=6,7 sysfs=6-7"
expect_line rcu_nocbs "PASS rcu_nocbs cmdline=6,7"
expect_line hugepages_1G "PASS hugepages_1G total=8 free=8 (free/total: node0=8/8)"
expect_line hugepages_2M "PASS hugepages_2M total=512 free=512 (free/total: node0=512/512)"
expect_line thp "PASS thp never"
expect_line irq_affinity "PASS irq_affinity 7 IRQs, none on 6,7"
expect_line default_smp_affinity "PASS default_smp_affinity mask=3f (cpus 0-5)"
expect_line irqbalance "PASS irqbalance running, banned 6,7"
expect_line cpu_governor "PASS cpu_governor performance x8"
expect_line swap "PASS swap none"
expect_line numa_balancing "PASS numa_balancing 0"
expect_line timer_migration "PASS timer_migration 0"
expect_line clocksource "PASS clocksource tsc"
expect_line smt "PASS smt off"
expect_line smt_siblings "PASS smt_siblings cpu6=6 cpu7=7"
expect_line cores_online "PASS cores_online online=0-7, 6,7 present"
expect_line bin:hftd "PASS bin:hftd $TUNED/opt/hft/bin/hftd"
expect_line bin:hftctl "PASS bin:hftctl $TUNED/opt/hft/bin/hftctl"
expect_line bin:exchange-sim "PASS bin:exchange-sim $TUNED/opt/hft/bin/exchange-sim"
expect_line units "PASS units 4 of 4 installed"
expect_eq "tuned tree: 21 checks, all PASS" "$(grep -c '^PASS  ' <<<"$OUT")/$(wc -l <<<"$OUT")" 21/21
expect_eq "every line is 'STATUS  name' in aligned columns" \
  "$(grep -cvE '^(PASS|WARN|FAIL)  [a-z]' <<<"$OUT")" 0

echo "# untuned tree: every check at its worst, exit 1"
UNTUNED=$WORK/untuned
make_untuned_tree "$UNTUNED"
run "$UNTUNED"
expect_eq "untuned tree exits 1" "$RC" 1
expect_line isolcpus "FAIL isolcpus not on cmdline"
expect_line nohz_full "FAIL nohz_full not on cmdline"
expect_line rcu_nocbs "FAIL rcu_nocbs not on cmdline"
expect_line hugepages_1G "FAIL hugepages_1G total=0 free=0 (free/total: node0=0/0)"
expect_line hugepages_2M "WARN hugepages_2M total=0 free=0 (free/total: node0=0/0)"
expect_line thp "FAIL thp always"
expect_line irq_affinity "FAIL irq_affinity 7 of 7 IRQs on 6,7: 0,1,8,9,24,25,26"
expect_line default_smp_affinity "FAIL default_smp_affinity mask=ff (cpus 0-7)"
expect_line irqbalance "FAIL irqbalance running, banned none"
expect_line cpu_governor "WARN cpu_governor powersave x8"
expect_line swap "WARN swap 1 active: /swap.img"
expect_line numa_balancing "WARN numa_balancing 1"
expect_line timer_migration "WARN timer_migration 1"
expect_line clocksource "WARN clocksource hpet"
expect_line smt "WARN smt on"
expect_line smt_siblings "WARN smt_siblings cpu6=2,6 cpu7=3,7"
expect_line bin:hftd "FAIL bin:hftd not found"
expect_line units "WARN units missing hftd.service,hft-exchange-sim.service,hft-monitor.service,hft.target"
expect_contains "missing binary fix names meson install and deploy.sh" "$(line bin:hftctl)" \
  "fix: meson install (or scripts/deploy.sh)"

echo "# one check broken at a time"
t=$(variant isolcpus_misses)
sed -i 's/isolcpus=managed_irq,domain,6,7/isolcpus=domain,2,3/' "$t/proc/cmdline"
run "$t"
expect_line isolcpus "FAIL isolcpus cmdline=2,3 misses 6,7"
t=$(variant isolcpus_pending)
w "$t/sys/devices/system/cpu/isolated" ''
run "$t"
expect_line isolcpus "FAIL isolcpus cmdline=6,7 sysfs=none"
expect_eq "a FAIL alone makes exit 1" "$RC" 1

t=$(variant nohz_off)
w "$t/sys/devices/system/cpu/nohz_full" '(null)'
run "$t"
expect_line nohz_full "FAIL nohz_full cmdline=6,7 sysfs=none"
t=$(variant nohz_unsupported)
rm "$t/sys/devices/system/cpu/nohz_full"
run "$t"
expect_line nohz_full "FAIL nohz_full cmdline=6,7, /sys/devices/system/cpu/nohz_full missing"

t=$(variant rcu_implied)
sed -i 's/ rcu_nocbs=6,7//' "$t/proc/cmdline"
run "$t"
expect_line rcu_nocbs "PASS rcu_nocbs implied by nohz_full=6,7"
t=$(variant rcu_short)
sed -i 's/ rcu_nocbs=6,7/ rcu_nocbs=7/; s/ nohz_full=6,7//' "$t/proc/cmdline"
run "$t"
expect_line rcu_nocbs "FAIL rcu_nocbs cmdline=7 misses 6"
t=$(variant cmdline_init_args)
w "$t/proc/cmdline" "${TUNED_CMDLINE/ isolcpus=managed_irq,domain,6,7/} -- isolcpus=6,7"
run "$t"
expect_line isolcpus "FAIL isolcpus not on cmdline"

t=$(variant hp1g_used)
set_hugepages "$t" 1048576 8 0
run "$t"
expect_line hugepages_1G "WARN hugepages_1G total=8 free=0 (free/total: node0=0/8) all in use"
t=$(variant hp1g_unsupported)
rm -r "$t/sys/kernel/mm/hugepages/hugepages-1048576kB" \
  "$t/sys/devices/system/node/node0/hugepages/hugepages-1048576kB"
run "$t"
expect_line hugepages_1G "FAIL hugepages_1G not supported (no hugepages-1048576kB)"
t=$(variant hp1g_wrong_node)
w "$t/sys/devices/system/node/node0/cpulist" 0-3
w "$t/sys/devices/system/node/node0/hugepages/hugepages-1048576kB/free_hugepages" 8
w "$t/sys/devices/system/node/node1/cpulist" 4-7
w "$t/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages" 0
w "$t/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/free_hugepages" 0
run "$t"
expect_line hugepages_1G \
  "WARN hugepages_1G total=8 free=8 (free/total: node0=8/8 node1=0/0) none free on node1 (cores 6,7)"
t=$(variant hp2m_none)
set_hugepages "$t" 2048 0 0
run "$t"
expect_line hugepages_2M "WARN hugepages_2M total=0 free=0 (free/total: node0=0/0)"
expect_eq "WARNs alone keep exit 0" "$RC" 0

t=$(variant thp_madvise)
w "$t/sys/kernel/mm/transparent_hugepage/enabled" 'always [madvise] never'
run "$t"
expect_line thp "WARN thp madvise"
t=$(variant thp_always)
w "$t/sys/kernel/mm/transparent_hugepage/enabled" '[always] madvise never'
run "$t"
expect_line thp "FAIL thp always"

t=$(variant irq_many)
for i in 30 31 32 33 34 35 36 37 38 39 40 41; do w "$t/proc/irq/$i/smp_affinity_list" 4-7; done
w "$t/proc/irq/27/smp_affinity_list" 7
run "$t"
expect_line irq_affinity "FAIL irq_affinity 13 of 20 IRQs on 6,7: 27,30,31,32,33,34,35,36,37,38 (+3 more)"

t=$(variant default_aff)
w "$t/proc/irq/default_smp_affinity" 00000000,000000ff
run "$t"
expect_line default_smp_affinity "FAIL default_smp_affinity mask=00000000,000000ff (cpus 0-7)"
t=$(variant default_aff_words)
w "$t/proc/irq/default_smp_affinity" 00000000,0000003f
run "$t"
expect_line default_smp_affinity "PASS default_smp_affinity mask=00000000,0000003f (cpus 0-5)"

t=$(variant irqb_stopped)
rm -r "$t/proc/412"
sed -i 's/^IRQBALANCE_BANNED_CPULIST=.*//' "$t/etc/default/irqbalance"
run "$t"
expect_line irqbalance "PASS irqbalance not running"
t=$(variant irqb_auto)
sed -i 's/^IRQBALANCE_BANNED_CPULIST=.*/#&/' "$t/etc/default/irqbalance"
run "$t"
expect_line irqbalance "PASS irqbalance running, no ban, skips isolated 6,7"
t=$(variant irqb_noban)
sed -i 's/^IRQBALANCE_BANNED_CPULIST=.*/#&/' "$t/etc/default/irqbalance"
w "$t/sys/devices/system/cpu/isolated" ''
w "$t/sys/devices/system/cpu/nohz_full" '(null)'
run "$t"
expect_line irqbalance "FAIL irqbalance running, banned none"
t=$(variant irqb_partial)
sed -i 's/^IRQBALANCE_BANNED_CPULIST=.*/IRQBALANCE_BANNED_CPULIST="7"/' "$t/etc/default/irqbalance"
run "$t"
expect_line irqbalance "FAIL irqbalance running, banned 7"
t=$(variant irqb_no_default_file) # irqbalance runs with no /etc/default/irqbalance at all
rm "$t/etc/default/irqbalance"
run "$t"
expect_line irqbalance "PASS irqbalance running, no ban, skips isolated 6,7"
t=$(variant irqb_legacy_mask)
w "$t/etc/default/irqbalance" 'IRQBALANCE_BANNED_CPUS=000000c0'
run "$t"
expect_line irqbalance "PASS irqbalance running, banned 6,7"

t=$(variant gov_mixed)
w "$t/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor" powersave
w "$t/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor" schedutil
run "$t"
expect_line cpu_governor "WARN cpu_governor performance x6, powersave x1, schedutil x1"
t=$(variant gov_vm)
rm -r "$t"/sys/devices/system/cpu/cpu*/cpufreq
run "$t"
expect_line cpu_governor "WARN cpu_governor not exposed (VM?)"

t=$(variant swap_on)
printf '/dev/sda2 partition 8388604 0 -2\n' >>"$t/proc/swaps"
run "$t"
expect_line swap "WARN swap 1 active: /dev/sda2"

t=$(variant numa_on)
w "$t/proc/sys/kernel/numa_balancing" 1
w "$t/proc/sys/kernel/timer_migration" 1
run "$t"
expect_line numa_balancing "WARN numa_balancing 1"
expect_line timer_migration "WARN timer_migration 1"
t=$(variant numa_absent)
rm "$t/proc/sys/kernel/numa_balancing"
run "$t"
expect_line numa_balancing "PASS numa_balancing not present (not built in)"

t=$(variant clock_kvm)
w "$t/sys/devices/system/clocksource/clocksource0/current_clocksource" kvm-clock
run "$t"
expect_line clocksource "WARN clocksource kvm-clock"

t=$(variant smt_on)
w "$t/sys/devices/system/cpu/smt/control" on
w "$t/sys/devices/system/cpu/cpu6/topology/thread_siblings_list" 2,6
run "$t"
expect_line smt "WARN smt on"
expect_line smt_siblings "WARN smt_siblings cpu6=2,6 cpu7=7"
expect_contains "sibling fix names the sibling to leave idle" "$(line smt_siblings)" "leave 2 idle"
t=$(variant smt_notsupported)
w "$t/sys/devices/system/cpu/smt/control" notsupported
run "$t"
expect_line smt "PASS smt notsupported"

t=$(variant offline)
w "$t/sys/devices/system/cpu/online" 0-5
run "$t"
expect_line cores_online "FAIL cores_online online=0-5, 6,7 missing"

t=$(variant bins)
rm "$t/opt/hft/bin/hftd"
chmod 0644 "$t/opt/hft/bin/hftctl"
mv "$t/opt/hft/bin/exchange-sim" "$t/opt/exchange-sim"
mkdir -p "$t/usr/local/bin"
mv "$t/opt/exchange-sim" "$t/usr/local/bin/exchange-sim"
run "$t"
expect_line bin:hftd "FAIL bin:hftd not found"
expect_line bin:hftctl "FAIL bin:hftctl $t/opt/hft/bin/hftctl not executable"
expect_line bin:exchange-sim "PASS bin:exchange-sim $t/usr/local/bin/exchange-sim"
mkdir -p "$WORK/builddir"
for b in hftd hftctl; do
  printf '#!/bin/sh\n' >"$WORK/builddir/$b"
  chmod 0755 "$WORK/builddir/$b"
done
run "$t" --bin-dir "$WORK/builddir"
expect_line bin:hftd "PASS bin:hftd $WORK/builddir/hftd"
expect_line bin:exchange-sim "PASS bin:exchange-sim $t/usr/local/bin/exchange-sim"

t=$(variant units)
rm "$t/etc/systemd/system/hft.target"
mkdir -p "$t/usr/lib/systemd/system"
mv "$t/etc/systemd/system/hftd.service" "$t/usr/lib/systemd/system/"
run "$t"
expect_line units "WARN units missing hft.target"

echo "# --cores and --config choose the cores"
run "$TUNED" --cores 2-3
expect_line isolcpus "FAIL isolcpus cmdline=6,7 misses 2,3"
expect_line cores_online "PASS cores_online online=0-7, 2,3 present"
printf '[exchange]\nhost = "127.0.0.1"\n\n[cpu]\nnetwork_core = 4\nstrategy_core = 5 # comment\npoll_mode = "busy"\n' \
  >"$WORK/hftd.toml"
run "$TUNED" --config "$WORK/hftd.toml"
expect_line isolcpus "FAIL isolcpus cmdline=6,7 misses 4,5"
expect_line smt_siblings "PASS smt_siblings cpu4=4 cpu5=5"
printf '[cpu]\nnetwork_core = 6\nstrategy_core = 7\n' >"$WORK/default.toml"
run "$TUNED" --config "$WORK/default.toml"
expect_eq "--config with [cpu] 6 and 7 passes everything" "$RC" 0
printf '[cpu]\nnetwork_core = "six"\n' >"$WORK/bad.toml"
run "$TUNED" --config "$WORK/bad.toml"
expect_eq "--config with a non-integer core exits 2" "$RC" 2
expect_contains "... and names the key" "$(<"$WORK/stderr")" "network_core"
run "$TUNED" --config "$WORK/missing.toml"
expect_eq "--config with a missing file exits 2" "$RC" 2

echo "# usage errors exit 2"
run "$TUNED" --cores 6,x
expect_eq "--cores 6,x exits 2" "$RC" 2
expect_contains "... with a message naming --cores and an example" "$(<"$WORK/stderr")" "--cores 6,7"
run "$TUNED" --cores 7-6
expect_eq "--cores 7-6 exits 2" "$RC" 2
run "$TUNED" --frobnicate
expect_eq "an unknown option exits 2" "$RC" 2
run "$TUNED" --cores 6,7 --config "$WORK/default.toml"
expect_eq "--cores with --config exits 2" "$RC" 2
run "$WORK/no-such-dir"
expect_eq "--root that does not exist exits 2" "$RC" 2
OUT=$("$VERIFY" --help)
expect_contains "--help shows usage" "$OUT" "Usage: verify_system.sh"

echo "# --json"
json_summary() { # prints "pass warn fail" from the summary, or fails when the JSON does not parse
  "$PY" -c '
import json, sys
d = json.load(sys.stdin)
checks, s = d["checks"], d["summary"]
for c in checks:
    assert set(c) == {"name", "status", "value", "fix"}, c
    assert c["status"] in ("PASS", "WARN", "FAIL"), c
    assert (c["fix"] == "") == (c["status"] == "PASS"), c
count = {k: sum(c["status"] == k.upper() for c in checks) for k in ("pass", "warn", "fail")}
assert count == s, (count, s)
print(s["pass"], s["warn"], s["fail"], len(checks))'
}
for tree in "$TUNED" "$UNTUNED"; do
  run "$tree" --json
  rc_json=$RC
  got=$(json_summary <<<"$OUT") || got="invalid JSON: $OUT"
  run "$tree"
  want="$(grep -c '^PASS' <<<"$OUT") $(grep -c '^WARN' <<<"$OUT") $(grep -c '^FAIL' <<<"$OUT") 21"
  expect_eq "--json parses; summary counts match its checks and the table (${tree##*/})" "$got" "$want"
  expect_eq "--json exit code matches the table's (${tree##*/})" "$rc_json" "$RC"
done
t=$(variant json_quotes)
w "$t/sys/devices/system/clocksource/clocksource0/current_clocksource" 'we"ird\src'
run "$t" --json
got=$("$PY" -c 'import json,sys; print([c["value"] for c in json.load(sys.stdin)["checks"] if c["name"] == "clocksource"][0])' <<<"$OUT")
expect_eq "--json escapes quotes and backslashes in values" "$got" 'we"ird\src'

echo "# verify_system.sh writes nothing"
before=$(tree_state "$UNTUNED")
run "$UNTUNED"
run "$UNTUNED" --json
expect_eq "the fake tree is unchanged after two runs" "$(tree_state "$UNTUNED")" "$before"

echo "# read-only run on this machine (--root /)"
OUT=$("$VERIFY" --root / 2>"$WORK/stderr")
RC=$?
if [[ $RC == 0 || $RC == 1 ]]; then ok "real machine: exit $RC (0 or 1)"; else not_ok "real machine: exit 0 or 1" "got $RC: $(<"$WORK/stderr")"; fi
expect_eq "real machine: every line is PASS|WARN|FAIL" "$(grep -cvE '^(PASS|WARN|FAIL)  ' <<<"$OUT")" 0
expect_eq "real machine: 21 checks" "$(wc -l <<<"$OUT")" 21
if grep -qE '(^| )isolcpus=' /proc/cmdline; then
  expect_contains "real machine: isolcpus line present" "$(line isolcpus)" isolcpus
else
  expect_eq "real machine without isolation: isolcpus FAILs" "$(line isolcpus | cut -d' ' -f1-2)" "FAIL isolcpus"
fi
OUT=$("$VERIFY" --root / --json 2>/dev/null)
got=$(json_summary <<<"$OUT") || got="invalid JSON"
expect_contains "real machine: --json parses" "$got" " 21"
printf '%s\n' "$("$VERIFY" --root / 2>/dev/null)" | sed 's/^/#   /'

finish
