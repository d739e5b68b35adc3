"""Collect a causal LM's activations at one or several hook points over a corpus into resumable HDF5 shards.

``collect(cfg)`` writes ``meta.json`` first (with a fingerprint of the config keys that determine the data), then
one shard of ``shard_contexts`` contexts at a time, each atomically. Rerun with the same config, it skips the
finished shards (their contexts are re-packed from the corpus, which is cheap, but the LM is not run for them) and
continues; with a different config it refuses and names the differing keys.

With a list of hooks, one forward per batch runs to the deepest hook and each hook's tensor goes to its own dataset
in ``<output>/<hook>/``: each is exactly the dataset a single-hook collection into that folder writes (same
meta.json, same activations), so each resumes on its own terms and a single-hook rerun finds it complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import torch

from services.collector.corpus import Corpus, batched_contexts, open_corpus, pack_contexts
from shared.config import CollectConfig
from shared.devices import fast_bf16, resolve_device
from shared.lm import LanguageModel, load_lm, resolve_source
from shared.paths import PathRefused, local_source
from shared.progress import ProgressSink, report
from shared.shards import (
    META_FILE,
    TMP_SUFFIX,
    ActivationMeta,
    ActivationSet,
    ShardFormatError,
    append_shard,
    write_meta,
)

log = logging.getLogger(__name__)

# Config keys that decide what ends up in the shards; the others (device, batch size, compression, output) don't.
DATA_KEYS = (
    "model",
    "gguf_file",
    "hook",
    "corpus",
    "corpus_split",
    "text_field",
    "context_length",
    "prepend_bos",
    "n_tokens",
    "shard_contexts",
    "dtype",
    "seed",
    "autocast_bf16",
)
_ADDED_KEYS = {"autocast_bf16": False}
"""Data keys added after collections existed: they enter the fingerprint only when they differ from this value, so
a collection made before a key existed keeps its fingerprint (and resumes) under the key's old behaviour."""


class CollectError(RuntimeError):
    """Collection cannot start or resume; the message says why and what to do."""


# --------------------------------------------------------------------------------------------------------------
# Config identity and resume
# --------------------------------------------------------------------------------------------------------------


def data_config(cfg: CollectConfig) -> dict[str, Any]:
    """The config keys that determine the collected data (an added key only when it is not at its old value)."""
    data = {key: getattr(cfg, key) for key in DATA_KEYS}
    return {k: v for k, v in data.items() if k not in _ADDED_KEYS or v != _ADDED_KEYS[k]}


def config_fingerprint(cfg: CollectConfig) -> str:
    """sha256 of ``data_config(cfg)``: equal fingerprints mean the same shards."""
    return hashlib.sha256(json.dumps(data_config(cfg), sort_keys=True).encode()).hexdigest()


def _existing_meta(out: Path, cfg: CollectConfig) -> ActivationMeta | None:
    """The meta of a previous run into ``out`` when it was the same config; an error naming the keys otherwise."""
    if not (out / META_FILE).exists():
        return None
    try:
        meta = ActivationSet.open(out).meta  # also checks every listed shard file is there
    except ShardFormatError as err:
        raise CollectError(
            f"output {str(out)!r}: cannot resume: {err}; delete it or choose another output"
        ) from None
    if meta.get("config_fingerprint") == config_fingerprint(cfg):
        return meta
    old = meta.get("config") or {}
    new = data_config(cfg)
    pairs = [(k, old.get(k, _ADDED_KEYS.get(k)), new.get(k, _ADDED_KEYS.get(k))) for k in DATA_KEYS]
    diff = [f"{k} ({was!r} -> {now!r})" for k, was, now in pairs if was != now]
    raise CollectError(
        f"output {str(out)!r} holds a collection made with a different config: "
        f"{', '.join(diff) or 'unknown keys'} differ; use another output or delete it to start over"
    )


def _remove_leftovers(out: Path) -> None:
    for tmp in out.glob(f"*{TMP_SUFFIX}"):
        log.info("removing unfinished file %s from an interrupted run", tmp)
        tmp.unlink()


# --------------------------------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------------------------------


def _local(value: str, field: str) -> str:
    """A stored ``@root/...`` reference (an API submission's corpus or model) as this worker's path."""
    try:
        return local_source(value, field=field) or value
    except PathRefused as err:
        raise CollectError(str(err)) from None


def _single_hook(cfg: CollectConfig) -> str:
    if not isinstance(cfg.hook, str):
        raise TypeError(f"expected a single-hook config (CollectConfig.per_hook), got hooks {cfg.hook}")
    return cfg.hook


def _new_meta(cfg: CollectConfig, lm: LanguageModel, corpus: Corpus) -> ActivationMeta:
    point = lm.hook_point(_single_hook(cfg))
    _, gguf_file, _ = resolve_source(_local(cfg.model, "model"), cfg.gguf_file)
    return ActivationMeta(
        model=cfg.model,
        gguf_file=gguf_file,
        hook=point.name,
        layer=point.layer,
        hook_kind=point.kind,
        d_in=lm.d_model,
        context_length=cfg.context_length,
        prepend_bos=cfg.prepend_bos,
        bos_token_id=lm.bos_token_id,
        dtype=cfg.dtype,
        n_contexts=math.ceil(cfg.n_tokens / cfg.context_length),
        shard_contexts=cfg.shard_contexts,
        corpus=cfg.corpus,
        corpus_fingerprint=corpus.fingerprint,
        seed=cfg.seed,
        complete=False,
        shards=[],
        model_family=lm.family,
        eos_token_id=lm.eos_token_id,
        config=data_config(cfg),
        config_fingerprint=config_fingerprint(cfg),
    )


def _check_corpus_unchanged(meta: ActivationMeta, corpus: Corpus, out: Path) -> None:
    if meta.shards and meta.corpus_fingerprint != corpus.fingerprint:
        raise CollectError(
            f"output {str(out)!r}: corpus {corpus.name!r} changed since the collection started "
            "(its fingerprint differs); delete the output to start over"
        )


# --------------------------------------------------------------------------------------------------------------
# The LM pass
# --------------------------------------------------------------------------------------------------------------


@dataclass
class _Target:
    """One hook's dataset: its single-hook config, directory and current meta."""

    cfg: CollectConfig
    out: Path
    meta: ActivationMeta

    @property
    def done(self) -> int:
        return sum(s.n_contexts for s in self.meta.shards)


def _forward_into(
    lm: LanguageModel, tokens: np.ndarray, outs: dict[str, torch.Tensor], autocast_bf16: bool = False
) -> None:
    """Run the LM over one batch ``tokens`` [b, T] to the deepest hook of ``outs`` (under bfloat16 autocast when
    asked); write each hook's tensor into its ``outs[hook]`` [b, T, d] (a single copy that also casts to the storage
    dtype)."""
    with torch.autocast(lm.device.type, dtype=torch.bfloat16, enabled=autocast_bf16):
        acts = lm.activations_at(torch.from_numpy(tokens).long(), list(outs))
    for hook, out in outs.items():
        out.copy_(acts[hook])
        if out.dtype == torch.float16 and torch.isinf(out).any():
            raise CollectError(
                f"hook {hook!r}: activations exceed the float16 range (65504) and would be stored as inf; "
                "set dtype: float32"
            )


def resolve_autocast(cfg: CollectConfig) -> CollectConfig:
    """``cfg`` with ``autocast_bf16: auto`` resolved to what this device does fast (logged); an explicit true on a
    device without native bfloat16 is kept (the user asked for it) with a warning that it is slower."""
    device = resolve_device(cfg.device)
    fast = fast_bf16(device)
    if cfg.autocast_bf16 == "auto":
        log.info(
            "collect.autocast_bf16: auto -> %s (%s %s native bfloat16 matmuls)",
            str(fast).lower(), device.type, "has" if fast else "has no",
        )  # fmt: skip
        return cfg.model_copy(update={"autocast_bf16": fast})
    if cfg.autocast_bf16 and not fast:
        log.warning(
            "collect.autocast_bf16: true on a %s without native bfloat16 matmuls: the LM forward is emulated and "
            "slower than float32 here (set it to auto or false)",
            device.type,
        )
    return cfg


def collect(cfg: CollectConfig, progress: ProgressSink | None = None) -> Path:
    """Collect activations as ``cfg`` says into ``cfg.output`` (one subfolder per hook for a list of hooks);
    resume a previous run there. Returns ``cfg.output``."""
    cfg = resolve_autocast(cfg)
    singles = cfg.per_hook()
    metas = [_existing_meta(Path(one.output), one) for one in singles]
    if all(m is not None and m.complete for m in metas):
        done = sum(m.n_contexts * m.context_length for m in metas if m is not None) // len(metas)
        log.info("%s: collection already complete", cfg.output)
        report(progress, done, done, "complete")
        return Path(cfg.output)
    corpus = open_corpus(_local(cfg.corpus, "corpus"), cfg.corpus_split, cfg.text_field)
    lm = load_lm(_local(cfg.model, "model"), cfg.gguf_file, device=cfg.device)
    lm.name = cfg.model  # a stored reference stays one in messages
    for one in singles:
        lm.hook_point(_single_hook(one))  # every hook checked against the model before anything is written
    targets = []
    for one, meta in zip(singles, metas, strict=True):
        if meta is None or not meta.complete:
            target = _Target(one, Path(one.output), meta or _new_meta(one, lm, corpus))
            _check_corpus_unchanged(target.meta, corpus, target.out)
            targets.append(target)
    for target in targets:
        target.out.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(target.out)
        write_meta(target.out, target.meta)
    _run(cfg, lm, corpus, targets, progress)
    for target in targets:
        write_meta(target.out, target.meta.model_copy(update={"complete": True}))
        log.info(
            "%s: collected %d contexts in %d shards",
            target.out,
            target.meta.n_contexts,
            len(target.meta.shards),
        )
    return Path(cfg.output)


def _run(
    cfg: CollectConfig,
    lm: LanguageModel,
    corpus: Corpus,
    targets: list[_Target],
    progress: ProgressSink | None,
) -> None:
    """Write the shards the targets miss, updating each target's meta (n_contexts shrunk if the corpus ran out).
    Shards are aligned across targets (same contexts, same ``shard_contexts``): a shard every target already has
    skips the LM; one that only some have runs the LM for the others only."""
    bos = lm.bos_token_id if cfg.prepend_bos else None
    if cfg.prepend_bos and bos is None:
        raise CollectError(
            f"prepend_bos: model {cfg.model!r} has no BOS or EOS token; set prepend_bos: false"
        )
    T, total = cfg.context_length, targets[0].meta.n_contexts
    contexts = islice(pack_contexts(corpus.documents(cfg.seed), lm.tokenizer, T, bos, lm.eos_token_id), total)
    done = min(t.done for t in targets)
    for _ in islice(contexts, done):  # finished shards: re-pack their contexts (cheap), skip the LM
        pass
    shards_done = min(len(t.meta.shards) for t in targets)
    report(progress, done * T, total * T, f"resuming after {shards_done} shards" if done else "")
    dtype = torch.float16 if cfg.dtype == "float16" else torch.float32
    for tokens in batched_contexts(contexts, cfg.shard_contexts):
        todo = [t for t in targets if t.done <= done]
        bufs = {t.meta.hook: torch.empty((len(tokens), T, lm.d_model), dtype=dtype) for t in todo}
        for start in range(0, len(tokens), cfg.batch_size):
            end = min(start + cfg.batch_size, len(tokens))
            views = {h: buf[start:end] for h, buf in bufs.items()}
            _forward_into(lm, tokens[start:end], views, cfg.autocast_bf16 is True)
            if end < len(tokens):
                report(progress, (done + end) * T, total * T, f"shard {len(todo[0].meta.shards) + 1}")
        for target in todo:
            target.meta = append_shard(
                target.out, target.meta, bufs[target.meta.hook].numpy(), tokens, cfg.compression
            )
        done += len(tokens)
        report(progress, done * T, total * T, f"shard {len(todo[0].meta.shards)} written")
    if done == 0:
        raise CollectError(f"corpus {cfg.corpus!r}: too little text for one context of {T} tokens")
    if done < total:
        log.warning("corpus %r ran out after %d of %d contexts", cfg.corpus, done, total)
    for target in targets:
        target.meta = target.meta.model_copy(update={"n_contexts": min(done, total), "n_tokens": done * T})
