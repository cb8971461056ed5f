#!/usr/bin/env bash
# The gate step of action.yml: run `gate scan` with the action's inputs, then let
# `python -m gate.action_outputs finish` write the step outputs and summary and pick the exit code.
#
# Every input arrives as an environment variable (INPUT_*), set by the step's `env:` mapping,
# and is only ever expanded inside double quotes or passed as one argv element: an input that
# holds `$(...)`, backticks or quotes is data, never code.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The comment token is for the comment only: never in the environment of the gate or scanners.
comment_token="${RISKGATE_GITHUB_TOKEN:-}"
unset RISKGATE_GITHUB_TOKEN

gate_bin="${RISKGATE_GATE:?RISKGATE_GATE is not set (the install step sets it)}"
python_bin="${RISKGATE_PYTHON:?RISKGATE_PYTHON is not set (the install step sets it)}"
work="${RUNNER_TEMP:?RUNNER_TEMP is not set}/riskgate"
target="${INPUT_PATH:-.}"
sarif="${INPUT_SARIF_FILE:-riskgate.sarif}"
json="$work/verdict.json"
markdown="$work/summary.md"
annotations="$work/annotations.txt"
stderr_log="$work/stderr.txt"

mkdir -p "$work"
rm -f "$json" "$markdown" "$annotations" "$stderr_log"

# A pull request whose base cannot be had. Every finding would count as new (blocking more),
# but the change's own policy, .semgrepignore and VEX files would judge it: fail closed unless
# fail-on-error is "false".
no_baseline() {
  if [ "${INPUT_FAIL_ON_ERROR:-true}" = "false" ]; then
    warn "riskgate: $1; scanning without a baseline (all findings are new; the change's own policy, .semgrepignore and VEX files apply)"
    return 0
  fi
  error "riskgate: $1; a pull request is judged by its base branch's policy, .semgrepignore and VEX files, so the gate fails closed without it (fail-on-error: false scans without a baseline)"
  exit 2
}

# The default baseline of a pull request: its base branch, fetched from origin; sets `baseline`.
pull_request_baseline() {
  local base="${GITHUB_BASE_REF:-}" depth=()
  [ -n "$base" ] || return 0
  if ! git check-ref-format --branch "$base" >/dev/null 2>&1; then
    no_baseline "GITHUB_BASE_REF is not a branch name"
    return 0
  fi
  if [ "$(git -C "$target" rev-parse --is-shallow-repository 2>/dev/null)" = "true" ]; then
    depth=(--depth=1)
  fi
  git -C "$target" fetch --no-tags --quiet ${depth[@]+"${depth[@]}"} origin \
    "+refs/heads/$base:refs/remotes/origin/$base" >&2 ||
    warn "riskgate: could not fetch origin/$base for the baseline"
  if git -C "$target" rev-parse --verify --quiet "refs/remotes/origin/$base^{commit}" >/dev/null; then
    baseline="origin/$base"
  else
    no_baseline "origin/$base is not available"
  fi
}

baseline="${INPUT_BASELINE:-}"
if [ -z "$baseline" ]; then
  case "${GITHUB_EVENT_NAME:-}" in
    pull_request | pull_request_target) pull_request_baseline ;;
  esac
fi

args=(scan --no-progress "--json=$json" "--markdown=$markdown" "--sarif=$sarif" --no-sarif-absent
  "--github-annotations=$annotations")
[ -z "${INPUT_POLICY:-}" ] || args+=("--policy=$INPUT_POLICY")
[ -z "${INPUT_ADVISORIES:-}" ] || args+=("--advisories=$INPUT_ADVISORIES")
[ -z "$baseline" ] || args+=("--baseline=$baseline")

# extra-args is split by Python's shlex (quotes honoured, nothing expanded or executed) and
# parsed by `gate scan`'s own options: a typo, a bad value or an option the action sets itself
# fails the step here (exit 3), before any scan and whatever fail-on-error says.
if [ -n "${INPUT_EXTRA_ARGS:-}" ]; then
  if ! "$python_bin" -m gate.action_outputs check-args -- "$INPUT_EXTRA_ARGS" >"$work/extra-args"; then
    cat "$work/extra-args" # the ::error:: line naming the input
    exit 3
  fi
  while IFS= read -r -d '' part; do args+=("$part"); done <"$work/extra-args"
fi

# The path goes last, after `--`, so that a path starting with `-` is never read as an option.
args+=(-- "$target")

# An empty upload-url must not reach the gate as an empty --upload.
[ -n "${GATE_UPLOAD_URL:-}" ] || unset GATE_UPLOAD_URL

# Nothing the gate prints (file names and scanner text come from the scanned code) may act as
# a workflow command: commands are off while it runs; the annotations are printed afterwards.
pause="riskgate-$("$python_bin" -c 'import secrets; print(secrets.token_hex(16))')"
echo "::stop-commands::$pause"
set +e
"$gate_bin" "${args[@]}" 2>"$stderr_log"
gate_exit=$?
set -e
cat "$stderr_log" # on stdout, so it is read before commands resume
echo "::$pause::"
[ ! -f "$annotations" ] || cat "$annotations"

# The optional sticky pull-request comment; it never decides the step (pr_comment exits 0).
case "${INPUT_COMMENT:-false}" in
  [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss] | [Oo][Nn] | 1)
    GITHUB_TOKEN="$comment_token" "$python_bin" -m gate.pr_comment --markdown "$markdown" \
      --key "$target" --gate-exit "$gate_exit" ||
      warn "riskgate: the pull-request comment failed"
    ;;
esac

exec "$python_bin" -m gate.action_outputs finish --gate-exit "$gate_exit" \
  --json "$json" --markdown "$markdown" --stderr "$stderr_log" \
  "--sarif=$sarif" "--fail-on-error=${INPUT_FAIL_ON_ERROR:-true}"
