#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Records a session through SessionRecorder and reads its latency.hlog with hdr-histogram-js.
# usage: run_hlog_test.sh DRIVER SOURCE_DIR WORK_DIR
set -euo pipefail
driver=$1 src=$2 work=$3
command -v npm >/dev/null || { echo "run_hlog_test: npm not found; run scripts/install-deps.sh" >&2; exit 1; }
mkdir -p "$work/node"
cp "$src/package.json" "$src/package-lock.json" "$work/node/"
# npm ci from the committed lock file, in the build folder so the source tree stays clean.
if ! (cd "$work/node" && npm ci --silent --no-audit --no-fund); then
  echo "run_hlog_test: npm ci failed in $work/node (needs the npm registry or its cache)" >&2
  exit 1
fi
rm -rf "$work/session"
"$driver" "$work/session"
NODE_PATH="$work/node/node_modules" node "$src/check_hlog.js" "$work/session"
