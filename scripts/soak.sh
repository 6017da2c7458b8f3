#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Trades against exchange-sim on 127.0.0.1 for a long time while, every few seconds, it does
# the next of: restart exchange-sim on the same port (hftd reconnects), `hftctl reload` of a
# changed risk limit, kill switch on then off, stop-session then start-session. It prints
# hftd's RSS, open fds, threads and drop counters after the warm-up and at the end. A
# benchmark: it prints figures and passes or fails nothing unless --check is given.
#
#   scripts/soak.sh [--duration S|Nm] [--every S] [--warmup S] [--poll-mode yield|busy]
#                   [--tick-rate MS] [--cores N,M] [--build DIR] [--keep] [--check]
#
#   --duration  trading time after the warm-up: seconds, or minutes with an m suffix (10m)
#   --every     seconds from one action to the next (default 5); actions cycle in the order
#               exchange-restart, reload, kill-switch, session-restart
#   --warmup    seconds of trading before the start figures (default 5)
#   --poll-mode hftd's poll mode (default yield: the workers share the CPUs with the exchange)
#   --tick-rate exchange-sim's ms between ticks (default 10)
#   --cores     hftd's network and strategy cores (default the last two allowed CPUs)
#   --build     where hftd, hftctl and exchange-sim are built (default build/release)
#   --keep      keep the temporary directory (logs, sessions) and print its path
#   --check     exit 1 if RSS grew by more than 1 MiB, the fd or thread count changed,
#               anything was dropped or an action failed
#
# Exit codes: 0 the run completed (figures printed); 1 --check found a difference, or the run
# could not go on (hftd or exchange-sim did not start, hftd exited); 2 bad command line.
# The actions and wait predicates are called by name (act_$kind, wait_until ... FUNCTION).
# shellcheck disable=SC2317
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME and awk with a '.' decimal point
PROG=soak.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh" || exit 1
command_line="scripts/soak.sh $*"
cd "$(dirname "$0")/.."
root=$(pwd)

duration=600
every=5
warmup=5
poll=yield
tick_rate=10
cores=""
build=build/release
keep=0
check=0
usage() { sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  split_opt "$@"
  set -- "${OPT_ARGS[@]}"
  case $1 in
  --duration | --every | --warmup | --poll-mode | --tick-rate | --cores | --build)
    need_value "$@"
    case $1 in
    --duration) duration=$2 ;;
    --every) every=$2 ;;
    --warmup) warmup=$2 ;;
    --poll-mode) poll=$2 ;;
    --tick-rate) tick_rate=$2 ;;
    --cores) cores=$2 ;;
    --build) build=$2 ;;
    esac
    shift 2
    ;;
  --keep) keep=1; shift ;;
  --check) check=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die_usage "unknown option '$1'" ;;
  esac
done
if [[ $duration =~ ^([0-9]+)m$ ]]; then
  duration=$((10#${BASH_REMATCH[1]} * 60))
elif [[ $duration =~ ^[0-9]+$ ]]; then
  duration=$((10#$duration))
else
  die_usage "--duration '$duration' is not a number of seconds or minutes" "e.g. --duration 600 or --duration 10m"
fi
[[ $every =~ ^[1-9][0-9]*$ ]] || die_usage "--every '$every' is not a whole number of seconds >= 1"
[[ $warmup =~ ^[0-9]+$ ]] || die_usage "--warmup '$warmup' is not a whole number of seconds"
[[ $tick_rate =~ ^[0-9]+$ ]] || die_usage "--tick-rate '$tick_rate' is not a whole number of ms"
[[ $poll == yield || $poll == busy ]] || die_usage "--poll-mode '$poll' is neither yield nor busy"
for exe in daemon/hftd ctl/hftctl exchange-sim/exchange-sim; do
  [[ -x $build/$exe ]] || { echo "$PROG: $build/$exe missing: build first (meson setup $build && ninja -C $build)" >&2; exit 2; }
done
hftd=$root/$build/daemon/hftd
hftctl=$root/$build/ctl/hftctl
exsim=$root/$build/exchange-sim/exchange-sim
[[ $build == /* ]] && { hftd=$build/daemon/hftd; hftctl=$build/ctl/hftctl; exsim=$build/exchange-sim/exchange-sim; }

mapfile -t allowed < <(/usr/bin/python3 -c 'import os; print("\n".join(map(str, sorted(os.sched_getaffinity(0)))))')
if [[ -z $cores ]]; then
  ((${#allowed[@]} >= 2)) || { echo "$PROG: needs two allowed CPUs for hftd's workers" >&2; exit 2; }
  cores="${allowed[-2]},${allowed[-1]}"
fi
[[ $cores =~ ^[0-9]+,[0-9]+$ ]] || die_usage "--cores '$cores' is not two CPU numbers N,M"

tmp=$(mktemp -d /tmp/hft-soak-XXXXXX)
sock=$tmp/control.sock
conf=$tmp/hftd.toml
hlog=$tmp/hftd.log
xlog=$tmp/exchange-sim.log
cp "$root/conf/hftd.toml" "$conf"
: >"$xlog"
hpid=''
xpid=''
cleanup() {
  local p
  for p in $xpid $hpid; do kill "$p" 2>/dev/null || true; done
  for p in $xpid $hpid; do end_pid "$p" 10; done
  if ((keep)); then echo "raw output kept in $tmp"; else rm -rf -- "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# end_pid PID SECONDS: waits for a child to exit, SIGKILL past the deadline; always returns 0.
end_pid() {
  [[ -n $1 ]] || return 0
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------------------- stats
STATS=''
# fetch_stats: STATS gets `hftctl --json stats`.
fetch_stats() { STATS=$(timeout 30 "$hftctl" --socket "$sock" --json stats 2>>"$tmp/hftctl.log"); }
# jval JSON KEY: JV gets the first top-level-looking "KEY": value (quotes dropped).
JV=''
jval() {
  local re="\"$2\":(\"[^\"]*\"|[^,}]*)"
  JV=''
  [[ $1 =~ $re ]] || return 1
  JV=${BASH_REMATCH[1]//\"/}
}
stat_is() { fetch_stats && jval "$STATS" "$1" && [[ $JV == "$2" ]]; }
stat_not() { fetch_stats && jval "$STATS" "$1" && [[ $JV != "$2" ]]; }
reconnected() { # OLD: more reconnects than OLD and trading again
  fetch_stats && jval "$STATS" reconnects && ((JV > $1)) && jval "$STATS" state && [[ $JV == trading ]]
}
# hftctl_do ARGS...: one hftctl call; its stdout in OUT, its stderr appended to the log.
OUT=''
hftctl_do() { OUT=$(timeout 30 "$hftctl" --socket "$sock" "$@" 2>>"$tmp/hftctl.log"); }

# Counters that restart at each session are summed across sessions: a value below the last
# one seen means a new session began, so all of it is new.
counted=(orders_sent acks fills partial_fills rejects risk_rejects cancels expired
  cancel_rejects reconnects unsent_orders md_messages md_gaps malformed_frames)
drop_keys=(dropped_records write_errors)
declare -A last=() total=()
account() { # JSON
  local k v
  for k in "${counted[@]}" "${drop_keys[@]}"; do
    jval "$1" "$k" || continue
    v=$JV
    [[ $v =~ ^[0-9]+$ ]] || continue
    if [[ -z ${last[$k]:-} ]]; then
      total[$k]=0
    elif ((v >= last[$k])); then
      total[$k]=$((total[$k] + v - last[$k]))
    else
      total[$k]=$((total[$k] + v))
    fi
    last[$k]=$v
  done
}

# ---------------------------------------------------------------------------- waiting
WAIT_WHAT=''
# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 50 ms until it succeeds; returns 1
# with WAIT_WHAT set when the time runs out.
wait_until() {
  local deadline=$((${EPOCHREALTIME/./} / 1000 + $1 * 1000)) what=$2
  shift 2
  until "$@"; do
    if ((${EPOCHREALTIME/./} / 1000 >= deadline)); then WAIT_WHAT=$what; return 1; fi
    sleep 0.05
  done
}
listening_count() { grep -c 'Listening on port' "$xlog" 2>/dev/null || true; }
more_listening() { # OLD
  kill -0 "$xpid" 2>/dev/null || { WAIT_WHAT="exchange-sim exited at start-up"; return 1; }
  (($(listening_count) > $1))
}

port=0
# start_exchange: exchange-sim on 127.0.0.1 (port 0 the first time, then the same port).
start_exchange() {
  local n
  n=$(listening_count)
  "$exsim" --bind 127.0.0.1 --port "$port" --tick-rate "$tick_rate" --seed 1 >>"$xlog" 2>&1 &
  xpid=$!
  wait_until 10 "exchange-sim listening" more_listening "$n" || return 1
  if ((port == 0)); then
    port=$(grep -o 'Listening on port [0-9]*' "$xlog" | tail -1 | awk '{print $4}')
  fi
}

# ---------------------------------------------------------------------------- actions
# Each returns 1 with WAIT_WHAT saying what did not happen; a failure is counted, not fatal.
kinds=(exchange-restart reload kill-switch session-restart)
declare -A done_n=() failed_n=()
for k in "${kinds[@]}"; do done_n[$k]=0; failed_n[$k]=0; done
restarts=0
sessions=1

act_exchange_restart() {
  local r0 sig=TERM
  # Alternate a clean stop (LOGOUT, then close) with a crash (the socket just goes).
  ((restarts++ % 2)) && sig=KILL
  if ! fetch_stats || ! jval "$STATS" reconnects; then WAIT_WHAT="stats before the restart"; return 1; fi
  r0=$JV
  # The shell reports a child killed by a signal ("Killed") on its stderr: not news here.
  exec 3>&2 2>/dev/null
  kill "-$sig" "$xpid"
  end_pid "$xpid" 10
  exec 2>&3 3>&-
  xpid=''
  wait_until 10 "hftd to notice the exchange is gone" stat_not state trading || return 1
  start_exchange || return 1
  wait_until 20 "hftd to reconnect (reconnects > $r0, state trading)" reconnected "$r0"
}

reload_flip=0
act_reload() {
  local want=16
  ((reload_flip++ % 2)) && want=20
  sed -i -E "s/^max_open_orders = [0-9]+/max_open_orders = $want/" "$conf"
  hftctl_do --json reload || { WAIT_WHAT="hftctl reload to succeed"; return 1; }
  wait_until 5 "risk_max_open_orders = $want" stat_is risk_max_open_orders "$want"
}

act_kill_switch() {
  hftctl_do kill-switch on || { WAIT_WHAT="hftctl kill-switch on to succeed"; return 1; }
  wait_until 5 "kill_switch true" stat_is kill_switch true || return 1
  hftctl_do kill-switch off || { WAIT_WHAT="hftctl kill-switch off to succeed"; return 1; }
  wait_until 5 "kill_switch false" stat_is kill_switch false
}

act_session_restart() {
  hftctl_do --json stop-session || { WAIT_WHAT="hftctl stop-session to succeed"; return 1; }
  account "$OUT" # the ending session's final counters
  wait_until 10 "state idle" stat_is state idle || return 1
  hftctl_do start-session || { WAIT_WHAT="hftctl start-session to succeed"; return 1; }
  sessions=$((sessions + 1))
  wait_until 10 "state trading" stat_is state trading
}

# recover: after a failed action, put back what the next one expects.
recover() {
  if [[ -z $xpid ]] || ! kill -0 "$xpid" 2>/dev/null; then
    end_pid "$xpid" 1
    start_exchange || echo "$PROG: recover: exchange-sim did not start" >&2
  fi
  if stat_is kill_switch true; then hftctl_do kill-switch off || true; fi
  if stat_is state idle; then
    if hftctl_do start-session; then sessions=$((sessions + 1)); fi
  fi
  wait_until 20 "state trading" stat_is state trading || echo "$PROG: recover: hftd not trading" >&2
}

# ---------------------------------------------------------------------------- figures
# figures: "RSS_KiB FDS THREADS" of hftd, read until two reads 200 ms apart agree on the fd and
# thread counts (an hftctl connection still being closed must not count).
figures() {
  local a b i
  for ((i = 0; i < 10; i++)); do
    a=$(proc_line)
    sleep 0.2
    b=$(proc_line)
    [[ $a == "$b" ]] && break
  done
  printf '%s %s\n' "$(awk '/^VmRSS:/ {print $2}' "/proc/$hpid/status")" "$b"
}
proc_line() {
  local fds=("/proc/$hpid/fd/"*)
  printf '%s %s\n' "${#fds[@]}" "$(awk '/^Threads:/ {print $2}' "/proc/$hpid/status")"
}
ring_lost() { # the network thread's count of frames lost at a full strategy ring (lifetime)
  grep -o '[0-9]* lost at a full strategy ring' "$hlog" | tail -1 | awk '{print $1}'
}
failed_total() {
  local k n=0
  for k in "${kinds[@]}"; do n=$((n + failed_n[$k])); done
  echo "$n"
}
ring_full_logs() { grep -c 'A record ring is full' "$hlog" || true; }

# ---------------------------------------------------------------------------- run
echo "== machine"
echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "cores:   nproc $(nproc), allowed ${allowed[*]}; kernel $(uname -r)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "command: $command_line"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg)"

start_exchange || { echo "$PROG: exchange-sim did not start:" >&2; tail -5 "$xlog" >&2; exit 1; }
net=${cores%,*}
strat=${cores#*,}
"$hftd" --config "$conf" --network-core "$net" --strategy-core "$strat" --poll-mode "$poll" \
  --exchange "127.0.0.1:$port" --socket "$sock" --sessions-dir "$tmp/sessions" --idle \
  >"$hlog" 2>&1 &
hpid=$!
hftd_up() { kill -0 "$hpid" 2>/dev/null && grep -q 'Control socket listening' "$hlog"; }
wait_until 15 "hftd's control socket" hftd_up || { echo "$PROG: hftd did not start:" >&2; tail -5 "$hlog" >&2; exit 1; }
hftctl_do start-session || { echo "$PROG: the first session did not start:" >&2; tail -5 "$hlog" >&2; exit 1; }
echo "run:     ${duration} s after ${warmup} s of warm-up, an action every ${every} s; hftd pid $hpid," \
  "cores $net,$strat, poll mode $poll; exchange 127.0.0.1:$port, tick every ${tick_rate} ms"
sleep "$warmup"
wait_until 10 "the first session trading" stat_is state trading || { echo "$PROG: the first session is not trading" >&2; exit 1; }

read -r start_rss start_fds start_threads <<<"$(figures)"
fetch_stats
account "$STATS"
# Any other counter the daemon calls a drop or a loss is watched too.
mapfile -t found < <(grep -oE '"[a-z_]*(drop|lost)[a-z_]*":[0-9]+' <<<"$STATS" | cut -d'"' -f2 | sort -u)
for k in "${found[@]}"; do
  [[ " ${drop_keys[*]} " == *" $k "* ]] || drop_keys+=("$k")
done
account "$STATS"
declare -A start_v=()
for k in "${drop_keys[@]}"; do jval "$STATS" "$k"; start_v[$k]=$JV; done
echo "start:   rss ${start_rss} KiB, fds ${start_fds}, threads ${start_threads}"

cycle2_rss=''
t0=${EPOCHREALTIME/./}
t0=$((t0 / 1000))
end_ms=$((t0 + duration * 1000))
i=0
while true; do
  next=$((t0 + (i + 1) * every * 1000))
  ((next < end_ms)) || break
  now=${EPOCHREALTIME/./}
  now=$((now / 1000))
  ((now >= next)) || sleep "$(awk -v ms=$((next - now)) 'BEGIN { printf "%.3f", ms / 1000 }')"
  kill -0 "$hpid" 2>/dev/null || { echo "$PROG: hftd exited during the run:" >&2; tail -20 "$hlog" >&2; exit 1; }
  kind=${kinds[i % ${#kinds[@]}]}
  WAIT_WHAT=''
  if "act_${kind//-/_}"; then
    done_n[$kind]=$((done_n[$kind] + 1))
  else
    failed_n[$kind]=$((failed_n[$kind] + 1))
    echo "FAILED $kind at $(((${EPOCHREALTIME/./} / 1000 - t0) / 1000)) s: no ${WAIT_WHAT:-answer} in time"
    tail -3 "$hlog" | sed 's/^/  hftd: /'
    recover
  fi
  if fetch_stats; then account "$STATS"; fi
  i=$((i + 1))
  if ((i % ${#kinds[@]} == 0)); then
    read -r f t <<<"$(proc_line)"
    rss_now=$(awk '/^VmRSS:/ {print $2}' "/proc/$hpid/status")
    # Two cycles in, every action has run twice (so has every allocation a session boundary
    # makes): growth from here on is what a leak would look like.
    ((i == 2 * ${#kinds[@]})) && cycle2_rss=$rss_now
    printf 'progress: %5d s  rss %s KiB  fds %s  threads %s  actions %d  failed %d\n' \
      $(((${EPOCHREALTIME/./} / 1000 - t0) / 1000)) "$rss_now" \
      "$f" "$t" "$i" "$(failed_total)"
  fi
done

# The end figures in the state of the start ones: a session trading, the exchange connected.
kill -0 "$hpid" 2>/dev/null || { echo "$PROG: hftd exited during the run:" >&2; tail -20 "$hlog" >&2; exit 1; }
wait_until 20 "state trading" stat_is state trading || recover
# ...and a session as old as the first one was at the start (its latency.hlog, for one, is
# opened by the first interval it writes).
if fetch_stats && jval "$STATS" session_started_ns && [[ $JV =~ ^[1-9][0-9]*$ ]]; then
  age_ms=$(((${EPOCHREALTIME/./} * 1000 - JV) / 1000000))
  ((age_ms >= warmup * 1000)) || sleep "$(awk -v ms=$((warmup * 1000 - age_ms)) 'BEGIN { printf "%.3f", ms / 1000 }')"
fi
read -r end_rss end_fds end_threads <<<"$(figures)"
fetch_stats || true
account "$STATS"
declare -A end_v=()
for k in "${drop_keys[@]}"; do jval "$STATS" "$k"; end_v[$k]=$JV; done
hftctl_do --json stop-session && account "$OUT"
logged_all() { (($(grep -c 'lost at a full strategy ring' "$hlog") >= sessions)); }
wait_until 10 "the last session's summary in hftd's log" logged_all || true
lost=$(ring_lost || true)

echo "== figures (hftd)         start        end      delta"
row() { printf '%-20s %10s %10s %10s\n' "$@"; }
row "rss_kib" "$start_rss" "$end_rss" "$((end_rss - start_rss))"
if [[ -n $cycle2_rss ]]; then
  row "rss_kib_cycle2" "$cycle2_rss" "$end_rss" "$((end_rss - cycle2_rss))"
fi
row "fds" "$start_fds" "$end_fds" "$((end_fds - start_fds))"
row "threads" "$start_threads" "$end_threads" "$((end_threads - start_threads))"
for k in "${drop_keys[@]}"; do row "$k" "${start_v[$k]}" "${end_v[$k]}" "${total[$k]:-0}"; done
row "ring_lost (log)" - "${lost:-?}" "${lost:-?}"
row "ring_full (log)" - - "$(ring_full_logs)"
echo "(rss_kib_cycle2: from the end of the second cycle of actions, past the allocations of"
echo " the first session restarts; counter deltas: what the run added, summed over its sessions;"
echo " ring_lost: frames lost at a full strategy ring since hftd started, from its session-end log)"
echo "== actions               done     failed"
fails=0
for k in "${kinds[@]}"; do
  printf '%-20s %10s %10s\n' "$k" "${done_n[$k]}" "${failed_n[$k]}"
  fails=$((fails + failed_n[$k]))
done
echo "sessions: $sessions, exchange-sim starts: $((restarts + 1))"
echo "== trading during the run (summed over sessions)"
for k in "${counted[@]}"; do printf '%-20s %10s\n' "$k" "${total[$k]:-0}"; done
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg)"
echo "target (not pass/fail without --check): RSS within 1 MiB, same fds and threads, nothing dropped"

if ((check)); then
  why=()
  ((end_rss - start_rss <= 1024)) || why+=("RSS grew by $((end_rss - start_rss)) KiB")
  ((end_fds == start_fds)) || why+=("fds $start_fds -> $end_fds")
  ((end_threads == start_threads)) || why+=("threads $start_threads -> $end_threads")
  for k in "${drop_keys[@]}"; do ((${total[$k]:-0} == 0)) || why+=("$k +${total[$k]}"); done
  [[ ${lost:-0} == 0 ]] || why+=("$lost frames lost at the strategy ring")
  ((fails == 0)) || why+=("$fails actions failed")
  if ((${#why[@]})); then
    printf 'check: FAILED: %s\n' "$(IFS=';'; echo "${why[*]}")"
    exit 1
  fi
  echo "check: passed"
fi
exit 0
