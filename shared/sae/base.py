"""The SAE base class (parameters, encode/decode/forward), its config, and the training-loss value types."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn

NORMALISATIONS = ("none", "layer_norm", "expected_average_only_in")
"""Values of ``SAEConfig.normalize_activations`` an SAE can carry (SAELens's names)."""
LAYER_NORM_EPS = 1e-5
"""SAELens's ``layer_norm`` epsilon (added to the standard deviation on the way in only)."""


@dataclass
class SAEConfig:
    """What an SAE is and what it was trained on; saved as ``cfg.json`` (SAELens-compatible names)."""

    architecture: str
    """Registry name (``shared.sae.registry``): relu, topk, batchtopk, jumprelu, matryoshka_batchtopk, gated."""
    d_in: int
    """Width of the activations the SAE reads (the LM's d_model)."""
    d_sae: int
    """Number of dictionary features."""
    k: int | None = None
    """Active features per token (``topk``), or on average over a training batch (``batchtopk``,
    ``matryoshka_batchtopk``, whose inference uses the estimated threshold instead)."""
    hook_name: str = ""
    """Hook point the activations come from, e.g. ``blocks.8.hook_resid_pre``."""
    model_name: str = ""
    """LM the activations come from (hub name, local dir or .gguf path)."""
    model_gguf_file: str | None = None
    """GGUF file name inside ``model_name`` when it is a directory."""
    context_size: int | None = None
    """Tokens per context the activations were collected with."""
    prepend_bos: bool = True
    """Whether contexts started with BOS."""
    normalize_activations: str = "none"
    """Input normalisation, SAELens's names: ``none`` (raw activations in; a training scale is folded into the
    weights), ``layer_norm`` (applied per token at run time: OpenAI's v5 SAEs; see ``normalise_input``), or
    ``expected_average_only_in`` (only a label: saelab folds its scaling factor into the weights on import)."""
    center_input: bool = False
    """Subtract each token's mean over ``d_in`` before encoding and add it back to the reconstruction: SAEs trained
    on TransformerLens models loaded with ``center_writing_weights`` (e.g. SAELens's ``gpt2-small-res-jb``) read
    residual vectors that are exactly the Hugging Face ones minus their mean (docs/theory.md)."""
    apply_b_dec_to_input: bool = True
    """Subtract ``b_dec`` from the input before encoding."""
    dtype: str = "float32"
    """Parameter dtype."""
    activations_path: str | None = None
    """The activation dataset directory the SAE was trained on."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form provenance (e.g. the folded input scale); saved under ``saelab`` in cfg.json."""

    def __post_init__(self) -> None:
        if self.normalize_activations not in NORMALISATIONS:
            raise ValueError(
                f"SAEConfig: normalize_activations: {self.normalize_activations!r} is not one of "
                f"{', '.join(NORMALISATIONS)}"
            )
        if self.d_in < 1 or self.d_sae < 1:
            raise ValueError(f"SAEConfig: d_in ({self.d_in}) and d_sae ({self.d_sae}) must be positive")
        if self.k is not None and not 1 <= self.k <= self.d_sae:
            raise ValueError(f"SAEConfig: k ({self.k}) must be between 1 and d_sae ({self.d_sae})")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LossSettings:
    """Training-only knobs handed to ``SAE.training_loss`` and the training hooks per step (never stored on the SAE)."""

    step: int = 0
    """0-based index of the training step this loss is for."""
    l1_coefficient: float = 0.0
    """L1 coefficient after its warm-up (``relu``; ``gated``'s gate penalty)."""
    scale_l1_by_decoder_norm: bool = False
    aux_k: int | None = None
    aux_k_coefficient: float = 0.0
    dead_mask: Tensor | None = None
    """[d_sae] bool: latents currently counted as dead (AuxK; JumpReLU's pre-activation loss)."""
    l0_coefficient: float = 0.0
    """``jumprelu``: L0 (or tanh) sparsity coefficient after its warm-up."""
    jumprelu_bandwidth: float = 0.05
    """``jumprelu``: width of the rectangle kernel of the straight-through estimator."""
    jumprelu_init_threshold: float = 0.01
    """``jumprelu``: every latent's threshold at the start of a fresh run."""
    jumprelu_sparsity_loss: Literal["step", "tanh"] = "step"
    """``jumprelu``: ``step`` = L0 through the step function's STE (DeepMind); ``tanh`` = Anthropic's
    ``tanh(c * f * |d|)``."""
    jumprelu_tanh_scale: float = 4.0
    """``jumprelu``: c of the tanh sparsity loss."""
    pre_act_loss_coefficient: float = 0.0
    """``jumprelu``: Anthropic's pre-activation loss on dead latents (0 = off)."""
    topk_threshold_lr: float = 0.01
    """``batchtopk``: rate of the moving average of the batch's smallest kept activation (the inference threshold)."""
    matryoshka_widths: tuple[int, ...] = ()
    """``matryoshka_batchtopk``: nested prefix widths, strictly increasing, the last one d_sae."""


@dataclass
class LossOutput:
    """One training step's loss and the detached values the trainer logs and tracks."""

    loss: Tensor
    """Scalar to backpropagate."""
    mse: Tensor
    """Squared error summed over d_in, averaged over tokens (on the SAE's input scale)."""
    sparsity: Tensor
    """The sparsity/aux term added to the loss before its coefficient: L1 (relu), AuxK (topk, batchtopk,
    matryoshka_batchtopk), the L0 or tanh term (jumprelu), the gate's L1 (gated)."""
    l1: Tensor
    """Mean L1 norm of the feature activations."""
    l0: Tensor
    """Mean number of active features per token."""
    recon: Tensor
    """[B, d_in] reconstruction (detached)."""
    fire_counts: Tensor
    """[d_sae] number of tokens each feature fired on in this batch."""
    min_active: Tensor | None = None
    """Smallest positive activation kept in this batch (BatchTopK's threshold sample), if the architecture uses it."""

    @classmethod
    def of_dense(cls, loss: Tensor, mse: Tensor, sparsity: Tensor, f: Tensor, recon: Tensor) -> LossOutput:
        """The output of a step whose activations ``f`` are dense [B, d_sae] (a feature fires where f > 0)."""
        active = f.detach() > 0
        return cls(
            loss=loss,
            mse=mse.detach(),
            sparsity=sparsity.detach(),
            l1=f.detach().sum(-1).mean(),
            l0=active.sum(-1, dtype=torch.float32).mean(),
            recon=recon.detach(),
            fire_counts=active.sum(0),
        )


class SAE(nn.Module):
    """A sparse autoencoder: ``f = act(W_enc^T (x - b_dec) + b_enc)``, ``x_hat = f W_dec + b_dec``.

    An architecture subclasses this, names itself in ``architecture`` and overrides ``encode`` and
    ``training_loss``; tensors beyond the four shared ones (thresholds, gate biases) are created in
    ``add_parameters`` and initialised in ``reset_parameters``. The trainer calls ``init_training`` once on a fresh
    run and ``after_step`` after every optimiser step (both no-ops unless the architecture has state to keep).
    """

    architecture: ClassVar[str] = ""
    has_b_enc: ClassVar[bool] = True
    """Whether the encoder has the plain ``b_enc`` bias (``gated`` has ``b_gate`` and ``b_mag`` instead)."""
    uses_dead_mask: ClassVar[bool] = False
    """Whether ``training_loss`` reads ``LossSettings.dead_mask`` (the trainer computes it only then)."""

    def __init__(self, cfg: SAEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        dtype = getattr(torch, cfg.dtype)
        self.W_enc = nn.Parameter(torch.empty(cfg.d_in, cfg.d_sae, dtype=dtype))
        if self.has_b_enc:
            self.b_enc = nn.Parameter(torch.zeros(cfg.d_sae, dtype=dtype))
        self.W_dec = nn.Parameter(torch.empty(cfg.d_sae, cfg.d_in, dtype=dtype))
        self.b_dec = nn.Parameter(torch.zeros(cfg.d_in, dtype=dtype))
        self.add_parameters(dtype)
        self.reset_parameters()

    def add_parameters(self, dtype: torch.dtype) -> None:
        """Create the architecture's own parameters and buffers (none for a plain SAE)."""

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Unit-norm random decoder rows, encoder = decoder transpose, zero biases."""
        w = torch.randn(self.cfg.d_sae, self.cfg.d_in, generator=generator, dtype=torch.float32)
        w /= w.norm(dim=1, keepdim=True)
        self.W_dec.copy_(w)
        self.W_enc.copy_(w.T)
        if self.has_b_enc:
            self.b_enc.zero_()
        self.b_dec.zero_()

    # ---------------------------------------------------------------------------------------------- inference

    def normalise_input(self, x: Tensor) -> Tensor:
        """The SAE's view of raw activations: ``x`` itself; ``x - mean(x)`` per token with ``center_input``; for
        ``layer_norm`` (SAELens's definition) ``(x - mean(x)) / (std(x) + 1e-5)`` (std of the centred vector,
        unbiased)."""
        layer_norm = self.cfg.normalize_activations == "layer_norm"
        if not (layer_norm or self.cfg.center_input):
            return x
        centred = x - x.mean(-1, keepdim=True)
        return centred / (centred.std(-1, keepdim=True) + LAYER_NORM_EPS) if layer_norm else centred

    def denormalise_output(self, recon: Tensor, x: Tensor) -> Tensor:
        """``decode``'s output mapped back to the raw input ``x``'s space: ``recon * std(x) + mean(x)`` for
        ``layer_norm`` (as SAELens does), ``recon + mean(x)`` with ``center_input``, else ``recon``."""
        layer_norm = self.cfg.normalize_activations == "layer_norm"
        if not (layer_norm or self.cfg.center_input):
            return recon
        mean = x.mean(-1, keepdim=True)
        return recon * (x - mean).std(-1, keepdim=True) + mean if layer_norm else recon + mean

    def encoder_input(self, x: Tensor) -> Tensor:
        x = self.normalise_input(x)
        return x - self.b_dec if self.cfg.apply_b_dec_to_input else x

    def pre_acts(self, x: Tensor) -> Tensor:
        """Encoder pre-activations ``[..., d_sae]``."""
        return self.encoder_input(x) @ self.W_enc + self.b_enc

    def training_pre_acts(self, x: Tensor) -> Tensor:
        """``pre_acts`` for training (raw inputs: saelab never trains with ``layer_norm``): ``x @ W_enc + (b_enc - b_dec @ W_enc)``, the same value, but the backward
        pass skips the ``[B, d_sae] x [d_sae, d_in]`` matmul that the gradient of ``x - b_dec`` would cost."""
        bias = self.b_enc - self.b_dec @ self.W_enc if self.cfg.apply_b_dec_to_input else self.b_enc
        return torch.addmm(bias, x, self.W_enc) if x.dim() == 2 else x @ self.W_enc + bias

    def encode(self, x: Tensor) -> Tensor:
        """Dense non-negative feature activations ``[..., d_sae]``."""
        raise NotImplementedError

    def decode(self, f: Tensor) -> Tensor:
        """Reconstruction ``[..., d_in]`` from dense feature activations, in the SAE's input space (raw activations
        unless ``layer_norm``: then ``denormalise_output(decode(f), x)`` is the raw-space reconstruction)."""
        return torch.addmm(self.b_dec, f, self.W_dec) if f.dim() == 2 else f @ self.W_dec + self.b_dec

    def forward(self, x: Tensor) -> Tensor:
        """Reconstruction of the raw activations ``x``."""
        return self.denormalise_output(self.decode(self.encode(x)), x)

    # ---------------------------------------------------------------------------------------------- training

    def training_loss(self, x: Tensor, settings: LossSettings) -> LossOutput:
        """Loss of one batch ``[B, d_in]`` under ``settings``."""
        raise NotImplementedError

    @torch.no_grad()
    def init_training(self, settings: LossSettings) -> None:
        """Set training-time initial values (e.g. JumpReLU thresholds) at the start of a fresh run."""

    @torch.no_grad()
    def after_step(self, out: LossOutput, settings: LossSettings) -> None:
        """Update non-gradient state (e.g. BatchTopK's threshold estimate) after an optimiser step."""

    @torch.no_grad()
    def fold_input_scale(self, scale: float) -> None:
        """Make an SAE trained on ``x * scale`` work on raw ``x`` (feature activations unchanged)."""
        self.W_enc.mul_(scale)
        self.W_dec.div_(scale)
        self.b_dec.div_(scale)

    def extra_repr(self) -> str:
        return (
            f"architecture={self.architecture}, d_in={self.cfg.d_in}, d_sae={self.cfg.d_sae}, k={self.cfg.k}"
        )


def mse_sum(recon: Tensor, x: Tensor) -> Tensor:
    """Squared error summed over the last dim, averaged over tokens (SAELens's convention)."""
    return (recon - x).pow(2).sum(-1).mean()


def state_mismatch(state: dict[str, Tensor], tensors: dict[str, Tensor]) -> tuple[list[str], list[str]]:
    """Names of ``state`` missing from ``tensors``, and names of ``tensors`` the state does not have (both sorted)."""
    return sorted(set(state) - set(tensors)), sorted(set(tensors) - set(state))


def first_wrong_shape(
    state: dict[str, Tensor], tensors: dict[str, Tensor]
) -> tuple[str, tuple, tuple] | None:
    """``(name, shape in tensors, shape in state)`` of the first tensor whose shape differs, or None."""
    for name, expected in state.items():
        if tuple(tensors[name].shape) != tuple(expected.shape):
            return name, tuple(tensors[name].shape), tuple(expected.shape)
    return None


def cast_to_state(state: dict[str, Tensor], tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    """``tensors`` (with exactly ``state``'s names) in the dtypes of ``state``, ready for ``load_state_dict``."""
    return {name: tensors[name].to(expected.dtype) for name, expected in state.items()}
