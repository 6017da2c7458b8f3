#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs exchange-sim and hftd for a fixed time and prints the exchange-measured tick-to-trade
# next to the loopback TCP round trip that `sockperf ping-pong` measures on this machine in
# the same run, with their ratio. With --null it runs, in interleaved rounds, an hftd session,
# a null-engine session (tests/bench/null_engine: logon and echo, nothing else: the floor) and
# sockperf, and prints each round and the median of the rounds with hftd/null and
# hftd/sockperf. A benchmark: it prints figures, it passes or fails nothing.
#
#   scripts/bench.sh [--duration S] [--tick-rate MS] [--cores N,M] [--poll-mode busy|yield]
#                    [--layout run_to_completion|pipeline] [--exchange-core N]
#                    [--build DIR] [--out DIR] [--eager] [--warm-us N]
#                    [--null [--rounds N] [--null-symbol ID] [--null-every N]
#                     [--null-poll busy|yield|epoll]]
# --eager makes hftd's momentum strategy answer nearly every frame, as the null engine does
# (lookback 2, threshold 1 tick, no cooldown, quantity 1, limits out of the way): pair it with
# --null-symbol 0 for two engines that send about as many orders. --warm-us sets hftd's
# [engine] warm_interval_us (0 = no warming of the order path between frames).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

duration=20
tick_rate=10
build=build/release
out=""
cores=""
poll=""
null=0
rounds=3
null_symbol=1
null_every=1
null_poll=""
layout=run_to_completion
eager=0
warm_us=""
xsim_pin=()
usage() { sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
  --duration) duration=$2; shift 2 ;;
  --tick-rate) tick_rate=$2; shift 2 ;;
  --cores) cores=$2; shift 2 ;;
  --poll-mode) poll=$2; shift 2 ;;
  --layout) layout=$2; shift 2 ;;
  --exchange-core) xsim_pin=(taskset -c "$2"); shift 2 ;;
  --build) build=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --eager) eager=1; shift ;;
  --warm-us) warm_us=$2; shift 2 ;;
  --null) null=1; shift ;;
  --rounds) rounds=$2; shift 2 ;;
  --null-symbol) null_symbol=$2; shift 2 ;;
  --null-every) null_every=$2; shift 2 ;;
  --null-poll) null_poll=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) echo "bench: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
# A relative --build is relative to the source tree (cd above); an absolute one (another
# checkout's build, for a before/after run) is taken as it is.
case $build in /*) ;; *) build=./$build ;; esac
exes=(daemon/hftd ctl/hftctl exchange-sim/exchange-sim)
if [ "$null" = 1 ]; then
  exes+=(tests/bench/null_engine)
  [[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench: --rounds wants a positive integer" >&2; exit 2; }
fi
for exe in "${exes[@]}"; do
  [ -x "$build/$exe" ] || { echo "bench: $build/$exe missing: build first (meson setup $build && ninja -C $build)" >&2; exit 2; }
done
command -v sockperf >/dev/null || { echo "bench: sockperf missing: run scripts/install-deps.sh" >&2; exit 2; }

mapfile -t allowed < <(/usr/bin/python3 -c 'import os; print("\n".join(map(str, sorted(os.sched_getaffinity(0)))))')
if [ -z "$cores" ]; then
  cores="${allowed[-2]},${allowed[-1]}"
fi
net=${cores%,*}
strat=${cores#*,}
if [ -z "$poll" ]; then
  if [ ${#allowed[@]} -ge 4 ]; then poll=busy; else poll=yield; fi
fi
# The null engine polls as hftd's network thread does unless told otherwise.
[ -n "$null_poll" ] || null_poll=$poll
[ -n "$out" ] || out=$(mktemp -d /tmp/hft-bench-XXXXXX)
mkdir -p "$out"
case $layout in
run_to_completion | pipeline) ;;
*) echo "bench: --layout '$layout' is neither run_to_completion nor pipeline" >&2; exit 2 ;;
esac
# conf/hftd.toml with the chosen [engine] layout.
hftd_config=$out/hftd.toml
sed 's/^layout = "run_to_completion"/layout = "'"$layout"'"/' "$root/conf/hftd.toml" >"$hftd_config"
grep -q "^layout = \"$layout\"" "$hftd_config" || { echo "bench: conf/hftd.toml has no [engine] layout line" >&2; exit 2; }
if [ -n "$warm_us" ]; then
  [[ $warm_us =~ ^[0-9]+$ ]] || { echo "bench: --warm-us wants microseconds (0 = off)" >&2; exit 2; }
  grep -q "^warm_interval_us = " "$hftd_config" || { echo "bench: conf/hftd.toml has no warm_interval_us line" >&2; exit 2; }
  sed -i "s/^warm_interval_us = [0-9]*/warm_interval_us = $warm_us/" "$hftd_config"
fi
if [ "$eager" = 1 ]; then
  # key=value pairs of conf/hftd.toml set for --eager; max_position is in [risk] and [strategy].
  eager_keys=(lookback=2 threshold_ticks=1 cooldown_ms=0 order_qty=1 max_position=1000000000
    max_open_orders=4096 max_orders_per_second=65536)
  for kv in "${eager_keys[@]}"; do
    key=${kv%%=*}
    grep -q "^$key = " "$hftd_config" || { echo "bench: conf/hftd.toml has no '$key' line for --eager" >&2; exit 2; }
    sed -i "s/^$key = [^#]*/$key = ${kv#*=}   /" "$hftd_config"
  done
fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

wait_line() { # file, text, timeout seconds
  local deadline=$((SECONDS + $3))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { echo "bench: no '$2' in $1" >&2; tail -5 "$1" >&2; exit 1; }
    sleep 0.05
  done
}

echo "== machine"
echo "cpu:    $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "cores:  $(nproc) online, allowed ${allowed[*]}; kernel $(uname -r)"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "engine: layout $layout, network core $net, strategy core $strat, poll mode $poll; tick every ${tick_rate} ms for ${duration} s; $(grep -m1 '^warm_interval_us' "$hftd_config" | cut -d'#' -f1 | sed 's/ *$//')"
if [ "$eager" = 1 ]; then
  echo "eager:  hftd's strategy answers nearly every frame: ${eager_keys[*]}"
fi
if [ "$null" = 1 ]; then
  echo "null:   core $net, poll mode $null_poll, symbol $null_symbol (0 = all), every $null_every; $rounds rounds of hftd, null engine, sockperf"
fi

# run_sockperf DIR: the yardstick, a TCP round trip on loopback at the same message rate as
# the ticks. Sets rtt50 rtt99 rtt999 (ns).
mps=$((tick_rate > 0 ? 1000 / tick_rate : 10000))
run_sockperf() {
  mkdir -p "$1"
  sockperf server --tcp -i 127.0.0.1 -p 11811 >"$1/sockperf-server.log" 2>&1 &
  local spid=$!
  pids+=("$spid")
  wait_line "$1/sockperf-server.log" "to block on socket" 10
  sockperf ping-pong --tcp -i 127.0.0.1 -p 11811 -m 56 --mps "$mps" -t "$duration" \
    >"$1/sockperf.log" 2>&1
  kill "$spid"; wait "$spid" 2>/dev/null || true
  pids=()
  # sockperf reports half the round trip: double it.
  rtt() { awk -v p="$1" '$0 ~ "percentile "p" =" {print int($NF * 2000)}' "$2/sockperf.log"; }
  rtt50=$(rtt "50.000" "$1"); rtt99=$(rtt "99.000" "$1"); rtt999=$(rtt "99.900" "$1")
}

# start_exchange DIR: exchange-sim on a free port; sets xpid and port.
start_exchange() {
  mkdir -p "$1"
  "${xsim_pin[@]}" "$build"/exchange-sim/exchange-sim --port 0 --tick-rate "$tick_rate" --seed 1 \
    --stats-file "$1/exchange_stats.json" >"$1/exchange-sim.log" 2>&1 &
  xpid=$!
  pids+=("$xpid")
  wait_line "$1/exchange-sim.log" "Listening on port" 10
  port=$(grep -m1 -o 'Listening on port [0-9]*' "$1/exchange-sim.log" | awk '{print $4}')
}

# stop_exchange DIR: SIGTERM, wait, and read the exchange's tick-to-trade: n t50 t99 t999.
stop_exchange() {
  kill "$xpid"; wait "$xpid" || true
  pids=()
  read -r n t50 t99 t999 < <(/usr/bin/python3 -c 'import json,sys
t=json.load(open(sys.argv[1]))["tick_to_trade_ns"]
print(t["count"], t["p50"], t["p99"], t["p99_9"])' "$1/exchange_stats.json")
}

# run_hftd DIR: one hftd trading session of --duration against a fresh exchange-sim.
run_hftd() {
  start_exchange "$1"
  "$build"/daemon/hftd --config "$hftd_config" --network-core "$net" --strategy-core "$strat" \
    --poll-mode "$poll" --exchange "127.0.0.1:$port" --socket "$1/control.sock" \
    --sessions-dir "$1/sessions" --idle >"$1/hftd.log" 2>&1 &
  local hpid=$!
  pids+=("$hpid")
  wait_line "$1/hftd.log" "Control socket listening" 10
  "$build"/ctl/hftctl --socket "$1/control.sock" start-session --duration "$duration" >/dev/null
  wait_line "$1/hftd.log" "ended (duration reached)" $((duration + 20))
  rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$hpid/status")
  kill "$hpid"; wait "$hpid" || true
  stop_exchange "$1"
  local internal
  internal=$(/usr/bin/python3 -c 'import json,glob,sys
s=json.load(open(glob.glob(sys.argv[1]+"/sessions/*/stats.json")[0]))["latency"]
print(" ".join(str(s[k]["p50"]) for k in ("rx_to_sent","book_to_decided")))' "$1")
  read -r rx2sent_p50 decide_p50 <<<"$internal"
}

# run_null DIR: the null engine for --duration against a fresh exchange-sim; it logs out itself.
run_null() {
  start_exchange "$1"
  local rc=0
  "$build"/tests/bench/null_engine --exchange "127.0.0.1:$port" --duration "$duration" \
    --core "$net" --poll-mode "$null_poll" --symbol "$null_symbol" --every "$null_every" \
    >"$1/null_engine.log" 2>&1 || rc=$?
  stop_exchange "$1"
  if [ "$rc" != 0 ]; then
    echo "bench: null_engine exited $rc (docs/performance.md lists the codes):" >&2
    tail -3 "$1/null_engine.log" >&2
    exit 1
  fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
row() { printf '%-36s %10s %10s %10s\n' "$@"; }

if [ "$null" = 0 ]; then
  run_sockperf "$out"
  run_hftd "$out"
  echo "== results (ns)"
  row "" p50 p99 p99.9
  row "tick-to-trade, exchange-measured" "$t50" "$t99" "$t999"
  row "sockperf TCP loopback round trip" "$rtt50" "$rtt99" "$rtt999"
  row "ratio" "$(ratio "$t50" "$rtt50")" "$(ratio "$t99" "$rtt99")" "$(ratio "$t999" "$rtt999")"
  echo "orders measured: $n; hftd rx_to_sent p50 ${rx2sent_p50} ns; strategy+risk p50 ${decide_p50} ns"
  echo "hftd resident memory at the end of the session: $((rss_kb / 1024)) MiB"
  echo "targets (not pass/fail): p50 ratio <= 1.10x, p99 ratio <= 1.25x, RSS < 64 MiB"
  echo "raw output in $out"
  exit 0
fi

# --null: interleaved rounds, so that a change in the machine's load shows in every series.
declare -a H50 H99 H999 N50 N99 N999 S50 S99 S999
echo "== rounds (ns; tick-to-trade exchange-measured, sockperf the doubled half round trip)"
row "" p50 p99 p99.9
for ((r = 1; r <= rounds; r++)); do
  run_hftd "$out/round$r/hftd"
  H50+=("$t50"); H99+=("$t99"); H999+=("$t999")
  row "round $r hftd ($n orders)" "$t50" "$t99" "$t999"
  run_null "$out/round$r/null"
  N50+=("$t50"); N99+=("$t99"); N999+=("$t999")
  row "round $r null engine ($n orders)" "$t50" "$t99" "$t999"
  run_sockperf "$out/round$r/sockperf"
  S50+=("$rtt50"); S99+=("$rtt99"); S999+=("$rtt999")
  row "round $r sockperf round trip" "$rtt50" "$rtt99" "$rtt999"
  row "round $r hftd/null" "$(ratio "${H50[-1]}" "${N50[-1]}")" "$(ratio "${H99[-1]}" "${N99[-1]}")" "$(ratio "${H999[-1]}" "${N999[-1]}")"
  row "round $r hftd/sockperf" "$(ratio "${H50[-1]}" "$rtt50")" "$(ratio "${H99[-1]}" "$rtt99")" "$(ratio "${H999[-1]}" "$rtt999")"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
m() { median "${@}"; }
h50=$(m "${H50[@]}"); h99=$(m "${H99[@]}"); h999=$(m "${H999[@]}")
n50=$(m "${N50[@]}"); n99=$(m "${N99[@]}"); n999=$(m "${N999[@]}")
s50=$(m "${S50[@]}"); s99=$(m "${S99[@]}"); s999=$(m "${S999[@]}")
echo "== median of $rounds rounds (ns)"
row "" p50 p99 p99.9
row "tick-to-trade, hftd" "$h50" "$h99" "$h999"
row "tick-to-trade, null engine" "$n50" "$n99" "$n999"
row "sockperf TCP loopback round trip" "$s50" "$s99" "$s999"
row "hftd/null" "$(ratio "$h50" "$n50")" "$(ratio "$h99" "$n99")" "$(ratio "$h999" "$n999")"
row "hftd/sockperf" "$(ratio "$h50" "$s50")" "$(ratio "$h99" "$s99")" "$(ratio "$h999" "$s999")"
row "null/sockperf" "$(ratio "$n50" "$s50")" "$(ratio "$n99" "$s99")" "$(ratio "$n999" "$s999")"
echo "raw output in $out"
