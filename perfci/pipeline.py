"""The one path after a document exists: store + judge + queue alerts, then confirm.

``perfci run``, ``perfci import`` and ``POST /api/runs`` all call :func:`process_document`, so a
document is judged the same way whichever way it arrived. Only ``perfci run`` can re-measure (it
has the commits and a device): it passes a ``confirm`` callable, and a suspected regression becomes a
gating ``latency`` finding only when fresh process pairs confirm it. A remote runner that posts its
document re-measures the server's suspicions itself and posts the verdicts
(``POST /api/runs/<id>/confirmations``), which :func:`confirm_stored` records the same way.
Documents from elsewhere gate only on their own process-level evidence (``perfci run --processes N``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from perfci.alerts.notify import AlertContext, alert_context, plan, queue_for_run
from perfci.analysis.levels import baseline_moved
from perfci.config import PerfciConfig
from perfci.document import ResultsDocument
from perfci.findings import Finding, Unjudged, worst_first
from perfci.store import outbox
from perfci.store.engine import Store, retry_transient
from perfci.store.ingest import IngestOutcome, store_document
from perfci.store.judge import RunJudgement, judge_stored_run, record_bisect, record_confirmation
from perfci.store.queries import recorded_findings, run_identity

#: suspected regressions -> for each, the paired verdict of its re-measurement (``Verdict.as_dict()``
#: plus "pairs"), or None when it could not be re-measured
Confirm = Callable[[list[Finding]], list[dict[str, Any] | None]]
#: a gating regression -> the search of the commits between its baseline and its commit
#: (``perfci.runner.culprits.culprits_json``), or None when there is no such range to search
Bisect = Callable[[Finding], dict[str, Any] | None]


@dataclass
class Processed:
    run_uuid: uuid.UUID
    stored: bool  # False: the run id was stored already; ``findings`` are those recorded for it then
    results: int
    findings: list[Finding] = field(default_factory=list)
    not_judged: list[Unjudged] = field(default_factory=list)
    #: ids of the webhook deliveries queued for this run (sent by ``perfci serve``'s sender or
    #: ``perfci.alerts.notify.deliver_now``)
    deliveries: list[int] = field(default_factory=list)


#: what a re-measurement's verdict makes of a suspected slowdown: the pairs prove the commit slower
#: (a gating ``latency`` finding) or faster (an ``improvement``: the one process that looked slow was
#: an offset process, and the commit's real change is the other way)
_PROVED = {"regression": "latency", "improvement": "improvement"}


def _confirmed(finding: Finding, verdict: dict[str, Any] | None) -> Finding:
    """The finding after its re-measurement: the pairs' change, of the kind they prove (``_PROVED``),
    or still ``suspected`` with their evidence. The verdict keeps the suspicion's own ``change``."""
    if verdict is None:
        return finding
    evidence = {**finding.verdict, "confirmation": verdict}
    if verdict["kind"] in _PROVED:
        return replace(finding, kind=_PROVED[verdict["kind"]], change=verdict["change"], verdict=evidence)
    return replace(finding, verdict=evidence)


def _unconfirmed(verdict: dict[str, Any]) -> str:
    return f"suspected, not confirmed: re-measured {verdict['kind']} in {verdict['n_head']} pairs ({verdict['reason']})"


def suspects_of(findings: list[Finding]) -> list[Finding]:
    """The findings a re-measurement may confirm: suspected slowdowns (a faster change never gates)."""
    return [f for f in findings if f.kind == "suspected" and (f.change or 0) > 0]


def proved_by_processes(findings: list[Finding]) -> list[Finding]:
    """Gating slowdowns the document's own processes proved (``perfci run --processes N``), not a
    re-measurement: a bisect behind a confirmed one runs inside its confirmation, these are
    bisected after it."""
    return [f for f in findings if f.kind == "latency" and (f.change or 0) > 0 and "confirmation" not in f.verdict]


def confirms(config: PerfciConfig, document: ResultsDocument) -> bool:
    """Whether the config re-measures this document's suspected slowdowns (under the interpreter only
    where its latency gates)."""
    interpreter = document.run.environment.device_kind == "interpreter"
    return config.detection.confirm and (config.detection.gate_interpreter or not interpreter)


def apply_confirmations(suspects: list[Finding], verdicts: list[dict[str, Any] | None]) -> list[Finding]:
    """Each suspicion after its re-measurement (unchanged where there was none)."""
    return [_confirmed(f, v) for f, v in zip(suspects, verdicts, strict=True)]


def behind_baseline(finding: Finding, verdict: dict[str, Any] | None) -> Finding | None:
    """The suspicion that a suspected slowdown's baseline commit made the step, when re-measuring
    did not prove the slowdown but the baseline's fresh processes (``base_value``) read like the head
    rather than the level it was recorded at (``baseline_moved``): its one recorded process hid a
    step made there. The baseline is then re-measured against the level's result before it (the
    finding's ``earlier_commit``); None when that does not apply."""
    earlier, level = finding.verdict.get("earlier_commit"), finding.verdict.get("level")
    if verdict is None or verdict["kind"] in _PROVED or not earlier or not finding.baseline_commit:
        return None
    if not baseline_moved(finding.change, level, verdict.get("base_value")):
        return None
    reason = (
        f"{finding.commit[:10]} re-measured like its baseline, and the baseline "
        f"{verdict['base_value'] / level - 1:+.1%} off the level it was recorded at: a step hidden at the baseline"
    )
    evidence = {"detector": "level", "reason": reason, "change": finding.change, "level": level}
    return replace(finding, commit=finding.baseline_commit, baseline_commit=earlier, verdict=evidence)


def proved_behind(behind: list[Finding], verdicts: list[dict[str, Any] | None]) -> list[Finding]:
    """Of the baselines re-measured (``behind_baseline``), those whose verdict proved a change there."""
    return [step for step in apply_confirmations(behind, verdicts) if step.kind != "suspected"]


def steps_behind_baselines(
    confirm: Confirm, suspects: list[Finding], verdicts: list[dict[str, Any] | None]
) -> list[Finding]:
    """The changes re-measuring proved at the baseline commits of suspicions it did not prove
    (``behind_baseline``), each baseline re-measured once."""
    behind = [b for f, v in zip(suspects, verdicts, strict=True) if (b := behind_baseline(f, v)) is not None]
    return proved_behind(behind, confirm(behind)) if behind else []


def process_document(
    store: Store,
    config: PerfciConfig,
    document: ResultsDocument,
    *,
    confirm: Confirm | None = None,
    bisect: Bisect | None = None,
) -> Processed:
    """Store, judge and queue the alerts of a document in one transaction (a run is never stored
    unjudged, nor judged without its alerts queued, whatever stops the process); then, when
    ``confirm`` is given and the config allows, re-measure suspected regressions, record what that
    said, and with ``bisect`` and ``[detection] bisect`` search the commits behind each regression
    the document's own processes proved; the alerts are queued after those. An aborted run and a
    bisect's run are stored, never judged."""
    may_confirm = confirm is not None and confirms(config, document)
    may_bisect = bisect is not None and config.detection.bisect and document.run.trigger != "pr"
    complete = document.run.status == "complete"

    def held(findings: list[Finding]) -> bool:
        """Whether the alerts wait for a re-measurement or a bisect."""
        return bool((may_confirm and suspects_of(findings)) or (may_bisect and proved_by_processes(findings)))

    def attempt() -> tuple[IngestOutcome, RunJudgement | None, list[int]]:
        with store.write() as session:
            outcome = store_document(session, document)
            if not outcome.stored or not complete or document.run.trigger == "bisect":
                return outcome, None, []  # a bisect's measurements serve its search: stored, unjudged
            judged = judge_stored_run(session, outcome.run_uuid, config.detection.policy())
            if held(judged.findings):
                return outcome, judged, []  # alerts are queued after the re-measurement and the bisect
            context = alert_context(document, outcome.run_uuid)
            return outcome, judged, outbox.enqueue(session, outcome.run_uuid, plan(config, context, judged.findings))

    outcome, judged, queued = retry_transient(attempt)
    if not outcome.stored:
        with store.read() as session:
            return Processed(outcome.run_uuid, False, 0, recorded_findings(session, outcome.run_uuid))
    processed = Processed(outcome.run_uuid, True, outcome.results, deliveries=queued)
    if judged is None:
        return processed
    findings, not_judged = judged.findings, judged.not_judged
    suspects = suspects_of(findings)
    if may_confirm and suspects:
        assert confirm is not None
        verdicts = confirm(suspects)
        updated = dict(zip(map(id, suspects), apply_confirmations(suspects, verdicts), strict=True))
        behind = steps_behind_baselines(confirm, suspects, verdicts)
        if document.run.trigger != "pr":
            for finding, verdict in zip(suspects, verdicts, strict=True):
                if verdict is not None:
                    record_confirmation(store, outcome.run_uuid, updated[id(finding)])
            for step in behind:
                record_confirmation(store, outcome.run_uuid, step)
        findings = worst_first([*(updated.get(id(f), f) for f in findings), *behind])
        outcome_of = {f.case: f.verdict.get("confirmation") for f in updated.values() if f.kind == "suspected"}
        proved = {f.case for f in [*updated.values(), *behind] if f.kind != "suspected"}
        not_judged = [
            Unjudged(u.case, _unconfirmed(outcome_of[u.case])) if outcome_of.get(u.case) else u
            for u in not_judged
            if u.case not in proved
        ]
    if may_bisect and (proved := proved_by_processes(findings)):
        assert bisect is not None
        searched = {}
        for finding in proved:
            search = bisect(finding)
            if search is not None:
                searched[id(finding)] = replace(finding, verdict={**finding.verdict, "bisect": search})
                record_bisect(store, outcome.run_uuid, searched[id(finding)])
        findings = worst_first(searched.get(id(f), f) for f in findings)
    if held(judged.findings):
        processed.deliveries = queue_for_run(store, config, alert_context(document, outcome.run_uuid), findings)
    processed.findings, processed.not_judged = findings, not_judged
    return processed


class NotSuspected(LookupError):
    """A confirmation names a case the run has no suspected slowdown for."""


def confirm_stored(
    store: Store, config: PerfciConfig, run_uuid: uuid.UUID, verdicts: dict[str, dict[str, Any]]
) -> list[Finding]:
    """Record re-measurements made elsewhere (a remote runner's process pairs) of a stored run's
    suspected slowdowns, by case, as ``process_document`` records its own (a verdict's
    ``baseline_remeasured``, the baseline against the level's result before it, counts where
    ``behind_baseline`` says so); queue the alerts of those confirmed. Returns the run's findings
    after them. A case with no suspected slowdown at the run's commit is ``NotSuspected`` (nothing
    is recorded)."""
    with store.read() as session:
        recorded = recorded_findings(session, run_uuid)
        context = AlertContext(**run_identity(session, run_uuid))
    if context.trigger == "pr":
        raise NotSuspected("a pull request's findings are not recorded: its runner gates on its own re-measurements")
    open_suspects = {f.case: f for f in suspects_of(recorded)}
    unknown = sorted(set(verdicts) - set(open_suspects) - {f.case for f in recorded if f.kind == "latency"})
    if unknown:
        raise NotSuspected(f"no suspected slowdown of {', '.join(unknown)[:200]} at this run's commit")
    updated = [_confirmed(open_suspects[case], verdict) for case, verdict in verdicts.items() if case in open_suspects]
    suspicions = {
        case: suspicion
        for case, verdict in verdicts.items()
        if case in open_suspects
        and verdict.get("baseline_remeasured")
        and (suspicion := behind_baseline(open_suspects[case], verdict)) is not None
    }
    behind = proved_behind(list(suspicions.values()), [verdicts[case]["baseline_remeasured"] for case in suspicions])
    for finding in [*updated, *behind]:
        record_confirmation(store, run_uuid, finding)
    confirmed = [f for f in [*updated, *behind] if f.kind == "latency"]
    if confirmed:
        queue_for_run(store, config, context, confirmed)
    by_case = {f.case: f for f in updated}
    return worst_first([*(by_case.get(f.case, f) if f.kind == "suspected" else f for f in recorded), *behind])


class NotBisectable(LookupError):
    """A search names a case the run has no gating slowdown its own processes proved."""


def bisect_stored(store: Store, run_uuid: uuid.UUID, searches: dict[str, dict[str, Any]]) -> list[Finding]:
    """Record searches made elsewhere (a remote runner's bisect, ``perfci run --post`` with
    ``[detection] bisect``) of the commits behind a stored run's gating slowdowns that its own
    processes proved, by case, as ``process_document`` records its own. Returns the run's findings
    after them. A case without such a slowdown at the run's commit is ``NotBisectable`` (nothing is
    recorded); a confirmed one carries its search in its confirmation (``confirm_stored``)."""
    with store.read() as session:
        recorded = recorded_findings(session, run_uuid)
        trigger = run_identity(session, run_uuid)["trigger"]
    if trigger == "pr":
        raise NotBisectable("a pull request's findings are not recorded: its runner reports its own bisect")
    proved = {f.case: f for f in proved_by_processes(recorded)}
    unknown = sorted(set(searches) - set(proved))
    if unknown:
        raise NotBisectable(
            f"no gating slowdown its processes proved of {', '.join(unknown)[:200]} at this run's commit"
        )
    searched = {
        case: replace(proved[case], verdict={**proved[case].verdict, "bisect": s}) for case, s in searches.items()
    }
    for finding in searched.values():
        record_bisect(store, run_uuid, finding)
    return worst_first(searched.get(f.case, f) if f.kind == "latency" and f.case in searched else f for f in recorded)
