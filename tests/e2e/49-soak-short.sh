#!/bin/bash
# 49-soak-short: the short version of `make soak` (tests/soak/run) in CI:
# 50 kill -9s of run, sync, eod and CLI writers at random moments with HQ
# dropping replies after commit and answering 503 now and then; then every
# acknowledged customer and sale is at HQ exactly once and every day's
# statement posted once with the right totals.
set -euo pipefail
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v sqlite3 >/dev/null && command -v jq >/dev/null || { echo "SKIP: sqlite3 and jq are needed"; exit 77; }
SOAK_KILLS=${SOAK_KILLS:-50} "$TOP/tests/soak/run"
