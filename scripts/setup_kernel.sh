#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# setup_kernel.sh: kernel boot parameters and runtime settings that give hftd quiet, isolated cores.
set -euo pipefail
shopt -s nullglob

readonly PROG=${0##*/}
readonly DROPIN=/etc/default/grub.d/99-hft.cfg
readonly KCMDLINE=/etc/kernel/cmdline
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh" || exit 1

usage() {
  cat <<EOF
Usage: $PROG [options]

Reserve cores for hftd: writes the kernel boot parameters (a reboot applies them), or with
--runtime applies the settings that need no reboot. Details: docs/tuning.md.

Boot parameters written (GRUB: $DROPIN; systemd-boot/kernel-install: $KCMDLINE):
  isolcpus=managed_irq,domain,CORES nohz_full=CORES rcu_nocbs=CORES irqaffinity=HOUSEKEEPING
  hugepagesz=1G hugepages=N

Options:
  --cores LIST          cores to isolate for hftd, e.g. 6,7 or 2-3 (default 6,7)
  --hugepages N         1G hugepages to reserve at boot; 0 leaves them out (default 8)
  --housekeeping LIST   cores for the kernel, IRQs and everything else
                        (default: all present CPUs but CORES, from ROOT/sys/devices/system/cpu/present)
  --root DIR            prefix for every path under /etc, /proc and /sys (default /); with any
                        other root, update-grub, systemctl and other commands are only printed
  --dry-run             print what would change (a unified diff for files) and change nothing
  --revert              remove the boot parameters again (then reboot)
  --runtime             apply the no-reboot settings now: THP never, numa_balancing 0,
                        timer_migration 0, governor performance, irqbalance ban, IRQ affinity,
                        default_smp_affinity, workqueue cpumask (lost at reboot)
  -h, --help            show this help

Exit status: 0 done (or nothing to do), 1 a step failed, 2 bad usage.
EOF
}

die() {
  printf '%s: error: %s\n' "$PROG" "$1" >&2
  if [[ $# -gt 1 ]]; then printf '  %s\n' "${@:2}" >&2; fi
  exit 1
}

# cpumask_hex CPU...: the kernel's hex mask format, 32-bit words separated by commas.
cpumask_hex() {
  local -a words=()
  local c w max=0 s i
  for c in "$@"; do
    w=$((c / 32))
    words[w]=$((${words[w]:-0} | (1 << (c % 32))))
    if ((w > max)); then max=$w; fi
  done
  s=$(printf '%x' "${words[max]:-0}")
  for ((i = max - 1; i >= 0; i--)); do s+=$(printf ',%08x' "${words[i]:-0}"); done
  printf '%s' "$s"
}

# Masks compare by value: the kernel may print "00000000,0000003f" for our "3f".
normalize_mask() {
  local m=${1//,/}
  m=${m,,}
  while [[ $m == 0* ]]; do m=${m#0}; done
  printf '%s' "${m:-0}"
}

in_set() { [[ " $2 " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------- arguments
CORES_ARG=6,7
HUGEPAGES=8
HK_ARG=
ROOT=/
DRY_RUN=0
REVERT=0
RUNTIME=0

while [[ $# -gt 0 ]]; do
  split_opt "$@"
  set -- "${OPT_ARGS[@]}"
  opt=$1
  case $opt in
    --cores) need_value "$@"; CORES_ARG=$2; shift 2 ;;
    --hugepages) need_value "$@"; HUGEPAGES=$2; shift 2 ;;
    --housekeeping) need_value "$@"; HK_ARG=$2; shift 2 ;;
    --root) need_value "$@"; ROOT=$2; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --revert) REVERT=1; shift ;;
    --runtime) RUNTIME=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die_usage "unknown argument '$opt'" ;;
  esac
done

# P prefixes every system path; REAL is 1 only when we act on this machine.
resolve_root "$ROOT"

if ((REVERT && RUNTIME)); then
  die_usage "--revert and --runtime do not combine" \
    "--revert removes the boot parameters; runtime settings reset at the next reboot"
fi

declare -a CORES HK PRESENT
if ! expand_cpulist "$CORES_ARG" CORES; then
  die_usage "--cores '$CORES_ARG' is not a CPU list" \
    "write cores as numbers and ascending ranges, e.g. --cores 6,7 or --cores 2-3"
fi
if [[ ! $HUGEPAGES =~ ^[0-9]{1,6}$ ]]; then
  die_usage "--hugepages '$HUGEPAGES' is not a count" \
    "give the number of 1G pages to reserve, e.g. --hugepages 8 (0 reserves none)"
fi
HUGEPAGES=$((10#$HUGEPAGES))

present_file=$P/sys/devices/system/cpu/present
present_raw=
if [[ -r $present_file ]]; then
  present_raw=$(<"$present_file")
  present_raw=${present_raw//[[:space:]]/}
  if ! expand_cpulist "$present_raw" PRESENT; then
    die "cannot parse '$present_raw' in $present_file" "pass --housekeeping LIST explicitly"
  fi
fi

if [[ -n $present_raw ]]; then
  for c in "${CORES[@]}"; do
    if ! in_set "$c" "${PRESENT[*]}"; then
      die_usage "--cores $CORES_ARG: core $c is not present (present: $present_raw, from $present_file)" \
        "pick cores from the present list, e.g. the last two: --cores ${PRESENT[-2]:-1},${PRESENT[-1]:-1}"
    fi
  done
fi

if [[ -n $HK_ARG ]]; then
  if ! expand_cpulist "$HK_ARG" HK; then
    die_usage "--housekeeping '$HK_ARG' is not a CPU list" \
      "write cores as numbers and ascending ranges, e.g. --housekeeping 0-5"
  fi
  for c in "${HK[@]}"; do
    if in_set "$c" "${CORES[*]}"; then
      die_usage "core $c is in both --cores $CORES_ARG and --housekeeping $HK_ARG" \
        "housekeeping cores are the ones NOT isolated: drop $c from one of the lists"
    fi
    if [[ -n $present_raw ]] && ! in_set "$c" "${PRESENT[*]}"; then
      die_usage "--housekeeping $HK_ARG: core $c is not present (present: $present_raw)" \
        "pick housekeeping cores from the present list"
    fi
  done
else
  if [[ -z $present_raw ]]; then
    die_usage "cannot read $present_file to work out the housekeeping cores" \
      "pass them explicitly, e.g. --housekeeping 0-5"
  fi
  HK=()
  for c in "${PRESENT[@]}"; do
    if ! in_set "$c" "${CORES[*]}"; then HK+=("$c"); fi
  done
fi
if ((${#HK[@]} == 0)); then
  die_usage "no housekeeping core left: --cores $CORES_ARG takes every CPU" \
    "leave at least one core (better two) for the kernel, IRQs and other processes"
fi

CORES_LIST=$(compact_cpulist "${CORES[@]}")
HK_LIST=$(compact_cpulist "${HK[@]}")
HK_MASK=$(cpumask_hex "${HK[@]}")

if ((REAL && !DRY_RUN && EUID != 0)); then
  die "changing this machine needs root" "run it with sudo, or look first with --dry-run"
fi

# run_cmd CMD...: runs a command with side effects only on the real machine, else prints it.
run_cmd() {
  if ((REAL && !DRY_RUN)); then
    printf 'running: %s\n' "$*"
    "$@"
  else
    printf 'would run: %s%s\n' "$*" "$( ((DRY_RUN)) && echo ' (dry run)' || echo " (skipped: --root is $ROOT_REAL)")"
  fi
}

# write_atomic FILE CONTENT: readers never see half a file; keeps the mode of a file it replaces.
write_atomic() {
  local file=$1 content=$2 dir tmp
  dir=$(dirname "$file")
  mkdir -p "$dir"
  tmp=$(mktemp "$dir/.hft-tmp.XXXXXX")
  printf '%s' "$content" >"$tmp"
  if [[ -e $file ]]; then chmod --reference="$file" "$tmp"; else chmod 0644 "$tmp"; fi
  mv -f "$tmp" "$file"
}

# show_diff FILE NEWCONTENT|"" DELETE(0|1): unified diff of the file as it is against what we'd write.
show_diff() {
  local file=$1 content=$2 delete=$3 old=/dev/null new=-
  if [[ -e $file ]]; then old=$file; fi
  if ((delete)); then new=/dev/null; fi
  printf '%s' "$content" | diff -u --label "$file" --label "$file (new)" "$old" "$new" || true
}

# ---------------------------------------------------------------------------- runtime mode
FAILS=0
step() { printf '%-5s %-22s %s\n' "$1" "$2" "$3"; }

# current value of a sysfs/procfs file; for "always [madvise] never" files, the bracketed one.
read_value() {
  local v
  v=$(head -n1 -- "$1" 2>/dev/null) || return 1
  if [[ $v =~ \[([^]]*)\] ]]; then v=${BASH_REMATCH[1]}; fi
  printf '%s' "${v//[[:space:]]/}"
}

same_value() { # KIND CURRENT WANT
  local -a lhs rhs
  case $1 in
    mask) [[ $(normalize_mask "$2") == "$(normalize_mask "$3")" ]] ;;
    list) expand_cpulist "$2" lhs && expand_cpulist "$3" rhs && [[ "${lhs[*]}" == "${rhs[*]}" ]] ;;
    *) [[ $2 == "$3" ]] ;;
  esac
}

try_write() { { printf '%s\n' "$2" >"$1"; } 2>/dev/null; }

# set_value LABEL FILE VALUE [KIND]: one printed step per file; missing files are a SKIP.
set_value() {
  local label=$1 file=$2 want=$3 kind=${4:-text} cur
  if [[ ! -e $file ]]; then
    step SKIP "$label" "$file not present"
    return 0
  fi
  cur=$(read_value "$file") || cur='?'
  if same_value "$kind" "$cur" "$want"; then
    step OK "$label" "$file already $want"
  elif ((DRY_RUN)); then
    step WOULD "$label" "$file: $cur -> $want"
  elif try_write "$file" "$want"; then
    step SET "$label" "$file: $cur -> $want"
  else
    step FAIL "$label" "$file refused '$want' (still $cur)"
    FAILS=$((FAILS + 1))
  fi
}

runtime_irqbalance() {
  local file=$P/etc/default/irqbalance want="IRQBALANCE_BANNED_CPULIST=$CORES_LIST" old new
  if [[ ! -e $file ]]; then
    step SKIP irqbalance "$file not present (irqbalance not installed?)"
    return 0
  fi
  old=$(<"$file")
  # Replace the first live assignment in place, drop later duplicates, append if there is none.
  new=$(awk -v want="$want" '
    /^[[:space:]]*(export[[:space:]]+)?IRQBALANCE_BANNED_CPULIST=/ { if (!done) print want; done = 1; next }
    { print }
    END { if (!done) print want }' "$file")
  if [[ $old == "$new" ]]; then
    step OK irqbalance "$file already has $want"
    return 0
  fi
  if ((DRY_RUN)); then
    step WOULD irqbalance "$file: set $want"
    show_diff "$file" "$new"$'\n' 0
  else
    write_atomic "$file" "$new"$'\n'
    step SET irqbalance "$file: $want"
  fi
  # try-restart only restarts a running irqbalance, so a stopped one stays stopped.
  run_cmd systemctl try-restart irqbalance.service || {
    step FAIL irqbalance "restart failed: run 'systemctl restart irqbalance' by hand"
    FAILS=$((FAILS + 1))
  }
}

runtime_irqs() {
  local f cur n_set=0 n_ok=0 n_refused=0 n=0 verb=set
  for f in "$P"/proc/irq/*/smp_affinity_list; do
    n=$((n + 1))
    cur=$(read_value "$f") || cur=
    if [[ -n $cur ]] && same_value list "$cur" "$HK_LIST"; then
      n_ok=$((n_ok + 1))
    elif ((DRY_RUN)); then
      n_set=$((n_set + 1))
    elif try_write "$f" "$HK_LIST"; then
      n_set=$((n_set + 1))
    else
      n_refused=$((n_refused + 1)) # per-CPU and kernel-managed IRQs refuse; not an error
    fi
  done
  if ((n == 0)); then
    step SKIP "irq affinity" "$P/proc/irq/*/smp_affinity_list not present"
    return 0
  fi
  local status=OK
  if ((n_set > 0)); then status=SET; fi
  if ((DRY_RUN)); then verb='would set'; status=WOULD; fi
  step "$status" "irq affinity" \
    "$verb $n_set IRQs to $HK_LIST, $n_ok already there, $n_refused refused the write (per-CPU or kernel-managed)"
}

runtime_governors() {
  local f cur n=0 n_set=0 n_ok=0 n_fail=0
  for f in "$P"/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor; do
    n=$((n + 1))
    cur=$(read_value "$f") || cur=
    if [[ $cur == performance ]]; then
      n_ok=$((n_ok + 1))
    elif ((DRY_RUN)) || try_write "$f" performance; then
      n_set=$((n_set + 1))
    else
      n_fail=$((n_fail + 1))
    fi
  done
  if ((n == 0)); then
    step SKIP "cpu governor" "cpufreq not exposed (VM?): no $P/sys/devices/system/cpu/cpu*/cpufreq"
  elif ((n_fail > 0)); then
    step FAIL "cpu governor" "$n_fail of $n CPUs refused 'performance' (driver without it?)"
    FAILS=$((FAILS + 1))
  else
    local status=OK
    if ((n_set > 0)); then status=SET; fi
    if ((n_set > 0 && DRY_RUN)); then status=WOULD; fi
    step "$status" "cpu governor" "performance: $n_set CPUs changed, $n_ok already"
  fi
}

do_runtime() {
  printf 'runtime settings: isolated cores %s, housekeeping %s (mask %s)%s\n' \
    "$CORES_LIST" "$HK_LIST" "$HK_MASK" "$( ((DRY_RUN)) && echo ', dry run: nothing changes')"
  set_value "thp enabled" "$P/sys/kernel/mm/transparent_hugepage/enabled" never
  set_value "thp defrag" "$P/sys/kernel/mm/transparent_hugepage/defrag" never
  set_value "numa_balancing" "$P/proc/sys/kernel/numa_balancing" 0
  set_value "timer_migration" "$P/proc/sys/kernel/timer_migration" 0
  runtime_governors
  # irqbalance first: a running one would move the IRQs back after we place them.
  runtime_irqbalance
  runtime_irqs
  set_value "default_smp_affinity" "$P/proc/irq/default_smp_affinity" "$HK_MASK" mask
  set_value "workqueue cpumask" "$P/sys/devices/virtual/workqueue/cpumask" "$HK_MASK" mask
  if ((FAILS > 0)); then
    printf '%d step(s) failed, see FAIL above.\n' "$FAILS"
    exit 1
  fi
  printf 'done. These settings do not survive a reboot: run --runtime again after each boot.\n'
}

if ((RUNTIME)); then
  do_runtime
  exit 0
fi

# ---------------------------------------------------------------------------- boot parameters
PARAMS="isolcpus=managed_irq,domain,$CORES_LIST nohz_full=$CORES_LIST rcu_nocbs=$CORES_LIST irqaffinity=$HK_LIST"
if ((HUGEPAGES > 0)); then PARAMS+=" hugepagesz=1G hugepages=$HUGEPAGES"; fi

grub_content() {
  cat <<EOF
# Written by hft scripts/setup_kernel.sh: CPU isolation and 1G hugepages for hftd (docs/tuning.md).
# Isolated cores $CORES_LIST, housekeeping cores $HK_LIST, $HUGEPAGES x 1G hugepages.
# Do not edit: re-run the script to change it, or 'setup_kernel.sh --revert' to remove it; reboot after.
GRUB_CMDLINE_LINUX_DEFAULT="\$GRUB_CMDLINE_LINUX_DEFAULT $PARAMS"
EOF
}

# kcmdline_content: /etc/kernel/cmdline with earlier hft parameters replaced where they stood
# (or the new ones appended); with --revert, only removed. Keeps every other parameter.
kcmdline_content() {
  local file=$1 t first=-1 skip_pages=0
  local -a tokens=() kept=() new=() params=()
  read -r -d '' -a tokens <"$file" || true
  for t in "${tokens[@]}"; do
    case $t in
      isolcpus=* | nohz_full=* | rcu_nocbs=* | irqaffinity=*)
        if ((first < 0)); then first=${#kept[@]}; fi
        skip_pages=0
        continue
        ;;
      hugepagesz=1G | hugepagesz=1g)
        if ((first < 0)); then first=${#kept[@]}; fi
        skip_pages=1 # the hugepages= right after it is ours too; 2M reservations stay
        continue
        ;;
      hugepages=*)
        if ((skip_pages)); then skip_pages=0; continue; fi
        ;;
    esac
    skip_pages=0
    kept+=("$t")
  done
  if ((REVERT)); then
    new=("${kept[@]}")
  else
    read -r -a params <<<"$PARAMS"
    if ((first < 0)); then first=${#kept[@]}; fi
    new=("${kept[@]:0:first}" "${params[@]}" "${kept[@]:first}")
  fi
  # Same parameters in the same order: leave the file alone, even if its spacing differs.
  if [[ "${new[*]}" == "${tokens[*]}" ]]; then
    cat -- "$file"
  else
    printf '%s\n' "${new[*]}"
  fi
}

reboot_notice() {
  printf '\nREBOOT REQUIRED: the kernel reads these parameters only at boot.\n'
  printf 'After the reboot, check with: scripts/verify_system.sh --cores %s\n' "$CORES_LIST"
}

kfile=$P$KCMDLINE
dfile=$P$DROPIN
if [[ -e $kfile ]]; then
  # systemd-boot / kernel-install: the command line lives in one file we edit in place.
  method="kernel-install ($kfile)"
  target=$kfile
  NEW=$(kcmdline_content "$kfile")$'\n'
  OLD=$(<"$kfile")$'\n'
  delete=0
elif [[ -e $P/etc/default/grub || -d $P/etc/default/grub.d || -e $dfile ]]; then
  method="GRUB ($dfile)"
  target=$dfile
  if ((REVERT)); then NEW=''; delete=1; else NEW=$(grub_content)$'\n'; delete=0; fi
  OLD=
  if [[ -e $dfile ]]; then OLD=$(<"$dfile")$'\n'; fi
else
  die "no boot loader configuration under ${P:-/}: neither $kfile nor $P/etc/default/grub exists" \
    "this script supports GRUB (Debian/Ubuntu) and systemd-boot with kernel-install;" \
    "for another boot loader add by hand: $PARAMS"
fi

printf 'boot loader: %s\n' "$method"
if ((!REVERT)); then
  printf 'parameters:  %s\n' "$PARAMS"
fi

if ((delete)) && [[ ! -e $target ]]; then
  printf 'nothing to revert: %s does not exist. No change.\n' "$target"
  exit 0
fi
if ((!delete)) && [[ -e $target && $OLD == "$NEW" ]]; then
  if ((REVERT)); then
    printf 'nothing to revert: %s has no hft parameters. No change.\n' "$target"
  else
    printf 'no change: %s is already up to date. Nothing to do, no reboot needed.\n' "$target"
  fi
  exit 0
fi

if ((DRY_RUN)); then
  show_diff "$target" "$NEW" "$delete"
  if [[ $target == "$dfile" ]]; then run_cmd update-grub; fi
  printf 'dry run: nothing was changed.\n'
  exit 0
fi

if ((delete)); then
  rm -f -- "$target"
  printf 'removed %s\n' "$target"
else
  write_atomic "$target" "$NEW"
  printf '%s %s\n' "$( ((REVERT)) && echo 'removed hft parameters from' || echo wrote)" "$target"
fi

if [[ $target == "$dfile" ]]; then
  if ((REAL)) && ! command -v update-grub >/dev/null; then
    die "update-grub not found: regenerate grub.cfg by hand (grub-mkconfig -o /boot/grub/grub.cfg)"
  fi
  run_cmd update-grub || die "update-grub failed: fix the error above and run update-grub again"
else
  printf 'next: regenerate the boot entries so they pick up %s, e.g.\n' "$KCMDLINE"
  # shellcheck disable=SC2016 # a command for the user to run, printed verbatim
  printf '  kernel-install add "$(uname -r)" "/boot/vmlinuz-$(uname -r)"\n'
fi
reboot_notice
