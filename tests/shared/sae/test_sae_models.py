"""SAE model math: registry, TopK sparsity and sparse gradients, AuxK reach, normalisation folding."""

from __future__ import annotations

import pytest
import torch

from shared.sae import ARCHITECTURES, TOPK_LIKE, LossSettings, SAEConfig, create_sae, get_architecture


def make(arch: str, d_in: int = 16, d_sae: int = 64, k: int | None = None, seed: int = 0):
    torch.manual_seed(seed)
    sae = create_sae(SAEConfig(arch, d_in, d_sae, k=k if arch in TOPK_LIKE else None))
    with torch.no_grad():
        sae.b_dec.normal_(0, 0.3)
        for name in ("b_enc", "b_gate", "b_mag"):
            if hasattr(sae, name):
                getattr(sae, name).normal_(0, 0.1)
    return sae


def test_registry_names_match_classes_and_unknown_name_is_a_clear_error():
    assert set(ARCHITECTURES) == {"relu", "topk", "batchtopk", "jumprelu", "matryoshka_batchtopk", "gated"}
    for name, cls in ARCHITECTURES.items():
        assert cls.architecture == name
    with pytest.raises(ValueError, match="unknown SAE architecture 'transcoder'.*gated, jumprelu"):
        get_architecture("transcoder")


def test_parameters_have_saelens_names_and_shapes():
    sae = make("relu", d_in=8, d_sae=24)
    shapes = {n: tuple(p.shape) for n, p in sae.named_parameters()}
    assert shapes == {"W_enc": (8, 24), "b_enc": (24,), "W_dec": (24, 8), "b_dec": (8,)}
    assert torch.allclose(sae.W_dec.norm(dim=1), torch.ones(24))


def test_relu_encode_is_nonnegative_and_forward_matches_dense_formula():
    sae = make("relu")
    x = torch.randn(5, 3, 16)
    f = sae.encode(x)
    assert f.shape == (5, 3, 64) and (f >= 0).all()
    expected = torch.relu((x - sae.b_dec) @ sae.W_enc + sae.b_enc) @ sae.W_dec + sae.b_dec
    torch.testing.assert_close(sae(x), expected)


def test_topk_has_exactly_k_active_features_and_they_are_the_largest():
    sae = make("topk", k=5)
    with torch.no_grad():
        sae.b_enc.fill_(10.0)  # every pre-activation positive, so ReLU after TopK drops none
    x = torch.randn(32, 16)
    f = sae.encode(x)
    assert ((f > 0).sum(-1) == 5).all()
    pre = sae.pre_acts(x)
    kth = pre.topk(5, dim=-1).values[:, -1:]
    assert ((f > 0) == (pre >= kth)).all()
    torch.testing.assert_close(f[f > 0], pre[pre >= kth])


def test_topk_never_has_more_than_k_active():
    sae = make("topk", k=3)
    assert ((sae.encode(torch.randn(64, 16)) > 0).sum(-1) <= 3).all()


def test_topk_sparse_decode_and_gradients_equal_the_dense_computation():
    sae = make("topk", k=4).double()
    x = torch.randn(12, 16, dtype=torch.double)
    out = sae.training_loss(x, LossSettings())
    out.loss.backward()
    sparse_grads = {n: p.grad.clone() for n, p in sae.named_parameters()}
    sae.zero_grad()
    pre = (x - sae.b_dec) @ sae.W_enc + sae.b_enc
    mask = torch.zeros_like(pre).scatter(1, pre.topk(4, dim=-1).indices, 1.0)
    recon = (torch.relu(pre) * mask) @ sae.W_dec + sae.b_dec
    (recon - x).pow(2).sum(-1).mean().backward()
    torch.testing.assert_close(out.recon, recon.detach())
    for name, p in sae.named_parameters():
        torch.testing.assert_close(sparse_grads[name], p.grad, msg=name)


def test_auxk_sends_gradient_to_a_dead_latent_only_when_enabled():
    sae = make("topk", k=2)
    dead = 7
    with torch.no_grad():
        sae.b_enc.fill_(20.0)
        sae.b_enc[dead] = 3.0  # positive pre-activation, but always outcompeted: never in the top k
    x = torch.randn(64, 16)
    assert (sae.encode(x)[:, dead] == 0).all()
    mask = torch.zeros(64, dtype=torch.bool)
    mask[dead] = True

    def dead_grad(coefficient: float) -> float:
        sae.zero_grad()
        settings = LossSettings(aux_k=1, aux_k_coefficient=coefficient, dead_mask=mask)
        sae.training_loss(x, settings).loss.backward()
        return float(sae.W_dec.grad[dead].norm() + sae.W_enc.grad[:, dead].norm())

    assert dead_grad(0.0) == 0.0
    assert dead_grad(1 / 32) > 0.0


def test_relu_l1_scaled_by_decoder_norm():
    sae = make("relu")
    with torch.no_grad():
        sae.W_dec.mul_(2.0)
    x = torch.randn(8, 16)
    plain = sae.training_loss(x, LossSettings(l1_coefficient=1.0))
    scaled = sae.training_loss(x, LossSettings(l1_coefficient=1.0, scale_l1_by_decoder_norm=True))
    torch.testing.assert_close(scaled.sparsity, 2.0 * plain.sparsity)
    torch.testing.assert_close(plain.l1, sae.encode(x).sum(-1).mean().detach())


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_folding_the_input_scale_gives_identical_reconstructions_on_raw_inputs(arch):
    sae = make(arch, k=4).double()
    with torch.no_grad():
        for t in sae.state_dict().values():
            if t.dim() == 1 and t.shape[0] == 64:  # thresholds, gate/magnitude biases, r_mag: non-trivial
                t.uniform_(0.0, 0.3)
    raw = torch.randn(20, 16, dtype=torch.double) * 37.0
    scale = 0.05
    feats = sae.encode(raw * scale)
    expected = sae(raw * scale) / scale
    sae.fold_input_scale(scale)
    torch.testing.assert_close(sae.encode(raw), feats)
    torch.testing.assert_close(sae(raw), expected)


def test_config_rejects_impossible_k():
    with pytest.raises(ValueError, match="k"):
        SAEConfig("topk", 8, 4, k=5)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense-path", "sparse-path"])
@pytest.mark.parametrize("scaled", [False, True], ids=["l1", "l1-decoder-norm"])
def test_relu_training_loss_and_gradients_equal_the_dense_formula(sparse, scaled):
    sae = make("relu", d_in=16, d_sae=200).double()
    with torch.no_grad():
        sae.W_dec.mul_(torch.rand(200, 1, dtype=torch.double) + 0.5)
        if sparse:  # only a handful of features can fire, so training takes the sparse kernels
            sae.b_enc.fill_(-4.0)
    x = torch.randn(32, 16, dtype=torch.double)
    settings = LossSettings(l1_coefficient=0.3, scale_l1_by_decoder_norm=scaled)
    out = sae.training_loss(x, settings)
    out.loss.backward()
    got = {n: p.grad.clone() for n, p in sae.named_parameters()}
    sae.zero_grad()
    f = torch.relu((x - sae.b_dec) @ sae.W_enc + sae.b_enc)
    assert (int((f > 0).sum(-1).max()) * 10 <= 200) == sparse
    recon = f @ sae.W_dec + sae.b_dec
    weights = sae.W_dec.norm(dim=1) if scaled else 1.0
    loss = (recon - x).pow(2).sum(-1).mean() + 0.3 * (f * weights).sum(-1).mean()
    loss.backward()
    torch.testing.assert_close(out.loss.detach(), loss.detach())
    torch.testing.assert_close(out.recon, recon.detach())
    torch.testing.assert_close(out.fire_counts, (f > 0).sum(0))
    for name, p in sae.named_parameters():
        torch.testing.assert_close(got[name], p.grad, msg=name)
