"""Inference of the BatchTopK, JumpReLU, Matryoshka and Gated SAEs against the papers' formulas in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.sae import SAEConfig, create_sae


def make(arch: str, k: int | None = None, d_in: int = 10, d_sae: int = 48, seed: int = 0):
    torch.manual_seed(seed)
    sae = create_sae(SAEConfig(arch, d_in, d_sae, k=k)).double()
    with torch.no_grad():
        sae.b_dec.normal_(0, 0.3)
        for name, t in sae.state_dict().items():
            if name in ("b_enc", "b_gate", "b_mag"):
                t.normal_(0, 0.3)
            elif name == "r_mag":
                t.normal_(0, 0.5)
            elif name == "threshold":
                t.uniform_(0.0, 0.8)
    return sae


def arrays(sae) -> dict[str, np.ndarray]:
    return {n: t.detach().numpy() for n, t in sae.state_dict().items()}


@pytest.mark.parametrize("arch", ["jumprelu", "batchtopk", "matryoshka_batchtopk"])
def test_threshold_architectures_encode_as_jumprelu(arch):
    """f_i = z_i H(z_i - θ_i), z = (x - b_dec) W_enc + b_enc (JumpReLU; BatchTopK's inference with its θ)."""
    sae = make(arch, k=4 if arch != "jumprelu" else None)
    if arch != "jumprelu":
        with torch.no_grad():
            sae.threshold.fill_(0.37)  # BatchTopK: one estimated threshold shared by every latent
    p = arrays(sae)
    x = np.random.default_rng(0).normal(size=(30, 10))
    z = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
    f = np.where(z > p["threshold"], z, 0.0)
    assert 0 < (f > 0).sum() < f.size, "some latents above, some below their threshold"
    got = sae.encode(torch.from_numpy(x))
    np.testing.assert_allclose(got.detach().numpy(), f, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        sae(torch.from_numpy(x)).detach().numpy(), f @ p["W_dec"] + p["b_dec"], rtol=1e-12
    )


@pytest.mark.parametrize("arch", ["batchtopk", "matryoshka_batchtopk"])
def test_batchtopk_inference_is_per_token(arch):
    """Each token's code is the same whether it is encoded alone or in any batch (the threshold, not the batch)."""
    sae = make(arch, k=3)
    with torch.no_grad():
        sae.threshold.fill_(0.2)
    x = torch.randn(16, 10, dtype=torch.double)
    together = sae.encode(x)
    alone = torch.cat([sae.encode(x[i : i + 1]) for i in range(16)])
    assert torch.equal(together > 0, alone > 0)
    torch.testing.assert_close(together, alone)
    assert (together > 0).sum(-1).unique().numel() > 1, (
        "the active count varies per token (not a per-token top-k)"
    )


def test_a_negative_threshold_passes_no_negative_preactivation():
    sae = make("jumprelu")
    with torch.no_grad():
        sae.threshold.fill_(-5.0)
    f = sae.encode(torch.randn(20, 10, dtype=torch.double))
    assert (f >= 0).all()


def test_gated_encode_matches_the_paper():
    """f = 1[π_gate > 0] ⊙ ReLU(π_mag); π_gate = (x - b_dec) W_gate + b_gate; π_mag = (x - b_dec)(W_gate ⊙ e^r_mag) + b_mag."""
    sae = make("gated")
    p = arrays(sae)
    x = np.random.default_rng(1).normal(size=(30, 10))
    centred = x - p["b_dec"]
    gate = centred @ p["W_enc"] + p["b_gate"]
    mag = centred @ (p["W_enc"] * np.exp(p["r_mag"])) + p["b_mag"]
    f = (gate > 0) * np.maximum(mag, 0.0)
    assert ((gate > 0) & (mag <= 0)).any() and ((gate <= 0) & (mag > 0)).any(), (
        "gate and magnitude disagree somewhere"
    )
    got = sae.encode(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, f, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        sae(torch.from_numpy(x)).detach().numpy(), f @ p["W_dec"] + p["b_dec"], rtol=1e-12
    )
    assert not hasattr(sae, "b_enc") and "b_enc" not in sae.state_dict()
    np.testing.assert_allclose(sae.pre_acts(torch.from_numpy(x)).detach().numpy(), gate, rtol=1e-12)
