#!/usr/bin/env bash
# Cache keys for the action's tool venvs, written to $GITHUB_OUTPUT:
#   gate    = hash of what `pip install` puts in the riskgate venv (pyproject.toml, gate/, register/)
#   semgrep = hash of scripts/action/semgrep-requirements.txt and semgrep-constraints.txt
#             (semgrep's exact version and every dependency's)
#   date    = today (UTC): the advisory data's cache key, so it is refreshed once a day
# Computed here rather than with hashFiles(), which only sees files inside the workspace while
# the action's own checkout ($GITHUB_ACTION_PATH) lies outside it.
set -euo pipefail

if command -v sha256sum >/dev/null 2>&1; then sha256=(sha256sum); else sha256=(shasum -a 256); fi

cd "${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
gate_key=$(
  find pyproject.toml gate register -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
    | LC_ALL=C sort -z | xargs -0 "${sha256[@]}" | "${sha256[@]}" | cut -c1-32
)
semgrep_key=$(
  cat scripts/action/semgrep-requirements.txt scripts/action/semgrep-constraints.txt |
    "${sha256[@]}" | cut -c1-32
)
{
  echo "gate=$gate_key"
  echo "semgrep=$semgrep_key"
  echo "date=$(date -u +%Y-%m-%d)"
} >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
