"""The document schema: valid documents parse, every kind of bad one names its field."""

from __future__ import annotations

import copy
import json
import uuid

import pytest

from perfci.document import MAX_DOCUMENT_BYTES, DocumentError, parse_document, parse_documents_text
from perfci.testing import make_document


def _error(data) -> str:
    with pytest.raises(DocumentError) as raised:
        parse_document(data, "doc.json")
    return str(raised.value)


def test_valid_document_parses_and_keeps_unknown_fields():
    data = make_document()
    data["run"]["future_field"] = {"x": 1}
    data["results"][0]["extra_metric"] = 7
    document = parse_document(data)
    assert document.run.model_extra == {"future_field": {"x": 1}}
    assert document.results[0].model_extra == {"extra_metric": 7}
    assert document.to_json()["run"]["future_field"] == {"x": 1}


@pytest.mark.parametrize(
    ("mutate", "field", "hint"),
    [
        (lambda d: d["run"]["commit"].pop("sha"), "run.commit.sha", "required"),
        (lambda d: d["run"]["commit"].update(sha="xyz"), "run.commit.sha", "pattern"),
        (lambda d: d["run"]["commit"].update(authored_at="2026-01-01T00:00:00"), "run.commit.authored_at", "timezone"),
        (lambda d: d["run"]["environment"].pop("device_kind"), "run.environment.device_kind", "required"),
        (lambda d: d["results"][1].update(samples=[0.1, "0.2"]), "results[1].samples[1]", "number"),
        (lambda d: d["results"][0].update(samples=[0.1, -0.2]), "results[0].samples", "between 1e-09 and 1e+12"),
        (lambda d: d["results"][0].update(samples=[0.1, 0.0]), "results[0].samples", "between 1e-09 and 1e+12"),
        (lambda d: d["results"][0].update(samples=None), "results[0]", "samples are required"),
        (lambda d: d["results"][0].pop("unit"), "results[0]", "unit is required"),
        (lambda d: d["results"][0].update(status="great"), "results[0].status", "'ok'"),
        (lambda d: d["results"][0].update(params=[1, 2]), "results[0].params", "object"),
        (lambda d: d["results"][2].update(case=d["results"][0]["case"]), "results[2].case", "appears twice"),
        (lambda d: d["run"].update(id="not-a-uuid"), "run.id", "UUID"),
        (lambda d: d["run"].update(trigger="cron"), "run.trigger", "push"),
        (lambda d: d["results"][0]["correctness"].pop("passed"), "results[0].correctness.passed", "required"),
    ],
)
def test_bad_field_is_named(mutate, field, hint):
    data = make_document()
    mutate(data)
    message = _error(data)
    assert field in message, message
    assert hint.lower() in message.lower(), message
    assert "nothing of it was stored" in message


def test_unknown_schema_version_is_rejected():
    data = make_document()
    data["schema"] = "perfci.results/2"
    assert "schema" in _error(data) and "perfci.results/2" in _error(data)


def test_non_finite_samples_are_rejected_in_text():
    text = json.dumps(make_document()).replace("0.1", "NaN", 1)
    with pytest.raises(DocumentError, match="NaN"):
        parse_documents_text(text, "doc.json")
    data = make_document()
    data["results"][0]["samples"][0] = float("inf")
    assert "finite" in _error(data)


def test_malformed_json_and_oversize():
    with pytest.raises(DocumentError, match="malformed JSON"):
        parse_documents_text('{"schema": "perfci.results/1", ', "doc.json")
    with pytest.raises(DocumentError, match="empty file"):
        parse_documents_text("  ", "doc.json")
    with pytest.raises(DocumentError, match="byte limit"):
        parse_documents_text(b" " * (MAX_DOCUMENT_BYTES + 1), "big.json")


def test_array_and_json_lines_forms():
    docs = [make_document(commit_index=i) for i in range(3)]
    assert len(parse_documents_text(json.dumps(docs), "a.json")) == 3
    lines = "\n".join(json.dumps(d) for d in docs)
    assert len(parse_documents_text(lines, "a.jsonl")) == 3
    broken = lines + "\n{broken"
    with pytest.raises(DocumentError, match="line 4"):
        parse_documents_text(broken, "a.jsonl")


def test_run_id_is_client_id_or_content_derived():
    data = make_document(run_id="6f1c3a52-0d4e-4b8e-9a0f-2f4c1e0b7d11")
    assert parse_document(data).run_id() == uuid.UUID("6f1c3a52-0d4e-4b8e-9a0f-2f4c1e0b7d11")
    anonymous = make_document()
    anonymous["run"].pop("id")
    same = copy.deepcopy(anonymous)
    assert parse_document(anonymous).run_id() == parse_document(same).run_id()
    same["results"][0]["samples"][0] *= 2
    assert parse_document(anonymous).run_id() != parse_document(same).run_id()


def test_failed_results_need_no_samples():
    data = make_document(cases=1)
    data["results"][0].update(status="failed", error="illegal memory access", samples=None, unit=None)
    data["results"][0].pop("samples")
    assert parse_document(data).results[0].status == "failed"
