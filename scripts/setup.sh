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

# semgrep pins an old opentelemetry that breaks fastapi: it lives in a venv of its own.
[ -x .tools/semgrep/bin/python ] || "$PYTHON" -m venv .tools/semgrep
[ -x .tools/semgrep/bin/semgrep ] || .tools/semgrep/bin/python -m pip install -q "semgrep>=1.80,<2"

# The browser tests drive Debian's chromium (only with --browser); never a downloaded build.
if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "setup: chromium missing; install Debian's chromium for the browser tests" >&2
  fi
fi
echo "setup: ready (.venv, .tools/semgrep)"
