"""Analysis on a real pretrained LM (SmolLM2-135M) over real TinyStories text: activations, brief training, analysis.

The model is loaded once and reused for the activations and the analysis (GGUF loading dominates the runtime);
the collector's own tests cover ``collect``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from support.activations import write_resid_set

from services.analyser.analyse import analyse_run
from services.analyser.results import load_results
from services.trainer.run import train
from shared.config import AnalyseConfig, TrainConfig
from shared.lm import load_lm

HOOK, LAYER, T, N_CTX = "blocks.3.hook_resid_pre", 3, 64, 96


@pytest.mark.slow
def test_smollm2_tinystories_features_share_tokens(
    tmp_path: Path, smollm2_gguf: Path, small_corpus: Path
) -> None:
    lm = load_lm(str(smollm2_gguf))
    ids = lm.tokenizer(small_corpus.read_text()[:200_000])["input_ids"]
    body = np.array(ids[: N_CTX * (T - 1)], dtype=np.int64).reshape(N_CTX, T - 1)
    tokens = np.concatenate([np.full((N_CTX, 1), lm.bos_token_id), body], axis=1)
    acts = torch.cat(
        [lm.activations(torch.from_numpy(tokens[i : i + 16]), HOOK) for i in range(0, N_CTX, 16)]
    )
    data = tmp_path / "acts"
    write_resid_set(
        data,
        acts.float().numpy(),
        tokens,
        32,
        model=str(smollm2_gguf),
        layer=LAYER,
        bos_token_id=lm.bos_token_id,
        corpus=str(small_corpus),
    )
    run = train(
        TrainConfig(
            activations=str(data),
            output=str(tmp_path / "run"),
            architecture="topk",
            d_sae=256,
            k=8,
            lr=1e-3,
            batch_size=256,
            n_steps=150,
            eval_fraction=0.0,
            device="cpu",
        )
    )
    out = analyse_run(AnalyseConfig(run=str(run), batch_tokens=1024, device="cpu"), lm=lm)
    summary, features, examples, token_index = load_results(out)

    assert summary.d_sae == len(features) == 256
    # BOS positions and the trainer's massive-norm tokens (attention sinks) are left out, as in training
    threshold = json.loads((run / "cfg.json").read_text())["saelab"]["norm_threshold"]
    kept = acts[:, 1:].float().norm(dim=-1) <= threshold
    assert 0 < int((~kept).sum()) < 0.01 * kept.numel()  # SmolLM2 has a few sinks beyond BOS
    assert summary.n_tokens == int(kept.sum())
    assert summary.n_alive > 0 and token_index
    shared_centre = []
    for f in features:
        tops = [e for e in examples if e.feature == f.index and e.kind == "top"]
        if len(tops) >= 5:
            token, n = Counter(e.token_ids[e.max_position] for e in tops).most_common(1)[0]
            if n == len(tops):
                shared_centre.append((f.index, token))
    assert shared_centre, "no feature's top examples share their centre token"
    graded = [f for f in features if f.grade is not None]
    assert graded and all(f.label for f in graded)
    assert any(f.top_logits for f in features)
