"""The ``perfci.results/1`` document: the one validated shape every result enters the store by.

A local run, a remote runner's POST and a file import all parse through :func:`parse_document`,
so a field is checked in exactly one place. Unknown fields are kept (``extra="allow"``) for
forward compatibility, never required.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import statistics
import uuid
from array import array
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

SCHEMA_ID = "perfci.results/1"
#: Largest document accepted, in bytes of JSON. A full nightly grid is ~2 MB; this leaves room.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
#: Largest number of results in one document.
MAX_RESULTS = 100_000

Sha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$", to_lower=True)]
ShortText = Annotated[str, StringConstraints(max_length=512)]
LongText = Annotated[str, StringConstraints(max_length=65_536)]
CaseId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_./:+=,-]+$")]

ResultStatus = Literal["ok", "incorrect", "failed", "timeout", "skipped"]
Trigger = Literal["push", "pr", "nightly", "manual", "bisect", "calibration"]
#: runs whose results never enter a branch's history (its judge, trend, latest runs, what a re-run
#: skips as stored): a pull request's are judged against its merge-base, a bisect's measure commits
#: for its search and are stored unjudged
OFF_HISTORY_TRIGGERS: tuple[str, ...] = ("pr", "bisect")
DeviceKind = Literal["cuda", "interpreter", "cpu"]
RunStatus = Literal["complete", "aborted"]


#: a timing outside this range (in the result's unit) is a unit or encoding mistake, never a kernel;
#: bounding samples also bounds every sum, ratio and change perfci computes from them
SAMPLE_RANGE = (1e-9, 1e12)
#: JSON nested deeper than this (in extras, params, configs) is refused with the path named
MAX_NESTING = 64


def _finite_positive(samples: list[float]) -> list[float]:
    low, high = SAMPLE_RANGE
    for index, value in enumerate(samples):
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(
                f"sample [{index}] is {value!r}; every sample must be a finite time between {low:g} "
                f"and {high:g} in the result's unit"
            )
    return samples


def _utc_representable(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is outside years 1-9999 once converted to UTC") from None
    return value


Timestamp = Annotated[AwareDatetime, AfterValidator(_utc_representable)]


Samples = Annotated[list[float], Field(min_length=1, max_length=1_000_000), AfterValidator(_finite_positive)]


class _Open(BaseModel):
    """Base: keeps unknown fields, rejects wrong types of known ones (no silent coercion)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=False, allow_inf_nan=False)


class Commit(_Open):
    sha: Sha
    parents: list[Sha] = Field(max_length=64)
    branch: ShortText | None = None
    authored_at: Timestamp
    author: ShortText | None = None
    message: LongText | None = None


class Environment(_Open):
    device_kind: DeviceKind
    device_name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    driver: ShortText | None = None
    cuda: ShortText | None = None
    torch: ShortText | None = None
    triton: ShortText | None = None
    python: ShortText | None = None
    hostname: ShortText | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Baseline(_Open):
    """What a run is judged against instead of its branch's history: a commit (a PR's merge-base
    with its target branch, a pinned tag or commit) or a marked run."""

    commit: Sha | None = None
    run: uuid.UUID | None = None
    reason: ShortText | None = None

    @model_validator(mode="after")
    def _one_anchor(self) -> Baseline:
        if (self.commit is None) == (self.run is None):
            raise ValueError("give exactly one of baseline.commit (40 hex) or baseline.run (a run id)")
        return self


class Run(_Open):
    id: uuid.UUID | None = None
    repo: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    commit: Commit
    trigger: Trigger = "manual"
    status: RunStatus = "complete"
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    environment: Environment
    baseline: Baseline | None = None


class Correctness(_Open):
    rel_err: float | None = None
    max_abs_err: float | None = None
    tolerance: float | None = None
    passed: bool


class Process(_Open):
    """One worker process of a result: its own samples, and what it ran with (the config every
    autotuned kernel chose in it, its telemetry). Processes are the unit of evidence."""

    samples: Samples
    config: dict[str, Any] = Field(default_factory=dict)
    autotune: dict[str, dict[str, Any]] = Field(default_factory=dict)
    telemetry: dict[str, Any] = Field(default_factory=dict)


class Result(_Open):
    case: CaseId
    op: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    params: dict[str, Any]
    status: ResultStatus
    error: LongText | None = None
    unit: Literal["ms", "us", "s"] | None = None
    samples: Samples | None = None
    correctness: Correctness | None = None
    metrics: dict[str, float | None] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    telemetry: dict[str, Any] = Field(default_factory=dict)
    processes: list[Process] | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _samples_when_measured(self) -> Result:
        if self.status in ("ok", "incorrect") and not self.samples:
            raise ValueError(f"samples are required when status is {self.status!r}")
        if self.samples and self.unit is None:
            raise ValueError("unit is required when samples are given")
        if self.processes is not None:
            counted = sum(len(process.samples) for process in self.processes)
            if counted != len(self.samples or []):
                raise ValueError(
                    f"processes hold {counted} samples but samples has {len(self.samples or [])}; "
                    "samples must be every process's samples together"
                )
        return self

    def process_values(self) -> list[float] | None:
        """One value per process (its median); None without samples."""
        if not self.samples:
            return None
        groups = [p.samples for p in self.processes] if self.processes else [self.samples]
        return [float(statistics.median(group)) for group in groups]


class TriageChange(_Open):
    status: Literal["open", "acknowledged", "expected", "invalid", "fixed"]
    note: LongText | None = None
    author: ShortText | None = None
    at: Timestamp


class RecordedRegression(_Open):
    """A finding a store recorded at the run's commit, with its triage: ``perfci export`` writes
    them, ``perfci import`` restores them (a POST ignores them: triage is not a runner's to set)."""

    case: CaseId
    kind: Literal["latency", "correctness", "missing", "improvement", "suspected"]
    baseline_commit: Sha | None = None
    change: float | None = None
    verdict: dict[str, Any] = Field(default_factory=dict)
    status: Literal["open", "acknowledged", "expected", "invalid", "fixed"] = "open"
    note: LongText | None = None
    author: ShortText | None = None
    created_at: Timestamp
    updated_at: Timestamp
    history: list[TriageChange] = Field(default_factory=list, max_length=10_000)


class ResultsDocument(_Open):
    schema_: Literal["perfci.results/1"] = Field(alias="schema")
    run: Run
    results: list[Result] = Field(max_length=MAX_RESULTS)
    #: written by ``perfci export`` on one run per (repository, environment, commit): every finding
    #: recorded there, so an import restores the store's judgement and triage, not a re-judgement
    regressions: list[RecordedRegression] | None = Field(default=None, max_length=MAX_RESULTS * 5)

    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)

    @model_validator(mode="after")
    def _unique_cases(self) -> ResultsDocument:
        seen: set[str] = set()
        for index, result in enumerate(self.results):
            if result.case in seen:
                raise ValueError(f"results[{index}].case {result.case!r} appears twice in one run")
            seen.add(result.case)
        return self

    def run_id(self) -> uuid.UUID:
        """The client's id, else one derived from the content, so re-importing a file is idempotent."""
        if self.run.id is not None:
            return self.run.id
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return uuid.uuid5(uuid.NAMESPACE_URL, "perfci:" + hashlib.sha256(canonical.encode()).hexdigest())

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def content_digest(self) -> str:
        """SHA-256 of the content: a re-sent run id with this digest is the same run (idempotent),
        with another it is a conflict. Samples are hashed as packed doubles, never as JSON text."""
        skeleton = self.model_dump_json(by_alias=True, exclude_none=True, exclude=_SAMPLE_FIELDS)
        digest = hashlib.sha256(skeleton.encode())
        for result in self.results:
            groups = [p.samples for p in result.processes] if result.processes else [result.samples or []]
            for group in groups:
                digest.update(array("d", group).tobytes())
                digest.update(b"|")
        return digest.hexdigest()


#: left out of the content digest: samples (hashed as doubles) and the exporting store's triage
_SAMPLE_FIELDS: Any = {
    "regressions": True,
    "results": {"__all__": {"samples": True, "processes": {"__all__": {"samples"}}}},
}


class DocumentError(ValueError):
    """A document failed validation; ``str()`` names every offending field and what to do."""


class MalformedJson(DocumentError):
    """The text is not JSON perfci can read (a 400, where an invalid document is a 422)."""


def _format_location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"{source}: not a valid {SCHEMA_ID} document (nothing of it was stored):"]
    for item in error.errors(include_url=False)[:20]:
        # Skip pydantic's internal step names ("function-after[...]") from the location.
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and "[" in p and "]" in p))
        lines.append(f"  - {_format_location(loc)}: {item['msg']}")
    if error.error_count() > 20:
        lines.append(f"  ... and {error.error_count() - 20} more problems")
    lines.append(f"  Fix the named fields (see the {SCHEMA_ID} format in the README) and import again.")
    return "\n".join(lines)


def unstorable_part(value: Any) -> str | None:
    """What no store can keep, with its path: a key or string holding a NUL byte (PostgreSQL cannot
    store NUL in text, so both stores refuse it at the door instead of differing), or nesting deeper
    than MAX_NESTING. None when the value is fine. Paths are built only for containers."""
    stack: list[tuple[str, Any, int]] = [("", value, 0)]
    while stack:
        where, item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return f"{where or '(value)'}: contains a NUL byte (\\u0000); remove it"
        elif isinstance(item, dict | list):
            if depth >= MAX_NESTING:
                where = where if len(where) <= 80 else where[:80] + "..."
                return f"{where or '(value)'}: nested more than {MAX_NESTING} levels deep; flatten it"
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str) and "\x00" in key:
                    return f"{where}.{key!r}: a key contains a NUL byte (\\u0000); remove it"
                if isinstance(child, str | dict | list):
                    path = f"{where}[{key}]" if isinstance(item, list) else (f"{where}.{key}" if where else str(key))
                    stack.append((path, child, depth + 1))
    return None


_JSON_STRUCTURE = re.compile(r'[\[\]{}"\\]')
_JSON_STRUCTURE_BYTES = re.compile(rb'[\[\]{}"\\]')


def json_depth(text: str | bytes) -> int:
    """How deeply the JSON text nests arrays and objects, without decoding it: only brackets,
    quotes and backslashes are visited, so a body of a million numbers costs almost nothing."""
    pattern: Any = _JSON_STRUCTURE_BYTES if isinstance(text, bytes) else _JSON_STRUCTURE
    depth = deepest = 0
    in_string = escaped = False
    last = -2
    for match in pattern.finditer(text):
        at = match.start()
        char = chr(text[at]) if isinstance(text, bytes) else text[at]
        if escaped and at == last + 1:
            escaped = False
            last = at
            continue
        escaped = False
        if char == "\\":
            escaped = in_string
        elif char == '"':
            in_string = not in_string
        elif not in_string:
            depth += 1 if char in "[{" else -1
            deepest = max(deepest, depth)
        last = at
    return deepest


def decode_json(text: str | bytes, source: str) -> Any:
    """``json.loads`` for untrusted text, every failure a :class:`MalformedJson` naming the problem:
    bad syntax or UTF-8, NaN/Infinity, numbers too long to convert, nesting past the parser's limit."""
    try:
        return json.loads(text, parse_constant=reject_json_constant)
    except RecursionError:
        raise MalformedJson(f"{source}: JSON nested too deeply to read (keep it under {MAX_NESTING} levels)") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, int too long are ValueErrors
        detail = str(error)
        if "integer string conversion" in detail:
            detail = "a number has more digits than any measurement needs (over 4300)"
        raise MalformedJson(f"{source}: malformed JSON ({detail})") from None


def parse_document(data: Any, source: str = "document") -> ResultsDocument:
    """Validate one decoded JSON value; raise :class:`DocumentError` naming the fields otherwise."""
    if not isinstance(data, dict):
        raise DocumentError(f"{source}: expected a JSON object with a 'schema' field, got {type(data).__name__}")
    schema = data.get("schema")
    if schema != SCHEMA_ID:
        raise DocumentError(
            f"{source}: schema: unknown or missing schema version {schema!r}; this perfci reads {SCHEMA_ID!r}"
        )
    if (problem := unstorable_part(data)) is not None:
        raise DocumentError(f"{source}: {problem} (nothing was stored)")
    try:
        text = json.dumps(data, allow_nan=False)
    except ValueError as error:
        raise DocumentError(f"{source}: {error}; samples and metrics must be finite numbers") from None
    try:
        # JSON-mode strict validation: ISO dates and UUID strings parse, but "0.1" is not a number.
        return ResultsDocument.model_validate_json(text)
    except ValidationError as error:
        raise DocumentError(_describe(error, source)) from None


def parse_valid_document(text: str | bytes) -> ResultsDocument | None:
    """The document when ``text`` is one valid document as it stands, validated straight from the
    JSON (no decoded Python value beside the model: a 1,000,000-sample body costs its model and
    nothing else); None otherwise, and :func:`parse_document` on the decoded value names the problem."""
    if (b"\\u0000" if isinstance(text, bytes) else "\\u0000") in text:
        return None  # NUL escapes: the careful path says which field
    if json_depth(text) > MAX_NESTING:
        return None  # the careful path says where
    try:
        return ResultsDocument.model_validate_json(text)
    except ValidationError:
        return None


def parse_documents_text(text: str | bytes, source: str) -> list[ResultsDocument]:
    """Parse a file's text: one document, a JSON array of documents, or JSON Lines."""
    size = len(text)
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError(
            f"{source}: {size} bytes is over the {MAX_DOCUMENT_BYTES} byte limit; split the run into several documents"
        )
    if (document := parse_valid_document(text)) is not None:
        return [document]
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedJson(f"{source}: not UTF-8 text ({error}); results documents are JSON") from None
    stripped = text.strip()
    if not stripped:
        raise DocumentError(f"{source}: empty file; expected a {SCHEMA_ID} JSON document")
    try:
        value = json.loads(stripped, parse_constant=reject_json_constant)
        values = value if isinstance(value, list) else [value]
        sources = [f"{source}[{i}]" for i in range(len(values))] if isinstance(value, list) else [source]
    except json.JSONDecodeError as first_error:
        lines = [line for line in stripped.splitlines() if line.strip()]
        if len(lines) < 2:
            raise MalformedJson(f"{source}: malformed JSON: {first_error}") from None
        values, sources = [], []
        for number, line in enumerate(stripped.splitlines(), start=1):
            if line.strip():
                values.append(decode_json(line, f"{source}: line {number}"))
                sources.append(f"{source}:{number}")
    except (RecursionError, ValueError):
        decode_json(stripped, source)  # raises, naming the problem
        raise
    return [parse_document(value, src) for value, src in zip(values, sources, strict=True)]


def reject_json_constant(name: str) -> Any:
    """``parse_constant`` for json.loads: NaN and Infinity are not JSON, and never valid samples."""
    raise json.JSONDecodeError(f"{name} is not valid JSON (samples must be finite numbers)", name, 0)
