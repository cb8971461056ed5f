#!/usr/bin/env bash
# Set up riskgate from a clean checkout: the project venv, semgrep in its own venv and,
# with --browser, Debian's chromium for the browser tests.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"

# semgrep lives in a venv of its own: its exact pins (scripts/action/semgrep-*.txt) and riskgate's
# ranges move independently, and neither may ever downgrade the other.
[ -x .tools/semgrep/bin/python ] || "$PYTHON" -m venv .tools/semgrep
# The version the GitHub Action installs (scripts/action/semgrep-*.txt), so tests run what CI runs.
semgrep_pin=$(sed -n 's/^semgrep==//p' scripts/action/semgrep-requirements.txt)
if [ "$(.tools/semgrep/bin/semgrep --version 2>/dev/null)" != "$semgrep_pin" ]; then
  .tools/semgrep/bin/python -m pip install -q -r scripts/action/semgrep-requirements.txt \
    -c scripts/action/semgrep-constraints.txt
fi

# The browser tests drive Debian's chromium (only with --browser); never a downloaded build.
if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "setup: chromium missing; install Debian's chromium for the browser tests" >&2
  fi
fi
echo "setup: ready (.venv, .tools/semgrep)"
