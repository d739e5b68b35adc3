"""Issue 17 regressions, each with the exact request the security probe sent: fenced server paths, ..."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gateway_support import TOKEN, TRAIN, GraphQL, Seeded, make_state, use_database

from shared.jobs.contracts import set_local_dispatcher

SUBMIT = "mutation($input: PipelineInput!) { submitPipeline(input: $input) { id datasetId } }"
HOOK = "blocks.1.hook_resid_pre"


class Recorder:
    """Stands in for the in-process worker: records what would run."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, name: str, payload: Any, countdown: float = 0.0) -> None:
        self.sent.append((name, payload.model_dump()))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    set_local_dispatcher(rec)
    yield rec
    set_local_dispatcher(None)


@pytest.fixture
def mutable(fresh: Seeded, monkeypatch: pytest.MonkeyPatch) -> GraphQL:
    use_database(monkeypatch, fresh)
    return GraphQL(make_state(fresh))


def _submit_error(gql: GraphQL, collect: dict[str, Any]) -> Any:
    return gql.error(SUBMIT, {"input": {"collect": collect, "train": TRAIN}}, token=TOKEN)


@pytest.mark.parametrize(
    "collect, field, words",
    [
        (
            {"model": "tiny", "hook": HOOK, "corpus": "/etc"},
            "collect.corpus",
            "outside the allowed data roots",
        ),
        (
            {"model": "tiny", "hook": HOOK, "corpus": "../../etc"},
            "collect.corpus",
            "outside the allowed data roots",
        ),
        ({"model": "/etc", "hook": HOOK}, "collect.model", "outside the allowed data roots"),
        (
            {"model": "tiny", "gguf_file": "../../etc/passwd", "hook": HOOK},
            "collect.gguf_file",
            "not a file name",
        ),
    ],
)
def test_server_paths_outside_the_data_roots_are_refused_at_once(
    mutable: GraphQL, fresh: Seeded, recorder: Recorder, collect: dict[str, Any], field: str, words: str
) -> None:
    err = _submit_error(mutable, collect)
    assert err.extensions == {"code": "BAD_INPUT", "field": field}
    assert words in err.message and field in err.message
    assert recorder.sent == []


def test_gguf_file_escaping_a_model_folder_under_a_root_is_refused(
    mutable: GraphQL, fresh: Seeded, recorder: Recorder
) -> None:
    model = fresh.artifacts / "models" / "m"
    model.mkdir(parents=True)
    err = _submit_error(mutable, {"model": str(model), "gguf_file": "../../../../etc/passwd", "hook": HOOK})
    assert err.extensions == {"code": "BAD_INPUT", "field": "collect.gguf_file"} and "outside" in err.message
    assert str(fresh.artifacts.resolve()) in err.message  # the allowed roots are named
    assert recorder.sent == []


def test_a_missing_path_under_a_root_is_refused_at_submission(
    mutable: GraphQL, fresh: Seeded, recorder: Recorder
) -> None:
    err = _submit_error(mutable, {"model": "tiny", "hook": HOOK, "corpus": str(fresh.artifacts / "no.txt")})
    assert err.extensions == {"code": "BAD_INPUT", "field": "collect.corpus"}
    assert "does not exist" in err.message and "--corpus" not in err.message
    assert recorder.sent == []


def test_a_corpus_under_a_root_is_accepted_resolved(
    mutable: GraphQL, fresh: Seeded, recorder: Recorder
) -> None:
    corpus = fresh.artifacts / "corpus" / "stories.txt"
    corpus.parent.mkdir(parents=True)
    corpus.write_text("once upon a time\n")
    collect = {"model": "tiny", "hook": HOOK, "corpus": str(fresh.artifacts / "corpus" / ".." / "corpus")}
    job = mutable.data(SUBMIT, {"input": {"collect": collect, "train": TRAIN}}, token=TOKEN)["submitPipeline"]
    assert len(recorder.sent) == 1
    q = "query($id: ID!) { dataset(id: $id) { corpus config } }"
    dataset = mutable.data(q, {"id": job["datasetId"]})["dataset"]
    # stored and shown as a reference under the artifacts root, never as the server's absolute path
    assert dataset["corpus"] == "@artifacts/corpus" and dataset["config"]["corpus"] == "@artifacts/corpus"


@pytest.mark.parametrize(
    "section, value, field",
    [  # the probe's values: a 6 GB worker, a step count that holds the only worker, 1e12 tokens, lr Infinity
        ("train", {"batch_size": 1e9}, "train.batch_size"),
        ("train", {"n_steps": 2**63}, "train.n_steps"),
        ("collect", {"n_tokens": 1e12}, "collect.n_tokens"),
        ("train", {"lr": float("inf")}, "train.lr"),
        ("train", {"lr": float("nan")}, "train.lr"),
        ("analyse", {"top_k": 10**9}, "analyse.top_k"),
    ],
)
def test_config_numbers_beyond_a_machine_or_not_finite_are_refused_naming_the_key(
    mutable: GraphQL, recorder: Recorder, section: str, value: dict[str, Any], field: str
) -> None:
    collect = {"model": "tiny", "hook": HOOK, "corpus": "roneneldan/TinyStories"}
    payload: dict[str, Any] = {"collect": collect, "train": TRAIN}
    payload[section] = {**payload.get(section, {}), **value}
    err = mutable.error(SUBMIT, {"input": payload}, token=TOKEN)
    assert err.extensions == {"code": "BAD_INPUT", "field": field}
    assert recorder.sent == []
