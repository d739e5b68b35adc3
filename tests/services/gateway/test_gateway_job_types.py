"""The GraphQL job enums mirror the job system's: the API spells members in upper case, the values are shared."""

from __future__ import annotations

from services.gateway.job_types import JobKind, JobStatus
from shared.db import models as m


def test_every_stored_status_has_a_graphql_status_with_the_same_value_and_terminality() -> None:
    assert {s.value for s in JobStatus} == {s.value for s in m.JobStatus}
    for status in m.JobStatus:
        assert JobStatus(status.value).terminal is status.terminal, status
    assert {s.name for s in JobStatus if s.terminal} == {"SUCCEEDED", "FAILED", "CANCELLED"}


def test_every_stored_job_kind_has_a_graphql_kind_and_only_pipelines_are_derived() -> None:
    # a pipeline is shown as a job of kind PIPELINE made from its stages: no stored job has that kind
    assert {k.value for k in JobKind} - {k.value for k in m.JobKind} == {JobKind.PIPELINE.value}
    assert {k.value for k in m.JobKind} <= {k.value for k in JobKind}
