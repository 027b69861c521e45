#!/usr/bin/env bash
# perfci on any CI with a GPU runner. A push: measure this commit, store it in the runner's database
# (or post it), judge it against the branch. A pull request: measure the merge-base with the target
# branch and the head interleaved in this job (`perfci compare`). Either way write the Markdown
# report and fail the job on a regression or correctness failure.
#   PERFCI_DB       persistent store of the runner (default: ~/perfci/perfci.db)
#   PERFCI_SUITE    smoke (per push) or full (nightly)
#   PERFCI_TRIGGER  push | pr | nightly
#   PERFCI_PR_BASE  the PR's target branch as the runner sees it, e.g. origin/main (PRs only)
#   PERFCI_PR_MODE  compare (default: A/B in this job) | run (store a PR run judged vs the merge-base)
#   PERFCI_POST     optional URL of a perfci server to send the document to (with PERFCI_TOKEN)
#   PERFCI_CASES    optional case pattern (a subset of the suite)
# Then `python3 examples/ci/post_report.py perfci-report.md` posts the report to the PR / MR.
set -uo pipefail
mkdir -p "$HOME/perfci"
export PERFCI_DB="${PERFCI_DB:-sqlite:///$HOME/perfci/perfci.db}"
suite="${PERFCI_SUITE:-smoke}"
trigger="${PERFCI_TRIGGER:-push}"
if [ "$trigger" = pr ] && [ "${PERFCI_PR_MODE:-compare}" = compare ]; then
  base=$(git merge-base "${PERFCI_PR_BASE:?set PERFCI_PR_BASE to the target branch, e.g. origin/main}" HEAD)
  perfci compare "$base" HEAD --suite "$suite" ${PERFCI_CASES:+--cases "$PERFCI_CASES"} \
    --report perfci-report.md --json > perfci-compare.json
else
  args=(run --suite "$suite" --trigger "$trigger" --report perfci-report.md --output perfci-results.json)
  if [ "$trigger" = pr ]; then args+=(--pr-base "${PERFCI_PR_BASE:?set PERFCI_PR_BASE}"); fi
  if [ -n "${PERFCI_POST:-}" ]; then args+=(--post "$PERFCI_POST"); fi
  if [ -n "${PERFCI_CASES:-}" ]; then args+=(--cases "$PERFCI_CASES"); fi
  perfci "${args[@]}"
fi
status=$?   # 0 clean, 1 regression/correctness failure, 2 bad input, 130 interrupted
if [ -s perfci-report.md ]; then echo "perfci found changes:"; cat perfci-report.md; fi
exit $status
