#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# soak_test.sh: a short scripts/soak.sh run (20 s, an action every 2 s) against the built hftd
# and exchange-sim on loopback does every action kind at least once without a failure and
# prints the start and end figures. Correctness only: the figures themselves are not judged.
# Usage: soak_test.sh SOURCE_ROOT BUILD_ROOT
set -uo pipefail

SRC=${1:?usage: $0 SOURCE_ROOT BUILD_ROOT}
BUILD=${2:?usage: $0 SOURCE_ROOT BUILD_ROOT}
SOAK=$SRC/scripts/soak.sh
# shellcheck source-path=SCRIPTDIR
# shellcheck source=fixtures.sh
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"

echo "# --help and a bad option need no daemon"
OUT=$(bash "$SOAK" --help)
expect_eq "--help exits 0" "$?" 0
expect_contains "--help documents --check" "$OUT" "--check"
bash "$SOAK" --duration 5x >/dev/null 2>&1
expect_eq "a bad --duration exits 2" "$?" 2
bash "$SOAK" --no-such-option >/dev/null 2>&1
expect_eq "an unknown option exits 2" "$?" 2

echo "# 20 s of soak, an action every 2 s"
OUT=$(bash "$SOAK" --build "$BUILD" --duration 20 --every 2 --warmup 2 2>&1)
RC=$?
printf '%s\n' "$OUT" | sed 's/^/  | /'
expect_eq "the run exits 0" "$RC" 0

# row NAME: the output line whose first field is NAME, runs of spaces squeezed to one.
row() { awk -v n="$1" '$1 == n' <<<"$OUT" | tr -s ' '; }
for kind in exchange-restart reload kill-switch session-restart; do
  line=$(row "$kind")
  if [[ $line =~ ^$kind\ ([0-9]+)\ ([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 1 && BASH_REMATCH[2] == 0)); then
    ok "$kind done at least once, none failed ($line)"
  else
    not_ok "$kind done at least once, none failed" "want: $kind N>=1 0" "got:  $line"
  fi
done
for figure in rss_kib fds threads dropped_records; do
  line=$(row "$figure")
  if [[ $line =~ ^$figure\ [0-9]+\ [0-9]+\ -?[0-9]+$ ]]; then
    ok "$figure: start, end and delta printed ($line)"
  else
    not_ok "$figure: start, end and delta printed" "want: $figure START END DELTA" "got:  $line"
  fi
done
expect_contains "the machine is printed" "$OUT" "cpu:"
expect_contains "orders are counted" "$OUT" "orders_sent"
expect_not_contains "no action failed" "$OUT" "FAILED"
finish
