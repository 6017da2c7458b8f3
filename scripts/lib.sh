# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# lib.sh: the helpers that setup_kernel.sh, verify_system.sh, collect_data.sh and deploy.sh
# share: usage errors, option parsing and CPU lists. Sourced, never run, from beside the script:
#   source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh" || exit 1
# It sets no shell options (verify_system.sh runs without set -e on purpose) and expects the
# script to define PROG (its own name, for messages). deploy.sh installs it with the scripts.

# ---------------------------------------------------------------------------- usage errors
# die_usage MESSAGE [HINT...]: "PROG: error: MESSAGE", each HINT indented below it, a pointer
# to --help, all on stderr; exits 2 (bad usage).
die_usage() {
  printf '%s: error: %s\n' "$PROG" "$1" >&2
  if [[ $# -gt 1 ]]; then printf '  %s\n' "${@:2}" >&2; fi
  printf "Run '%s --help' for the options.\n" "$PROG" >&2
  exit 2
}

# ---------------------------------------------------------------------------- options
# split_opt ARG...: OPT_ARGS gets the arguments, the first one split in two when it is
# --name=value, so that the option loops take "--cores=6,7" like "--cores 6,7". Only the first
# is split: a value that looks like --x=y (--hftd-arg --log=x) is passed on as it is. Use:
#   while [[ $# -gt 0 ]]; do split_opt "$@"; set -- "${OPT_ARGS[@]}"; opt=$1; case $opt in ...
# shellcheck disable=SC2034 # OPT_ARGS is for the caller
split_opt() {
  OPT_ARGS=("$@")
  if [[ $1 == --*=* ]]; then OPT_ARGS=("${1%%=*}" "${1#*=}" "${@:2}"); fi
}

# need_value OPTION [VALUE...]: called with the loop's "$@"; a usage error unless OPTION is
# followed by a value that is not empty.
need_value() {
  if [[ $# -lt 2 || -z $2 ]]; then die_usage "$1 needs a value"; fi
}

# resolve_root ROOT: a usage error unless ROOT (the --root option) is a directory; sets the
# caller's ROOT_REAL, its physical path, P, the prefix for every system path ('' for /), and
# REAL, 1 only when ROOT is this machine's /.
# shellcheck disable=SC2034 # REAL and P are for the caller
resolve_root() {
  if [[ ! -d $1 ]]; then
    die_usage "--root '$1' is not a directory" "pass an existing directory (default /)"
  fi
  ROOT_REAL=$(cd "$1" && pwd -P)
  if [[ $ROOT_REAL == / ]]; then REAL=1; P=''; else REAL=0; P=$ROOT_REAL; fi
}

# ---------------------------------------------------------------------------- CPU lists
# expand_cpulist [-k] LIST ARRAY: ARRAY gets the sorted, unique CPU numbers of a list such as
# 0-3,6,7; returns 1 when LIST is malformed (the caller says where it came from). With -k,
# LIST is as the kernel prints it: white space is ignored, and "" or "(null)" is no CPU.
# shellcheck disable=SC2034 # _out is a nameref to the caller's array
expand_cpulist() {
  local _kernel=0
  if [[ $1 == -k ]]; then _kernel=1; shift; fi
  # Locals carry a prefix so they cannot shadow the caller's array behind the nameref.
  local _list=$1 _part _lo _hi _i
  local -n _out=$2
  local -a _parts
  local -A _seen=()
  _out=()
  if ((_kernel)); then
    _list=${_list//[[:space:]]/}
    if [[ -z $_list || $_list == '(null)' ]]; then return 0; fi
  fi
  [[ $_list =~ ^[0-9]{1,4}(-[0-9]{1,4})?(,[0-9]{1,4}(-[0-9]{1,4})?)*$ ]] || return 1
  IFS=, read -ra _parts <<<"$_list"
  local _min=99999 _max=-1
  for _part in "${_parts[@]}"; do
    _lo=$((10#${_part%-*}))
    _hi=$((10#${_part#*-}))
    if ((_lo > _hi)); then return 1; fi
    for ((_i = _lo; _i <= _hi; _i++)); do _seen[$_i]=1; done
    if ((_lo < _min)); then _min=$_lo; fi
    if ((_hi > _max)); then _max=$_hi; fi
  done
  for ((_i = _min; _i <= _max; _i++)); do # sorted and unique without forking sort
    if [[ -n ${_seen[$_i]:-} ]]; then _out+=("$_i"); fi
  done
}

# compact_cpulist CPU...: the canonical list of sorted CPUs; runs of three or more become a
# range (0-5), shorter runs stay single (6,7), so the defaults read the same as in the docs.
compact_cpulist() {
  local -a cpus=("$@")
  local s='' i=0 j n=${#cpus[@]}
  while ((i < n)); do
    j=$i
    while ((j + 1 < n && cpus[j + 1] == cpus[j] + 1)); do j=$((j + 1)); done
    if ((j - i >= 2)); then
      s+=",${cpus[i]}-${cpus[j]}"
    else
      for ((; i <= j; i++)); do s+=",${cpus[i]}"; done
    fi
    i=$((j + 1))
  done
  printf '%s' "${s#,}"
}
