"""SQLAlchemy 2.0 typed models. Portable: every column type works on SQLite and PostgreSQL.

A *series* (one trend line) is ``(repository, case, environment)``. Results carry their series id
and a copy of the commit's ``authored_at`` so "history of one series in commit order" is a single
index range scan. Raw samples live in their own table as a little-endian float64 blob: always read
together, 8 bytes a sample, the same bytes on both databases.
"""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The largest row id either store holds: ids are INTEGER columns, 32-bit on PostgreSQL. Ids read
#: from users above it name no row (a 404 / "not stored"), never an overflow in the driver.
MAX_ID = 2**31 - 1
TRIAGE_STATUSES = ("open", "acknowledged", "expected", "invalid", "fixed")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (SQLite has no time zones), returns aware UTC; rejects naive input."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetime without a UTC offset cannot be stored; give an offset")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


class Repository(Base):
    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(512), unique=True)


class Commit(Base):
    __tablename__ = "commits"
    __table_args__ = (UniqueConstraint("repository_id", "sha", name="uq_commits_repository_sha"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    sha: Mapped[str] = mapped_column(String(40))
    parents: Mapped[list[Any]]
    branch: Mapped[str | None] = mapped_column(String(512))
    authored_at: Mapped[datetime]
    author: Mapped[str | None] = mapped_column(String(512))
    message: Mapped[str | None] = mapped_column(Text)

    repository: Mapped[Repository] = relationship()


class Environment(Base):
    __tablename__ = "environments"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(16), unique=True)
    device_kind: Mapped[str] = mapped_column(String(16))
    device_name: Mapped[str] = mapped_column(String(255))
    driver: Mapped[str | None] = mapped_column(String(512))
    cuda: Mapped[str | None] = mapped_column(String(512))
    torch: Mapped[str | None] = mapped_column(String(512))
    triton: Mapped[str | None] = mapped_column(String(512))
    python: Mapped[str | None] = mapped_column(String(512))

    def fields(self) -> dict[str, str | None]:
        """The fingerprinted fields as plain data (what reports and exports show)."""
        return {
            name: getattr(self, name)
            for name in ("device_kind", "device_name", "driver", "cuda", "torch", "triton", "python")
        }


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    op: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]]


class Series(Base):
    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("repository_id", "case_id", "environment_id", name="uq_series_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)

    case: Mapped[Case] = relationship()
    environment: Mapped[Environment] = relationship()
    repository: Mapped[Repository] = relationship()


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    commit_id: Mapped[int] = mapped_column(ForeignKey("commits.id", ondelete="CASCADE"), index=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)
    hostname: Mapped[str | None] = mapped_column(String(512))
    #: when the run's alerts were queued (in the judging transaction, or after a confirmation)
    alerted_at: Mapped[datetime | None]
    #: what the run meant to measure (its tier, its case patterns: None = the whole tier), and what
    #: it is judged against when pinned; the JSON ``extra`` keeps them too, for export
    suite: Mapped[str | None] = mapped_column(String(64))
    selection: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    baseline_commit: Mapped[str | None] = mapped_column(String(40))
    baseline_run: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: SHA-256 of the document's content (``ResultsDocument.content_digest``): re-sending the run id
    #: with other content is a conflict; NULL for runs stored before digests
    digest: Mapped[str | None] = mapped_column(String(64))
    #: Unknown fields of the document, by level ("document", "run", "commit", "environment"),
    #: plus the environment's free-form ``extra``; kept so export returns what was imported.
    extra: Mapped[dict[str, Any]]

    commit: Mapped[Commit] = relationship()
    environment: Mapped[Environment] = relationship()
    repository: Mapped[Repository] = relationship()


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (
        UniqueConstraint("run_id", "case_id", name="uq_results_run_case"),
        Index("ix_results_series_history", "series_id", "authored_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    commit_id: Mapped[int] = mapped_column(ForeignKey("commits.id", ondelete="CASCADE"), index=True)
    #: Copy of ``commits.authored_at``: orders a series' history inside the index.
    authored_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(8))
    n_samples: Mapped[int] = mapped_column(Integer, default=0)
    median: Mapped[float | None] = mapped_column(Float)
    mean: Mapped[float | None] = mapped_column(Float)
    minimum: Mapped[float | None] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    q1: Mapped[float | None] = mapped_column(Float)
    q3: Mapped[float | None] = mapped_column(Float)
    stdev: Mapped[float | None] = mapped_column(Float)
    rel_err: Mapped[float | None] = mapped_column(Float)
    max_abs_err: Mapped[float | None] = mapped_column(Float)
    tolerance: Mapped[float | None] = mapped_column(Float)
    correct: Mapped[bool | None] = mapped_column(Boolean)
    #: how it was timed ("events", "graph", "kernels", "wall-clock"; "" when the document names none):
    #: history is compared only within one mode
    timing_mode: Mapped[str] = mapped_column(String(16), default="", server_default="")
    metrics: Mapped[dict[str, Any]]
    config: Mapped[dict[str, Any]]
    telemetry: Mapped[dict[str, Any]]
    #: The result's unknown fields plus the correctness block's, kept for export.
    extra: Mapped[dict[str, Any]]
    #: One value (the median) per worker process; None for a one-process result stored before (its median).
    process_values: Mapped[list[Any] | None]
    #: What the judge said of this result when it was stored: kind, reason, change, threshold, ...
    judgement: Mapped[dict[str, Any] | None]

    run: Mapped[Run] = relationship()
    case: Mapped[Case] = relationship()
    series: Mapped[Series] = relationship()


class Samples(Base):
    __tablename__ = "samples"

    result_id: Mapped[int] = mapped_column(ForeignKey("results.id", ondelete="CASCADE"), primary_key=True)
    #: Little-endian IEEE-754 float64, ``n_samples`` of them, in measurement order.
    values: Mapped[bytes] = mapped_column(LargeBinary)

    @staticmethod
    def pack(samples: list[float]) -> bytes:
        return struct.pack(f"<{len(samples)}d", *samples)

    @staticmethod
    def unpack(blob: bytes) -> list[float]:
        return list(struct.unpack(f"<{len(blob) // 8}d", blob))


class Regression(Base):
    __tablename__ = "regressions"
    __table_args__ = (
        UniqueConstraint("series_id", "commit_id", "kind", name="uq_regressions_series_commit_kind"),
        Index("ix_regressions_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    commit_id: Mapped[int] = mapped_column(ForeignKey("commits.id", ondelete="CASCADE"), index=True)
    baseline_commit_id: Mapped[int | None] = mapped_column(ForeignKey("commits.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    #: Relative change of the typical time: +0.05 = 5% slower. Negative values are improvements.
    change: Mapped[float | None] = mapped_column(Float)
    #: Verdict data: p-value, confidence interval, threshold, minimum detectable change, detector.
    verdict: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="open")
    note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    series: Mapped[Series] = relationship()
    commit: Mapped[Commit] = relationship(foreign_keys=[commit_id])
    baseline_commit: Mapped[Commit | None] = relationship(foreign_keys=[baseline_commit_id])


class TriageEvent(Base):
    """Every triage change of a regression, oldest first: who moved it where, when and why."""

    __tablename__ = "triage_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    regression_id: Mapped[int] = mapped_column(ForeignKey("regressions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertDelivery(Base):
    """One webhook delivery of one run's findings, with its payload, so a failed one can be re-sent."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_uuid: Mapped[uuid.UUID] = mapped_column(Uuid)
    webhook: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    #: "pending" (queued; due at ``next_attempt_at``), "sending" (claimed by a sender since
    #: ``updated_at``), "sent", or "failed" (out of attempts; listed by `perfci alerts`, re-queued by --retry)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None]


class WebSession(Base):
    """A browser's sign-in, kept server-side: the cookie holds a secret whose SHA-256 is ``id``, so
    sign-out (``ended_at``) and removing the token from the config end it whatever the cookie says."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(80))
    writer: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


JOB_KINDS = ("run", "compare", "bisect")
JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(Base):
    """A perfci command queued for the worker pool (``perfci submit``): what to run where, and what
    became of it. A worker claims it by a conditional update and beats ``heartbeat_at`` while it
    runs, so a job whose worker died can be claimed again and one that finished is never re-run."""

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    repository: Mapped[str] = mapped_column(Text)
    args: Mapped[list[Any]]
    queue: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    worker: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(default=0)
    exit_code: Mapped[int | None]
    output: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]
    queued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
