"""End-to-end collection on the tiny GPT-2: shard contents, determinism, resume, atomicity, fail-fast errors and
several hooks in one pass."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from pydantic import ValidationError

import services.collector.collect as collect_module
from services.collector.collect import CollectError, collect
from services.collector.corpus import CorpusError, open_corpus
from shared.config import CollectConfig
from shared.lm import HookError, LanguageModel, ModelLoadError
from shared.shards import FORMAT, ActivationSet

MakeConfig = Callable[..., CollectConfig]


class Interrupted(Exception):
    """Stands in for a killed process."""


def _stop_after_first_shard(done: float, total: float, message: str = "") -> None:
    if "written" in message:
        raise Interrupted


def _all(ds: ActivationSet) -> tuple[np.ndarray, np.ndarray]:
    shards = [ds.read_shard(i) for i in range(ds.n_shards)]
    return np.concatenate([a for a, _ in shards]), np.concatenate([t for _, t in shards])


@pytest.fixture
def forward_counter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the contexts the collector runs through the LM."""
    counted: list[int] = []
    original = LanguageModel.activations_at

    def counting(self: LanguageModel, input_ids: torch.Tensor, hooks: list[str]) -> dict[str, torch.Tensor]:
        counted.append(len(input_ids))
        return original(self, input_ids, hooks)

    monkeypatch.setattr(LanguageModel, "activations_at", counting)
    return counted


def test_collect_writes_activations_tokens_and_meta(make_cfg: MakeConfig, small_corpus: Path) -> None:
    cfg = make_cfg()
    calls: list[tuple[float, float]] = []
    ds = ActivationSet.open(
        collect(cfg, progress=lambda d, t, m="": calls.append((d, t))), require_complete=True
    )
    acts, tokens = _all(ds)
    assert (ds.n_shards, ds.n_contexts, ds.n_tokens) == (3, 10, 320)
    assert acts.shape == (10, 32, 64) and tokens.shape == (10, 32)
    assert calls[-1] == (320, 320)

    lm = collect_module.load_lm(cfg.model)
    assert (tokens[:, 0] == lm.bos_token_id).all()
    # The contexts are the seeded document order, tokenised and joined with EOS, cut into 31-token bodies.
    docs = open_corpus(cfg.corpus).documents(cfg.seed)
    stream = [t for d in docs for t in [*lm.tokenizer(d)["input_ids"], lm.eos_token_id]][: 10 * 31]
    assert tokens[:, 1:].reshape(-1).tolist() == stream
    first_doc_text = lm.tokenizer.decode(tokens[0, 1:].tolist()).split("<|endoftext|>")[0]
    assert first_doc_text.strip() in small_corpus.read_text()
    # Activations are the LM's residual stream at the hook for exactly those tokens.
    expected = lm.activations(torch.from_numpy(tokens).long(), cfg.hook).numpy()
    np.testing.assert_allclose(acts, expected, rtol=1e-4, atol=1e-5)

    meta = ds.meta
    assert meta.format == FORMAT and meta.complete and meta.n_tokens == 320
    assert (meta.model, meta.hook, meta.layer, meta.hook_kind) == (cfg.model, cfg.hook, 2, "resid_pre")
    assert (meta.d_in, meta.context_length, meta.dtype, meta.seed) == (64, 32, "float32", 0)
    assert meta.prepend_bos and meta.bos_token_id == lm.bos_token_id
    assert meta.corpus == str(small_corpus) and meta.corpus_fingerprint == open_corpus(cfg.corpus).fingerprint
    with h5py.File(ds.shard_path(2)) as f:
        assert f.attrs["hook"] == cfg.hook and f.attrs["model"] == cfg.model
        assert f["activations"].compression == "lzf" and f["activations"].chunks is not None


def test_resid_post_and_no_bos(make_cfg: MakeConfig) -> None:
    cfg = make_cfg(hook="blocks.1.hook_resid_post", prepend_bos=False, n_tokens=64)
    ds = ActivationSet.open(collect(cfg))
    acts, tokens = _all(ds)
    assert ds.meta.hook_kind == "resid_post" and not ds.meta.prepend_bos
    docs = open_corpus(cfg.corpus).documents(cfg.seed)
    assert tokens[0, :5].tolist() == collect_module.load_lm(cfg.model).tokenizer(next(docs))["input_ids"][:5]
    lm = collect_module.load_lm(cfg.model)
    with torch.no_grad():
        hidden = lm.model(input_ids=torch.from_numpy(tokens).long(), output_hidden_states=True).hidden_states
    np.testing.assert_allclose(acts, hidden[2].numpy(), rtol=1e-4, atol=1e-5)


def test_same_seed_same_data_other_seed_other_contexts(make_cfg: MakeConfig, tmp_path: Path) -> None:
    a = _all(ActivationSet.open(collect(make_cfg(output=str(tmp_path / "a")))))
    b = _all(ActivationSet.open(collect(make_cfg(output=str(tmp_path / "b"), batch_size=3))))
    c = _all(ActivationSet.open(collect(make_cfg(output=str(tmp_path / "c"), seed=1))))
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_allclose(a[0], b[0], rtol=1e-5, atol=1e-6)
    assert not np.array_equal(a[1], c[1])


def test_float16_storage(make_cfg: MakeConfig, tmp_path: Path) -> None:
    full = _all(ActivationSet.open(collect(make_cfg(output=str(tmp_path / "f32")))))
    ds = ActivationSet.open(collect(make_cfg(output=str(tmp_path / "f16"), dtype="float16")))
    with h5py.File(ds.shard_path(0)) as f:
        assert f["activations"].dtype == np.float16
    half = _all(ds)
    assert half[0].dtype == np.float32 and ds.meta.dtype == "float16"
    np.testing.assert_array_equal(half[1], full[1])
    np.testing.assert_allclose(half[0], full[0], rtol=2e-3, atol=2e-3)


def test_bf16_autocast_is_close_to_float32_and_recorded_as_its_own_data(
    make_cfg: MakeConfig, tmp_path: Path
) -> None:
    full = _all(ActivationSet.open(collect(make_cfg(output=str(tmp_path / "f32")))))
    ds = ActivationSet.open(collect(make_cfg(output=str(tmp_path / "bf16"), autocast_bf16=True)))
    fast = _all(ds)
    np.testing.assert_array_equal(fast[1], full[1])
    rel = np.linalg.norm(fast[0] - full[0], axis=-1) / np.linalg.norm(full[0], axis=-1)
    assert 1e-4 < rel.mean() < 0.02, rel.mean()  # really computed in bfloat16, and close to float32
    assert fast[0].dtype == np.float32 and ds.meta.config["autocast_bf16"] is True
    with pytest.raises(CollectError, match=r"autocast_bf16 \(False -> True\)"):
        collect(make_cfg(output=str(tmp_path / "f32"), n_tokens=640, autocast_bf16=True))


@pytest.mark.parametrize("fast", [False, True], ids=["cpu-without-bf16", "cpu-with-bf16"])
def test_auto_autocast_follows_the_hardware_and_records_what_it_used(
    make_cfg: MakeConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    """``autocast_bf16: auto`` autocasts only where bfloat16 matmuls are native (an AVX2-only CPU emulates them, ~7x
    slower than float32); the data then is, and is recorded as, exactly what an explicit true / false gives."""
    monkeypatch.setattr(collect_module, "fast_bf16", lambda device: fast)
    auto = ActivationSet.open(collect(make_cfg(output=str(tmp_path / "auto"), autocast_bf16="auto")))
    explicit = ActivationSet.open(collect(make_cfg(output=str(tmp_path / "explicit"), autocast_bf16=fast)))
    assert auto.meta.config.get("autocast_bf16", False) is fast  # absent = false (a key added later)
    assert auto.meta.get("config_fingerprint") == explicit.meta.get("config_fingerprint")
    np.testing.assert_array_equal(_all(auto)[0], _all(explicit)[0])
    if fast:  # really computed under autocast: not the float32 data
        f32 = ActivationSet.open(collect(make_cfg(output=str(tmp_path / "f32"))))
        assert not np.array_equal(_all(auto)[0], _all(f32)[0])


def test_explicit_autocast_without_native_bf16_is_kept_with_a_warning(
    make_cfg: MakeConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(collect_module, "fast_bf16", lambda device: False)
    cfg = make_cfg(autocast_bf16=True)
    with caplog.at_level("WARNING", logger=collect_module.log.name):
        assert collect_module.resolve_autocast(cfg).autocast_bf16 is True
    assert "collect.autocast_bf16: true on a cpu without native bfloat16" in caplog.text


def test_autocast_key_takes_a_bool_or_auto_only(make_cfg: MakeConfig) -> None:
    with pytest.raises(ValidationError, match="autocast_bf16"):
        make_cfg(autocast_bf16="sometimes")


def test_collections_from_before_autocast_keep_their_fingerprint(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    before = {key: getattr(cfg, key) for key in collect_module.DATA_KEYS if key != "autocast_bf16"}
    assert collect_module.data_config(cfg) == before
    assert collect_module.data_config(make_cfg(autocast_bf16=True)) == before | {"autocast_bf16": True}


def test_interrupted_collection_resumes_without_recomputing(
    make_cfg: MakeConfig, tmp_path: Path, forward_counter: list[int]
) -> None:
    cfg = make_cfg()
    with pytest.raises(Interrupted):
        collect(cfg, progress=_stop_after_first_shard)
    partial = ActivationSet.open(cfg.output)
    assert partial.n_shards == 1 and not partial.complete
    first = partial.shard_path(0)
    stamp = (first.stat().st_mtime_ns, first.stat().st_ino)
    # A kill in the middle of writing shard 1 leaves a truncated temp file behind.
    (Path(cfg.output) / "shard-00001.h5.tmp").write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    assert ActivationSet.open(cfg.output).n_shards == 1

    forward_counter.clear()
    resumed = ActivationSet.open(collect(cfg), require_complete=True)
    assert sum(forward_counter) == 10 - 4  # only the contexts of the unfinished shards went through the LM
    assert (first.stat().st_mtime_ns, first.stat().st_ino) == stamp
    assert not list(Path(cfg.output).glob("*.tmp"))

    fresh = _all(ActivationSet.open(collect(make_cfg(output=str(tmp_path / "fresh")))))
    got = _all(resumed)
    np.testing.assert_array_equal(got[1], fresh[1])
    np.testing.assert_allclose(got[0], fresh[0], rtol=1e-5, atol=1e-6)


def test_rerun_of_complete_collection_does_no_work(make_cfg: MakeConfig, forward_counter: list[int]) -> None:
    collect(make_cfg())
    forward_counter.clear()
    collect(make_cfg(batch_size=5, compression="gzip"))  # keys that do not change the data
    assert forward_counter == []


def test_resume_with_different_config_names_the_keys(make_cfg: MakeConfig) -> None:
    with pytest.raises(Interrupted):
        collect(make_cfg(), progress=_stop_after_first_shard)
    with pytest.raises(
        CollectError, match=r"hook \('blocks.2.hook_resid_pre' -> 'blocks.1.hook_resid_pre'\).*seed"
    ):
        collect(make_cfg(hook="blocks.1.hook_resid_pre", seed=4))


def test_short_corpus_stops_early_with_fewer_contexts(make_cfg: MakeConfig, tmp_path: Path) -> None:
    corpus = tmp_path / "short.txt"
    corpus.write_text("Once upon a time there was a cat who liked to sit in the sun all day long. " * 8)
    ds = ActivationSet.open(collect(make_cfg(corpus=str(corpus))), require_complete=True)
    assert 0 < ds.n_contexts < 10 and ds.meta.n_contexts == ds.n_contexts
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("Hi.")
    with pytest.raises(CollectError, match="too little text"):
        collect(make_cfg(corpus=str(tiny), output=str(tmp_path / "tiny-out")))


def test_missing_model_or_corpus_fails_fast(make_cfg: MakeConfig, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"no-model.*not found.*--model"):
        collect(make_cfg(model=str(tmp_path / "no-model")))
    with pytest.raises(CorpusError, match=r"missing\.txt.*not found.*--corpus"):
        collect(make_cfg(corpus=str(tmp_path / "missing.txt")))
    assert not (tmp_path / "acts").exists()


def test_hook_out_of_range_fails_before_writing(make_cfg: MakeConfig, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"blocks\.7\.hook_resid_pre.*4 blocks"):
        collect(make_cfg(hook="blocks.7.hook_resid_pre"))
    assert not (tmp_path / "acts").exists()


def test_resume_refuses_when_a_finished_shard_is_missing(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    with pytest.raises(Interrupted):
        collect(cfg, progress=_stop_after_first_shard)
    (Path(cfg.output) / "shard-00000.h5").unlink()
    with pytest.raises(CollectError, match=r"cannot resume.*shard-00000.h5.*missing"):
        collect(cfg)


def test_float16_overflow_is_an_error_not_inf(make_cfg: MakeConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    original = LanguageModel.activations_at

    def huge(self: LanguageModel, input_ids: torch.Tensor, hooks: list[str]) -> dict[str, torch.Tensor]:
        return {h: x * 1e6 for h, x in original(self, input_ids, hooks).items()}

    monkeypatch.setattr(LanguageModel, "activations_at", huge)
    with pytest.raises(CollectError, match="float16 range.*dtype: float32"):
        collect(make_cfg(dtype="float16"))


# --------------------------------------------------------------------------------------------------------------
# Several hooks in one pass
# --------------------------------------------------------------------------------------------------------------

HOOKS = ["blocks.0.hook_resid_pre", "blocks.1.hook_attn_out", "blocks.3.hook_mlp_in", "blocks.2.hook_mlp_out"]


@pytest.fixture
def hook_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, tuple[str, ...]]]:
    """(contexts, hooks) of every LM call the collector makes."""
    calls: list[tuple[int, tuple[str, ...]]] = []
    original = LanguageModel.activations_at

    def recording(self: LanguageModel, input_ids: torch.Tensor, hooks: list[str]) -> dict[str, torch.Tensor]:
        calls.append((len(input_ids), tuple(hooks)))
        return original(self, input_ids, hooks)

    monkeypatch.setattr(LanguageModel, "activations_at", recording)
    return calls


def _same_dataset(a: Path, b: Path) -> None:
    """Same meta.json, byte-identical activations and tokens."""
    assert json.loads((a / "meta.json").read_text()) == json.loads((b / "meta.json").read_text())
    da, db = ActivationSet.open(a, require_complete=True), ActivationSet.open(b, require_complete=True)
    for i in range(da.n_shards):
        (acts_a, tok_a), (acts_b, tok_b) = da.read_shard(i), db.read_shard(i)
        assert acts_a.dtype == acts_b.dtype and acts_a.tobytes() == acts_b.tobytes(), f"{a.name} shard {i}"
        assert tok_a.tobytes() == tok_b.tobytes()


def test_one_pass_writes_each_hooks_single_hook_dataset(
    make_cfg: MakeConfig, tmp_path: Path, hook_calls: list[tuple[int, tuple[str, ...]]]
) -> None:
    out = collect(make_cfg(hook=HOOKS, output=str(tmp_path / "multi")))
    assert out == tmp_path / "multi" and sorted(p.name for p in out.iterdir()) == sorted(HOOKS)
    assert [n for n, _ in hook_calls] == [2, 2, 2, 2, 2] and {h for _, h in hook_calls} == {tuple(HOOKS)}
    for hook in HOOKS:
        single = collect(make_cfg(hook=hook, output=str(tmp_path / "single" / hook)))
        _same_dataset(out / hook, single)
        assert ActivationSet.open(out / hook).meta.hook_kind == hook.split("hook_")[1]


def test_multi_hook_resumes_each_dataset_where_it_stands(
    make_cfg: MakeConfig, tmp_path: Path, hook_calls: list[tuple[int, tuple[str, ...]]]
) -> None:
    multi = tmp_path / "multi"
    # hook 0 finished earlier on its own, hook 1 has one shard of three, hooks 2 and 3 have nothing yet
    collect(make_cfg(hook=HOOKS[0], output=str(multi / HOOKS[0])))
    with pytest.raises(Interrupted):
        collect(make_cfg(hook=HOOKS[1], output=str(multi / HOOKS[1])), progress=_stop_after_first_shard)
    hook_calls.clear()
    collect(make_cfg(hook=HOOKS, output=str(multi)))
    first_shard = [h for n, h in hook_calls[:2]]
    assert first_shard == [(HOOKS[2], HOOKS[3])] * 2  # shard 0: only the hooks that lack it
    assert {h for _, h in hook_calls[2:]} == {tuple(HOOKS[1:])} and sum(n for n, _ in hook_calls) == 10
    for hook in HOOKS:
        _same_dataset(multi / hook, collect(make_cfg(hook=hook, output=str(tmp_path / "single" / hook))))
    hook_calls.clear()
    collect(make_cfg(hook=HOOKS, output=str(multi)))  # everything complete: no LM call
    collect(make_cfg(hook=HOOKS[2], output=str(multi / HOOKS[2])))  # a single-hook rerun finds it complete
    assert hook_calls == []


def test_interrupted_multi_hook_collection_resumes_without_recomputing(
    make_cfg: MakeConfig, tmp_path: Path, hook_calls: list[tuple[int, tuple[str, ...]]]
) -> None:
    cfg = make_cfg(hook=HOOKS[:2], output=str(tmp_path / "multi"))
    with pytest.raises(Interrupted):
        collect(cfg, progress=_stop_after_first_shard)
    assert [ActivationSet.open(tmp_path / "multi" / h).n_shards for h in HOOKS[:2]] == [1, 1]
    hook_calls.clear()
    collect(cfg)
    assert sum(n for n, _ in hook_calls) == 10 - 4
    for hook in HOOKS[:2]:
        _same_dataset(tmp_path / "multi" / hook, collect(make_cfg(hook=hook, output=str(tmp_path / hook))))


def test_hook_lists_are_validated_before_anything_is_written(make_cfg: MakeConfig, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="listed twice"):
        make_cfg(hook=[HOOKS[0], HOOKS[1], HOOKS[0]])
    with pytest.raises(ValidationError, match=r"hook_mlp_ot.*did you mean hook_mlp_out"):
        make_cfg(hook=[HOOKS[0], "blocks.1.hook_mlp_ot"])
    with pytest.raises(ValidationError, match="empty"):
        make_cfg(hook=[])
    with pytest.raises(HookError, match=r"blocks\.4\.hook_mlp_in.*4 blocks"):
        collect(make_cfg(hook=[HOOKS[0], "blocks.4.hook_mlp_in"]))
    assert not (tmp_path / "acts").exists()


def test_single_hook_config_is_unchanged_by_the_list_form(make_cfg: MakeConfig) -> None:
    """A plain ``hook`` string keeps its dump (dataset ids are hashes of it) and its output folder."""
    cfg = make_cfg()
    assert cfg.model_dump()["hook"] == "blocks.2.hook_resid_pre" and cfg.per_hook() == [cfg]
    multi = make_cfg(hook=HOOKS[:2])
    assert [(c.hook, Path(c.output).name) for c in multi.per_hook()] == [(h, h) for h in HOOKS[:2]]


def test_references_from_the_api_are_opened_under_this_workers_roots(
    make_cfg: MakeConfig, small_corpus: Path, tiny_gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API submission stores ``@root/...`` references; the worker resolves them and keeps them in meta.json."""
    from shared.settings import get_settings

    monkeypatch.setenv("SAELAB_DATA_ROOTS", f"{small_corpus.parent}:{tiny_gpt2_dir}")
    get_settings.cache_clear()
    try:
        corpus_ref, model_ref = f"@{small_corpus.parent.name}/{small_corpus.name}", f"@{tiny_gpt2_dir.name}"
        out = collect(make_cfg(corpus=corpus_ref, model=model_ref, n_tokens=64))
        meta = json.loads((out / "meta.json").read_text())
        assert meta["corpus"] == corpus_ref and meta["model"] == model_ref  # no server path recorded
        with pytest.raises(CollectError, match="outside the allowed data roots"):
            collect(make_cfg(corpus=f"@{small_corpus.parent.name}/../../etc/passwd", output=str(out) + "-x"))
    finally:
        get_settings.cache_clear()
