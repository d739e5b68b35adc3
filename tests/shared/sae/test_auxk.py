"""The AuxK loss value pinned against a NumPy float64 hand computation (Gao et al. 2024, SAELens's normalisation)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.sae import LossSettings, SAEConfig, create_sae

D_IN, D_SAE, K = 8, 40, 3


def topk_sae(seed: int = 0):
    torch.manual_seed(seed)
    sae = create_sae(SAEConfig("topk", D_IN, D_SAE, k=K)).double()
    with torch.no_grad():
        sae.b_dec.normal_(0, 0.5)
        sae.b_enc.normal_(0, 0.5)
        sae.W_enc.mul_(torch.rand(1, D_SAE, dtype=torch.double) * 2)
    return sae


def hand_auxk(sae, x: np.ndarray, dead: np.ndarray, aux_k: int | None) -> tuple[float, float]:
    """(main MSE, L_aux): e = x - x_hat; among dead latents only, the top min(k_aux, n_dead) pre-activations per
    token, ReLU'd, decoded without b_dec; L_aux = min(n_dead / k_aux, 1) * mean_b ||e_b - e_hat_b||^2."""
    W_enc, b_enc = sae.W_enc.detach().numpy(), sae.b_enc.detach().numpy()
    W_dec, b_dec = sae.W_dec.detach().numpy(), sae.b_dec.detach().numpy()
    pre = (x - b_dec) @ W_enc + b_enc
    f = np.zeros_like(pre)
    for b in range(len(x)):
        top = np.argsort(-pre[b])[:K]
        f[b, top] = np.maximum(pre[b, top], 0)
    x_hat = f @ W_dec + b_dec
    e = x - x_hat
    mse = float(((x_hat - x) ** 2).sum(1).mean())
    requested = aux_k if aux_k is not None else D_IN // 2
    n_dead = int(dead.sum())
    chosen = min(requested, n_dead)
    e_hat = np.zeros_like(x)
    dead_idx = np.flatnonzero(dead)
    for b in range(len(x)):
        top = dead_idx[np.argsort(-pre[b, dead_idx])[:chosen]]
        e_hat[b] = np.maximum(pre[b, top], 0) @ W_dec[top]
    scale = min(n_dead / requested, 1.0)
    return mse, scale * float(((e - e_hat) ** 2).sum(1).mean())


@pytest.mark.parametrize(
    ("n_dead", "aux_k"),
    [(3, 6), (12, 5), (20, None), (2, None)],
    ids=["fewer-dead-than-k_aux", "more-dead-than-k_aux", "default-k_aux", "scaled-down-default"],
)
def test_auxk_loss_value_matches_the_hand_computation(n_dead: int, aux_k: int | None):
    sae = topk_sae()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, D_IN)) * 2 + 1
    dead = np.zeros(D_SAE, dtype=bool)
    dead[rng.choice(D_SAE, n_dead, replace=False)] = True
    coefficient = 1 / 32
    settings = LossSettings(aux_k=aux_k, aux_k_coefficient=coefficient, dead_mask=torch.from_numpy(dead))
    out = sae.training_loss(torch.from_numpy(x), settings)
    mse, aux = hand_auxk(sae, x, dead, aux_k)
    assert aux > 0
    np.testing.assert_allclose(float(out.sparsity), aux, rtol=1e-10)
    np.testing.assert_allclose(float(out.mse), mse, rtol=1e-10)
    np.testing.assert_allclose(float(out.loss.detach()), mse + coefficient * aux, rtol=1e-10)


def test_negative_dead_pre_activations_contribute_nothing():
    """With k_aux = n_dead every dead latent is chosen; those with a negative pre-activation are ReLU'd to zero."""
    sae = topk_sae()
    x = torch.randn(16, D_IN, dtype=torch.double, generator=torch.Generator().manual_seed(3))
    dead = torch.zeros(D_SAE, dtype=torch.bool)
    dead[[4, 9, 17]] = True
    with torch.no_grad():
        sae.b_enc[
            [4, 9, 17]
        ] = -50.0  # never positive: the aux reconstruction is 0, L_aux = mean ||e||^2 (x 3/4)
    out = sae.training_loss(x, LossSettings(aux_k=4, aux_k_coefficient=1.0, dead_mask=dead))
    e = x - out.recon
    torch.testing.assert_close(out.sparsity, 3 / 4 * e.pow(2).sum(-1).mean())


def test_no_dead_latents_no_aux_loss():
    sae = topk_sae()
    x = torch.randn(4, D_IN, dtype=torch.double)
    out = sae.training_loss(
        x, LossSettings(aux_k=4, aux_k_coefficient=1.0, dead_mask=torch.zeros(D_SAE, dtype=torch.bool))
    )
    assert float(out.sparsity) == 0.0 and torch.equal(out.loss, out.mse)


@pytest.mark.parametrize("arch", ["topk", "batchtopk"])
@pytest.mark.parametrize("n_dead", [2, 7, 25])
def test_dense_and_sparse_auxk_forms_give_the_same_loss_and_gradients(monkeypatch, arch: str, n_dead: int):
    """AuxK over few dead latents runs as dense products over their columns; over many, as sparse gathers: the loss
    and every parameter's gradient must not depend on which form ran."""
    import shared.sae.topk as topk_module

    rng = np.random.default_rng(n_dead)
    x = torch.from_numpy(rng.normal(size=(32, D_IN)) * 2 + 1)
    dead = torch.zeros(D_SAE, dtype=torch.bool)
    dead[torch.from_numpy(rng.choice(D_SAE, n_dead, replace=False))] = True
    results = []
    for factor in (10**6, 0):  # everything dense / everything sparse
        monkeypatch.setattr(topk_module, "AUXK_DENSE_DEAD_FACTOR", factor)
        torch.manual_seed(0)
        sae = create_sae(SAEConfig(arch, D_IN, D_SAE, k=K)).double()
        with torch.no_grad():
            sae.b_dec.normal_(0, 0.5)
            sae.b_enc.normal_(0, 0.5)
        out = sae.training_loss(x, LossSettings(aux_k=4, aux_k_coefficient=1.0, dead_mask=dead))
        out.loss.backward()
        results.append((float(out.sparsity), {n: p.grad.clone() for n, p in sae.named_parameters()}))
    (dense_aux, dense_grads), (sparse_aux, sparse_grads) = results
    assert dense_aux > 0
    np.testing.assert_allclose(dense_aux, sparse_aux, rtol=1e-12)
    for name, grad in dense_grads.items():
        np.testing.assert_allclose(
            grad.numpy(), sparse_grads[name].numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )
