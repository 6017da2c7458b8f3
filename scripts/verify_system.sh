#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# verify_system.sh: read-only pre-flight checks that this machine is tuned for hftd.
# No set -e on purpose: a checker must keep going past missing or unreadable files.
set -uo pipefail
shopt -s nullglob

readonly PROG=${0##*/}
readonly PYTHON=/usr/bin/python3 # not the python3 on PATH, which may be a pyenv one
readonly DEFAULT_NETWORK_CORE=6  # hftd's defaults for [cpu] network_core / strategy_core
readonly DEFAULT_STRATEGY_CORE=7
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh" || exit 1

usage() {
  cat <<EOF
Usage: $PROG [options]

Read-only pre-flight checks for hftd. Prints one line per check:
  PASS|WARN|FAIL  <check>  <value seen>  [fix: ...]
Details of every check and its fix: docs/tuning.md.

Options:
  --root DIR      read /etc, /proc, /sys, /opt and /usr under DIR instead of / (default /)
  --cores LIST    the cores hftd runs on, e.g. 6,7 or 2-3 (default 6,7)
  --config FILE   take the cores from hftd.toml: [cpu] network_core and strategy_core
  --bin-dir DIR   where to look first for hftd, hftctl and exchange-sim
                  (default ROOT/opt/hft/bin; then ROOT/usr/local/bin, ROOT/usr/bin)
  --json          machine output: {"checks":[{"name","status","value","fix"}],"summary":{...}}
  -h, --help      show this help

Exit status: 0 nothing FAILed (WARNs allowed), 1 at least one FAIL, 2 bad usage.
EOF
}

# ---------------------------------------------------------------------------- CPU lists
# expand_cpulist and compact_cpulist are in lib.sh. Every list here is read with -k: the kernel
# prints an empty list as "" or "(null)", and --cores takes the same form.

# mask_to_cpus HEXMASK ARRAY: "00000000,0000003f" -> 0 1 2 3 4 5; 1 if not a hex mask.
# shellcheck disable=SC2034 # _mask_out is a nameref to the caller's array
mask_to_cpus() {
  local _m=${1//,/} _d _k _b _n
  local -n _mask_out=$2
  _mask_out=()
  _m=${_m//[[:space:]]/}
  [[ $_m =~ ^[0-9a-fA-F]+$ ]] || return 1
  _n=${#_m}
  for ((_k = 0; _k < _n; _k++)); do
    _d=$((16#${_m:_n-1-_k:1}))
    for ((_b = 0; _b < 4; _b++)); do
      if (((_d >> _b) & 1)); then _mask_out+=($((_k * 4 + _b))); fi
    done
  done
}

# missing_from "A..." "B...": the members of A not in B, as a compact list ("" when none).
missing_from() {
  local c
  local -a miss=()
  for c in $1; do
    if [[ " $2 " != *" $c "* ]]; then miss+=("$c"); fi
  done
  compact_cpulist "${miss[@]}"
}

# overlaps "A..." "B...": true when A and B share a member (no fork: it runs once per IRQ).
overlaps() {
  local c
  for c in $1; do
    if [[ " $2 " == *" $c "* ]]; then return 0; fi
  done
  return 1
}

# readf FILE VAR: VAR gets the first line, trimmed; fails when the file is missing or unreadable.
# Sets a variable rather than printing: a $(...) per file read would fork ~50 times a run.
readf() {
  local _v=
  [[ -r $1 && -f $1 ]] || return 1
  IFS= read -r _v <"$1" || true # a last line without newline still counts
  _v=${_v#"${_v%%[![:space:]]*}"}
  printf -v "$2" '%s' "${_v%"${_v##*[![:space:]]}"}"
}

# ---------------------------------------------------------------------------- arguments
ROOT=/
CORES_ARG=
CONFIG=
BIN_DIR=
JSON=0

while [[ $# -gt 0 ]]; do
  split_opt "$@"
  set -- "${OPT_ARGS[@]}"
  opt=$1
  case $opt in
    --root) need_value "$@"; ROOT=$2; shift 2 ;;
    --cores) need_value "$@"; CORES_ARG=$2; shift 2 ;;
    --config) need_value "$@"; CONFIG=$2; shift 2 ;;
    --bin-dir) need_value "$@"; BIN_DIR=$2; shift 2 ;;
    --json) JSON=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die_usage "unknown argument '$opt'" ;;
  esac
done

# P prefixes every system path; REAL is 1 only when we look at this machine itself.
resolve_root "$ROOT"

if [[ -n $CORES_ARG && -n $CONFIG ]]; then
  die_usage "--cores and --config both name the cores" "use one: --config reads [cpu] from hftd.toml"
fi

# read_config FILE: prints "network strategy" from [cpu]; missing keys take hftd's defaults.
read_config() {
  local file=$1
  if [[ -x $PYTHON ]] && "$PYTHON" -c 'import tomllib' 2>/dev/null; then
    "$PYTHON" - "$file" "$DEFAULT_NETWORK_CORE" "$DEFAULT_STRATEGY_CORE" <<'EOF'
import sys, tomllib
path, defaults = sys.argv[1], {"network_core": int(sys.argv[2]), "strategy_core": int(sys.argv[3])}
try:
    with open(path, "rb") as f:
        cpu = tomllib.load(f).get("cpu", {})
except (OSError, tomllib.TOMLDecodeError) as e:
    sys.exit(f"cannot read {path}: {e}")
if not isinstance(cpu, dict):
    sys.exit(f"{path}: 'cpu' must be a table: [cpu]")
out = []
for key, default in defaults.items():
    v = cpu.get(key, default)
    if type(v) is not int or not 0 <= v <= 4095:
        sys.exit(f"{path}: [cpu] {key} = {v!r} is not a core number (0..4095)")
    out.append(str(v))
print(" ".join(out))
EOF
    return
  fi
  # Fallback without tomllib: plain "key = integer" lines inside [cpu].
  [[ -r $file ]] || { echo "cannot read $file" >&2; return 1; }
  awk -v n="$DEFAULT_NETWORK_CORE" -v s="$DEFAULT_STRATEGY_CORE" '
    /^[[:space:]]*\[/ { t = $0; gsub(/[[:space:]\[\]]/, "", t); incpu = (t == "cpu"); next }
    incpu && match($0, /^[[:space:]]*(network_core|strategy_core)[[:space:]]*=/) {
      k = $0; sub(/[[:space:]]*=.*/, "", k); gsub(/[[:space:]]/, "", k)
      v = $0; sub(/^[^=]*=[[:space:]]*/, "", v); sub(/[[:space:]]*(#.*)?$/, "", v)
      if (v !~ /^[0-9]+$/) { print FILENAME ": [cpu] " k " = " v " is not a core number" > "/dev/stderr"; bad = 1; exit }
      if (k == "network_core") n = v; else s = v
    }
    END { if (!bad) print n, s; exit bad }' "$file"
}

declare -a CORES
if [[ -n $CONFIG ]]; then
  if ! cfg=$(read_config "$CONFIG" 2>&1); then
    die_usage "--config: $cfg" "fix the file, or give the cores with --cores LIST"
  fi
  read -r net strat <<<"$cfg"
  expand_cpulist -k "$net,$strat" CORES || die_usage "--config $CONFIG: bad cores '$cfg'"
  CORES_SRC="$CONFIG [cpu]"
else
  if ! expand_cpulist -k "${CORES_ARG:-$DEFAULT_NETWORK_CORE,$DEFAULT_STRATEGY_CORE}" CORES ||
    ((${#CORES[@]} == 0)); then
    die_usage "--cores '$CORES_ARG' is not a CPU list" \
      "write cores as numbers and ascending ranges, e.g. --cores 6,7 or --cores 2-3"
  fi
  CORES_SRC=--cores
fi
CORES_LIST=$(compact_cpulist "${CORES[@]}")

# ---------------------------------------------------------------------------- results
declare -a R_STATUS=() R_NAME=() R_VALUE=() R_FIX=()
add() { # STATUS NAME VALUE [FIX]
  R_STATUS+=("$1")
  R_NAME+=("$2")
  R_VALUE+=("${3:--}")
  R_FIX+=("${4:-}")
}

declare -a CMDLINE=()
if [[ -r $P/proc/cmdline ]]; then read -r -a CMDLINE <"$P/proc/cmdline"; fi

# cmdline_param NAME: value of the last NAME= before "--" (the rest belongs to init).
cmdline_param() {
  local t val found=1
  for t in "${CMDLINE[@]}"; do
    if [[ $t == -- ]]; then break; fi
    if [[ $t == "$1="* ]]; then val=${t#*=}; found=0; fi
  done
  ((found == 0)) && printf '%s' "$val"
}

FIX_BOOT="scripts/setup_kernel.sh --cores $CORES_LIST, then reboot"
FIX_RUNTIME="scripts/setup_kernel.sh --runtime --cores $CORES_LIST"

# check_boot_list NAME SYSFS: NAME= on the command line must cover the cores, and the kernel
# (SYSFS) must have applied it.
check_boot_list() {
  local name=$1 sysfs=$2 raw list sys miss
  local -a cl sl
  if ! raw=$(cmdline_param "$name"); then
    add FAIL "$name" "not on cmdline" "$FIX_BOOT"
    return
  fi
  list=$raw
  if [[ $name == isolcpus ]]; then # drop the flags: isolcpus=managed_irq,domain,6,7
    list=$(tr ',' '\n' <<<"$raw" | grep -E '^[0-9]' | paste -sd, -)
  fi
  if ! expand_cpulist -k "$list" cl; then
    add FAIL "$name" "cmdline=$raw unparsable" "$FIX_BOOT"
    return
  fi
  miss=$(missing_from "${CORES[*]}" "${cl[*]}")
  if [[ -n $miss ]]; then
    add FAIL "$name" "cmdline=$list misses $miss" "$FIX_BOOT"
    return
  fi
  if ! readf "$P$sysfs" sys; then
    add FAIL "$name" "cmdline=$list, $sysfs missing" \
      "this kernel cannot apply $name (for nohz_full: CONFIG_NO_HZ_FULL); boot a kernel that can"
    return
  fi
  expand_cpulist -k "$sys" sl
  miss=$(missing_from "${CORES[*]}" "${sl[*]}")
  if [[ -n $miss ]]; then
    if ((${#sl[@]} == 0)); then sys=none; fi
    add FAIL "$name" "cmdline=$list sysfs=$sys" \
      "the kernel did not isolate $miss: reboot after setup_kernel.sh, check dmesg for $name"
    return
  fi
  add PASS "$name" "cmdline=$list sysfs=$sys"
}

check_rcu_nocbs() {
  local raw miss nohz
  local -a cl
  if raw=$(cmdline_param rcu_nocbs); then
    if [[ $raw == all ]]; then
      add PASS rcu_nocbs "cmdline=all"
      return
    fi
    if ! expand_cpulist -k "$raw" cl; then
      add FAIL rcu_nocbs "cmdline=$raw unparsable" "$FIX_BOOT"
      return
    fi
    miss=$(missing_from "${CORES[*]}" "${cl[*]}")
    if [[ -z $miss ]]; then
      add PASS rcu_nocbs "cmdline=$raw"
    else
      add FAIL rcu_nocbs "cmdline=$raw misses $miss" "$FIX_BOOT"
    fi
    return
  fi
  # nohz_full CPUs are callback-offloaded as well, even without rcu_nocbs=.
  if nohz=$(cmdline_param nohz_full) && expand_cpulist -k "$nohz" cl &&
    [[ -z $(missing_from "${CORES[*]}" "${cl[*]}") ]]; then
    add PASS rcu_nocbs "implied by nohz_full=$nohz"
    return
  fi
  add FAIL rcu_nocbs "not on cmdline" "$FIX_BOOT"
}

# check_hugepages KB NAME WORST FIX
check_hugepages() {
  local kb=$1 name=$2 worst=$3 fix=$4 d total free node ntotal nfree ncpus
  local nodes='' short=''
  local -a nc
  d=$P/sys/kernel/mm/hugepages/hugepages-${kb}kB
  if [[ ! -d $d ]]; then
    add "$worst" "$name" "not supported (no hugepages-${kb}kB)" "$fix"
    return
  fi
  readf "$d/nr_hugepages" total || total=0
  readf "$d/free_hugepages" free || free=0
  for node in "$P"/sys/devices/system/node/node[0-9]*; do
    readf "$node/hugepages/hugepages-${kb}kB/nr_hugepages" ntotal || continue
    readf "$node/hugepages/hugepages-${kb}kB/free_hugepages" nfree || nfree=0
    nodes+=" ${node##*/}=$nfree/$ntotal"
    # The node that holds hftd's cores is where its memory should come from.
    if readf "$node/cpulist" ncpus && expand_cpulist -k "$ncpus" nc &&
      overlaps "${CORES[*]}" "${nc[*]}" && ((nfree == 0 && total > 0)); then
      short+=" ${node##*/}"
    fi
  done
  local value="total=$total free=$free${nodes:+ (free/total:$nodes)}"
  if ((total == 0)); then
    add "$worst" "$name" "$value" "$fix"
  elif ((free == 0)); then
    add WARN "$name" "$value all in use" "stop what holds them or reserve more: $fix"
  elif [[ -n $short ]]; then
    add WARN "$name" "$value none free on${short} (cores $CORES_LIST)" \
      "reserve pages on that node: /sys/devices/system/node/NODE/hugepages/hugepages-${kb}kB/nr_hugepages"
  else
    add PASS "$name" "$value"
  fi
}

check_thp() {
  local v
  if ! readf "$P/sys/kernel/mm/transparent_hugepage/enabled" v; then
    add WARN thp "not exposed" "check that the kernel has CONFIG_TRANSPARENT_HUGEPAGE or ignore"
    return
  fi
  if [[ $v =~ \[([a-z]+)\] ]]; then v=${BASH_REMATCH[1]}; fi
  case $v in
    never) add PASS thp never ;;
    madvise) add WARN thp madvise "$FIX_RUNTIME (sets never; khugepaged still scans madvised memory)" ;;
    *) add FAIL thp "$v" "$FIX_RUNTIME (or transparent_hugepage=never on the kernel command line)" ;;
  esac
}

check_irq_affinity() {
  local f irq v n=0 shown more
  local -a cl bad=() irqs=()
  for f in "$P"/proc/irq/*/smp_affinity_list; do
    irq=${f%/smp_affinity_list}
    irqs+=("${irq##*/}")
  done
  mapfile -t irqs < <(if ((${#irqs[@]})); then printf '%s\n' "${irqs[@]}" | sort -n; fi)
  for irq in "${irqs[@]}"; do
    readf "$P/proc/irq/$irq/smp_affinity_list" v || continue
    expand_cpulist -k "$v" cl || continue
    n=$((n + 1))
    if overlaps "${CORES[*]}" "${cl[*]}"; then bad+=("$irq"); fi
  done
  if ((n == 0)); then
    add WARN irq_affinity "no readable $P/proc/irq/*/smp_affinity_list" "run as root on the real machine"
  elif ((${#bad[@]} == 0)); then
    add PASS irq_affinity "$n IRQs, none on $CORES_LIST"
  else
    shown=$(printf '%s\n' "${bad[@]:0:10}" | paste -sd, -)
    more=''
    if ((${#bad[@]} > 10)); then more=" (+$((${#bad[@]} - 10)) more)"; fi
    add FAIL irq_affinity "${#bad[@]} of $n IRQs on $CORES_LIST: $shown$more" \
      "$FIX_RUNTIME (moves them to the housekeeping cores); irqaffinity= covers boot"
  fi
}

check_default_affinity() {
  local v
  local -a cl
  if ! readf "$P/proc/irq/default_smp_affinity" v; then
    add WARN default_smp_affinity "not exposed" "run as root on the real machine"
    return
  fi
  if ! mask_to_cpus "$v" cl; then
    add WARN default_smp_affinity "mask=$v unparsable" "expected a hex mask such as 3f"
    return
  fi
  if overlaps "${CORES[*]}" "${cl[*]}"; then
    add FAIL default_smp_affinity "mask=$v (cpus $(compact_cpulist "${cl[@]}"))" \
      "$FIX_RUNTIME (new IRQs then start on the housekeeping cores)"
  else
    add PASS default_smp_affinity "mask=$v (cpus $(compact_cpulist "${cl[@]}"))"
  fi
}

irqbalance_running() {
  if ((REAL)); then
    pgrep -x irqbalance >/dev/null 2>&1
  else
    # A fake root fakes processes as proc/PID/comm.
    local f comm
    for f in "$P"/proc/[0-9]*/comm; do
      if readf "$f" comm && [[ $comm == irqbalance ]]; then return 0; fi
    done
    return 1
  fi
}

check_irqbalance() {
  local file=$P/etc/default/irqbalance line='' v='' miss
  local -a cl=()
  if ! irqbalance_running; then
    add PASS irqbalance "not running"
    return
  fi
  if [[ -r $file ]]; then
    line=$(grep -E '^[[:space:]]*(export[[:space:]]+)?IRQBALANCE_BANNED_CPULIST=' "$file" | tail -n1)
    if [[ -n $line ]]; then
      v=${line#*=}
      v=${v//[\"\' ]/}
      expand_cpulist -k "$v" cl || cl=()
    else
      # Older irqbalance: a hex mask.
      line=$(grep -E '^[[:space:]]*(export[[:space:]]+)?IRQBALANCE_BANNED_CPUS=' "$file" | tail -n1)
      if [[ -n $line ]]; then
        v=${line#*=}
        v=${v//[\"\' ]/}
        mask_to_cpus "$v" cl || cl=()
        v=$(compact_cpulist "${cl[@]}")
      fi
    fi
  fi
  if [[ -z $line ]]; then
    # With no ban set, irqbalance bans the kernel's isolated and nohz_full CPUs by itself.
    local iso='' nohz='' auto
    readf "$P/sys/devices/system/cpu/isolated" iso
    readf "$P/sys/devices/system/cpu/nohz_full" nohz
    expand_cpulist -k "$iso" cl || cl=()
    auto=${cl[*]}
    expand_cpulist -k "$nohz" cl || cl=()
    auto+=" ${cl[*]}"
    if [[ -z $(missing_from "${CORES[*]}" "$auto") ]]; then
      add PASS irqbalance "running, no ban, skips isolated $CORES_LIST"
      return
    fi
    cl=()
  fi
  miss=$(missing_from "${CORES[*]}" "${cl[*]}")
  if [[ -z $miss ]]; then
    add PASS irqbalance "running, banned $v"
  else
    add FAIL irqbalance "running, banned ${v:-none}" \
      "$FIX_RUNTIME (bans $CORES_LIST in /etc/default/irqbalance), or systemctl disable --now irqbalance"
  fi
}

check_governor() {
  local f g n=0 value=''
  local -A count=()
  for f in "$P"/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor; do
    readf "$f" g || continue
    count[$g]=$((${count[$g]:-0} + 1))
    n=$((n + 1))
  done
  if ((n == 0)); then
    add WARN cpu_governor "not exposed (VM?)" \
      "nothing to do in a VM; on bare metal load a cpufreq driver and set performance"
    return
  fi
  for g in $(printf '%s\n' "${!count[@]}" | sort); do value+=", $g x${count[$g]}"; done
  value=${value#, }
  if [[ ${#count[@]} -eq 1 && -n ${count[performance]:-} ]]; then
    add PASS cpu_governor "$value"
  else
    add WARN cpu_governor "$value" "$FIX_RUNTIME (or cpupower frequency-set -g performance)"
  fi
}

check_swap() {
  local -a lines
  if [[ ! -r $P/proc/swaps ]]; then
    add WARN swap "cannot read /proc/swaps" "check swapon --show by hand"
    return
  fi
  mapfile -t lines < <(tail -n +2 "$P/proc/swaps" | awk 'NF { print $1 }')
  if ((${#lines[@]} == 0)); then
    add PASS swap none
  else
    add WARN swap "${#lines[@]} active: $(printf '%s\n' "${lines[@]}" | paste -sd, -)" \
      "swapoff -a and remove swap from /etc/fstab (hftd locks its memory, the rest of the box may not)"
  fi
}

# check_zero NAME FILE FIX: 0 passes; a missing file means the feature is not built in.
check_zero() {
  local v
  if ! readf "$P$2" v; then
    add PASS "$1" "not present (not built in)"
  elif [[ $v == 0 ]]; then
    add PASS "$1" 0
  else
    add WARN "$1" "$v" "$3"
  fi
}

check_clocksource() {
  local v
  if ! readf "$P/sys/devices/system/clocksource/clocksource0/current_clocksource" v; then
    add WARN clocksource "not exposed" "check /sys/devices/system/clocksource on the real machine"
  elif [[ $v == tsc ]]; then
    add PASS clocksource tsc
  else
    add WARN clocksource "$v" \
      "expected in a VM; on bare metal see 'dmesg | grep -i tsc' for why the TSC was rejected"
  fi
}

check_smt() {
  local v
  if ! readf "$P/sys/devices/system/cpu/smt/control" v; then
    add WARN smt "not exposed" "check lscpu 'Thread(s) per core' by hand"
    return
  fi
  case $v in
    off | forceoff | notsupported | notimplemented) add PASS smt "$v" ;;
    *) add WARN smt "$v" \
      "keep the sibling threads of $CORES_LIST idle (see smt_siblings), or echo off > /sys/devices/system/cpu/smt/control" ;;
  esac
}

check_smt_siblings() {
  local c v value='' others shared='' unknown=0
  local -a sl
  for c in "${CORES[@]}"; do
    if ! readf "$P/sys/devices/system/cpu/cpu$c/topology/thread_siblings_list" v ||
      ! expand_cpulist -k "$v" sl; then
      value+=" cpu$c=?"
      unknown=1
      continue
    fi
    value+=" cpu$c=$v"
    others=$(missing_from "${sl[*]}" "$c")
    if [[ -n $others ]]; then shared+=",$others"; fi
  done
  value=${value# }
  if [[ -n $shared ]]; then
    add WARN smt_siblings "$value" \
      "a sibling thread shares the core's caches and pipeline: leave ${shared#,} idle and isolated, pick other cores, or disable SMT"
  elif ((unknown)); then
    add WARN smt_siblings "$value" "topology not exposed for some cores: check that they exist (cores_online)"
  else
    add PASS smt_siblings "$value"
  fi
}

check_cores_online() {
  local v miss
  local -a cl
  if ! readf "$P/sys/devices/system/cpu/online" v || ! expand_cpulist -k "$v" cl; then
    add FAIL cores_online "cannot read /sys/devices/system/cpu/online" "check the --root tree"
    return
  fi
  miss=$(missing_from "${CORES[*]}" "${cl[*]}")
  if [[ -n $miss ]]; then
    add FAIL cores_online "online=$v, $miss missing" \
      "pick cores from the online list ($CORES_SRC / [cpu] in hftd.toml), or echo 1 > /sys/devices/system/cpu/cpuN/online"
  else
    add PASS cores_online "online=$v, $CORES_LIST present"
  fi
}

check_binaries() {
  local name d found
  local -a dirs=("${BIN_DIR:-$P/opt/hft/bin}" "$P/usr/local/bin" "$P/usr/bin")
  for name in hftd hftctl exchange-sim; do
    found=
    for d in "${dirs[@]}"; do
      if [[ -e $d/$name ]]; then found=$d/$name; break; fi
    done
    if [[ -z $found ]]; then
      add FAIL "bin:$name" "not found" \
        "meson install (or scripts/deploy.sh); searched ${dirs[*]}"
    elif [[ ! -f $found || ! -x $found ]]; then
      add FAIL "bin:$name" "$found not executable" \
        "chmod 0755 $found, or reinstall: meson install (or scripts/deploy.sh)"
    else
      add PASS "bin:$name" "$found"
    fi
  done
}

check_units() {
  local u d have n=0
  local -a missing=()
  local -a dirs=("$P/etc/systemd/system" "$P/usr/lib/systemd/system" "$P/lib/systemd/system"
    "$P/usr/local/lib/systemd/system")
  for u in hftd.service hft-exchange-sim.service hft-monitor.service hft.target; do
    have=0
    for d in "${dirs[@]}"; do
      if [[ -f $d/$u ]]; then have=1; break; fi
    done
    if ((have)); then n=$((n + 1)); else missing+=("$u"); fi
  done
  if ((${#missing[@]} == 0)); then
    add PASS units "$n of 4 installed"
  else
    add WARN units "missing $(printf '%s\n' "${missing[@]}" | paste -sd, -)" \
      "meson install (installs units/), then systemctl daemon-reload"
  fi
}

# ---------------------------------------------------------------------------- run
check_boot_list isolcpus /sys/devices/system/cpu/isolated
check_boot_list nohz_full /sys/devices/system/cpu/nohz_full
check_rcu_nocbs
check_hugepages 1048576 hugepages_1G FAIL "scripts/setup_kernel.sh --hugepages N, then reboot (1G pages are reserved at boot)"
check_hugepages 2048 hugepages_2M WARN "sysctl vm.nr_hugepages=N (hftd maps its rings on 2M pages, else falls back to 4K)"
check_thp
check_irq_affinity
check_default_affinity
check_irqbalance
check_governor
check_swap
check_zero numa_balancing /proc/sys/kernel/numa_balancing "$FIX_RUNTIME (or sysctl kernel.numa_balancing=0)"
check_zero timer_migration /proc/sys/kernel/timer_migration "$FIX_RUNTIME (or sysctl kernel.timer_migration=0)"
check_clocksource
check_smt
check_smt_siblings
check_cores_online
check_binaries
check_units

n_pass=0 n_warn=0 n_fail=0
for s in "${R_STATUS[@]}"; do
  case $s in
    PASS) n_pass=$((n_pass + 1)) ;;
    WARN) n_warn=$((n_warn + 1)) ;;
    FAIL) n_fail=$((n_fail + 1)) ;;
  esac
done

# json_str S: a JSON string; control characters become spaces (values are one line anyway).
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=$(printf '%s' "$s" | LC_ALL=C tr '\000-\037' ' ')
  printf '"%s"' "$s"
}

if ((JSON)); then
  json='{"checks":['
  for i in "${!R_NAME[@]}"; do
    if ((i > 0)); then json+=','; fi
    json+="{\"name\":$(json_str "${R_NAME[i]}"),\"status\":\"${R_STATUS[i]}\""
    json+=",\"value\":$(json_str "${R_VALUE[i]}"),\"fix\":$(json_str "${R_FIX[i]}")}"
  done
  json+="],\"summary\":{\"pass\":$n_pass,\"warn\":$n_warn,\"fail\":$n_fail}}"
  printf '%s\n' "$json"
else
  for i in "${!R_NAME[@]}"; do
    if [[ -n ${R_FIX[i]} ]]; then
      printf '%-4s  %-20s  %-40s  fix: %s\n' "${R_STATUS[i]}" "${R_NAME[i]}" "${R_VALUE[i]}" "${R_FIX[i]}"
    else
      printf '%-4s  %-20s  %s\n' "${R_STATUS[i]}" "${R_NAME[i]}" "${R_VALUE[i]}"
    fi
  done
  printf '# %d pass, %d warn, %d fail (cores %s)\n' "$n_pass" "$n_warn" "$n_fail" "$CORES_LIST" >&2
fi

if ((n_fail > 0)); then exit 1; fi
exit 0
