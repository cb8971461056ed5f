#!/usr/bin/env bash
# Install riskgate and semgrep into two venvs under $RISKGATE_TOOLS (restored from the cache
# when it hit) and write their paths to $GITHUB_OUTPUT: `python`, `gate`, `semgrep`.
# semgrep is installed at its exact pins and never shares riskgate's venv, so neither can
# downgrade the other.
#
# Overrides, for self-hosted runners with the tools preinstalled (and for the tests):
#   RISKGATE_VENV     an existing venv with riskgate installed: used as is, nothing installed
#   GATE_SEMGREP_BIN  an existing semgrep executable: used as is, semgrep not installed
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

action_path="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
tools="${RISKGATE_TOOLS:-${RUNNER_TEMP:?RUNNER_TEMP is not set}/riskgate-tools}"
base_python="${RISKGATE_BASE_PYTHON:-}"
[ -n "$base_python" ] || base_python="$(command -v python3)"
pip_flags=(--quiet --disable-pip-version-check --no-input)

# A venv restored from the cache is reused only when it still works (its base Python may be gone).
usable() { [ -x "$1/bin/python" ] && "$1/bin/python" -c "import $2" >/dev/null 2>&1; }

fresh_venv() {
  rm -rf "$1"
  "$base_python" -m venv "$1"
  "$1/bin/python" -m pip install "${pip_flags[@]}" --upgrade pip
}

gate_venv="${RISKGATE_VENV:-}"
if [ -z "$gate_venv" ]; then
  gate_venv="$tools/gate"
  if ! usable "$gate_venv" gate; then
    echo "riskgate: installing riskgate from $action_path"
    fresh_venv "$gate_venv"
    "$gate_venv/bin/python" -m pip install "${pip_flags[@]}" "$action_path"
  fi
fi
[ -x "$gate_venv/bin/gate" ] || { error "riskgate: no gate executable in $gate_venv"; exit 2; }

semgrep_bin="${GATE_SEMGREP_BIN:-}"
if [ -z "$semgrep_bin" ]; then
  semgrep_venv="$tools/semgrep"
  if ! usable "$semgrep_venv" semgrep; then
    echo "riskgate: installing semgrep"
    fresh_venv "$semgrep_venv"
    "$semgrep_venv/bin/python" -m pip install "${pip_flags[@]}" \
      -r "$action_path/scripts/action/semgrep-requirements.txt" \
      -c "$action_path/scripts/action/semgrep-constraints.txt"
  fi
  semgrep_bin="$semgrep_venv/bin/semgrep"
fi
[ -x "$semgrep_bin" ] || { error "riskgate: semgrep is not executable at $semgrep_bin"; exit 2; }

{
  echo "python=$gate_venv/bin/python"
  echo "gate=$gate_venv/bin/gate"
  echo "semgrep=$semgrep_bin"
} >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
