"""A planted dead latent: data made of 8 signed features ``+-e_i`` (d_in 4) and an SAE whose latent 7 (feature
-e3) is dead by construction, for the tests that AuxK revives it."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from shared.sae import SAE, SAEConfig, create_sae

SIGNED = torch.cat([torch.eye(4), -torch.eye(4)])  # 8 features +-e_i: zero-mean data, so b_dec stays ~0


def signed_feature_batches(seed: int) -> Iterator[torch.Tensor]:
    """Batches of 64 tokens, each one of the 8 signed features scaled by a factor in [1, 2)."""
    gen = torch.Generator().manual_seed(seed)
    while True:
        which = torch.randint(0, 8, (64,), generator=gen)
        yield SIGNED[which] * (1 + torch.rand(64, 1, generator=gen))


def planted_dead_latent_sae(architecture: str) -> SAE:
    """An ``architecture`` SAE (d_in 4, d_sae 8, k 1; seed 0) holding the 8 features, except latent 7: a weak
    encoder, a random decoder row, and latent 6 (feature -e2) outbidding it on every -e3 token."""
    torch.manual_seed(0)
    sae = create_sae(SAEConfig(architecture, 4, 8, k=1))
    with torch.no_grad():
        sae.W_dec.copy_(SIGNED)
        sae.W_enc.copy_(SIGNED.T)
        sae.W_enc[:, 6] = SIGNED[6] + 0.9 * SIGNED[7]
        sae.W_enc[:, 7] = 0.05 * SIGNED[7]
        sae.W_dec[7] = torch.nn.functional.normalize(torch.tensor([0.3, -0.5, 0.6, 0.5]), dim=0)
    return sae
