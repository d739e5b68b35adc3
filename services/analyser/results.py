"""The ``<run>/results/`` export: one file per kind of record, replaced as a whole on every analysis.

Files (UTF-8; JSON Lines = one JSON object per line, in a stable order):

==================== ======================================================================================
``summary.json``     one :class:`shared.features.RunSummary` (``format`` = ``saelab-results/1``)
``features.jsonl``   one :class:`shared.features.FeatureRecord` per feature, by index (dead ones included);
                     histograms, logit lens, decoder and co-activation neighbours and labels live here
``examples.jsonl``   :class:`shared.features.ExampleRecord` rows, by (feature, kind top before quantile, bin, rank)
``token_index.jsonl`` one :class:`shared.features.TokenIndexRecord` per token id that occurs, by token id
==================== ======================================================================================

A new analysis is written into a hidden sibling directory and swapped in with renames, so readers never see a
half-written results directory and re-running never mixes or duplicates rows.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from shared.db.repositories.analysis import AnalysisCounts, replace_run_analysis
from shared.features import RESULTS_FORMAT, ExampleRecord, FeatureRecord, RunSummary, TokenIndexRecord
from shared.jsonfile import read_json

log = logging.getLogger(__name__)

RESULTS_DIR = "results"
FILES = {
    "summary": "summary.json",
    "features": "features.jsonl",
    "examples": "examples.jsonl",
    "token_index": "token_index.jsonl",
}

R = TypeVar("R", bound=BaseModel)


class ResultsError(ValueError):
    """A results directory is missing, from another format version, or has a malformed row."""


class Results(NamedTuple):
    """Everything one analysis wrote."""

    summary: RunSummary
    features: list[FeatureRecord]
    examples: list[ExampleRecord]
    token_index: list[TokenIndexRecord]


def _write_jsonl(path: Path, records: Iterable[BaseModel | dict[str, Any]]) -> int:
    """One JSON document per line. Plain rows (the ~100k+ examples) go through orjson: the stdlib encoder spent
    2.7 s of a 43 s analysis on them; NaN / inf, which no row should hold, are refused rather than written."""
    n = 0
    with path.open("wb") as fh:
        for record in records:
            if isinstance(record, BaseModel):
                fh.write(record.model_dump_json().encode())
            else:
                _check_finite(record)
                fh.write(orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY))
            fh.write(b"\n")
            n += 1
        fh.flush()
        os.fsync(fh.fileno())
    return n


def _check_finite(row: dict[str, Any]) -> None:
    """orjson writes NaN / inf as null; a row carrying one is a bug upstream, so fail loudly instead."""
    for key, value in row.items():
        if isinstance(value, float):
            bad = not math.isfinite(value)
        elif isinstance(value, list) and value and isinstance(value[0], float):
            bad = not math.isfinite(sum(value))  # NaN or inf anywhere makes the sum so (values are O(1..1e3))
        else:
            continue
        if bad:
            raise ValueError(f"results row {key}={value!r}: not a finite number")


def write_results(
    run_dir: str | Path,
    summary: RunSummary,
    features: Iterable[FeatureRecord],
    examples: Iterable[ExampleRecord | dict[str, Any]],
    token_index: Iterable[TokenIndexRecord],
) -> Path:
    """Write one analysis to ``<run_dir>/results``, replacing any previous results; return that directory.

    ``examples`` may be plain dicts with exactly an ExampleRecord's fields (the analysis builds them that way: they
    are the bulk of the results and validating each dominated the build time); loading validates every row."""
    run_dir = Path(run_dir)
    final = run_dir / RESULTS_DIR
    tmp = run_dir / f".{RESULTS_DIR}-tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        summary = summary.model_copy(update={"files": dict(FILES)})
        (tmp / FILES["summary"]).write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
        by_index: list[FeatureRecord] = sorted(features, key=_feature_index)
        by_token: list[TokenIndexRecord] = sorted(token_index, key=_token_id)
        n_features = _write_jsonl(tmp / FILES["features"], by_index)
        n_examples = _write_jsonl(tmp / FILES["examples"], examples)
        _write_jsonl(tmp / FILES["token_index"], by_token)
        _swap_in(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote %d features, %d examples to %s", n_features, n_examples, final)
    return final


def _feature_index(record: FeatureRecord) -> int:
    return record.index


def _token_id(record: TokenIndexRecord) -> int:
    return record.token_id


def _swap_in(tmp: Path, final: Path) -> None:
    """Move ``tmp`` to ``final``; an existing ``final`` is moved aside first and deleted after."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}-old-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old)


def _read_jsonl(path: Path, model: type[R]) -> list[R]:
    if not path.is_file():
        raise ResultsError(f"{path}: missing")
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(model.model_validate_json(line))
            except ValidationError as err:
                raise ResultsError(f"{path}:{lineno}: not a valid {model.__name__}: {err}") from None
    return rows


def load_summary(results_dir: str | Path) -> RunSummary:
    """Read ``summary.json`` and check the format tag."""
    path = Path(results_dir) / FILES["summary"]
    data = read_json(path, ResultsError, f"{path}: missing (run `saelab analyse` first)")
    if data.get("format") != RESULTS_FORMAT:
        raise ResultsError(f"{path}: format {data.get('format')!r}, expected {RESULTS_FORMAT!r}")
    try:
        return RunSummary.model_validate(data)
    except ValidationError as err:
        raise ResultsError(f"{path}: not a valid RunSummary: {err}") from None


def load_results(results_dir: str | Path) -> Results:
    """Read a results directory written by :func:`write_results` (a run dir works too)."""
    results_dir = Path(results_dir)
    if not (results_dir / FILES["summary"]).exists() and (results_dir / RESULTS_DIR).is_dir():
        results_dir = results_dir / RESULTS_DIR
    return Results(
        summary=load_summary(results_dir),
        features=_read_jsonl(results_dir / FILES["features"], FeatureRecord),
        examples=_read_jsonl(results_dir / FILES["examples"], ExampleRecord),
        token_index=_read_jsonl(results_dir / FILES["token_index"], TokenIndexRecord),
    )


def index_results(session: Session, run_id: str, results_dir: str | Path) -> AnalysisCounts:
    """Replace every analysis row of ``run_id`` with the results in ``results_dir`` (read as ``load_results``)."""
    results = load_results(results_dir)
    return replace_run_analysis(
        session,
        run_id,
        features=results.features,
        examples=results.examples,
        token_index=results.token_index,
        summary=results.summary,
    )
