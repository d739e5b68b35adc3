"""Live inference for the prompt analyser: the LM and SAE of a run, loaded once, cached (LRU by run), thread-safe.

The forward pass stops at the SAE's hooked layer (``LanguageModel.activations``) and the SAE encodes the residual
stream there. torch, ``shared.lm`` and ``shared.sae`` are imported lazily, inside this module only, so the rest of
the gateway starts without them.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.gateway.errors import BadInput, Corrupt, Unavailable
from shared.store import ArtifactNotFound, ChecksumMismatch, IncompleteDirectory

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Encoded:
    """One prompt through the LM (up to the hook) and the SAE: per-token feature activations."""

    tokens: list[str]
    acts: torch.Tensor
    """Dense feature activations [n_tokens, d_sae] (BOS removed)."""


@dataclass(frozen=True)
class TopFeatures:
    """Per token: the top-k features and their activations, the number active (L0) and the largest activation."""

    tokens: list[str]
    indices: list[list[int]]
    values: list[list[float]]
    l0: list[int]
    max_activation: list[float]


@dataclass
class LiveModel:
    """A run's LM and SAE, ready to encode prompts; one forward at a time (CPU threads are shared anyway)."""

    lm: Any
    sae: Any
    hook: str
    prepend_bos: bool
    max_positions: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def d_sae(self) -> int:
        return int(self.sae.cfg.d_sae)

    def count_tokens(self, text: str) -> int:
        return len(self.lm.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(self, text: str, max_tokens: int) -> Encoded:
        """Tokenise ``text`` (BOS prepended as in training), run to the hook, encode; raise BAD_INPUT if too long."""
        import torch

        from services.gateway.limits import check_prompt

        ids = self.lm.tokenizer(text, add_special_tokens=False)["input_ids"]
        check_prompt(text, len(ids), min(max_tokens, self.max_positions - int(self.prepend_bos)))
        bos = self.prepend_bos and self.lm.bos_token_id is not None
        full = ([self.lm.bos_token_id] if bos else []) + list(ids)
        input_ids = torch.tensor([full], dtype=torch.long, device=self.lm.device)
        with self.lock, torch.inference_mode():
            acts = self.sae.encode(self.lm.activations(input_ids, self.hook).to(self._sae_dtype()))[0]
        if not bool(torch.isfinite(acts).all()):
            raise Corrupt("The model of this run produced non-finite activations; it was unloaded, try again")
        acts = acts[1:] if bos else acts
        return Encoded(tokens=list(self.lm.token_strings(ids)), acts=acts.float().cpu())

    def top_features(self, text: str, top_k: int, max_tokens: int) -> TopFeatures:
        """The ``top_k`` most active features on every token of ``text`` (zeros left out)."""
        import torch

        enc = self.encode(text, max_tokens)
        k = min(top_k, self.d_sae)
        values, indices = torch.topk(enc.acts, k, dim=-1)
        n_kept = (values > 0).sum(-1).tolist()  # topk is sorted: the positive ones come first
        return TopFeatures(
            tokens=enc.tokens,
            indices=[row[:n] for row, n in zip(indices.tolist(), n_kept, strict=True)],
            values=[row[:n] for row, n in zip(values.tolist(), n_kept, strict=True)],
            l0=(enc.acts > 0).sum(-1).tolist(),
            max_activation=enc.acts.max(-1).values.clamp_min(0).tolist(),
        )

    def feature_trace(self, text: str, index: int, max_tokens: int) -> tuple[list[str], list[float]]:
        """One feature's activation on every token of ``text``."""
        if not 0 <= index < self.d_sae:
            raise BadInput(
                f"index: feature {index} does not exist (the SAE has {self.d_sae} features)", field="index"
            )
        enc = self.encode(text, max_tokens)
        return enc.tokens, enc.acts[:, index].tolist()

    def prompt_ids(self, text: str, max_tokens: int) -> list[int]:
        """The prompt's token ids (no BOS); BAD_INPUT (field ``prompt``) when empty or too long."""
        from services.gateway.limits import check_prompt

        ids = list(self.lm.tokenizer(text, add_special_tokens=False)["input_ids"])
        check_prompt(text, len(ids), min(max_tokens, self.max_positions - int(self.prepend_bos)), "prompt")
        return ids

    def steer(self, text: str, interventions: list[Any], max_new_tokens: int, temperature: float, seed: int,
              top_k: int, max_tokens: int) -> Any:  # fmt: skip
        """``shared.interventions.steer`` on ``text``: the clean and intervened continuations side by side."""
        from shared.interventions import steer

        ids = self.prompt_ids(text, max_tokens)
        if len(ids) + max_new_tokens + int(self.prepend_bos) > self.max_positions:
            raise BadInput(
                f"maxNewTokens: the prompt plus {max_new_tokens} new tokens exceed the model's "
                f"{self.max_positions} positions", field="maxNewTokens",
            )  # fmt: skip
        with self.lock:
            return steer(self.lm, self.sae, ids, interventions, max_new_tokens, temperature, seed, top_k,
                         self.prepend_bos)  # fmt: skip

    def attribute(
        self, text: str, target: str | None, position: int | None, top_k: int, max_tokens: int
    ) -> Any:
        """``shared.interventions.attribute`` on ``text``: features x their pull on ``target`` (one token's text;
        None = the model's top prediction) at ``position`` (None = the last token)."""
        from shared.interventions import attribute

        ids = self.prompt_ids(text, max_tokens)
        if position is not None and not 0 <= position < len(ids):
            raise BadInput(
                f"position: must be between 0 and {len(ids) - 1} (the prompt has {len(ids)} tokens)",
                field="position",
            )
        target_id = None
        if target is not None:
            target_ids = self.lm.tokenizer(target, add_special_tokens=False)["input_ids"]
            if len(target_ids) != 1:
                raise BadInput(
                    f"target: {target!r} is {len(target_ids)} tokens for this model; name exactly one token",
                    field="target",
                )
            target_id = int(target_ids[0])
        with self.lock:
            return attribute(self.lm, self.sae, ids, target_id, position, top_k, self.prepend_bos)

    def _sae_dtype(self) -> torch.dtype:
        return next(self.sae.parameters()).dtype


def freeze_heap() -> None:
    """Collect, then exempt every surviving object from later garbage collections (``gc.freeze``).

    Called once the gateway has started and after each model load: the schema, SQLAlchemy, the LM and their
    hundreds of thousands of objects live as long as the process, and full collections that re-scanned them
    on allocation-heavy requests made the slowest requests (bench/README.md has the figures).
    Previously frozen objects are unfrozen first, so this collection also reclaims what became cyclic garbage
    among them since (a model evicted from the cache)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


SAE_FILES = ("cfg.json", "sae.safetensors")


def run_sae_dir(run_id: str, session_factory: Callable[[], Any], store: Any) -> Path:
    """A local directory holding the run's ``cfg.json`` + ``sae.safetensors`` (fetched from S3 when needed)."""
    from shared.db import models as m
    from shared.store import LocalStore, run_prefix, verify_file

    with session_factory() as session:
        run = session.get(m.Run, run_id)
        prefix = (run.store_prefix if run is not None else "") or run_prefix(run_id)
    directory = store.workdir(prefix)
    for name in SAE_FILES:  # verified on every load: in place (local store) or while downloading (S3)
        if isinstance(store, LocalStore):
            verify_file(store, f"{prefix}/{name}", directory / name)
        else:
            store.get_file(f"{prefix}/{name}", directory / name)
    return directory


def load_live_model(sae_dir: Path, device: str = "cpu") -> LiveModel:
    """Load a run's SAE from ``sae_dir`` and the LM it was trained on (named in its cfg.json)."""
    from shared.devices import resolve_device
    from shared.lm import load_lm
    from shared.sae.io import load_sae

    device = str(resolve_device(device))
    sae = load_sae(sae_dir, device=device)
    sae.eval()
    import torch

    bad = [name for name, p in sae.named_parameters() if not bool(torch.isfinite(p).all())]
    if bad:
        raise Corrupt(
            f"The SAE weights hold non-finite numbers ({', '.join(bad)}); re-train or re-import the run"
        )
    cfg = sae.cfg
    from shared.paths import local_source

    model = local_source(cfg.model_name, field="model") or cfg.model_name
    lm = load_lm(model, gguf_file=getattr(cfg, "model_gguf_file", None), device=device)
    lm.name = cfg.model_name  # a stored reference stays one in messages
    max_positions = int(getattr(lm.model.config, "max_position_embeddings", None) or 1_000_000)
    return LiveModel(
        lm=lm, sae=sae, hook=cfg.hook_name, prepend_bos=bool(getattr(cfg, "prepend_bos", True)),
        max_positions=max_positions,
    )  # fmt: skip


class ModelCache:
    """Least-recently-used cache of ``LiveModel`` by run id; each run is loaded once even under concurrency."""

    def __init__(self, size: int, loader: Callable[[str], LiveModel]) -> None:
        self._size = size
        self._loader = loader
        self._models: OrderedDict[str, LiveModel] = OrderedDict()
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, run_id: str) -> LiveModel:
        """The cached model of ``run_id``, loading it (once) when absent; evicts the least recently used."""
        with self._lock:
            if run_id in self._models:
                self._models.move_to_end(run_id)
                return self._models[run_id]
            load_lock = self._loading.setdefault(run_id, threading.Lock())
        with load_lock:
            with self._lock:
                if run_id in self._models:
                    return self._models[run_id]
            model = self._load(run_id)
            with self._lock:
                self._models[run_id] = model
                self._loading.pop(run_id, None)
                while len(self._models) > self._size:
                    evicted = self._models.popitem(last=False)[0]  # keep no reference to the evicted model
                    log.info("live inference: evicted run %s from the model cache", evicted)
            freeze_heap()  # after the eviction: an evicted model's reference cycles are collected here
            return model

    def evict(self, run_id: str) -> None:
        """Forget ``run_id``'s model (it answered with non-finite numbers): the next request loads it again."""
        with self._lock:
            if self._models.pop(run_id, None) is not None:
                log.warning("live inference: evicted run %s from the model cache (broken results)", run_id)

    def loaded(self, run_id: str) -> LiveModel | None:
        """The model of ``run_id`` when it is already loaded (marked recently used), else None; never blocks on a
        load, so the event loop can call it without a thread hop."""
        with self._lock:
            model = self._models.get(run_id)
            if model is not None:
                self._models.move_to_end(run_id)
            return model

    def __contains__(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._models

    def _load(self, run_id: str) -> LiveModel:
        try:
            return self._loader(run_id)
        except (BadInput, Unavailable, Corrupt):
            raise
        except ChecksumMismatch as err:
            log.warning("live inference: run %s: %s", run_id, err)
            raise Corrupt(
                f"The stored SAE of run {run_id} does not match its checksum (corrupted); re-publish the run"
            ) from None
        except (FileNotFoundError, ArtifactNotFound, IncompleteDirectory) as err:
            log.warning("live inference: files of run %s missing: %s", run_id, err)
            raise Unavailable(f"The SAE or language model files of run {run_id} are not available") from err
        except Exception as err:
            log.exception("live inference: loading run %s failed", run_id)
            raise Unavailable(f"The model of run {run_id} could not be loaded for live inference") from err
