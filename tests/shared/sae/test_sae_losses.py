"""Training losses of BatchTopK, JumpReLU, Matryoshka and Gated SAEs pinned against the papers' formulas.

Each loss and its gradients are recomputed directly (NumPy for values and the straight-through pseudo-derivatives,
plain dense autograd for the rest) on small double-precision inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.sae import LossOutput, LossSettings, SAEConfig, create_sae

D_IN, D_SAE, B = 8, 40, 24


def make(arch: str, k: int | None = None, seed: int = 0):
    torch.manual_seed(seed)
    sae = create_sae(SAEConfig(arch, D_IN, D_SAE, k=k)).double()
    with torch.no_grad():
        sae.b_dec.normal_(0, 0.3)
        sae.W_dec.mul_(torch.rand(D_SAE, 1, dtype=torch.double) + 0.5)  # non-unit norms: weighting shows
        for name, t in sae.state_dict().items():
            if name in ("b_enc", "b_gate", "b_mag"):
                t.normal_(0, 0.3)
            elif name == "r_mag":
                t.normal_(0, 0.4)
    return sae


def batch(seed: int = 1) -> torch.Tensor:
    return torch.randn(B, D_IN, dtype=torch.double, generator=torch.Generator().manual_seed(seed))


def grads(sae) -> dict[str, torch.Tensor]:
    out = {n: p.grad.clone() for n, p in sae.named_parameters() if p.grad is not None}
    sae.zero_grad()
    return out


def np_params(sae) -> dict[str, np.ndarray]:
    return {n: t.detach().numpy().copy() for n, t in sae.state_dict().items()}


def assert_grads_equal(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> None:
    assert set(got) == set(want)
    for name in want:
        torch.testing.assert_close(got[name], want[name], msg=name)


# --------------------------------------------------------------------------------------------------- JumpReLU

EPS = 0.4


def jumprelu_case(mode: str = "step"):
    sae = make("jumprelu")
    with torch.no_grad():
        sae.threshold.uniform_(0.05, 0.6)
    x = batch()
    settings = LossSettings(l0_coefficient=0.7, jumprelu_bandwidth=EPS, jumprelu_sparsity_loss=mode)
    return sae, x, settings


def test_jumprelu_step_loss_and_threshold_ste_match_the_paper():
    """L = |x - x̂|² + λ Σ_i H(z_i - θ_i); ∂L/∂θ_i = Σ_b [-(θ_i/ε) K((z_bi-θ_i)/ε) ∂L/∂f_bi - (λ/B)(1/ε) K(...)]."""
    sae, x, s = jumprelu_case()
    out = sae.training_loss(x, s)
    out.loss.backward()
    got = grads(sae)
    p, xn = np_params(sae), x.numpy()
    z = (xn - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
    theta = p["threshold"]
    on = z > theta
    f = np.where(on, z, 0.0)
    recon = f @ p["W_dec"] + p["b_dec"]
    mse = ((recon - xn) ** 2).sum(-1).mean()
    l0 = on.sum(-1).mean()
    np.testing.assert_allclose(out.loss.item(), mse + 0.7 * l0, rtol=1e-12)
    np.testing.assert_allclose(out.sparsity.item(), l0, rtol=1e-12)
    np.testing.assert_allclose(out.l0.item(), l0, rtol=1e-6)  # L0 is logged in float32
    kernel = (np.abs((z - theta) / EPS) < 0.5).astype(float)
    assert 0 < kernel.sum() < kernel.size / 2, "some pre-activations fall inside the kernel's window"
    dl_df = 2.0 / B * (recon - xn) @ p["W_dec"].T
    d_theta = (-(theta / EPS) * kernel * dl_df).sum(0) + 0.7 * (-(1.0 / EPS) * kernel).sum(0) / B
    np.testing.assert_allclose(got["threshold"].numpy(), d_theta, rtol=1e-10, atol=1e-12)


def test_jumprelu_other_gradients_are_the_ordinary_ones():
    """Away from θ, f = z on active latents: the encoder/decoder gradients are those of z · 1[z > θ] with the
    indicator held constant, and the L0 term sends nothing to the encoder (no STE to the input)."""
    sae, x, s = jumprelu_case()
    sae.training_loss(x, s).loss.backward()
    got = grads(sae)
    z = (x - sae.b_dec) @ sae.W_enc + sae.b_enc
    mask = (z > sae.threshold).double().detach()
    recon = (z * mask) @ sae.W_dec + sae.b_dec
    (recon - x).pow(2).sum(-1).mean().backward()
    want = grads(sae)
    del got["threshold"]
    assert_grads_equal(got, want)


def test_jumprelu_tanh_loss_matches_anthropics_formula():
    """S = Σ_i tanh(c f_i |d_i|); θ gets its gradient only through JumpReLU's STE (θ/ε factor)."""
    sae, x, s = jumprelu_case("tanh")
    s.jumprelu_tanh_scale = 3.0
    out = sae.training_loss(x, s)
    out.loss.backward()
    got = grads(sae)
    p, xn = np_params(sae), x.numpy()
    z = (xn - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
    theta, norms = p["threshold"], np.linalg.norm(p["W_dec"], axis=1)
    f = np.where(z > theta, z, 0.0)
    recon = f @ p["W_dec"] + p["b_dec"]
    tanh = np.tanh(3.0 * f * norms)
    want = ((recon - xn) ** 2).sum(-1).mean() + 0.7 * tanh.sum(-1).mean()
    np.testing.assert_allclose(out.loss.item(), want, rtol=1e-12)
    kernel = (np.abs((z - theta) / EPS) < 0.5).astype(float)
    dl_df = 2.0 / B * (recon - xn) @ p["W_dec"].T + 0.7 / B * (1 - tanh**2) * 3.0 * norms
    d_theta = (-(theta / EPS) * kernel * dl_df).sum(0)
    np.testing.assert_allclose(got["threshold"].numpy(), d_theta, rtol=1e-10, atol=1e-12)


def test_jumprelu_pre_act_loss_pushes_only_dead_latents_up():
    sae, x, s = jumprelu_case()
    dead = torch.zeros(D_SAE, dtype=torch.bool)
    dead[:10] = True
    base = sae.training_loss(x, s).loss.item()
    s.pre_act_loss_coefficient, s.dead_mask = 0.5, dead
    with_pre = sae.training_loss(x, s).loss.item()
    p = np_params(sae)
    z = (x.numpy() - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
    below = np.maximum(p["threshold"] - z, 0) * dead.numpy() * np.linalg.norm(p["W_dec"], axis=1)
    np.testing.assert_allclose(with_pre - base, 0.5 * below.sum(-1).mean(), rtol=1e-10)


def test_jumprelu_thresholds_start_at_the_init_value_and_stay_nonnegative():
    sae, x, s = jumprelu_case()
    s.jumprelu_init_threshold = 0.123
    sae.init_training(s)
    assert torch.equal(sae.threshold, torch.full((D_SAE,), 0.123, dtype=torch.double))
    with torch.no_grad():
        sae.threshold[:3] = -0.5
    sae.after_step(sae.training_loss(x, s), s)
    assert (sae.threshold >= 0).all() and (sae.threshold[3:] == 0.123).all()


# -------------------------------------------------------------------------------------------------- BatchTopK

K = 3


def dense_batchtopk(sae, x: torch.Tensor, k: int) -> torch.Tensor:
    """The paper's BatchTopK: keep the k·B largest ReLU(z) of the flattened batch, zero the rest."""
    z = torch.relu((x - sae.b_dec) @ sae.W_enc + sae.b_enc)
    flat = z.flatten()
    keep = torch.zeros_like(flat).scatter(0, flat.detach().topk(k * len(x)).indices, 1.0)
    return z * keep.reshape(z.shape)


def test_batchtopk_keeps_the_k_times_batch_largest_over_the_whole_batch():
    sae = make("batchtopk", k=K)
    x = batch()
    out = sae.training_loss(x, LossSettings())
    out.loss.backward()
    got = grads(sae)
    p = np_params(sae)
    z = np.maximum((x.numpy() - p["b_dec"]) @ p["W_enc"] + p["b_enc"], 0)
    nth = np.sort(z.ravel())[-K * B]
    chosen = z >= nth
    assert chosen.sum() == K * B and out.fire_counts.sum().item() == K * B
    per_token = chosen.sum(-1)
    assert per_token.min() != per_token.max(), "tokens get different counts (not a per-token top-k)"
    np.testing.assert_allclose(out.l0.item(), K)
    np.testing.assert_array_equal(out.fire_counts.numpy(), chosen.sum(0))
    f = dense_batchtopk(sae, x, K)
    recon = f @ sae.W_dec + sae.b_dec
    (recon - x).pow(2).sum(-1).mean().backward()
    torch.testing.assert_close(out.recon, recon.detach())
    assert_grads_equal(got, grads(sae))
    np.testing.assert_allclose(out.min_active.item(), z[chosen].min())


def test_batchtopk_threshold_is_the_first_minimum_then_its_moving_average():
    sae = make("batchtopk", k=K)
    settings = LossSettings(topk_threshold_lr=0.1)
    samples = []
    for step in range(3):
        x = batch(seed=10 + step)
        out = sae.training_loss(x, settings)
        samples.append(out.min_active.item())
        settings.step = step
        sae.after_step(out, settings)
    want = samples[0]
    for s in samples[1:]:
        want = 0.9 * want + 0.1 * s
    torch.testing.assert_close(sae.threshold, torch.full((D_SAE,), want, dtype=torch.double))
    assert len(set(samples)) == 3


def test_batchtopk_auxk_reaches_a_dead_latent():
    sae = make("batchtopk", k=2)
    dead = 7
    with torch.no_grad():
        sae.b_enc.fill_(20.0)
        sae.b_enc[dead] = 3.0
    x = batch()

    def dead_grad(coefficient: float) -> float:
        mask = torch.zeros(D_SAE, dtype=torch.bool)
        mask[dead] = True
        s = LossSettings(aux_k=1, aux_k_coefficient=coefficient, dead_mask=mask)
        out = sae.training_loss(x, s)
        assert out.fire_counts[dead] == 0
        out.loss.backward()
        g = grads(sae)
        return float(g["W_dec"][dead].norm() + g["W_enc"][:, dead].norm())

    assert dead_grad(0.0) == 0.0
    assert dead_grad(1 / 32) > 0.0


# ------------------------------------------------------------------------------------------------- Matryoshka

WIDTHS = (5, 15, D_SAE)


def test_matryoshka_sums_every_prefix_reconstruction():
    """L = Σ_j |x - (f[:, :w_j] W_dec[:w_j] + b_dec)|² (summed, not averaged, over the prefixes)."""
    sae = make("matryoshka_batchtopk", k=K)
    x = batch()
    out = sae.training_loss(x, LossSettings(matryoshka_widths=WIDTHS))
    out.loss.backward()
    got = grads(sae)
    f = dense_batchtopk(sae, x, K)
    losses = [((f[:, :w] @ sae.W_dec[:w] + sae.b_dec - x).pow(2).sum(-1).mean()) for w in WIDTHS]
    assert len({round(v.item(), 6) for v in losses}) == 3, "the prefixes reconstruct differently"
    total = torch.stack(losses).sum()
    total.backward()
    torch.testing.assert_close(out.loss.detach(), total.detach())
    torch.testing.assert_close(out.mse, losses[-1].detach())
    assert_grads_equal(got, grads(sae))


def test_matryoshka_with_one_level_is_batchtopk_and_bad_widths_are_refused():
    x = batch()
    single = make("matryoshka_batchtopk", k=K).training_loss(x, LossSettings(matryoshka_widths=(D_SAE,)))
    plain = make("batchtopk", k=K).training_loss(x, LossSettings())
    torch.testing.assert_close(single.loss, plain.loss)
    with pytest.raises(ValueError, match="matryoshka_widths"):
        make("matryoshka_batchtopk", k=K).training_loss(x, LossSettings(matryoshka_widths=(5, 15)))


# ----------------------------------------------------------------------------------------------------- Gated


def gated_reference(sae, x: torch.Tensor, l1: float) -> torch.Tensor:
    """The paper's loss, written out: frozen decoder copies in the auxiliary reconstruction."""
    centred = x - sae.b_dec
    gate = centred @ sae.W_enc + sae.b_gate
    mag = centred @ (sae.W_enc * sae.r_mag.exp()) + sae.b_mag
    f = (gate > 0).double() * torch.relu(mag)
    recon = f @ sae.W_dec + sae.b_dec
    gate_act = torch.relu(gate)
    sparsity = (gate_act * sae.W_dec.norm(dim=1).detach()).sum(-1).mean()
    aux = (gate_act @ sae.W_dec.detach() + sae.b_dec.detach() - x).pow(2).sum(-1).mean()
    return (recon - x).pow(2).sum(-1).mean() + l1 * sparsity + aux


def test_gated_loss_and_gradients_match_the_paper():
    sae = make("gated")
    x = batch()
    out = sae.training_loss(x, LossSettings(l1_coefficient=0.3))
    out.loss.backward()
    got = grads(sae)
    want_loss = gated_reference(sae, x, 0.3)
    want_loss.backward()
    torch.testing.assert_close(out.loss.detach(), want_loss.detach())
    assert_grads_equal(got, grads(sae))
    p, xn = np_params(sae), x.numpy()
    gate = (xn - p["b_dec"]) @ p["W_enc"] + p["b_gate"]
    l1 = (np.maximum(gate, 0) * np.linalg.norm(p["W_dec"], axis=1)).sum(-1).mean()
    np.testing.assert_allclose(out.sparsity.item(), l1, rtol=1e-12)


def test_gated_auxiliary_loss_leaves_the_decoder_alone():
    """The decoder's gradient is exactly that of the main reconstruction: neither the auxiliary loss (frozen
    decoder) nor the norm-weighted L1 (frozen norms) moves it."""
    sae = make("gated")
    x = batch()
    sae.training_loss(x, LossSettings(l1_coefficient=0.3)).loss.backward()
    got = grads(sae)
    centred = x - sae.b_dec
    gate = centred @ sae.W_enc + sae.b_gate
    f = (gate > 0).double() * torch.relu(centred @ (sae.W_enc * sae.r_mag.exp()) + sae.b_mag)
    (f.detach() @ sae.W_dec + sae.b_dec.detach() - x).pow(2).sum(-1).mean().backward()
    torch.testing.assert_close(got["W_dec"], sae.W_dec.grad)


@pytest.mark.parametrize("arch", ["batchtopk", "jumprelu", "matryoshka_batchtopk", "gated"])
def test_loss_outputs_are_detached_and_consistent(arch):
    sae = make(arch, k=K if arch.endswith("batchtopk") else None)
    x = batch()
    out: LossOutput = sae.training_loss(x, LossSettings(matryoshka_widths=WIDTHS))
    assert out.loss.requires_grad and not out.mse.requires_grad and not out.recon.requires_grad
    f = sae.encode(x) if arch in ("jumprelu", "gated") else dense_batchtopk(sae, x, K)
    np.testing.assert_array_equal(out.fire_counts.numpy(), (f > 0).sum(0).numpy())
    torch.testing.assert_close(out.l0, (f > 0).sum(-1).double().mean().float())


def test_batchtopk_keeps_exactly_k_times_batch_even_with_ties():
    """Low-precision pre-activations tie often: the n-th value's ties are cut so exactly k·B entries stay."""
    from shared.sae.batchtopk import batch_topk

    pre = torch.tensor([[3.0, 1.0, 1.0, 0.0], [1.0, 1.0, -2.0, 2.0]])
    rows, cols = batch_topk(pre, 4)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 0), (0, 1), (0, 2), (1, 3)]
    rows, cols = batch_topk(pre, 20)  # more than there are positive entries: every positive one
    assert len(rows) == 6
    coarse = torch.randn(64, 128).to(torch.bfloat16).float()
    assert len(batch_topk(coarse, 300)[0]) == 300
