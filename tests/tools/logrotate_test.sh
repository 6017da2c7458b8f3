#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# conf/logrotate.d/hft-monitor, run by the real logrotate(8) on a copy of the monitor's
# directory in a temporary directory (the copy's paths and `su` user are the only changes):
#   - it parses with no error and matches every file hft-monitor appends to;
#   - a file seen for the first time is not rotated (daily), an empty one never (notifempty);
#   - a file past `maxsize 200M` is rotated on the next run, whatever the period;
#   - copytruncate: a writer that keeps its file open with O_APPEND, as hft-monitor's tools do
#     (`>>`), goes on writing at the start of the emptied file: no hole, nothing lost;
#   - delaycompress and compress: generation 1 stays plain, generation 2 is gzip of the first
#     rotated content.
# Exit codes: 0 passed, 1 a check failed, 77 logrotate is not installed (skipped).
#   logrotate_test.sh SOURCE_ROOT
set -euo pipefail
src=${1:?usage: logrotate_test.sh SOURCE_ROOT}
conf=$src/conf/logrotate.d/hft-monitor
logrotate=$(command -v logrotate || true)
[ -x "$logrotate" ] || logrotate=/usr/sbin/logrotate
if ! [ -x "$logrotate" ]; then
  echo "logrotate_test: SKIP: logrotate not installed (apt-get install logrotate)"
  exit 77
fi

tmp=$(mktemp -d /tmp/hft-logrotate-test.XXXXXX)
writer=""
cleanup() {
  [ -n "$writer" ] && kill "$writer" 2>/dev/null && wait "$writer" 2>/dev/null
  rm -rf -- "$tmp"
}
trap cleanup EXIT
fail() {
  echo "logrotate_test: FAIL: $*" >&2
  exit 1
}

dir=$tmp/monitor
mkdir -m 0750 "$dir"
grep -q '^/var/log/hft/monitor/' "$conf" || fail "$conf no longer names /var/log/hft/monitor/"
sed -e "s#/var/log/hft/monitor/#$dir/#g" \
  -e "s#^\([[:space:]]*\)su .*#\1su $(id -un) $(id -gn)#" "$conf" >"$tmp/hft-monitor.conf"
chmod 0644 "$tmp/hft-monitor.conf"
state=$tmp/state
run_logrotate() { # extra args; logrotate's output goes to $tmp/out
  "$logrotate" -v -s "$state" "$@" "$tmp/hft-monitor.conf" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out" >&2; fail "logrotate exited non-zero"; }
  if grep -qi '^error' "$tmp/out"; then
    cat "$tmp/out" >&2
    fail "logrotate reported an error"
  fi
}

# The files hft-monitor appends to (units/hft-monitor.in).
files=(mpstat.txt vmstat.txt pidstat.txt hftctl_stats.jsonl)
for f in "${files[@]}"; do
  grep -q "\$out/$f" "$src/units/hft-monitor.in" || fail "hft-monitor no longer writes $f"
  printf 'first %s\n' "$f" >"$dir/$f"
done
: >"$dir/empty.txt"

# 1. Parses; every file is matched; nothing rotated on first sight.
run_logrotate -d
for f in "${files[@]}"; do
  grep -q "considering log $dir/$f" "$tmp/out" || fail "the config does not match $f"
done
run_logrotate
for f in "${files[@]}" empty.txt; do
  [ ! -e "$dir/$f.1" ] || fail "$f rotated on first sight (daily expected)"
done

# 2. maxsize: a file past 200M rotates on the next run although a day has not passed; an
#    O_APPEND writer keeps writing, and lands at offset 0 of the emptied file.
big=$dir/pidstat.txt
exec {fd}>>"$big"
truncate -s 201M "$big"
printf 'last line before rotation\n' >&"$fd"
size_before=$(stat -c %s "$big")
run_logrotate
[ -f "$big.1" ] || fail "a $size_before-byte file was not rotated (maxsize 200M)"
[ "$(stat -c %s "$big.1")" -eq "$size_before" ] || fail "generation 1 is not the whole file"
[ "$(tail -c 26 "$big.1")" = "last line before rotation" ] || fail "last line lost in rotation"
[ ! -e "$dir/mpstat.txt.1" ] || fail "a small file was rotated with the big one"
printf 'after rotation\n' >&"$fd"
[ "$(stat -c %s "$big")" -eq 15 ] || fail "the writer did not append at the start of the emptied file (copytruncate with O_APPEND): size $(stat -c %s "$big")"
[ "$(cat "$big")" = "after rotation" ] || fail "the emptied file holds $(head -c 64 "$big" | od -c | head -2)"
exec {fd}>&-
rm -f "$big.1"

# 3. A forced rotation of a live file (daily's run, -f): a background writer appends through
#    both rotations; generation 1 is plain (delaycompress), generation 2 the gzip of the first;
#    every line the writer wrote is in exactly one generation.
live=$dir/hftctl_stats.jsonl
: >"$live"
(
  exec >>"$live"
  n=0
  while :; do
    n=$((n + 1))
    printf '{"n":%d}\n' "$n"
    [ -e "$tmp/stop" ] && exit 0
    sleep 0.01 # pacing, not a wait for an event
  done
) &
writer=$!
wait_lines() { # file, n: until the file has n lines (up to 10 s)
  local i
  for ((i = 0; i < 1000; i++)); do
    [ "$(wc -l <"$1")" -ge "$2" ] && return 0
    sleep 0.01 # pacing, not a wait for an event
  done
  fail "$1 did not reach $2 lines"
}
wait_lines "$live" 5
run_logrotate -f
[ -f "$live.1" ] || fail "forced rotation did not rotate $live"
gen1=$(cat "$live.1")
wait_lines "$live" 5
run_logrotate -f
{ [ -f "$live.1" ] && [ -f "$live.2.gz" ]; } || fail "expected $live.1 and $live.2.gz, have: $(ls "$dir")"
[ "$(gzip -dc "$live.2.gz")" = "$gen1" ] || fail "generation 2 is not the first rotated content"
wait_lines "$live" 3
touch "$tmp/stop"
wait "$writer"
writer=""
# No hole (a NUL) anywhere, no line duplicated, none lost inside a generation; copytruncate's
# window (a line written between logrotate's copy and its truncate is lost, logrotate(8)) may
# lose at most one line at each of the two generation boundaries.
nuls=$( (gzip -dc "$live.2.gz"; cat "$live.1" "$live") | tr -dc '\000' | wc -c)
[ "$nuls" -eq 0 ] || fail "$nuls NUL bytes (a hole) in the rotated files"
gzip -dc "$live.2.gz" >"$tmp/gen2"
python3 -c '
import json, sys
gens = [[json.loads(l)["n"] for l in open(p) if l.strip()] for p in sys.argv[1:]]
for p, g in zip(sys.argv[1:], gens):
    if not g or g != list(range(g[0], g[0] + len(g))):
        sys.exit("%s: not one run of consecutive lines: %s" % (p, g[:8]))
if gens[0][0] != 1:
    sys.exit("the first line written is missing")
for a, b in zip(gens, gens[1:]):
    if not 1 <= b[0] - a[-1] <= 2:
        sys.exit("between generations: line %d then %d" % (a[-1], b[0]))
' "$tmp/gen2" "$live.1" "$live" || fail "lines lost or duplicated across rotations"
{ [ ! -e "$dir/empty.txt.1" ] && [ ! -e "$dir/empty.txt.1.gz" ]; } || fail "an empty file was rotated (notifempty)"
echo "logrotate_test: passed (${#files[@]} monitor files matched; maxsize, copytruncate, delaycompress, compress, notifempty)"
