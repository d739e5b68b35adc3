"""SQLAlchemy 2 models: datasets, runs, pipelines, jobs, metrics and the analysed features of a run.

The schema is owned by the Alembic migrations in ``migrations/``; these classes describe it for queries, and a
test checks that the two agree. Ids are 32-character hex strings; timestamps are stored as UTC. Feature rows of a
run are keyed by ``(run_id, feature_index)`` so a run's analysis is replaced in bulk without touching other runs.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A fresh 32-hex-character id."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (comparable as text on SQLite), returns timezone-aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware UTC time")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class JobStatus(str, enum.Enum):
    """Lifecycle of a job: queued -> running -> succeeded | failed | cancelled (running -> queued on retry)."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled)


class JobKind(str, enum.Enum):
    """What a job does; each kind is one Celery task (``saelab.<kind>``)."""

    collect = "collect"
    train = "train"
    evaluate = "evaluate"
    analyse = "analyse"
    import_sae = "import"
    sweep = "sweep"
    explain = "explain"


class ArtifactStatus(str, enum.Enum):
    """State of a dataset's or run's artifacts in the store."""

    pending = "pending"
    ready = "ready"
    failed = "failed"


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (needed by Alembic's SQLite batch mode)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime}


# --------------------------------------------------------------------------------------------------------------
# Datasets, runs, pipelines, jobs, metrics
# --------------------------------------------------------------------------------------------------------------


class Dataset(Base):
    """An activation set: its collect config, its meta.json once collected, its key prefix in the store."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=ArtifactStatus.pending.value)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    meta: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    model: Mapped[str] = mapped_column(String(500), default="")
    hook: Mapped[str] = mapped_column(String(100), default="")
    d_in: Mapped[int | None] = mapped_column(Integer, default=None)
    n_tokens: Mapped[int | None] = mapped_column(Integer, default=None)
    store_prefix: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(default=None)


class Run(Base):
    """An SAE training run: configs of its stages, eval card, analysis summary, key prefix in the store."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=ArtifactStatus.pending.value)
    architecture: Mapped[str] = mapped_column(String(32), default="")
    d_sae: Mapped[int | None] = mapped_column(Integer, default=None)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evaluate_config: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    analyse_config: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    eval: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    summary: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    store_prefix: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    trained_at: Mapped[datetime | None] = mapped_column(default=None)
    evaluated_at: Mapped[datetime | None] = mapped_column(default=None)
    analysed_at: Mapped[datetime | None] = mapped_column(default=None)


class Pipeline(Base):
    """A chain of stages (e.g. collect -> train -> evaluate -> analyse) over one dataset and one run.

    ``stages`` is the ordered list ``[{"kind": "collect", "config": {...}}, ...]``: the config each stage's task
    runs with (task payloads carry ids only).
    """

    __tablename__ = "pipelines"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    dataset_id: Mapped[str | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), default=None
    )
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    """One execution of one task: status, progress 0..1, heartbeat, attempts, the error when it failed."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_heartbeat", "status", "heartbeat_at"),
        Index("ix_jobs_kind_status", "kind", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.queued.value)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(64), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200), default=None)
    task_id: Mapped[str | None] = mapped_column(String(64), default=None)
    """The Celery task id of the delivery running (or that last ran) the job; None in embedded mode. The reaper
    reports that task lost (Flower shows it failed) when it requeues or fails the job."""
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    pipeline_id: Mapped[str | None] = mapped_column(
        ForeignKey("pipelines.id", ondelete="CASCADE"), index=True, default=None
    )
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), default=None)
    dataset_id: Mapped[str | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True, default=None
    )
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), index=True, default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Metric(Base):
    """One logged training metric value; (run, step, name) is unique so a resumed run never duplicates."""

    __tablename__ = "metrics"
    __table_args__ = (
        UniqueConstraint("run_id", "step", "name"),
        Index("ix_metrics_run_name_step", "run_id", "name", "step"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)


# --------------------------------------------------------------------------------------------------------------
# Analysis results (shared.features records), keyed by (run_id, feature_index)
# --------------------------------------------------------------------------------------------------------------


class PerFeatureRow:
    """The columns a per-feature table starts with: a row id, the run (its rows go with it), the feature's index."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, sort_order=-1)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), sort_order=-1)
    feature_index: Mapped[int] = mapped_column(Integer, sort_order=-1)


class Feature(PerFeatureRow, Base):
    """One analysed feature: stats, histogram, top tokens, current label; ``search_text`` feeds full-text search."""

    __tablename__ = "features"
    __table_args__ = (
        UniqueConstraint("run_id", "feature_index"),
        # Sort indexes end in the tie-break column so an explorer page is an index-only range scan (migration 0003).
        Index("ix_features_run_density_index", "run_id", "density", "feature_index"),
        Index("ix_features_run_max_activation_index", "run_id", "max_activation", "feature_index"),
        Index("ix_features_run_label_score_index", "run_id", "label_score", "feature_index"),
    )

    n_active: Mapped[int] = mapped_column(Integer, default=0)
    density: Mapped[float] = mapped_column(Float, default=0.0)
    log10_density: Mapped[float | None] = mapped_column(Float, default=None)
    mean_activation: Mapped[float] = mapped_column(Float, default=0.0)
    max_activation: Mapped[float] = mapped_column(Float, default=0.0)
    dead: Mapped[bool] = mapped_column(Boolean, default=False)
    dense: Mapped[bool] = mapped_column(Boolean, default=False)
    histogram: Mapped[dict[str, Any]] = mapped_column(default=dict)
    top_tokens: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    label: Mapped[str | None] = mapped_column(Text, default=None)
    label_source: Mapped[str] = mapped_column(String(16), default="auto")
    label_description: Mapped[str | None] = mapped_column(Text, default=None)
    label_score: Mapped[float | None] = mapped_column(Float, default=None)
    grade: Mapped[str | None] = mapped_column(String(8), default=None)
    search_text: Mapped[str] = mapped_column(Text, default="")
    map_x: Mapped[float | None] = mapped_column(Float, default=None)
    map_y: Mapped[float | None] = mapped_column(Float, default=None)


class FeatureExample(PerFeatureRow, Base):
    """A context window around one activation of a feature (top example or quantile sample)."""

    __tablename__ = "feature_examples"
    __table_args__ = (Index("ix_feature_examples_lookup", "run_id", "feature_index", "kind", "rank"),)

    kind: Mapped[str] = mapped_column(String(16))
    bin: Mapped[int | None] = mapped_column(Integer, default=None)
    bin_low: Mapped[float | None] = mapped_column(Float, default=None)
    bin_high: Mapped[float | None] = mapped_column(Float, default=None)
    rank: Mapped[int] = mapped_column(Integer)
    context: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    tokens: Mapped[list[str]] = mapped_column(JSON)
    token_ids: Mapped[list[int]] = mapped_column(JSON)
    activations: Mapped[list[float]] = mapped_column(JSON)
    max_position: Mapped[int] = mapped_column(Integer)
    max_activation: Mapped[float] = mapped_column(Float)


class FeatureNeighbour(PerFeatureRow, Base):
    """A neighbour of a feature: by decoder cosine (``decoder``) or by co-activation Jaccard (``coactivation``)."""

    __tablename__ = "feature_neighbours"
    __table_args__ = (Index("ix_feature_neighbours_lookup", "run_id", "feature_index", "kind", "rank"),)

    kind: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    neighbour_index: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)


class FeatureLogit(PerFeatureRow, Base):
    """A logit-lens token of a feature's decoder direction: ``direction`` top (raised) or bottom (lowered)."""

    __tablename__ = "feature_logits"
    __table_args__ = (
        Index("ix_feature_logits_lookup", "run_id", "feature_index", "direction", "rank"),
        Index("ix_feature_logits_token", "run_id", "token"),
    )

    direction: Mapped[str] = mapped_column(String(8))
    rank: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)


class FeatureLabel(PerFeatureRow, Base):
    """Label history of a feature: every auto label and human relabel; the newest human label wins."""

    __tablename__ = "feature_labels"
    __table_args__ = (Index("ix_feature_labels_lookup", "run_id", "feature_index", "created_at"),)

    source: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    grade: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeatureExplanation(Base):
    """One explanation of a feature: its text, the method and model that made it, its named scores and sample.

    ``author`` is ``analyser`` for rows an analysis writes (replaced when the run is re-analysed) or the user who
    wrote it (kept across re-analysis). ``scores`` is a list of ``shared.explanations.Score`` dicts."""

    __tablename__ = "feature_explanations"
    __table_args__ = (Index("ix_feature_explanations_lookup", "run_id", "feature_index", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    feature_index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    method: Mapped[str] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    author: Mapped[str] = mapped_column(String(64))
    scores: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sample_size: Mapped[int | None] = mapped_column(Integer, default=None)
    sample_unit: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TokenFeatureRow(Base):
    """Token index: for a vocabulary token, a feature that responds to it (ranked by mean activation)."""

    __tablename__ = "token_features"
    __table_args__ = (
        Index("ix_token_features_token", "run_id", "token", "rank"),
        Index("ix_token_features_token_id", "run_id", "token_id", "rank"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    token_id: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    feature_index: Mapped[int] = mapped_column(Integer)
    mean_activation: Mapped[float] = mapped_column(Float)
    fire_fraction: Mapped[float] = mapped_column(Float)


# Full-text search: PostgreSQL uses a GIN index on this expression (created by migration 0002, the same text is
# used by queries so the planner picks the index); SQLite uses the FTS5 table ``feature_fts`` kept in sync by
# triggers. Neither is described by the models (see UNMODELLED in migrations/env.py).
PG_SEARCH_DOCUMENT = (
    "setweight(to_tsvector('simple', coalesce(label, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(search_text, '')), 'B')"
)
