#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs exchange-sim and hftd for a fixed time and prints the exchange-measured tick-to-trade
# next to the loopback TCP round trip that `sockperf ping-pong` measures on this machine in
# the same run, with their ratio. A benchmark: it prints figures, it passes or fails nothing.
#
#   scripts/bench.sh [--duration S] [--tick-rate MS] [--cores N,M] [--poll-mode busy|yield]
#                    [--build DIR] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

duration=20
tick_rate=10
build=build/release
out=""
cores=""
poll=""
usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
  --duration) duration=$2; shift 2 ;;
  --tick-rate) tick_rate=$2; shift 2 ;;
  --cores) cores=$2; shift 2 ;;
  --poll-mode) poll=$2; shift 2 ;;
  --build) build=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) echo "bench: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for exe in daemon/hftd ctl/hftctl exchange-sim/exchange-sim; do
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
[ -n "$out" ] || out=$(mktemp -d /tmp/hft-bench-XXXXXX)
mkdir -p "$out"
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
echo "engine: network core $net, strategy core $strat, poll mode $poll; tick every ${tick_rate} ms for ${duration} s"

# 1. The yardstick: a TCP round trip on loopback at the same message rate as the ticks.
mps=$((tick_rate > 0 ? 1000 / tick_rate : 10000))
sockperf server --tcp -i 127.0.0.1 -p 11811 >"$out/sockperf-server.log" 2>&1 &
spid=$!
pids+=("$spid")
wait_line "$out/sockperf-server.log" "to block on socket" 10
sockperf ping-pong --tcp -i 127.0.0.1 -p 11811 -m 56 --mps "$mps" -t "$duration" \
  >"$out/sockperf.log" 2>&1
kill "$spid"; wait "$spid" 2>/dev/null || true
pids=()
# sockperf reports half the round trip: double it.
rtt() { awk -v p="$1" '$0 ~ "percentile "p" =" {print int($NF * 2000)}' "$out/sockperf.log"; }
rtt50=$(rtt "50.000"); rtt99=$(rtt "99.000"); rtt999=$(rtt "99.900")

# 2. The engine against the exchange for the same time.
./"$build"/exchange-sim/exchange-sim --port 0 --tick-rate "$tick_rate" --seed 1 \
  --stats-file "$out/exchange_stats.json" >"$out/exchange-sim.log" 2>&1 &
pids+=($!)
xpid=$!
wait_line "$out/exchange-sim.log" "Listening on port" 10
port=$(grep -m1 -o 'Listening on port [0-9]*' "$out/exchange-sim.log" | awk '{print $4}')
./"$build"/daemon/hftd --config "$root/conf/hftd.toml" --network-core "$net" --strategy-core "$strat" \
  --poll-mode "$poll" --exchange "127.0.0.1:$port" --socket "$out/control.sock" \
  --sessions-dir "$out/sessions" --idle >"$out/hftd.log" 2>&1 &
pids+=($!)
hpid=$!
wait_line "$out/hftd.log" "Control socket listening" 10
./"$build"/ctl/hftctl --socket "$out/control.sock" start-session --duration "$duration" >/dev/null
wait_line "$out/hftd.log" "ended (duration reached)" $((duration + 20))
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$hpid/status")
kill "$hpid"; wait "$hpid" || true
kill "$xpid"; wait "$xpid" || true
pids=()

read -r n t50 t99 t999 < <(/usr/bin/python3 -c 'import json,sys
t=json.load(open(sys.argv[1]))["tick_to_trade_ns"]
print(t["count"], t["p50"], t["p99"], t["p99_9"])' "$out/exchange_stats.json")
internal=$(/usr/bin/python3 -c 'import json,glob,sys
s=json.load(open(glob.glob(sys.argv[1]+"/sessions/*/stats.json")[0]))["latency"]
print(" ".join(str(s[k]["p50"]) for k in ("rx_to_sent","book_to_decided")))' "$out")
read -r rx2sent_p50 decide_p50 <<<"$internal"

echo "== results (ns)"
printf '%-36s %10s %10s %10s\n' "" p50 p99 p99.9
printf '%-36s %10s %10s %10s\n' "tick-to-trade, exchange-measured" "$t50" "$t99" "$t999"
printf '%-36s %10s %10s %10s\n' "sockperf TCP loopback round trip" "$rtt50" "$rtt99" "$rtt999"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
printf '%-36s %10s %10s %10s\n' "ratio" "$(ratio "$t50" "$rtt50")" "$(ratio "$t99" "$rtt99")" "$(ratio "$t999" "$rtt999")"
echo "orders measured: $n; hftd rx_to_sent p50 ${rx2sent_p50} ns; strategy+risk p50 ${decide_p50} ns"
echo "hftd resident memory at the end of the session: $((rss_kb / 1024)) MiB"
echo "targets (not pass/fail): p50 ratio <= 1.10x, p99 ratio <= 1.25x, RSS < 64 MiB"
echo "raw output in $out"
