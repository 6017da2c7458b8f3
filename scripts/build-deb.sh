#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the Debian package (debian/): dpkg-buildpackage -us -uc -b on a copy of the working
# tree (the checkout stays clean: no obj-*/ or debian/hft/ in it), the .deb kept in
# CACHE_DIR/out/ together with a fingerprint of the tree it was built from. The next call with
# the same tree gets that .deb without a second build (a whole release build: minutes); any
# change to a tracked or untracked file rebuilds it. The Docker image runs it
# (docker/Dockerfile), and so do the tests that need the package (tests/tools/deb_package_test.sh,
# deb_lifecycle_test.sh, sharing the build directory's deb/).
#
#   build-deb.sh SOURCE_ROOT CACHE_DIR [COPY_TO_DIR]
# prints the .deb's path as its last line; with COPY_TO_DIR, also copies the .deb there.
# Exit 0 built or reused, 1 the build failed (the end of its log is printed), 77 the tools or
# build dependencies are missing (the reason is printed). Callers hold no lock: this one takes
# CACHE_DIR/lock, so two callers at once build once.
set -euo pipefail

src=${1:?usage: build-deb.sh SOURCE_ROOT CACHE_DIR [COPY_TO_DIR]}
cache=${2:?usage: build-deb.sh SOURCE_ROOT CACHE_DIR [COPY_TO_DIR]}
copy_to=${3:-}

skip() {
  echo "SKIP: $*" >&2
  exit 77
}
for t in dpkg-buildpackage dpkg-checkbuilddeps tar sha256sum flock; do
  command -v "$t" >/dev/null || skip "no $t (packages dpkg-dev, debhelper: scripts/install-deps.sh)"
done
[[ -f $src/debian/control ]] || {
  echo "FAIL: no debian/control in $src" >&2
  exit 1
}

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
exec 9>"$cache/lock"
flock 9

# The files of the working tree as they are (tracked and untracked, not the ignored build
# directories), NUL-separated: what gets packaged, and what the fingerprint covers.
tree_files() {
  if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$src" ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do
        [[ -e $src/$f ]] && printf '%s\0' "$f"
      done
  else
    (cd "$src" && find . \( -path './build*' -o -path './obj-*' -o -path './.git' -o \
      -path './dist' -o -path './collected_data' \) -prune -o \
      \( -type f -o -type l \) -printf '%P\0')
  fi
}
# Names, modes and contents of every file (symbolic links by their target).
fingerprint() {
  tree_files | sort -z | (cd "$src" && while IFS= read -r -d '' f; do
    if [[ -L $f ]]; then
      printf '%s l %s\n' "$f" "$(readlink "$f")"
    else
      printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
    fi
  done) | sha256sum | cut -d' ' -f1
}

# dpkg-buildpackage on a copy of the tree; sets deb.
build() {
  (cd "$src" && dpkg-checkbuilddeps) >&2 || skip "build dependencies missing (dpkg-checkbuilddeps above)"

  work=$(mktemp -d "$cache/work.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  trap 'exit 130' INT TERM
  mkdir "$work/hft"
  tree_files | tar -C "$src" --null -T - -cf - | tar -C "$work/hft" -xf -

  echo "build-deb: building the package in $work/hft (log: $cache/build.log) ..." >&2
  start=$SECONDS
  if ! (cd "$work/hft" && DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
    nice -n 19 dpkg-buildpackage -us -uc -b) >"$cache/build.log" 2>&1; then
    tail -n 60 "$cache/build.log" >&2
    echo "FAIL: dpkg-buildpackage failed (log: $cache/build.log)" >&2
    exit 1
  fi
  built=("$work"/hft_*.deb)
  [[ -f ${built[0]} ]] || {
    echo "FAIL: dpkg-buildpackage made no hft_*.deb" >&2
    exit 1
  }
  rm -rf "$cache/out"
  mkdir "$cache/out"
  mv "$work"/*.deb "$cache/out/"
  echo "$want" >"$cache/out/fingerprint"
  echo "build-deb: built ${built[0]##*/} in $((SECONDS - start))s" >&2
  deb=$cache/out/${built[0]##*/}
}

want=$(fingerprint)
debs=("$cache"/out/hft_*.deb)
if [[ -f ${debs[0]} && -f $cache/out/fingerprint && $(cat "$cache/out/fingerprint") == "$want" ]]; then
  echo "build-deb: reusing ${debs[0]##*/} (built from this tree: fingerprint ${want:0:12})" >&2
  deb=${debs[0]}
else
  build
fi
if [[ -n $copy_to ]]; then
  mkdir -p "$copy_to"
  cp "$deb" "$copy_to/"
  echo "build-deb: copied ${deb##*/} to $copy_to" >&2
fi
echo "$deb"
