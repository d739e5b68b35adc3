"""Collect residual-stream activations of a causal LM over a corpus into resumable HDF5 shards.

``collect(cfg)`` writes ``meta.json`` first (with a fingerprint of the config keys that determine the data), then
one shard of ``shard_contexts`` contexts at a time, each atomically. Rerun with the same config, it skips the
finished shards (their contexts are re-packed from the corpus, which is cheap, but the LM is not run for them) and
continues; with a different config it refuses and names the differing keys.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import torch

from services.collector.corpus import Corpus, batched_contexts, open_corpus, pack_contexts
from shared.config import CollectConfig
from shared.lm import LanguageModel, load_lm, parse_hook, resolve_source
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
)


class CollectError(RuntimeError):
    """Collection cannot start or resume; the message says why and what to do."""


# --------------------------------------------------------------------------------------------------------------
# Config identity and resume
# --------------------------------------------------------------------------------------------------------------


def data_config(cfg: CollectConfig) -> dict[str, Any]:
    """The config keys that determine the collected data."""
    return {key: getattr(cfg, key) for key in DATA_KEYS}


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
    diff = [f"{k} ({old.get(k)!r} -> {new[k]!r})" for k in DATA_KEYS if old.get(k) != new[k]]
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


def _new_meta(cfg: CollectConfig, lm: LanguageModel, corpus: Corpus) -> ActivationMeta:
    point = lm.hook_point(cfg.hook)
    _, gguf_file, _ = resolve_source(cfg.model, cfg.gguf_file)
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


def _forward_into(lm: LanguageModel, hook: str, tokens: np.ndarray, out: torch.Tensor) -> None:
    """Run the LM to ``hook`` over one batch ``tokens`` [b, T]; write into ``out`` [b, T, d] (a single copy that
    also casts to the storage dtype)."""
    out.copy_(lm.activations(torch.from_numpy(tokens).long(), hook))
    if out.dtype == torch.float16 and torch.isinf(out).any():
        raise CollectError(
            f"hook {hook!r}: activations exceed the float16 range (65504) and would be stored as inf; "
            "set dtype: float32"
        )


def collect(cfg: CollectConfig, progress: ProgressSink | None = None) -> Path:
    """Collect activations as ``cfg`` says into ``cfg.output``; resume a previous run there. Returns the directory."""
    out = Path(cfg.output)
    parse_hook(cfg.hook)
    meta = _existing_meta(out, cfg)
    if meta is not None and meta.complete:
        log.info("%s: collection already complete", out)
        report(
            progress, meta.n_contexts * meta.context_length, meta.n_contexts * meta.context_length, "complete"
        )
        return out
    corpus = open_corpus(cfg.corpus, cfg.corpus_split, cfg.text_field)
    lm = load_lm(cfg.model, cfg.gguf_file, device=cfg.device)
    if meta is None:
        meta = _new_meta(cfg, lm, corpus)
    _check_corpus_unchanged(meta, corpus, out)
    out.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out)
    write_meta(out, meta)
    meta = _run(cfg, lm, corpus, meta, out, progress)
    write_meta(out, meta.model_copy(update={"complete": True}))
    log.info("%s: collected %d contexts in %d shards", out, meta.n_contexts, len(meta.shards))
    return out


def _run(
    cfg: CollectConfig,
    lm: LanguageModel,
    corpus: Corpus,
    meta: ActivationMeta,
    out: Path,
    progress: ProgressSink | None,
) -> ActivationMeta:
    """Write the missing shards; returns the final meta (n_contexts shrunk if the corpus ran out)."""
    bos = lm.bos_token_id if cfg.prepend_bos else None
    if cfg.prepend_bos and bos is None:
        raise CollectError(
            f"prepend_bos: model {cfg.model!r} has no BOS or EOS token; set prepend_bos: false"
        )
    T, total = cfg.context_length, meta.n_contexts
    contexts = islice(pack_contexts(corpus.documents(cfg.seed), lm.tokenizer, T, bos, lm.eos_token_id), total)
    done = sum(s.n_contexts for s in meta.shards)
    for _ in islice(contexts, done):  # finished shards: re-pack their contexts (cheap), skip the LM
        pass
    report(progress, done * T, total * T, f"resuming after {len(meta.shards)} shards" if done else "")
    dtype = torch.float16 if cfg.dtype == "float16" else torch.float32
    for tokens in batched_contexts(contexts, cfg.shard_contexts):
        acts = torch.empty((len(tokens), T, lm.d_model), dtype=dtype)
        for start in range(0, len(tokens), cfg.batch_size):
            end = min(start + cfg.batch_size, len(tokens))
            _forward_into(lm, meta.hook, tokens[start:end], acts[start:end])
            if end < len(tokens):
                report(progress, (done + end) * T, total * T, f"shard {len(meta.shards) + 1}")
        meta = append_shard(out, meta, acts.numpy(), tokens, cfg.compression)
        done += len(tokens)
        report(progress, done * T, total * T, f"shard {len(meta.shards)} written")
    if done == 0:
        raise CollectError(f"corpus {cfg.corpus!r}: too little text for one context of {T} tokens")
    if done < total:
        log.warning("corpus %r ran out after %d of %d contexts", cfg.corpus, done, total)
        meta = meta.model_copy(update={"n_contexts": done})
    return meta.model_copy(update={"n_tokens": done * T})
