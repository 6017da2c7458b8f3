#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fails when a C or C++ source differs from what clang-format makes of it with the root's
# .clang-format (../shared/STYLE.md). Fix with: clang-format -i FILE...
set -euo pipefail
cd "${1:?usage: check_format.sh SOURCE_ROOT}"
mapfile -t files < <(find daemon ctl exchange-sim libhft tests \
  \( -name '*.cpp' -o -name '*.h' -o -name '*.c' \) -not -path '*/corpus/*' | sort)
[ ${#files[@]} -gt 0 ] || { echo "check_format: no sources found under $(pwd)" >&2; exit 1; }
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "check_format: ${#bad[@]} of ${#files[@]} files are not clang-formatted:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "fix with: clang-format -i ${bad[*]}" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files clang-formatted"
