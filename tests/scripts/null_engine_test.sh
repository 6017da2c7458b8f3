#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# null_engine_test.sh: the null engine (tests/bench/null_engine.cpp) echoes the timestamp of the
# market data it answers, logs out cleanly, and ends with its documented exit code on a
# malformed frame (4), a frame type the exchange never sends (4) and a closed connection (3).
# First against a scripted peer (null_engine_peer.py) that checks every md_timestamp, then
# against the real exchange-sim, whose stats must count every order as measured.
# Usage: null_engine_test.sh SOURCE_ROOT BUILD_ROOT
set -uo pipefail

SRC=${1:?usage: $0 SOURCE_ROOT BUILD_ROOT}
BUILD=${2:?usage: $0 SOURCE_ROOT BUILD_ROOT}
NULL=$BUILD/tests/bench/null_engine
XSIM=$BUILD/exchange-sim/exchange-sim
PEER=$SRC/tests/scripts/null_engine_peer.py
# shellcheck source-path=SCRIPTDIR
# shellcheck source=fixtures.sh
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"

TMP=$(mktemp -d /tmp/null-engine-test-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# wait_port FILE PATTERN: the port after PATTERN in FILE once it appears (10 s at most).
wait_port() {
  local deadline=$((SECONDS + 10)) port
  until port=$(grep -m1 -o "$2 [0-9]*" "$1" 2>/dev/null | awk '{print $NF}') && [[ -n $port ]]; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.02
  done
  printf '%s' "$port"
}

echo "# the command line"
"$NULL" --help >/dev/null
expect_eq "--help exits 0" "$?" 0
"$NULL" --no-such-option x >/dev/null 2>&1
expect_eq "an unknown option exits 2" "$?" 2
"$NULL" --exchange 127.0.0.1:1 --every 0 >/dev/null 2>&1
expect_eq "--every 0 exits 2" "$?" 2
"$NULL" >/dev/null 2>&1
expect_eq "no --exchange exits 2" "$?" 2

echo "# nobody listening"
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' >"$TMP/freeport"
ERR=$("$NULL" --exchange "127.0.0.1:$(<"$TMP/freeport")" 2>&1 >/dev/null)
expect_eq "a refused connect exits 1" "$?" 1
expect_contains "... and says why" "$ERR" "cannot connect"

# run_peer MODE FRAMES ENGINE-ARGS...: the engine against the scripted peer; sets RC (the
# engine's exit code), ERR (its stderr), PEER_OUT and PEER_RC.
run_peer() {
  local mode=$1 frames=$2 port ppid
  shift 2
  /usr/bin/python3 "$PEER" "$mode" "$frames" >"$TMP/peer-$mode.out" 2>&1 &
  ppid=$!
  PIDS+=("$ppid")
  if ! port=$(wait_port "$TMP/peer-$mode.out" listening); then
    not_ok "$mode: the peer listens" "$(cat "$TMP/peer-$mode.out")"
    RC=-1 ERR='' PEER_OUT='' PEER_RC=-1
    return
  fi
  "$NULL" --exchange "127.0.0.1:$port" "$@" >"$TMP/null-$mode.out" 2>"$TMP/null-$mode.err"
  RC=$?
  ERR=$(<"$TMP/null-$mode.err")
  wait "$ppid"
  PEER_RC=$?
  PEER_OUT=$(<"$TMP/peer-$mode.out")
}

echo "# a scripted peer: every md_timestamp echoed, then a clean logout"
run_peer logout 50 --orders 50
expect_eq "the engine exits 0 after --orders 50" "$RC" 0
expect_contains "every order echoes a frame's timestamp" "$PEER_OUT" "orders 50 matched 50"
expect_eq "the peer saw a LOGOUT and no protocol error" "$PEER_RC" 0
expect_contains "the engine reports its orders" "$(<"$TMP/null-logout.out")" "50 orders sent"

echo "# bad input from the exchange"
run_peer malformed 5
expect_eq "a malformed frame (msg_length 15) exits 4" "$RC" 4
expect_contains "... and names the reason" "$ERR" "malformed frame"
expect_contains "... after echoing what came before" "$PEER_OUT" "orders 5 matched 5"
run_peer badtype 5
expect_eq "a NEW_ORDER from the exchange exits 4" "$RC" 4
expect_contains "... and names the type" "$ERR" "unexpected frame type 3"
run_peer close 5
expect_eq "a closed connection exits 3" "$RC" 3
expect_contains "... and says so" "$ERR" "closed the connection"

echo "# the real exchange-sim: every order measured"
"$XSIM" --port 0 --tick-rate 5 --seed 1 --stats-file "$TMP/stats.json" >"$TMP/xsim.log" 2>&1 &
XPID=$!
PIDS+=("$XPID")
if port=$(wait_port "$TMP/xsim.log" "Listening on port"); then
  "$NULL" --exchange "127.0.0.1:$port" --symbol 0 --orders 40 --poll-mode yield \
    >"$TMP/null-xsim.out" 2>&1
  expect_eq "the engine exits 0 after 40 orders" "$?" 0
  kill -TERM "$XPID"
  wait "$XPID"
  expect_eq "exchange-sim exits 0" "$?" 0
  FIG=$(/usr/bin/python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); t=d["tick_to_trade_ns"]
print(d["orders_accepted"], t["count"], d["tick_to_trade_missing"], d["tick_to_trade_negative"],
      d["rejects"], d["malformed_frames"], d["client_logouts"], int(t["max"] < 10**9))' "$TMP/stats.json")
  expect_eq "accepted, measured, missing, negative, rejects, malformed, logouts, max < 1 s" \
    "$FIG" "40 40 0 0 0 0 1 1"
else
  not_ok "exchange-sim listens" "$(tail -5 "$TMP/xsim.log")"
fi
finish
