#!/usr/bin/env bash
# The advisory-data step of action.yml: refresh the OSV PyPI export, CISA KEV and EPSS copy that
# actions/cache restores (keyed by date, so at most one full download a day; later runs of the
# day reuse it and yesterday's copy is refreshed with conditional requests). Skipped when the
# workflow gives its own `advisories`. A failed sync never fails the step: the gate then uses
# the copy it has (its age is judged by the policy) or looks advisories up online.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

gate_bin="${RISKGATE_GATE:?RISKGATE_GATE is not set (the install step sets it)}"
: "${GATE_ADVISORIES_SYNC_DIR:?GATE_ADVISORIES_SYNC_DIR is not set}"

if [ -n "${INPUT_ADVISORIES:-}" ]; then
  echo "riskgate: advisories given by the workflow; no sync"
  exit 0
fi
if ! "$gate_bin" advisories sync; then
  warn "riskgate: advisory data sync failed; the gate uses the copy it has or looks advisories up online"
fi
