"""Pipeline submission: what is refused before anything is stored or queued."""

from __future__ import annotations

import pytest

from shared.config import ConfigError
from shared.jobs.pipelines import MULTI_HOOK_REFUSED, submit_pipeline, submit_sweep

TWO_HOOKS = {"model": "gpt2", "hook": ["blocks.1.hook_resid_pre", "blocks.2.hook_resid_pre"], "corpus": "c"}
SWEEP = {"name": "s", "saes": [{"name": "a", "architecture": "relu", "d_sae": 64}]}


@pytest.mark.parametrize(
    "submit",
    [lambda: submit_pipeline(TWO_HOOKS), lambda: submit_sweep(SWEEP, collect=TWO_HOOKS)],
    ids=["pipeline", "sweep"],
)
def test_a_pipeline_collecting_several_hooks_is_refused_with_the_way_to_do_it(submit) -> None:  # noqa: ANN001
    with pytest.raises(ConfigError) as refused:
        submit()
    assert str(refused.value) == MULTI_HOOK_REFUSED
    assert "saelab collect --hook A --hook B" in MULTI_HOOK_REFUSED
