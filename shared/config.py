"""Typed, strictly validated run configs (collect, train, evaluate, analyse) and their YAML loader.

Every config is a pydantic model with ``extra="forbid"``: an unknown key, a wrong type or an impossible value is
an error that names the key and the file. The CLI, the Celery tasks and the GraphQL gateway all validate through
these models, so a config means the same thing everywhere. This module imports no torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.hooknames import parse_hook, parse_hooks

Device = Literal["auto", "cpu", "cuda"]

# Upper bounds: what one machine can do (docs/api.md, "Config bounds"). Each number in a config has one, so a
# submission cannot ask for a run that outgrows any worker or never ends.
MAX_TOKENS = 1_000_000_000
"""Tokens one collection, evaluation or analysis may read (1e9: hours on a GPU, ~1.5 TB of float16 at d=768)."""
MAX_STEPS = 10_000_000
"""Training steps, and every step count or period."""
MAX_D_SAE = 1 << 20
"""Dictionary features (1M: ~6 GB of float32 weights at d_in 768)."""
MAX_STEP_VALUES = 1 << 32
"""batch_size x d_sae: the latent activations of one training step (16 GiB in float32)."""
MAX_COEFFICIENT = 1e6
"""Loss coefficients and other unbounded weights."""
MAX_SEED = 2**32 - 1
"""Seeds (numpy's range)."""
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]


class ConfigError(ValueError):
    """A config could not be loaded; the message names the file and the offending key."""


class StrictModel(BaseModel):
    """Base for every config: unknown keys are errors, assignments are validated, docstrings per field."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, use_attribute_docstrings=True, allow_inf_nan=False
    )


# --------------------------------------------------------------------------------------------------------------
# Collection
# --------------------------------------------------------------------------------------------------------------


class CollectConfig(StrictModel):
    """Collect activations of a causal LM at one or several hook points over a corpus into HDF5 shards."""

    model: str = "gpt2"
    """Hugging Face hub name, local model directory, or path to a .gguf file."""
    gguf_file: str | None = None
    """GGUF file name inside ``model`` (a directory); set automatically when ``model`` is a .gguf path."""
    hook: str | list[str] = "blocks.8.hook_resid_pre"
    """Hook point ``blocks.{layer}.hook_{kind}``, kind one of ``resid_pre``, ``resid_post``, ``attn_out``,
    ``mlp_out``, ``mlp_in`` (docs/theory.md, "Hook points"). A list collects several hooks in one pass (one
    forward to the deepest; no hook twice): each hook gets its own dataset in ``<output>/<hook>/``, exactly the
    one a single-hook collection into that folder writes."""
    corpus: str = "roneneldan/TinyStories"
    """HF dataset name (streamed) or a local .txt / .jsonl file or folder of them."""
    corpus_split: str = "train"
    """Dataset split when ``corpus`` is a hub dataset."""
    text_field: str = "text"
    """Field holding the text in a hub dataset or .jsonl file."""
    context_length: int = Field(128, ge=2, le=8192)
    """Tokens per packed context (BOS included)."""
    prepend_bos: bool = True
    """Start every context with the tokenizer's BOS token."""
    n_tokens: int = Field(50_000, ge=1, le=MAX_TOKENS)
    """Tokens to collect (rounded up to whole contexts)."""
    batch_size: int = Field(16, ge=1, le=1024)
    """Contexts per LM forward pass."""
    shard_contexts: int = Field(256, ge=1, le=65_536)
    """Contexts per HDF5 shard file."""
    dtype: Literal["float16", "float32"] = "float32"
    """Storage dtype of the activations."""
    autocast_bf16: bool | Literal["auto"] = False
    """Run the LM forward under bfloat16 autocast (on the CPU too): faster where the hardware has bfloat16 matmuls
    (AVX512-BF16, AMX, recent GPUs); the activations then differ from float32's by about 1% of their norm
    (bench/README.md, "Demo levers"). Stored in ``dtype`` either way. ``auto``: only where the device has native
    bfloat16 matmuls (on an AVX2-only CPU autocast is emulated and several times slower than float32); the
    collection resolves it once and records the value it used (true or false) as its data config."""
    compression: Literal["lzf", "gzip", "none"] = "lzf"
    """HDF5 compression filter for the activation chunks."""
    seed: Seed = 0
    """Seed for document shuffling: the same seed gives the same contexts."""
    device: Device = "auto"
    """Where the LM runs."""
    output: str = "artifacts/activations/default"
    """Directory the shards and meta.json are written to (with a list of hooks: one subfolder per hook)."""

    @field_validator("hook")
    @classmethod
    def _check_hook(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, str):
            return parse_hook(value).name
        return [point.name for point in parse_hooks(value)]

    @property
    def hooks(self) -> list[str]:
        """The hook names to collect (one for a single ``hook``)."""
        return [self.hook] if isinstance(self.hook, str) else list(self.hook)

    def per_hook(self) -> list[CollectConfig]:
        """One single-hook config per hook: itself for a single hook, else ``hook`` = one name and ``output`` =
        ``<output>/<hook>``."""
        if isinstance(self.hook, str):
            return [self]
        return [self.model_copy(update={"hook": h, "output": str(Path(self.output) / h)}) for h in self.hook]


# --------------------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------------------


class TrainConfig(StrictModel):
    """Train one sparse autoencoder on a collected activation set."""

    activations: str = "artifacts/activations/default"
    """Directory of activation shards written by ``saelab collect``."""
    output: str = "artifacts/runs/default"
    """Run directory: checkpoints, metrics.jsonl, sae.safetensors, cfg.json, eval.json."""
    architecture: Literal["relu", "topk", "batchtopk", "jumprelu", "matryoshka_batchtopk", "gated"] = "relu"
    """SAE architecture name from the registry (``shared.sae.registry``; docs/theory.md §2 gives each one's loss)."""
    d_sae: int = Field(6144, ge=1, le=MAX_D_SAE)
    """Number of dictionary features."""
    k: int | None = Field(None, ge=1, le=MAX_D_SAE)
    """Active features per token for ``topk``; on average per token over a batch for ``batchtopk`` and
    ``matryoshka_batchtopk`` (their inference uses the threshold estimated in training)."""
    l1_coefficient: float = Field(5.0, ge=0, le=MAX_COEFFICIENT)
    """L1 sparsity coefficient for ``relu`` (on normalised activations), and of the gate's L1 for ``gated``."""
    scale_l1_by_decoder_norm: bool = False
    """``relu``/``gated``: multiply each feature's L1 term by its decoder norm and drop the unit-norm decoder
    constraint (Anthropic April 2024 update)."""
    l1_warmup_steps: int = Field(0, ge=0, le=MAX_STEPS)
    """Linearly ramp the L1 coefficient from 0 over this many steps."""
    aux_k: int | None = Field(None, ge=1, le=MAX_D_SAE)
    """TopK family: dead latents used by the AuxK loss (default d_in / 2)."""
    aux_k_coefficient: float = Field(1 / 32, ge=0, le=MAX_COEFFICIENT)
    """TopK family: weight of the AuxK loss."""
    topk_threshold_lr: float = Field(0.01, gt=0, le=1)
    """``batchtopk``/``matryoshka_batchtopk``: rate of the moving average of each batch's smallest kept activation,
    the threshold used at inference (SAELens's name; it starts at the first batch's value)."""
    matryoshka_widths: list[int] | None = Field(None, max_length=64)
    """``matryoshka_batchtopk``: the nested prefix widths, strictly increasing (d_sae is appended when the list
    ends below it); None = d_sae/16, d_sae/8, d_sae/4, d_sae/2, d_sae."""
    jumprelu_bandwidth: float = Field(0.05, gt=0, le=MAX_COEFFICIENT)
    """``jumprelu``: bandwidth ε of the rectangle kernel in the threshold's straight-through estimator."""
    jumprelu_init_threshold: float = Field(0.01, ge=0, le=MAX_COEFFICIENT)
    """``jumprelu``: initial threshold of every latent (on the normalised activations' scale)."""
    jumprelu_sparsity_loss: Literal["step", "tanh"] = "step"
    """``jumprelu``: ``step`` = the L0 penalty through the step function's STE (DeepMind); ``tanh`` =
    Σ tanh(c · f · |d|) (Anthropic), SAELens's ``jumprelu_sparsity_loss_mode``."""
    jumprelu_tanh_scale: float = Field(4.0, gt=0, le=MAX_COEFFICIENT)
    """``jumprelu``: c of the ``tanh`` sparsity loss."""
    l0_coefficient: float = Field(1.0, ge=0, le=MAX_COEFFICIENT)
    """``jumprelu``: coefficient of the L0 (or tanh) sparsity loss."""
    l0_warmup_steps: int = Field(0, ge=0, le=MAX_STEPS)
    """``jumprelu``: linearly ramp the L0 coefficient from 0 over this many steps."""
    pre_act_loss_coefficient: float = Field(0.0, ge=0, le=MAX_COEFFICIENT)
    """``jumprelu``: Anthropic's pre-activation loss, Σ over dead latents of ReLU(θ - z)·|d| (0 = off)."""
    lr: float = Field(4e-4, gt=0, le=1.0)
    """Adam learning rate."""
    adam_betas: tuple[Annotated[float, Field(ge=0, lt=1)], Annotated[float, Field(ge=0, lt=1)]] = (0.9, 0.999)
    """Adam betas."""
    max_grad_norm: float | None = Field(None, gt=0, le=MAX_COEFFICIENT)
    """Clip the total gradient norm over all SAE parameters to this value before every Adam step
    (``torch.nn.utils.clip_grad_norm_``, after the unit-norm decoder's parallel gradient is removed); None = no
    clipping. SAELens's trainer always clips at 1.0 (docs/theory.md §4.1)."""
    lr_warmup_steps: int = Field(0, ge=0, le=MAX_STEPS)
    """Linear LR warmup steps."""
    lr_decay_steps: int = Field(0, ge=0, le=MAX_STEPS)
    """Linear LR decay to zero over the last this-many steps (0 = constant)."""
    batch_size: int = Field(1024, ge=1, le=1 << 17)
    """Tokens per training step."""
    n_steps: int = Field(500, ge=1, le=MAX_STEPS)
    """Training steps."""
    dead_feature_threshold: int = Field(10_000_000, ge=1, le=1_000 * MAX_TOKENS)
    """A latent that has fired on none of the last this-many training tokens (more than this many tokens since it
    last fired) is dead, as in OpenAI's and sparsify's trainers. The one training definition: resampling picks these
    latents, TopK's AuxK loss trains them, metrics.jsonl's ``dead_fraction`` counts them."""
    resample_frequency: int = Field(0, ge=0, le=MAX_STEPS)
    """ReLU: resample dead latents every this-many steps, up to ``resample_last_step`` (0 = never)."""
    resample_last_step: int | None = Field(None, ge=1, le=MAX_STEPS)
    """Last step at which resampling may happen; it must come before LR decay starts (n_steps - lr_decay_steps), so
    resampled latents always train afterwards. None = half of the steps before LR decay."""
    resample_pool_tokens: int = Field(100_000, ge=1, le=1 << 24)
    """Training tokens, drawn at random from the whole training split, that resampling picks its inputs from
    (without replacement, with probability proportional to the squared reconstruction loss)."""
    normalise_activations: Literal["expected_norm", "none"] = "expected_norm"
    """Scale inputs so their mean norm is sqrt(d_in); folded back into the saved weights."""
    cache_in_ram: bool = True
    """Load the shards into RAM once instead of reading HDF5 every batch."""
    shuffle_buffer_tokens: int = Field(65_536, ge=1, le=1 << 22)
    """Size of the shuffling buffer, in tokens."""
    exclude_bos: bool = True
    """Leave BOS positions out of training and metrics (they are kept in the shards)."""
    exclude_norm_multiple: float | None = Field(10.0, gt=1, le=MAX_COEFFICIENT)
    """Leave out tokens whose activation norm exceeds this multiple of the median norm (None = keep all)."""
    eval_fraction: float = Field(0.1, ge=0, lt=1)
    """Fraction of contexts (the last shards) held out for evaluation and never trained on."""
    checkpoint_every: int | None = Field(None, ge=0, le=MAX_STEPS)
    """Checkpoint every this-many steps. None (the default) = every 10 % of ``n_steps`` (rounded up), so a lost
    worker recomputes at most a tenth of the run; 0 = only at the end (and when ``checkpoint_minutes`` says so).
    In the job system each checkpoint is uploaded to the artifact store as soon as it is written."""
    checkpoint_minutes: float = Field(5.0, ge=0, le=7 * 24 * 60)
    """Also checkpoint once this many minutes of training have passed since the last checkpoint (0 = off): long
    steps never leave more than this much work to recompute."""
    log_every: int = Field(25, ge=1, le=MAX_STEPS)
    """Log metrics every this-many steps."""
    seed: Seed = 0
    """Seed for initialisation and shuffling."""
    device: Device = "auto"
    """Where training runs."""
    autocast_bf16: bool = False
    """Use bfloat16 autocast on CUDA."""
    tf32: bool = True
    """Allow TF32 matmuls on CUDA."""
    wandb_project: str | None = Field(None, max_length=128)
    """Log to this Weights & Biases project (off when None)."""

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        arch = self.architecture
        if arch in TOPK_LIKE:
            if self.k is None:
                raise ValueError(f"k: required when architecture is {arch!r}")
            if self.k > self.d_sae:
                raise ValueError(f"k: {self.k} is larger than d_sae ({self.d_sae})")
        elif self.k is not None:
            raise ValueError(f"k: only valid when architecture is one of {', '.join(sorted(TOPK_LIKE))}")
        for key, archs in _ARCH_KEYS.items():  # a key of another architecture, set to a non-default value
            if arch not in archs and getattr(self, key) != TrainConfig.model_fields[key].default:
                raise ValueError(f"{key}: only used when architecture is {' or '.join(sorted(archs))}")
        if self.matryoshka_widths is not None:
            widths = self.matryoshka_widths
            if not widths or widths[0] < 1 or any(b <= a for a, b in zip(widths, widths[1:], strict=False)):
                raise ValueError(f"matryoshka_widths: {widths} must be positive and strictly increasing")
            if widths[-1] > self.d_sae:
                raise ValueError(f"matryoshka_widths: {widths[-1]} is larger than d_sae ({self.d_sae})")
        if self.batch_size * self.d_sae > MAX_STEP_VALUES:
            raise ValueError(
                f"batch_size: {self.batch_size} x d_sae {self.d_sae} latent activations per step is more than "
                f"{MAX_STEP_VALUES} (16 GiB in float32); use a smaller batch"
            )
        if self.lr_warmup_steps + self.lr_decay_steps > self.n_steps:
            raise ValueError("lr_warmup_steps + lr_decay_steps: longer than n_steps")
        self._check_resampling()
        return self

    @property
    def checkpoint_steps(self) -> int:
        """The step interval between checkpoints actually used (0 = step-based checkpoints off)."""
        if self.checkpoint_every is None:
            return -(-self.n_steps // 10)
        return self.checkpoint_every

    def _check_resampling(self) -> None:
        decay_start = self.n_steps - self.lr_decay_steps
        if not self.resample_frequency:
            if self.resample_last_step is not None:
                raise ValueError("resample_last_step: set, but resample_frequency is 0 (resampling is off)")
            return
        if self.resample_last_step is not None and self.resample_last_step >= decay_start:
            raise ValueError(
                f"resample_last_step: {self.resample_last_step} is not before step {decay_start}, where LR decay "
                "starts (n_steps - lr_decay_steps); resampled latents must train at full rate afterwards"
            )
        if self.resample_frequency > self.last_resample_step:
            raise ValueError(
                f"resample_frequency: {self.resample_frequency} is after the last resampling step "
                f"{self.last_resample_step} (resample_last_step, by default half of the steps before LR decay), "
                "so no latent would ever be resampled"
            )

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and "dead_steps_threshold" in data:
            raise ValueError(
                "dead_steps_threshold: replaced by dead_feature_threshold, counted in tokens "
                "(steps x batch_size); one definition of dead for AuxK and resampling"
            )
        return data

    @property
    def last_resample_step(self) -> int:
        """``resample_last_step``, or its default: half of the steps before LR decay starts."""
        if self.resample_last_step is not None:
            return self.resample_last_step
        return (self.n_steps - self.lr_decay_steps) // 2

    def resampling_steps(self) -> range:
        """The steps (counted in finished optimiser steps) after which dead latents are resampled."""
        if not self.resample_frequency:
            return range(0)
        return range(self.resample_frequency, self.last_resample_step + 1, self.resample_frequency)

    def matryoshka_levels(self) -> tuple[int, ...]:
        """The prefix widths a ``matryoshka_batchtopk`` run trains, ending at d_sae (see ``matryoshka_widths``)."""
        if self.matryoshka_widths is None:
            widths = sorted({max(1, self.d_sae >> shift) for shift in (4, 3, 2, 1)})
        else:
            widths = list(self.matryoshka_widths)
        return tuple(w for w in widths if w < self.d_sae) + (self.d_sae,)


TOPK_LIKE = frozenset({"topk", "batchtopk", "matryoshka_batchtopk"})
"""Architectures whose sparsity is set by ``k`` (and that need it)."""
_BATCHTOPK = frozenset({"batchtopk", "matryoshka_batchtopk"})
_JUMPRELU = frozenset({"jumprelu"})
_ARCH_KEYS: dict[str, frozenset[str]] = {
    "topk_threshold_lr": _BATCHTOPK,
    "matryoshka_widths": frozenset({"matryoshka_batchtopk"}),
    "jumprelu_bandwidth": _JUMPRELU,
    "jumprelu_init_threshold": _JUMPRELU,
    "jumprelu_sparsity_loss": _JUMPRELU,
    "jumprelu_tanh_scale": _JUMPRELU,
    "l0_coefficient": _JUMPRELU,
    "l0_warmup_steps": _JUMPRELU,
    "pre_act_loss_coefficient": _JUMPRELU,
    "resample_frequency": frozenset({"relu", "topk"}),
    "scale_l1_by_decoder_norm": frozenset({"relu", "topk", "gated"}),
}
"""Keys that only some architectures read: setting one to a non-default value for another is an error."""


# --------------------------------------------------------------------------------------------------------------
# Evaluation and analysis
# --------------------------------------------------------------------------------------------------------------


class EvaluateConfig(StrictModel):
    """Evaluate a trained SAE on held-out tokens."""

    run: str = "artifacts/runs/default"
    """Run directory (or run id once the database is in use)."""
    n_tokens: int = Field(50_000, ge=1, le=MAX_TOKENS)
    """Held-out tokens for reconstruction metrics, dead and dense fractions (eval.json says how many were used,
    and warns when the held-out split has fewer)."""
    ce_contexts: int = Field(16, ge=1, le=65_536)
    """Contexts for CE loss recovered and KL (each needs three LM forwards)."""
    batch_size: int = Field(8, ge=1, le=1024)
    """Contexts per LM forward in the CE/KL evaluation."""
    device: Device = "auto"
    """Where evaluation runs."""


class AnalyseConfig(StrictModel):
    """One streaming pass of feature analysis over a run's activations."""

    run: str = "artifacts/runs/default"
    """Run directory (or run id once the database is in use)."""
    n_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS)
    """Analyse at most this many tokens (None = every collected token)."""
    batch_tokens: int = Field(4096, ge=1, le=1 << 16)
    """Tokens encoded per batch."""
    top_k: int = Field(20, ge=1, le=1000)
    """Top activating examples kept per feature."""
    window_left: int = Field(12, ge=0, le=1024)
    """Tokens of context left of the max-activating token."""
    window_right: int = Field(4, ge=0, le=1024)
    """Tokens of context right of the max-activating token."""
    n_quantiles: int = Field(5, ge=0, le=100)
    """Activation-range bins to sample examples from (0 = off)."""
    quantile_samples: int = Field(3, ge=1, le=100)
    """Examples kept per activation-range bin."""
    histogram_bins: int = Field(32, ge=2, le=1024)
    """Log-spaced bins of the per-feature activation histogram."""
    n_logit_tokens: int = Field(10, ge=1, le=1000)
    """Top and bottom logit-lens tokens per feature."""
    n_neighbours: int = Field(10, ge=1, le=1000)
    """Neighbours per feature, by decoder cosine and by co-activation."""
    dense_threshold: float = Field(0.1, gt=0, le=1)
    """A feature firing on more than this fraction of tokens is dense."""
    exclude_bos: bool | None = None
    """Leave BOS positions (the BOS id at any position) out of every statistic; they stay visible in example
    windows. None = exactly what the SAE's training left out (its cfg.json; BOS for SAEs without that record),
    massive-norm positions included (``shared.exclusion``)."""
    heldout_every: int = Field(5, ge=2, le=1_000_000)
    """Every this-many-th context is held out to score auto-labels (never used to choose them)."""
    coactivation_tokens: int = Field(65_536, ge=1, le=1 << 24)
    """Tokens (the first ones of the pass) over which co-activation counts are taken."""
    token_index_features: int = Field(10, ge=1, le=1000)
    """Features listed per vocabulary token in the token index."""
    map_epochs: int = Field(200, ge=0, le=100_000)
    """Optimisation rounds of the 2-D dictionary map (decoder directions, UMAP-style); 0 leaves the map out."""
    seed: Seed = 0
    """Seed of the quantile reservoir sampling."""
    labeller: Literal["offline", "llm"] = "offline"
    """Auto-labeller: the built-in offline one, or an LLM plugged in behind the interface."""
    device: Device = "auto"
    """Where analysis runs."""


# --------------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------------

C = TypeVar("C", bound=StrictModel)


def _is_key_path(text: str) -> bool:
    parts = text.split(".")
    return parts[0].isidentifier() and all(p.isidentifier() or p.isdigit() for p in parts)


def describe_error(err: ValidationError, source: str) -> str:
    """One line per error: ``<source>: <key>: <message>`` (a validator that names its key keeps that key)."""
    parts = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
            head, sep, rest = msg.partition(": ")
            if sep and _is_key_path(head):  # the validator already names the key (``k``, ``saes.1.k``)
                key, msg = head, rest
        parts.append(f"{source}: {key}: {msg}")
    return "\n".join(parts)


def validate_config(cls: type[C], data: dict[str, Any], source: str = "config") -> C:
    """Validate ``data`` as ``cls``; raise ConfigError naming ``source`` and each bad key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys to values, got {type(data).__name__}")
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise ConfigError(describe_error(err, source)) from None


def parse_override(item: str) -> tuple[str, Any]:
    """Parse a ``key=value`` CLI override; the value is read as YAML (numbers, booleans, null, lists)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {item!r}: expected key=value")
    return key.strip(), yaml.safe_load(raw) if raw.strip() else None


def load_config(cls: type[C], path: str | Path | None, overrides: dict[str, Any] | None = None) -> C:
    """Load a YAML config file (or only defaults when ``path`` is None), apply overrides, validate strictly."""
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text()
        except FileNotFoundError:
            raise ConfigError(f"{source}: config file not found") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{source}: not valid YAML: {err}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping of keys to values")
    for key, value in (overrides or {}).items():
        data[key] = value
    return validate_config(cls, data, source)


def dump_config(cfg: StrictModel, path: str | Path) -> None:
    """Write a config as YAML (round-trips through ``load_config``)."""
    Path(path).write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
