#!/usr/bin/env bash
# The first step of action.yml: check the inputs before anything is installed, and fail the
# step (exit 3) on any bad one, whatever `fail-on-error` says: that input covers scanner and
# runtime failures only, never a workflow that asks for something impossible. Every problem
# is reported (one `::error::` line each), not only the first. `extra-args` is checked against
# `gate scan`'s own options once riskgate is installed (run-gate.sh, `check-args`).
#
# Runs in the workspace; reads only INPUT_* variables set by the step's `env:` mapping.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

problems=0
bad() {
  error "riskgate: input $1: $2"
  problems=$((problems + 1))
}

# A boolean input: true/false (also yes/no, on/off, 1/0), any case.
check_flag() {
  local name="$1" value="$2"
  case "${value,,}" in
    true | false | yes | no | on | off | 1 | 0) ;;
    *) bad "$name" "expected true or false, got '$value'" ;;
  esac
}

# A path the workflow names must exist (relative to the workspace).
check_exists() {
  local name="$1" value="$2" kind="$3"
  [ -n "$value" ] || return 0
  if [ "$kind" = directory ] && [ ! -d "$value" ]; then
    bad "$name" "'$value' is not a directory in the workspace (did the checkout step run?)"
  elif [ "$kind" = file ] && [ ! -f "$value" ]; then
    bad "$name" "'$value' is not a file in the workspace"
  elif [ "$kind" = any ] && [ ! -e "$value" ]; then
    bad "$name" "'$value' does not exist in the workspace"
  fi
}

# riskgate needs Python 3.11 or later; other forms (3.x, pypy3.11, ranges) are setup-python's.
check_python() {
  local value="$1" major minor
  if [ -z "$value" ]; then
    bad python-version "must not be empty (default 3.12)"
  elif [[ "$value" =~ ^([0-9]+)\.([0-9]+)(\.[0-9]+)?$ ]]; then
    major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
    if [ "$major" -lt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 11 ]; }; then
      bad python-version "riskgate needs Python 3.11 or later, got '$value'"
    fi
  elif [[ ! "$value" =~ ^[A-Za-z0-9.*+\<\>=~^\ ,-]+$ ]]; then
    bad python-version "not a Python version: '$value'"
  fi
}

check_upload() {
  local url="$1" token="$2"
  [ -n "$url" ] || return 0
  if [[ ! "$url" =~ ^https?://[^[:space:]]+$ ]]; then
    bad upload-url "expected an http(s):// URL, got '$url'"
  elif [ -z "$token" ]; then
    bad token "upload-url is set but token is empty (pass a secret; forks get none)"
  fi
}

check_sarif() {
  local value="$1"
  if [ -z "$value" ]; then
    bad sarif-file "must not be empty"
  elif [ -d "$value" ]; then
    bad sarif-file "'$value' is a directory"
  fi
}

check_flag fail-on-error "${INPUT_FAIL_ON_ERROR:-true}"
check_flag comment "${INPUT_COMMENT:-false}"
check_exists path "${INPUT_PATH:-.}" directory
check_exists policy "${INPUT_POLICY:-}" file
check_exists advisories "${INPUT_ADVISORIES:-}" any
check_python "${INPUT_PYTHON_VERSION-3.12}"
check_upload "${INPUT_UPLOAD_URL:-}" "${INPUT_TOKEN:-}"
check_sarif "${INPUT_SARIF_FILE-riskgate.sarif}"

if [ "$problems" -gt 0 ]; then
  error "riskgate: $problems bad input(s); fail-on-error does not apply to inputs"
  exit 3
fi
echo "riskgate: inputs checked"
