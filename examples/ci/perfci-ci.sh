#!/usr/bin/env bash
# perfci on any CI with a GPU runner: measure this commit, store it in the runner's database,
# write the Markdown report, fail the job on a regression or correctness failure.
#   PERFCI_DB       persistent store of the runner (default: ~/perfci/perfci.db)
#   PERFCI_SUITE    smoke (per push) or full (nightly)
#   PERFCI_TRIGGER  push | pr | nightly
#   PERFCI_POST     optional URL of a perfci server to send the document to (with PERFCI_TOKEN)
set -uo pipefail
mkdir -p "$HOME/perfci"
export PERFCI_DB="${PERFCI_DB:-sqlite:///$HOME/perfci/perfci.db}"
args=(run --suite "${PERFCI_SUITE:-smoke}" --trigger "${PERFCI_TRIGGER:-push}" --report perfci-report.md
      --output perfci-results.json)
if [ -n "${PERFCI_POST:-}" ]; then args+=(--post "$PERFCI_POST"); fi
perfci "${args[@]}"
status=$?   # 0 clean, 1 regression/correctness failure, 2 bad input, 130 interrupted
if [ -s perfci-report.md ]; then echo "perfci found changes:"; cat perfci-report.md; fi
exit $status
