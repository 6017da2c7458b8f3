#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# collect_data.sh: run exchange-sim and hftd for one trading session and record the system, the
# monitors, the logs and both programs' data into a data directory (docs/data-format.md).
set -euo pipefail
shopt -s nullglob

readonly PROG=${0##*/}
readonly PYTHON=/usr/bin/python3 # Debian's, with numpy; not a pyenv python3 on PATH
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly READY_TIMEOUT=30 # seconds for a program to say it is ready
readonly END_GRACE=30     # seconds past the duration before the session is stopped for it
readonly CAPTURE_PACKETS_DEFAULT=2000000
readonly CAPTURE_SNAPLEN=65535 # loopback MTU is 65536: a whole segment of frames, headers and all
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh" || exit 1

usage() {
  cat <<EOF
Usage: $PROG [DURATION] [options]

Runs exchange-sim and hftd for one trading session of DURATION seconds (default 300) and
records everything into a new data directory (layout: docs/data-format.md):
  system/    kernel command line, hugepages, CPU and NUMA layout, IRQ affinity, NIC
             statistics, versions, the configuration files in use
  monitors/  mpstat, vmstat, pidstat and perf stat on hftd, hftctl stats --json every second
  session/   hftd's session directory (latency.csv, histograms.json, stats.json, journal.bin)
  exchange/  exchange-sim's statistics and tick-to-trade samples
  logs/      hftd.log, exchange-sim.log (and collect.log: this script's own messages)
  capture/   exchange.pcapng: tcpdump of the exchange link on lo (the exchange's TCP port
             and its UDP feed port, nanosecond timestamps), tcpdump.log, and capture.json
             with tcpdump's counts (packets dropped by the kernel, limit reached)
  MANIFEST.sha256   sha256sum of every file, paths relative to the data directory
The data directory's path is printed at the start and on the last line.

Where systemd runs (PID 1) and the units are installed (hft.target), the stack is started
with systemctl and the monitors by hft-monitor.service; otherwise, or with --direct, as
direct processes: exchange-sim on an ephemeral loopback port, hftd idle on a private control
socket, monitors pinned to the cores hftd does not use.

Options:
  --out DIR            the data directory: new, or empty (default HFT_DATA_ROOT/<UTC time>;
                       HFT_DATA_ROOT defaults to /var/lib/hft/data as root, else ~/hft-data)
  --direct             run the programs directly even where systemd could
  --cores N,M          direct mode: hftd's network and strategy cores
                       (default: the last two CPUs this script may run on)
  --poll-mode MODE     direct mode: busy or yield (default yield below 4 CPUs, else busy)
  --bin-dir DIR        where hftd, hftctl and exchange-sim are (default: HFTD, HFTCTL,
                       EXCHANGE_SIM from the environment, then $(dirname "$SCRIPT_DIR")/bin, then PATH)
  --hftd-config FILE   hftd.toml (direct: default /etc/hft/hftd.toml when present, else the
                       built-in defaults; systemd: the unit's --config or /etc/hft/hftd.toml)
  --exchange-config FILE   exchange-sim.toml (direct: default /etc/hft/exchange-sim.toml when
                       present; systemd: the unit's --config or /etc/hft/exchange-sim.toml)
  --tick-rate MS       direct mode: exchange-sim --tick-rate
  --fill-prob PCT      direct mode: exchange-sim --fill-prob
  --exchange-arg ARG   direct mode: one more exchange-sim argument (repeatable)
  --hftd-arg ARG       direct mode: one more hftd argument (repeatable), e.g. --hftd-arg -v
  --interface NAME     NIC whose statistics to record (default: [exchange] interface of
                       hftd.toml, lo in direct mode)
  --socket PATH        systemd mode: hftd's control socket (default: the unit's --socket,
                       else hftd.toml [control] socket)
  --restart            systemd mode: when hftd.service is already running, restart the stack
                       for this run (and stop it afterwards), so that exchange-sim's
                       statistics cover exactly this run; without it a running stack is used
                       as it is and left running
  --no-perf            do not run perf stat (monitors/perf_stat.txt says so)
  --capture-packets N  stop the capture after N packets (default $CAPTURE_PACKETS_DEFAULT; the
                       file stays below about N * 400 bytes for this protocol's segments;
                       each packet keeps at most $CAPTURE_SNAPLEN bytes)
  --no-capture         do not capture the exchange link (capture/capture.json says so)
  --analyze            run $PYTHON $SCRIPT_DIR/analyze_results.py on the data at the end
  -h, --help           this help

Exit status:
  0    the session ran for DURATION and everything was collected
  1    a step failed (the message says which); what was collected is kept, with its manifest
  2    bad usage
  130  interrupted (Ctrl-C, SIGTERM, SIGHUP): the session is stopped early, the programs are stopped,
       the partial data is kept, with its manifest
In every case the programs and monitors this script started are stopped.
EOF
}

# ------------------------------------------------------------------------------ messages
collect_log=/dev/null
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$collect_log"; }
warn() { printf '%s WARNING: %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$collect_log" >&2; }
# die MESSAGE [HINT...]: the EXIT trap stops what was started and keeps the data.
die() {
  printf '%s ERROR: %s\n' "$(date -u +%H:%M:%S)" "$1" | tee -a "$collect_log" >&2
  shift
  if [[ $# -gt 0 ]]; then printf '  %s\n' "$@" | tee -a "$collect_log" >&2; fi
  exit 1
}

# ------------------------------------------------------------------------------ helpers
# allowed_cpus: the CPUs this process may run on, one per line.
allowed_cpus() {
  local line
  local -a cpus
  while read -r line; do
    if [[ $line == Cpus_allowed_list:* ]]; then
      expand_cpulist -k "${line#*:}" cpus || return 1
      printf '%s\n' "${cpus[@]}"
      return
    fi
  done </proc/self/status
  seq 0 $(($(nproc) - 1))
}

# json_value KEY <<<JSON: the first top-level-looking "KEY": string or number, unquoted.
json_value() {
  local json
  json=$(cat)
  if [[ $json =~ \"$1\":\"([^\"]*)\" ]] || [[ $json =~ \"$1\":([-0-9.eE+]+) ]]; then
    printf '%s\n' "${BASH_REMATCH[1]}"
  fi
}

# toml_value FILE SECTION KEY: a scalar from a simple TOML file (quotes and comments removed).
toml_value() {
  [[ -r $1 ]] || return 0
  awk -v want="$2" -v key="$3" '
    /^[[:space:]]*\[/ { s = $0; gsub(/^[[:space:]]*\[|\][[:space:]]*(#.*)?$/, "", s); sec = s; next }
    sec == want {
      line = $0
      if (match(line, "^[[:space:]]*" key "[[:space:]]*=")) {
        v = substr(line, RLENGTH + 1)
        if (v ~ /^[[:space:]]*"/) { sub(/^[[:space:]]*"/, "", v); sub(/".*$/, "", v) }
        else { sub(/#.*$/, "", v); gsub(/[[:space:]]/, "", v) }
        print v; exit
      }
    }' "$1"
}

# alive PID: the process exists and is not a zombie.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# stop_pid NAME PID SIGNAL TIMEOUT: signal one of our children, escalate to SIGKILL, reap it.
stop_pid() {
  local name=$1 pid=$2 sig=$3 timeout=$4 i rc=0
  [[ -n $pid ]] || return 0
  # Only our own children: a PID reused by someone else is left alone.
  if alive "$pid" && [[ $(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ') == "$$" ]]; then
    kill -s "$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 20; i++)); do
      alive "$pid" || break
      sleep 0.05
    done
    if alive "$pid"; then
      warn "$name (pid $pid) did not stop within ${timeout}s of SIG$sig: sending SIGKILL"
      kill -s KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}

# wait_for_line FILE REGEX PID TIMEOUT: until FILE has a line matching REGEX. 1 if PID died
# first, 2 on timeout. Polls the file: the event is the log line, not a guessed delay.
wait_for_line() {
  local file=$1 re=$2 pid=$3 timeout=$4 start=$SECONDS
  while :; do
    if [[ -f $file ]] && grep -Eq -- "$re" "$file"; then return 0; fi
    if [[ -n $pid ]] && ! alive "$pid"; then
      grep -Eq -- "$re" "$file" 2>/dev/null && return 0
      return 1
    fi
    ((SECONDS - start < timeout)) || return 2
    sleep 0.05
  done
}

# capture FILE CMD...: CMD's output into FILE; a failure is noted in the file, never fatal.
capture() {
  local file=$1 rc=0
  shift
  "$@" >>"$file" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    printf '# %s: exit %d\n' "$*" "$rc" >>"$file"
  fi
  return 0
}

have() { command -v "$1" >/dev/null 2>&1; }

ctl() { "$HFTCTL" --socket "$socket" "$@"; }

# ------------------------------------------------------------------------------ arguments
duration=300
out=''
force_direct=0
cores_arg=''
poll_mode=''
bin_dir=''
hftd_config=''
xsim_config=''
interface=''
socket_arg=''
use_perf=1
restart=0
analyze=0
use_capture=1
capture_packets=$CAPTURE_PACKETS_DEFAULT
xsim_extra=()
hftd_extra=()
duration_set=0

while [[ $# -gt 0 ]]; do
  split_opt "$@"
  set -- "${OPT_ARGS[@]}"
  opt=$1
  case $opt in
  --out) need_value "$@"; out=$2; shift 2 ;;
  --direct) force_direct=1; shift ;;
  --cores) need_value "$@"; cores_arg=$2; shift 2 ;;
  --poll-mode) need_value "$@"; poll_mode=$2; shift 2 ;;
  --bin-dir) need_value "$@"; bin_dir=$2; shift 2 ;;
  --hftd-config) need_value "$@"; hftd_config=$2; shift 2 ;;
  --exchange-config) need_value "$@"; xsim_config=$2; shift 2 ;;
  --tick-rate) need_value "$@"; xsim_extra+=(--tick-rate "$2"); shift 2 ;;
  --fill-prob) need_value "$@"; xsim_extra+=(--fill-prob "$2"); shift 2 ;;
  --exchange-arg) need_value "$@"; xsim_extra+=("$2"); shift 2 ;;
  --hftd-arg) need_value "$@"; hftd_extra+=("$2"); shift 2 ;;
  --interface) need_value "$@"; interface=$2; shift 2 ;;
  --socket) need_value "$@"; socket_arg=$2; shift 2 ;;
  --no-perf) use_perf=0; shift ;;
  --no-capture) use_capture=0; shift ;;
  --capture-packets)
    need_value "$@"
    [[ $2 =~ ^[0-9]{1,9}$ ]] && ((10#$2 > 0)) || die_usage "--capture-packets '$2' is not a number of packets from 1 to 999999999"
    capture_packets=$((10#$2))
    shift 2
    ;;
  --restart) restart=1; shift ;;
  --analyze) analyze=1; shift ;;
  -h | --help) usage; exit 0 ;;
  -*) die_usage "unknown option '$opt'" ;;
  *)
    [[ $duration_set -eq 0 ]] || die_usage "unexpected argument '$opt' (DURATION is already $duration)"
    if ! [[ $opt =~ ^[0-9]{1,6}$ ]] || ((10#$opt < 1 || 10#$opt > 604800)); then
      die_usage "DURATION '$opt' is not a number of seconds from 1 to 604800"
    fi
    duration=$((10#$opt))
    duration_set=1
    shift
    ;;
  esac
done

case $poll_mode in
'' | busy | yield) ;;
*) die_usage "--poll-mode '$poll_mode' is neither busy nor yield" ;;
esac
for f in "$hftd_config" "$xsim_config"; do
  [[ -z $f || -r $f ]] || die_usage "cannot read the configuration file '$f'"
done
[[ -z $bin_dir || -d $bin_dir ]] || die_usage "--bin-dir '$bin_dir' is not a directory"

# Programs: the environment (tests), --bin-dir, the deployed layout (/opt/hft/{scripts,bin}), PATH.
find_program() { # ENV_VALUE NAME
  local p
  if [[ -n $1 ]]; then
    [[ -x $1 ]] || die_usage "$1 is not an executable (check HFTD, HFTCTL, EXCHANGE_SIM)"
    printf '%s\n' "$1"
    return
  fi
  for p in ${bin_dir:+"$bin_dir/$2"} "$SCRIPT_DIR/../bin/$2"; do
    if [[ -x $p ]]; then
      printf '%s\n' "$(cd "$(dirname "$p")" && pwd)/$2"
      return
    fi
  done
  if p=$(command -v "$2"); then
    printf '%s\n' "$p"
    return
  fi
  die_usage "$2 not found: build it (scripts/build.sh) and pass --bin-dir DIR, or deploy it to /opt/hft/bin"
}
HFTD=$(find_program "${HFTD:-}" hftd)
HFTCTL=$(find_program "${HFTCTL:-}" hftctl)
EXCHANGE_SIM=$(find_program "${EXCHANGE_SIM:-}" exchange-sim)

# ------------------------------------------------------------------------------ mode
units_installed() {
  local u
  for u in hft.target hftd.service hft-exchange-sim.service; do
    systemctl cat "$u" >/dev/null 2>&1 || return 1
  done
}
mode=direct
if [[ $force_direct -eq 0 && -d /run/systemd/system ]] && have systemctl && units_installed; then
  mode=systemd
fi
if [[ $mode == systemd ]]; then
  for o in "$cores_arg" "$poll_mode" "${xsim_extra[@]}" "${hftd_extra[@]}"; do
    [[ -z $o ]] || die_usage "--cores, --poll-mode, --tick-rate, --fill-prob, --exchange-arg and --hftd-arg need --direct (systemd mode runs the units as configured)"
  done
fi

mapfile -t allowed < <(allowed_cpus)
if [[ $mode == direct ]]; then
  if [[ -n $cores_arg ]]; then
    [[ $cores_arg =~ ^[0-9]+,[0-9]+$ ]] || die_usage "--cores '$cores_arg' is not N,M (two CPU numbers)"
    network_core=${cores_arg%,*}
    strategy_core=${cores_arg#*,}
    [[ $network_core != "$strategy_core" ]] || die_usage "--cores: the two cores must differ"
  else
    ((${#allowed[@]} >= 2)) || die_usage "only ${#allowed[@]} CPU allowed: hftd needs two (--cores N,M)"
    network_core=${allowed[-2]}
    strategy_core=${allowed[-1]}
  fi
  for c in "$network_core" "$strategy_core"; do
    [[ " ${allowed[*]} " == *" $c "* ]] ||
      die_usage "--cores: CPU $c is not one this script may use (allowed: ${allowed[*]})"
  done
  if [[ -z $poll_mode ]]; then
    if ((${#allowed[@]} < 4)); then poll_mode=yield; else poll_mode=busy; fi
  fi
  [[ -n $hftd_config || ! -r /etc/hft/hftd.toml ]] || hftd_config=/etc/hft/hftd.toml
  [[ -n $xsim_config || ! -r /etc/hft/exchange-sim.toml ]] || xsim_config=/etc/hft/exchange-sim.toml
  worker_cores="$network_core $strategy_core"
else
  # unit_arg UNIT FLAG: the value of FLAG in the unit's ExecStart= (empty when absent).
  unit_arg() {
    local -a words
    local i
    read -ra words <<<"$(systemctl show -p ExecStart --value "$1" 2>/dev/null | sed -n 's/.*argv\[\]=\([^;]*\);.*/\1/p' | head -n 1)"
    for ((i = 0; i < ${#words[@]}; i++)); do
      if [[ ${words[i]} == "$2" ]]; then printf '%s\n' "${words[i + 1]:-}"; return; fi
      if [[ ${words[i]} == "$2="* ]]; then printf '%s\n' "${words[i]#*=}"; return; fi
    done
  }
  [[ -n $hftd_config ]] || hftd_config=$(unit_arg hftd.service --config)
  [[ -n $hftd_config || ! -r /etc/hft/hftd.toml ]] || hftd_config=/etc/hft/hftd.toml
  [[ -n $xsim_config ]] || xsim_config=$(unit_arg hft-exchange-sim.service --config)
  [[ -n $xsim_config || ! -r /etc/hft/exchange-sim.toml ]] || xsim_config=/etc/hft/exchange-sim.toml
  network_core=$(toml_value "$hftd_config" cpu network_core)
  strategy_core=$(toml_value "$hftd_config" cpu strategy_core)
  worker_cores="${network_core:-6} ${strategy_core:-7}"
fi
# set_housekeeping: monitors and exchange-sim go on the CPUs the workers leave ($worker_cores);
# on a 2-CPU box, on what exists.
hk_list=''
pin=()
set_housekeeping() {
  local c
  local -a housekeeping=()
  for c in "${allowed[@]}"; do
    [[ " $worker_cores " == *" $c "* ]] || housekeeping+=("$c")
  done
  ((${#housekeeping[@]} > 0)) || housekeeping=("${allowed[@]}")
  hk_list=$(
    IFS=,
    echo "${housekeeping[*]}"
  )
  pin=()
  if have taskset; then pin=(taskset -c "$hk_list"); fi
}
set_housekeeping

# ------------------------------------------------------------------------------ data directory
if [[ -z $out ]]; then
  if [[ $(id -u) -eq 0 ]]; then root_dir=${HFT_DATA_ROOT:-/var/lib/hft/data}; else root_dir=${HFT_DATA_ROOT:-${HOME:-/tmp}/hft-data}; fi
  mkdir -p "$root_dir" || die_usage "cannot create $root_dir (set HFT_DATA_ROOT or --out DIR)"
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  out=$root_dir/$stamp
  n=1
  until mkdir "$out" 2>/dev/null; do # mkdir claims the name even against a concurrent run
    n=$((n + 1))
    ((n < 100)) || die_usage "cannot create a data directory under $root_dir"
    out=$root_dir/$stamp-$n
  done
else
  if [[ -e $out ]]; then
    [[ -d $out ]] || die_usage "--out '$out' exists and is not a directory"
    [[ -z $(ls -A "$out") ]] || die_usage "--out '$out' is not empty: give a new directory"
  else
    mkdir -p "$out" || die_usage "cannot create --out '$out'"
  fi
fi
datadir=$(cd "$out" && pwd)
mkdir -p "$datadir"/{system,monitors,session,exchange,logs,capture}
collect_log=$datadir/logs/collect.log
: >"$collect_log"

# ------------------------------------------------------------------------------ state and cleanup
xsim_pid=''
hftd_pid=''
monitor_pids=()  # "name:pid:signal"
started_target=0 # systemd mode: we started hft.target and stop it again
started_monitor_unit=0
session_id=''
session_running=0
interrupted=''
run_started_epoch=$(date +%s)
socket_tmpdir=''
hftd_main_pid=''
capture_pid=''
capture_filter=''

on_signal() {
  interrupted=$1
  # SIGHUP: the terminal (or ssh session) is gone; messages go to logs/collect.log only.
  if [[ $1 == HUP ]]; then exec >/dev/null 2>&1; fi
  printf '\n' >&2
  warn "SIG$1 received: stopping the session and the programs, keeping the data collected so far"
  exit 130
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
trap finish EXIT

stop_monitors() {
  local m name pid sig
  [[ ${#monitor_pids[@]} -eq 0 ]] || log "stopping the monitors"
  for m in "${monitor_pids[@]}"; do
    IFS=: read -r name pid sig <<<"$m"
    stop_pid "$name" "$pid" "$sig" 5 || true
  done
  monitor_pids=()
  if [[ $started_monitor_unit -eq 1 ]]; then
    systemctl stop hft-monitor.service || warn "systemctl stop hft-monitor.service failed"
    started_monitor_unit=0
  fi
}

stop_stack() {
  local rc=0
  if [[ -n $hftd_pid ]]; then
    log "stopping hftd (pid $hftd_pid)"
    stop_pid hftd "$hftd_pid" TERM 15 || rc=$?
    [[ $rc -eq 0 ]] || warn "hftd exited with status $rc (logs/hftd.log)"
    hftd_pid=''
  fi
  rc=0
  if [[ -n $xsim_pid ]]; then
    # SIGTERM makes exchange-sim write its statistics file and exit 0.
    log "stopping exchange-sim (pid $xsim_pid): it writes exchange/exchange_stats.json"
    stop_pid exchange-sim "$xsim_pid" TERM 15 || rc=$?
    [[ $rc -eq 0 ]] || warn "exchange-sim exited with status $rc (logs/exchange-sim.log)"
    xsim_pid=''
  fi
  if [[ $started_target -eq 1 ]]; then
    log "systemctl stop hft.target"
    systemctl stop hft.target hftd.service hft-exchange-sim.service ||
      warn "systemctl stop hft.target failed: check systemctl status hft.target"
    started_target=0
  fi
}

finish() {
  local rc=$?
  trap '' INT TERM HUP PIPE # a second Ctrl-C, or a closed terminal, must not stop the cleanup
  set +e
  if [[ -n $interrupted ]]; then rc=130; fi
  if [[ $session_running -eq 1 ]]; then
    log "stopping session $session_id"
    ctl stop-session >>"$collect_log" 2>&1 || warn "hftctl stop-session failed"
    wait_session_files 10
    session_running=0
  fi
  stop_monitors
  stop_stack
  stop_capture
  gather
  write_manifest
  [[ -z $socket_tmpdir ]] || rm -rf "$socket_tmpdir"
  if [[ $rc -eq 0 && $analyze -eq 1 ]]; then
    log "analysing: $PYTHON $SCRIPT_DIR/analyze_results.py $datadir"
    "$PYTHON" "$SCRIPT_DIR/analyze_results.py" "$datadir" || {
      warn "analyze_results.py failed (the data is complete: run it again by hand)"
      rc=1
    }
  fi
  case $rc in
  0) echo "$PROG: done" ;;
  130) echo "$PROG: interrupted; partial data kept" >&2 ;;
  *) echo "$PROG: failed (exit $rc); what was collected is kept" >&2 ;;
  esac
  echo "Data directory: $datadir"
  exit "$rc"
}

# ------------------------------------------------------------------------------ system snapshot
snapshot_system() {
  local sys=$datadir/system f d node n
  log "system snapshot into system/"
  cp /proc/cmdline "$sys/cmdline.txt" 2>/dev/null || echo "# /proc/cmdline unreadable" >"$sys/cmdline.txt"
  cp /proc/cpuinfo "$sys/cpuinfo.txt" 2>/dev/null || echo "# /proc/cpuinfo unreadable" >"$sys/cpuinfo.txt"
  if have lscpu; then capture "$sys/lscpu.txt" lscpu; else echo "# lscpu not installed (util-linux)" >"$sys/lscpu.txt"; fi

  f=$sys/numa.txt
  if have numactl; then capture "$f" numactl -H; else echo "# numactl not installed (package numactl)" >"$f"; fi
  for d in /sys/devices/system/node/node[0-9]*; do
    printf '%s cpulist: %s\n' "${d##*/}" "$(cat "$d/cpulist" 2>/dev/null)" >>"$f"
  done

  f=$sys/hugepages.txt
  {
    echo "== /proc/meminfo"
    cat /proc/meminfo
    echo "== /sys/kernel/mm/hugepages"
    for d in /sys/kernel/mm/hugepages/hugepages-*; do
      for n in nr_hugepages free_hugepages resv_hugepages surplus_hugepages; do
        printf '%s %s %s\n' "${d##*/}" "$n" "$(cat "$d/$n" 2>/dev/null)"
      done
    done
    echo "== per NUMA node"
    for node in /sys/devices/system/node/node[0-9]*; do
      for d in "$node"/hugepages/hugepages-*; do
        for n in nr_hugepages free_hugepages surplus_hugepages; do
          printf '%s %s %s %s\n' "${node##*/}" "${d##*/}" "$n" "$(cat "$d/$n" 2>/dev/null)"
        done
      done
    done
    echo "== transparent hugepages"
    for n in enabled defrag; do
      printf '%s: %s\n' "$n" "$(cat "/sys/kernel/mm/transparent_hugepage/$n" 2>/dev/null)"
    done
  } >"$f" 2>&1

  f=$sys/irq_affinity.txt
  {
    printf 'default_smp_affinity: %s\n' "$(cat /proc/irq/default_smp_affinity 2>/dev/null)"
    echo "# irq smp_affinity_list effective_affinity_list"
    for d in /proc/irq/[0-9]*; do
      printf '%s %s %s\n' "${d##*/}" "$(cat "$d/smp_affinity_list" 2>/dev/null || echo -)" \
        "$(cat "$d/effective_affinity_list" 2>/dev/null || echo -)"
    done | sort -n
    echo "== /proc/interrupts"
    cat /proc/interrupts
  } >"$f" 2>&1

  f=$sys/nic_stats.txt
  {
    echo "== ip -s link"
    ip -s link 2>&1 || echo "# ip -s link failed"
    echo "== ethtool -S $interface"
    if have ethtool; then
      ethtool -S "$interface" 2>&1 || echo "# ethtool -S $interface failed: the driver has no statistics"
      echo "== ethtool -i $interface"
      ethtool -i "$interface" 2>&1 || echo "# ethtool -i $interface failed"
    else
      echo "# ethtool not installed (package ethtool)"
    fi
  } >"$f"

  if [[ -n $hftd_config ]]; then
    cp "$hftd_config" "$sys/hftd.toml"
  else
    echo "# hftd ran with its built-in defaults (no configuration file) and these flags:" >"$sys/hftd.toml"
  fi
  if [[ -n $xsim_config ]]; then
    cp "$xsim_config" "$sys/exchange-sim.toml"
  else
    echo "# exchange-sim ran with its built-in defaults (no configuration file) and these flags:" >"$sys/exchange-sim.toml"
  fi
}

write_versions() {
  local f=$datadir/system/versions.txt line
  {
    printf 'hftd: %s (%s)\n' "$("$HFTD" --version 2>&1 | head -n 1)" "$HFTD"
    printf 'hftctl: %s (%s)\n' "$("$HFTCTL" --version 2>&1 | head -n 1)" "$HFTCTL"
    ctl version 2>&1 | while IFS= read -r line; do printf 'hftctl version: %s\n' "$line"; done
    printf 'exchange-sim: %s (%s)\n' "$("$EXCHANGE_SIM" --version 2>&1 | head -n 1)" "$EXCHANGE_SIM"
    printf 'kernel: %s\n' "$(uname -r)"
    printf 'uname -a: %s\n' "$(uname -a)"
    # shellcheck disable=SC1091 # the running system's file
    if [[ -r /etc/os-release ]]; then printf 'os: %s\n' "$(. /etc/os-release && echo "${PRETTY_NAME:-unknown}")"; fi
    if have perf; then printf 'perf: %s\n' "$(perf --version 2>&1 | head -n 1)"; fi
    if have mpstat; then printf 'sysstat: %s\n' "$(mpstat -V 2>&1 | head -n 1)"; fi
    if have systemctl; then printf 'systemd: %s\n' "$(systemctl --version 2>&1 | head -n 1)"; fi
    printf 'bash: %s\n' "$BASH_VERSION"
    if [[ -x $PYTHON ]]; then printf 'python3: %s\n' "$("$PYTHON" --version 2>&1)"; fi
    printf 'collect_data mode: %s\n' "$mode"
  } >"$f"
}

# ------------------------------------------------------------------------------ capture
# The exchange link as the wire sees it, for wire-to-wire tick-to-trade (analyze_results.py)
# and for Wireshark (docs/wireshark.md). Loopback only: the exchange runs on this host.

# udp_feed_port: the port of exchange-sim's UDP feed (--udp-feed or [server] udp_feed), or ''.
udp_feed_port() {
  local i feed=''
  for ((i = 0; i < ${#xsim_extra[@]}; i++)); do
    case ${xsim_extra[i]} in
    --udp-feed) feed=${xsim_extra[i + 1]:-} ;;
    --udp-feed=*) feed=${xsim_extra[i]#*=} ;;
    esac
  done
  if [[ -z $feed && $mode == systemd ]]; then feed=$(unit_arg hft-exchange-sim.service --udp-feed); fi
  [[ -n $feed ]] || feed=$(toml_value "$xsim_config" server udp_feed)
  [[ $feed =~ :([0-9]+)$ ]] && printf '%s\n' "${BASH_REMATCH[1]}"
  return 0
}

capture_note() { # MESSAGE: why there is no capture, in capture/capture.json
  local msg=${1//\"/\'}
  printf '{"captured": false, "reason": "%s"}\n' "$msg" >"$datadir/capture/capture.json"
  warn "no capture of the exchange link: $1"
}

start_capture() { # TCP_PORT
  local port=$1 udp rc=0 f=$datadir/capture
  [[ $use_capture -eq 1 ]] || {
    printf '{"captured": false, "reason": "--no-capture"}\n' >"$f/capture.json"
    return 0
  }
  have tcpdump || {
    capture_note "tcpdump is not installed (Debian: apt-get install tcpdump; scripts/install-deps.sh)"
    return 0
  }
  udp=$(udp_feed_port)
  capture_filter="tcp port $port"
  [[ -z $udp ]] || capture_filter+=" or udp port $udp"
  log "capturing lo ($capture_filter) into capture/exchange.pcap, at most $capture_packets packets"
  # --immediate-mode: each packet reaches tcpdump at once, none waits in a ring block at the end.
  "${pin[@]}" tcpdump -i lo -n --time-stamp-precision=nano --immediate-mode -U \
    -s "$CAPTURE_SNAPLEN" -c "$capture_packets" -w "$f/exchange.pcap" "$capture_filter" \
    >"$f/tcpdump.log" 2>&1 &
  capture_pid=$!
  wait_for_line "$f/tcpdump.log" '^(tcpdump: )?listening on' "$capture_pid" "$READY_TIMEOUT" || rc=$?
  if [[ $rc -ne 0 ]]; then
    stop_pid tcpdump "$capture_pid" INT 5 || true
    capture_pid=''
    capture_note "tcpdump did not start: $(tail -n 2 "$f/tcpdump.log" | tr '\n' ' ')(needs root or CAP_NET_RAW)"
    rm -f "$f/exchange.pcap"
    return 0
  fi
  log "tcpdump (pid $capture_pid) capturing"
}

stop_capture() {
  local f=$datadir/capture size last=-1 i captured filtered kernel iface limit=false
  [[ -n $capture_pid ]] || return 0
  # The programs are stopped: wait until the last packets are written (the file stops growing).
  for ((i = 0; i < 100; i++)); do
    size=$(stat -c %s "$f/exchange.pcap" 2>/dev/null || echo 0)
    [[ $size != "$last" ]] || break
    last=$size
    alive "$capture_pid" || break
    sleep 0.05
  done
  if alive "$capture_pid"; then
    stop_pid tcpdump "$capture_pid" INT 10 || true
  else
    wait "$capture_pid" 2>/dev/null || true # -c reached, or the terminal's Ctrl-C reached it too
  fi
  capture_pid=''
  captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$f/tcpdump.log" | tail -n 1)
  if ((${captured:-0} >= capture_packets)); then
    limit=true
    warn "the capture stopped at its limit of $capture_packets packets (--capture-packets)"
  fi
  filtered=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$f/tcpdump.log" | tail -n 1)
  kernel=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$f/tcpdump.log" | tail -n 1)
  iface=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by interface$/\1/p' "$f/tcpdump.log" | tail -n 1)
  if have editcap && [[ -s $f/exchange.pcap ]]; then
    # pcapng keeps the nanosecond resolution as if_tsresol; tcpdump itself writes pcap only.
    if editcap -F pcapng "$f/exchange.pcap" "$f/exchange.pcapng" 2>>"$f/tcpdump.log"; then
      rm -f "$f/exchange.pcap"
    else
      warn "editcap could not convert capture/exchange.pcap to pcapng: kept as pcap"
    fi
  elif [[ -s $f/exchange.pcap ]]; then
    warn "editcap (wireshark-common) is missing: the capture stays pcap (capture/exchange.pcap)"
  fi
  printf '{"captured": true, "tool": "tcpdump", "interface": "lo", "filter": "%s", "snaplen": %d, "max_packets": %d, "limit_reached": %s, "packets_captured": %s, "packets_received_by_filter": %s, "packets_dropped_by_kernel": %s, "packets_dropped_by_interface": %s}\n' \
    "$capture_filter" "$CAPTURE_SNAPLEN" "$capture_packets" "$limit" "${captured:-null}" \
    "${filtered:-null}" "${kernel:-null}" "${iface:-null}" >"$f/capture.json"
  log "capture: ${captured:-?} packets, ${kernel:-?} dropped by the kernel"
  [[ ${kernel:-0} -eq 0 ]] || warn "the kernel dropped $kernel captured packets: wire-to-wire misses orders"
}

# ------------------------------------------------------------------------------ the stack
start_direct_stack() {
  local args rc port log_xsim=$datadir/logs/exchange-sim.log log_hftd=$datadir/logs/hftd.log

  args=()
  [[ -z $xsim_config ]] || args+=(--config "$xsim_config")
  args+=(--bind 127.0.0.1 --port 0 --stats-file "$datadir/exchange/exchange_stats.json"
    --samples-file "$datadir/exchange/tick_to_trade.csv" "${xsim_extra[@]}")
  printf '# %s\n' "$EXCHANGE_SIM ${args[*]}" >>"$datadir/system/exchange-sim.toml"
  log "starting exchange-sim on CPUs $hk_list: ${args[*]}"
  "${pin[@]}" "$EXCHANGE_SIM" "${args[@]}" >"$log_xsim" 2>&1 &
  xsim_pid=$!
  rc=0
  wait_for_line "$log_xsim" 'Listening on port [0-9]+' "$xsim_pid" "$READY_TIMEOUT" || rc=$?
  case $rc in
  0) ;;
  1) die "exchange-sim exited before listening; its log (logs/exchange-sim.log) ends:" "$(tail -n 5 "$log_xsim")" ;;
  *) die "exchange-sim did not log 'Listening on port' within ${READY_TIMEOUT}s" ;;
  esac
  port=$(grep -Eo 'Listening on port [0-9]+' "$log_xsim" | head -n 1 | grep -Eo '[0-9]+$')
  log "exchange-sim (pid $xsim_pid) listening on 127.0.0.1:$port"
  start_capture "$port"

  socket=$datadir/run/control.sock
  mkdir -p "$datadir/run"
  if ((${#socket} > 100)); then # sun_path holds 108 bytes
    socket_tmpdir=$(mktemp -d /tmp/hft-collect.XXXXXX)
    socket=$socket_tmpdir/control.sock
    rmdir "$datadir/run"
  fi
  args=()
  [[ -z $hftd_config ]] || args+=(--config "$hftd_config")
  args+=(--network-core "$network_core" --strategy-core "$strategy_core" --poll-mode "$poll_mode"
    --interface lo --exchange "127.0.0.1:$port" --idle --socket "$socket"
    --sessions-dir "$datadir/sessions" "${hftd_extra[@]}")
  printf '# %s\n' "$HFTD ${args[*]}" >>"$datadir/system/hftd.toml"
  log "starting hftd (cores $network_core,$strategy_core, poll mode $poll_mode): ${args[*]}"
  "$HFTD" "${args[@]}" >"$log_hftd" 2>&1 &
  hftd_pid=$!
  rc=0
  wait_for_line "$log_hftd" 'Control socket listening on' "$hftd_pid" "$READY_TIMEOUT" || rc=$?
  case $rc in
  0) ;;
  1) die "hftd exited before serving its control socket; its log (logs/hftd.log) ends:" "$(tail -n 5 "$log_hftd")" ;;
  *) die "hftd did not log 'Control socket listening on' within ${READY_TIMEOUT}s" ;;
  esac
  log "hftd (pid $hftd_pid) ready on $socket"
}

start_systemd_stack() {
  local start=$SECONDS status xport
  socket=${socket_arg:-$(unit_arg hftd.service --socket)}
  socket=${socket:-$(toml_value "$hftd_config" control socket)}
  socket=${socket:-/run/hftd/control.sock}
  record_monitor_offsets
  xport=$(unit_arg hft-exchange-sim.service --port)
  xport=${xport:-$(toml_value "$xsim_config" server port)}
  start_capture "${xport:-9000}" # before the engine connects, so the capture sees it all
  if systemctl is-active --quiet hftd.service && [[ $restart -eq 0 ]]; then
    log "hftd.service is already running: using it (it stays running afterwards)"
    warn "exchange-sim writes its statistics when it stops: exchange/exchange_stats.json will be missing or stale (--restart runs the stack for this run only)"
  else
    if systemctl is-active --quiet hftd.service; then
      log "systemctl stop hft.target (--restart)"
      systemctl stop hft.target hftd.service hft-exchange-sim.service hft-monitor.service ||
        die "systemctl stop hft.target failed"
      record_monitor_offsets
    fi
    log "systemctl start hft.target"
    started_target=1
    systemctl start hft.target || die "systemctl start hft.target failed" "see systemctl status hft.target hftd.service hft-exchange-sim.service"
  fi
  # Type=notify: hftd is active once it served the socket; wait for hftctl to get an answer.
  until ctl status >/dev/null 2>&1; do
    if systemctl is-failed --quiet hftd.service; then
      die "hftd.service failed; its journal ends:" "$(journalctl -u hftd.service -n 5 -o cat --no-pager 2>&1)"
    fi
    ((SECONDS - start < READY_TIMEOUT)) || die "hftd does not answer on $socket after ${READY_TIMEOUT}s" "journalctl -u hftd.service"
    sleep 0.1
  done
  hftd_main_pid=$(systemctl show -p MainPID --value hftd.service)
  # The cores hftd really runs on (a drop-in may move them from hftd.toml's).
  status=$(ctl --json status 2>/dev/null) || status=''
  network_core=$(json_value network_core <<<"$status")
  strategy_core=$(json_value strategy_core <<<"$status")
  if [[ -n $network_core && -n $strategy_core ]]; then
    worker_cores="$network_core $strategy_core"
    set_housekeeping
  fi
  log "hftd.service (pid $hftd_main_pid, cores $worker_cores) answers on $socket"
}

stack_alive() {
  if [[ $mode == direct ]]; then
    alive "$hftd_pid"
  else
    systemctl is-active --quiet hftd.service
  fi
}

# ------------------------------------------------------------------------------ monitors
start_monitor() { # NAME SIGNAL OUTFILE CMD...: pinned to the housekeeping CPUs
  local name=$1 sig=$2 file=$3
  shift 3
  "${pin[@]}" "$@" >>"$file" 2>&1 &
  monitor_pids+=("$name:$!:$sig")
}

perf_events() {
  # Hardware counters when the PMU is there (not in most VMs and containers), else software.
  local sw=task-clock,context-switches,cpu-migrations,page-faults out
  if out=$(perf stat -e cycles,instructions true 2>&1) && [[ $out != *"not supported"* && $out != *"not counted"* ]]; then
    echo "cycles,instructions,cache-references,cache-misses,branches,branch-misses,$sw"
  else
    echo "$sw"
  fi
}

start_sysstat_monitors() { # HFTD_PID
  local mon=$datadir/monitors f
  for f in mpstat pidstat vmstat; do
    have "$f" || echo "# $f not installed (package sysstat/procps): no data" >"$mon/$f.txt"
  done
  if have mpstat; then start_monitor mpstat INT "$mon/mpstat.txt" env LC_ALL=C mpstat -P ALL 1; fi
  if have vmstat; then start_monitor vmstat TERM "$mon/vmstat.txt" vmstat -t 1; fi
  if have pidstat; then start_monitor pidstat INT "$mon/pidstat.txt" env LC_ALL=C pidstat -t -p "$1" 1; fi
}

start_perf() { # HFTD_PID
  local pid=$1 f=$datadir/monitors/perf_stat.txt why='' out events
  if [[ $use_perf -eq 0 ]]; then
    why="perf stat not run: --no-perf"
  elif ! have perf; then
    why="perf stat not run: perf is not installed (package linux-perf)"
  elif ! out=$(perf stat -e task-clock true 2>&1 >/dev/null) || [[ $out == *"not supported"* || $out == *"not counted"* ]]; then
    why="perf stat not run: perf cannot count here ($(tr '\n' ' ' <<<"$out" | cut -c1-300)); check kernel.perf_event_paranoid, or the container's seccomp profile and CAP_PERFMON"
  fi
  if [[ -n $why ]]; then
    echo "# $why" >"$f"
    log "$why"
    return 0
  fi
  events=$(perf_events)
  echo "# perf stat -p $pid -e $events" >"$f"
  [[ $events == cycles* ]] || echo "# hardware events (cycles, instructions, ...) are not supported here: software events only" >>"$f"
  start_monitor perf INT "$f" perf stat -p "$pid" -e "$events" -o "$f" --append
}

start_hftctl_poll() {
  start_monitor hftctl TERM "$datadir/monitors/hftctl_stats.jsonl" "$HFTCTL" --socket "$socket" --json stats --watch 1
}

# systemd mode: hft-monitor.service appends to files in its LogsDirectory; this run's part of
# each is what was appended between record_monitor_offsets and the end.
readonly MONITOR_FILES=(mpstat.txt vmstat.txt pidstat.txt hftctl_stats.jsonl)
declare -A monitor_offset=()
monitor_dir=''
record_monitor_offsets() {
  local f d
  systemctl cat hft-monitor.service >/dev/null 2>&1 || return 0
  d=$(systemctl show -p LogsDirectory --value hft-monitor.service 2>/dev/null | awk '{print $1}')
  [[ -n $d ]] || return 0
  monitor_dir=/var/log/$d
  for f in "${MONITOR_FILES[@]}"; do
    monitor_offset[$f]=$(stat -c %s "$monitor_dir/$f" 2>/dev/null || echo 0)
  done
}

copy_monitor_slice() { # FILE: this run's part, with the tool's header lines when it lacks them
  local name=$1 src=$monitor_dir/$1 dst=$datadir/monitors/$1 off size
  [[ -f $src ]] || {
    warn "hft-monitor.service wrote no $src"
    return 0
  }
  off=${monitor_offset[$name]:-0}
  size=$(stat -c %s "$src")
  ((size >= off)) || off=0 # rotated meanwhile: take it all
  {
    if ((off > 0)); then
      case $name in
      mpstat.txt | pidstat.txt) head -n 2 "$src" ;; # "Linux ... (N CPU)" and a blank line
      vmstat.txt) head -n 2 "$src" ;;               # the column headers (vmstat -n prints them once)
      esac
    fi
    if ((off > 0)) && [[ $(tail -c +"$off" "$src" | head -c 1 | od -An -c | tr -d ' ') != '\n' ]]; then
      tail -c +"$((off + 1))" "$src" | sed 1d # starts mid-line: drop the partial line
    else
      tail -c +"$((off + 1))" "$src"
    fi
  } >"$dst"
}

start_monitors() {
  if [[ $mode == systemd && -n $monitor_dir ]]; then
    if ! systemctl is-active --quiet hft-monitor.service; then
      log "systemctl start hft-monitor.service"
      systemctl start hft-monitor.service || die "systemctl start hft-monitor.service failed" "journalctl -u hft-monitor.service"
      started_monitor_unit=1
    fi
    log "monitors: hft-monitor.service (into $monitor_dir), perf stat on CPUs $hk_list"
    start_perf "$hftd_main_pid"
  else
    [[ $mode == direct ]] || warn "hft-monitor.service is not installed: running the monitors directly"
    log "monitors on CPUs $hk_list: mpstat, vmstat, pidstat, perf stat, hftctl stats"
    start_sysstat_monitors "${hftd_pid:-$hftd_main_pid}"
    start_perf "${hftd_pid:-$hftd_main_pid}"
    start_hftctl_poll
  fi
}

# ------------------------------------------------------------------------------ the session
session_dir() { # where hftd writes this session
  local base
  if [[ $mode == direct ]]; then
    base=$datadir/sessions
  else
    base=$(unit_arg hftd.service --sessions-dir)
    base=${base:-$(toml_value "$hftd_config" session directory)}
    base=${base:-/var/lib/hft/sessions}
  fi
  printf '%s/%s\n' "$base" "$session_id"
}

wait_session_files() { # TIMEOUT: stats.json is written when the session ends
  local start=$SECONDS dir
  [[ -n $session_id ]] || return 0
  dir=$(session_dir)
  until [[ -f $dir/stats.json ]]; do
    ((SECONDS - start < $1)) || {
      warn "$dir/stats.json did not appear within $1 s"
      return 1
    }
    stack_alive || return 1
    sleep 0.1
  done
}

progress() { # ELAPSED STATS_JSON
  local orders fills md line
  orders=$(json_value orders_sent <<<"$2")
  fills=$(json_value fills <<<"$2")
  md=$(json_value md_messages <<<"$2")
  line=$(printf 'elapsed %4ds  remaining %4ds  orders %s  fills %s  market data %s' "$1" \
    $((duration - $1 > 0 ? duration - $1 : 0)) "${orders:-?}" "${fills:-?}" "${md:-?}")
  if [[ -t 1 ]]; then
    printf '\r%s ' "$line"
  else
    printf '%s %s\n' "$(date -u +%H:%M:%S)" "$line"
  fi
  printf '%s %s\n' "$(date -u +%H:%M:%S)" "$line" >>"$collect_log"
}

run_session() {
  local out start elapsed stats state
  out=$(ctl --json start-session --duration "$duration" 2>&1) ||
    die "hftctl start-session failed: $out" "a session already running? hftctl stop-session ends it"
  session_id=$(json_value session_id <<<"$out")
  [[ -n $session_id ]] || die "hftctl start-session printed no session id: $out"
  session_running=1
  start=$SECONDS
  log "session $session_id started for ${duration}s"
  if [[ $mode == direct ]]; then
    if wait_for_line "$datadir/logs/hftd.log" 'Connected to exchange' "$hftd_pid" 10; then
      log "hftd: $(grep -m 1 'Connected to exchange' "$datadir/logs/hftd.log" | sed 's/.*Connected/Connected/')"
    else
      warn "hftd has not logged 'Connected to exchange' within 10 s: is exchange-sim reachable?"
    fi
  fi

  while :; do
    stack_alive || die "hftd stopped during the session" "see logs/hftd.log"
    elapsed=$((SECONDS - start))
    stats=$(ctl --json stats 2>/dev/null) || stats=''
    state=$(json_value state <<<"$stats")
    if [[ $state == idle ]]; then break; fi
    if ((elapsed > duration + END_GRACE)); then
      warn "session $session_id still '$state' ${END_GRACE}s after its end: stopping it"
      ctl stop-session >>"$collect_log" 2>&1 || warn "hftctl stop-session failed"
      break
    fi
    progress "$elapsed" "$stats"
    sleep 1
  done
  [[ ! -t 1 ]] || printf '\n'
  wait_session_files 15 || true
  session_running=0
  log "session $session_id ended after $((SECONDS - start))s"
  grep -m 1 "Session $session_id ended" "$datadir/logs/hftd.log" 2>/dev/null | sed 's/^/  /' | tee -a "$collect_log" || true
}

# ------------------------------------------------------------------------------ gathering
gather() {
  local dir f src
  # hftd's session directory becomes session/.
  if [[ $mode == direct ]]; then
    dir=''
    if [[ -n $session_id && -d $datadir/sessions/$session_id ]]; then
      dir=$datadir/sessions/$session_id
    else
      for f in "$datadir"/sessions/*/; do dir=${f%/}; done # interrupted before the id was known
    fi
    if [[ -n $dir ]]; then
      for f in "$dir"/* "$dir"/.[!.]*; do mv -f "$f" "$datadir/session/"; done
      rmdir "$dir" 2>/dev/null
    fi
    rmdir "$datadir/sessions" "$datadir/run" 2>/dev/null
    if [[ -S $datadir/run/control.sock ]]; then rm -f "$datadir/run/control.sock" && rmdir "$datadir/run"; fi
  else
    if [[ -n $session_id ]]; then
      dir=$(session_dir)
      if [[ -d $dir ]]; then cp -a "$dir"/. "$datadir/session/"; else warn "session directory $dir not found"; fi
    fi
    journalctl -u hftd.service --since "@$run_started_epoch" -o short-iso --no-pager >"$datadir/logs/hftd.log" 2>&1
    journalctl -u hft-exchange-sim.service --since "@$run_started_epoch" -o short-iso --no-pager >"$datadir/logs/exchange-sim.log" 2>&1
    journalctl -u hft-monitor.service --since "@$run_started_epoch" -o short-iso --no-pager >"$datadir/logs/hft-monitor.log" 2>&1
    # exchange-sim's outputs: from its unit's flags, else its configuration file.
    for f in stats-file:exchange_stats.json samples-file:tick_to_trade.csv; do
      src=$(unit_arg hft-exchange-sim.service "--${f%%:*}")
      [[ -n $src ]] || src=$(toml_value "$xsim_config" output "$(tr - _ <<<"${f%%:*}")")
      src=${src/#%S//var/lib}
      # DynamicUser= units keep their state under /var/lib/private.
      if [[ -n $src && ! -f $src && -f ${src/#\/var\/lib\///var/lib/private/} ]]; then src=${src/#\/var\/lib\///var/lib/private/}; fi
      if [[ -z $src ]]; then
        warn "exchange-sim has no --${f%%:*}: exchange/${f#*:} not collected (set [output] $(tr - _ <<<"${f%%:*}") in exchange-sim.toml)"
      elif [[ ! -f $src ]]; then
        warn "exchange-sim's $src does not exist: exchange/${f#*:} not collected"
      elif (($(stat -c %Y "$src") < run_started_epoch)); then
        warn "exchange-sim's $src predates this run (exchange-sim still running?): not collected"
      else
        cp "$src" "$datadir/exchange/${f#*:}"
      fi
    done
    if [[ -n $monitor_dir ]]; then
      for f in "${MONITOR_FILES[@]}"; do copy_monitor_slice "$f"; done
    fi
  fi
}

write_manifest() {
  local tmp
  tmp=$(mktemp) || return 1
  (cd "$datadir" && find . -type f ! -name MANIFEST.sha256 -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 -r sha256sum --) >"$tmp" &&
    mv "$tmp" "$datadir/MANIFEST.sha256" && chmod 0644 "$datadir/MANIFEST.sha256"
  collect_log=/dev/null # from here on the files are sealed by the manifest
  log "MANIFEST.sha256: $(wc -l <"$datadir/MANIFEST.sha256") files"
}

# ------------------------------------------------------------------------------ main
if [[ -z $interface ]]; then
  if [[ $mode == direct ]]; then interface=lo; else interface=$(toml_value "$hftd_config" exchange interface); fi
  interface=${interface:-lo}
fi

echo "Data directory: $datadir"
log "collect_data: mode $mode, duration ${duration}s, data in $datadir"
log "programs: $HFTD, $HFTCTL, $EXCHANGE_SIM"
snapshot_system

if [[ $mode == direct ]]; then
  start_direct_stack
else
  start_systemd_stack
fi
start_monitors
write_versions
run_session
