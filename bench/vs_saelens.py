"""What the benches that measure us against SAELens on SmolLM2 activations share: where things are, the hook they
read, the spec of one training both sides get, our side's trainer config and SAE for it, and one run of SAELens's
own trainer in its venv (``bench.peers.saelens_train``)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
SAELENS_PY = REPO / ".bench" / "saelens" / "bin" / "python"
DATA_HOOK = "blocks.15.hook_resid_pre"


@dataclass(frozen=True)
class PeerSpec:
    """One training, handed verbatim to both trainers: ours reads the fields, the peer the same keys as JSON."""

    config: str
    architecture: str
    d_sae: int
    k: int | None
    batch: int
    steps: int
    warmup: int = 0
    lr: float = 4e-4
    l1_coefficient: float = 5.0
    seed: int = 0
    adam_betas: tuple[float, float] = (0.9, 0.999)
    max_grad_norm: float = 1.0
    """The total gradient norm is clipped to this before every Adam step: SAELens's SAETrainer hard-codes 1.0
    (the peer refuses any other value); ours gets it as ``TrainConfig.max_grad_norm``."""
    dead_window_steps: int = 1000
    """Steps without firing after which a latent counts as dead in training (AuxK): SAELens's
    ``dead_feature_window`` default; ours gets it in tokens (x batch)."""
    saelens_sparse_activations: bool = False
    """SAELens TopK family: ``use_sparse_activations`` (its documented speed switch for float32 without autocast)."""


def our_train_config(spec: PeerSpec, **settings: Any) -> Any:
    """``spec`` as our ``TrainConfig``, matched to what the peer does with it (SAELens's standard SAE always scales
    L1 by the decoder norm; the arrays both read are already scaled, so no input normalisation); ``settings``: the
    rest of the TrainConfig (device, the knobs a bench passes on)."""
    from shared.config import TrainConfig

    return TrainConfig(
        architecture=spec.architecture,
        d_sae=spec.d_sae,
        k=spec.k,
        l1_coefficient=spec.l1_coefficient,
        scale_l1_by_decoder_norm=spec.architecture == "relu",
        lr=spec.lr,
        batch_size=spec.batch,
        n_steps=spec.warmup + spec.steps,
        normalise_activations="none",
        seed=spec.seed,
        **settings,
    )


def our_sae(spec: PeerSpec, d_in: int) -> Any:
    """A fresh SAE of ``spec``'s architecture and size, ours."""
    from shared.sae import SAEConfig, create_sae

    return create_sae(SAEConfig(architecture=spec.architecture, d_in=d_in, d_sae=spec.d_sae, k=spec.k))


def run_saelens_train(spec: PeerSpec, train_path: Path, eval_path: Path, *extra: str) -> dict[str, Any]:
    """bench/peers/saelens_train.py in .bench/saelens on the arrays at ``train_path`` and ``eval_path``, configured
    by ``spec`` and ``extra`` arguments; the JSON record it prints last."""
    if not SAELENS_PY.is_file():
        raise FileNotFoundError(
            f"{SAELENS_PY}: the SAELens bench venv is missing; run bench/peers/setup_venvs.sh"
        )
    cmd = [str(SAELENS_PY), "-m", "bench.peers.saelens_train", "--train", str(train_path)]
    cmd += ["--eval", str(eval_path), "--spec", json.dumps(asdict(spec)), *extra]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"SAELens run of {spec.config} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])
