"""Interop proved by SAELens itself (6.54.12 in its own pinned venv, run as a subprocess, never imported here).

(a) ``saelab export`` of an SAE of every architecture -> SAELens ``SAE.load_from_disk`` -> SAELens's encode/decode
on 1,000 activations equal saelab's (max abs diff <= 1e-5, float32). (b) SAEs that SAELens's own ``SAETrainer``
trains for a few steps, saved as SAELens saves them (its inference folder, and a mid-run checkpoint whose
activation scaling is not yet folded, with its activation_scaler.json) -> ``saelab import`` -> saelab's outputs
equal SAELens's. The peer venv is built on first use (bench/peers/peer_venv.py, cached by the lock's hash): if it
cannot be built, these tests fail and say why; they never skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file
from support.hf_cache import add_folder

from bench.peers.peer_venv import PeerVenvError, ensure_venv, ready_info
from cli.main import main
from shared.sae import SAEConfig, create_sae, load_sae, save_sae

HERE = Path(__file__).resolve().parent
PEER_SCRIPT = HERE / "saelens_peer.py"
TOLERANCE = 1e-5
D_IN, D_SAE, N = 32, 128, 1000

EXPORTS = {  # name: (architecture, k, normalize_activations, apply_b_dec_to_input, SAELens class that must load it)
    "relu": ("relu", None, "none", True, "StandardSAE"),
    "relu-layer-norm": ("relu", None, "layer_norm", True, "StandardSAE"),
    "topk": ("topk", 8, "none", True, "TopKSAE"),
    "topk-no-b-dec-in": ("topk", 8, "none", False, "TopKSAE"),
    "jumprelu": ("jumprelu", None, "none", True, "JumpReLUSAE"),
    "batchtopk": ("batchtopk", 8, "none", True, "JumpReLUSAE"),
    "matryoshka": ("matryoshka_batchtopk", 8, "none", True, "JumpReLUSAE"),
    "gated": ("gated", None, "none", True, "GatedSAE"),
    "gated-layer-norm": ("gated", None, "layer_norm", False, "GatedSAE"),
}
TRAINED = {  # SAELens architecture: the saelab class its folder must import as
    "standard": "relu",
    "topk": "topk",
    "batchtopk": "jumprelu",
    "jumprelu": "jumprelu",
    "gated": "gated",
}
CHECKPOINTED = ("standard", "topk", "batchtopk", "jumprelu", "gated")
PUSH_REPO = "someone/saelab-saes"
RESULTS: dict[str, dict[str, float]] = {}


def activations() -> torch.Tensor:
    """1,000 correlated activations with a mean offset; mean norm ~2 sqrt(d_in), so SAELens's scale is ~0.5."""
    gen = torch.Generator().manual_seed(0)
    mix = torch.randn(D_IN, D_IN, generator=gen) / D_IN**0.5
    return (
        torch.randn(N, D_IN, generator=gen) @ mix * 2 + 0.5 * torch.randn(D_IN, generator=gen)
    ).contiguous()


def saelab_sae(arch: str, k: int | None, norm: str, b_dec_in: bool, seed: int):
    """A saelab SAE with trained-looking weights: perturbed, biased towards sparsity, positive thresholds."""
    torch.manual_seed(seed)
    cfg = SAEConfig(
        arch, D_IN, D_SAE, k=k, hook_name="blocks.3.hook_resid_pre", model_name="gpt2", context_size=64,
        normalize_activations=norm, apply_b_dec_to_input=b_dec_in,
    )  # fmt: skip
    sae = create_sae(cfg)
    with torch.no_grad():
        for p in sae.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        if sae.has_b_enc:
            sae.b_enc.sub_(0.3)
        if hasattr(sae, "threshold"):
            sae.threshold.copy_(torch.rand_like(sae.threshold) * 0.5)
    return sae


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Export saelab SAEs through the CLI, then one SAELens subprocess loads them and trains its own SAEs."""
    try:
        python = ensure_venv("saelens")
    except PeerVenvError as err:
        pytest.fail(f"the SAELens peer venv could not be built, so interop cannot be proved: {err}")
    root = tmp_path_factory.mktemp("saelens-peer")
    x = activations()
    save_file({"x": x}, str(root / "x.safetensors"))
    saes, load = {}, []
    for seed, (name, (arch, k, norm, b_dec_in, _)) in enumerate(EXPORTS.items()):
        saes[name] = saelab_sae(arch, k, norm, b_dec_in, seed)
        save_sae(saes[name], root / "runs" / name)
        assert main(["export", "--run", str(root / "runs" / name), "--out", str(root / "export" / name)]) == 0
        load.append({"name": f"export-{name}", "dir": str(root / "export" / name)})
    train = [
        {"name": f"trained-{arch}", "architecture": arch, "d_sae": D_SAE, "checkpoint": arch in CHECKPOINTED,
         "normalize_activations": "expected_average_only_in", "steps": 30, "batch": 100}
        for arch in TRAINED
    ]  # fmt: skip
    # what `saelab push` uploads, put in a Hugging Face cache: SAELens's from_pretrained reads it offline
    upload = root / "upload"
    assert (
        main(["push", str(root / "runs" / "topk"), "--repo", PUSH_REPO, "--dry-run", "--out", str(upload)])
        == 0
    )
    add_folder(root / "hf" / "hub", PUSH_REPO, upload)
    pretrained = [{"name": "pushed-topk", "release": PUSH_REPO, "sae_id": "blocks.3.hook_resid_pre"}]
    job = {"x": str(root / "x.safetensors"), "out": str(root / "peer"), "load": load, "train": train,
           "pretrained": pretrained}  # fmt: skip
    (root / "job.json").write_text(json.dumps(job))
    env = {**os.environ, "PYTHONPATH": "", "TQDM_DISABLE": "1", "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1",
           "HF_HUB_CACHE": str(root / "hf" / "hub"), "HF_HOME": str(root / "hf")}  # fmt: skip
    proc = subprocess.run(
        [str(python), str(PEER_SCRIPT), str(root / "job.json")],
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"SAELens peer failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "root": root,
        "x": x,
        "saes": saes,
        "records": {r["name"]: r for r in report["records"]},
        "report": report,
    }


def max_diffs(
    ours_feats: torch.Tensor, ours_recon: torch.Tensor, theirs: dict[str, torch.Tensor]
) -> dict[str, float]:
    assert ours_feats.dtype == theirs["feats"].dtype == torch.float32
    return {
        "feats": float((ours_feats - theirs["feats"]).abs().max()),
        "recon": float((ours_recon - theirs["recon"]).abs().max()),
    }


def assert_nontrivial(feats: torch.Tensor) -> None:
    """The comparison means something: features fire, but not all of them on every token."""
    l0 = float((feats > 0).sum(-1).float().mean())
    assert 0.5 < l0 < D_SAE - 0.5, f"mean L0 {l0}: a degenerate SAE would make equal outputs meaningless"


def assert_equal_outputs(peer: dict[str, Any], sae: Any, outputs: str, result: str) -> None:
    """Our features and reconstruction of the peer's inputs equal SAELens' (its ``<outputs>.safetensors``), on
    an SAE that fires non-trivially; the differences are recorded under ``result``."""
    x = peer["x"]
    theirs = load_file(str(peer["root"] / "peer" / f"{outputs}.safetensors"))
    with torch.no_grad():
        diffs = max_diffs(sae.encode(x), sae(x), theirs)
    assert_nontrivial(theirs["feats"])
    RESULTS[result] = diffs
    assert diffs["feats"] <= TOLERANCE and diffs["recon"] <= TOLERANCE, diffs


@pytest.mark.parametrize("name", list(EXPORTS))
def test_saelab_export_loads_in_saelens_with_equal_outputs(peer, name):
    record = peer["records"][f"export-{name}"]
    assert record["class"] == EXPORTS[name][4]
    assert record["normalize_activations"] == EXPORTS[name][2]
    assert_equal_outputs(peer, peer["saes"][name], f"export-{name}", f"export {name}")


@pytest.mark.parametrize(
    "name", [f"trained-{a}" for a in TRAINED] + [f"trained-{a}-checkpoint" for a in CHECKPOINTED]
)
def test_saelens_trained_sae_imports_with_equal_outputs(peer, name, tmp_path: Path):
    record = peer["records"][name]
    arch = name.removeprefix("trained-").removesuffix("-checkpoint")
    if name.endswith("-checkpoint"):  # trained on x * s; s not yet folded: saelab must fold it on import
        assert (
            record["normalize_activations"] == "expected_average_only_in"
            and 0.3 < record["scaling_factor"] < 0.7
        )
    assert main(["import", record["folder"], "--out", str(tmp_path / "run")]) == 0
    sae = load_sae(tmp_path / "run")
    assert sae.architecture == TRAINED[arch] and sae.cfg.normalize_activations == "none"
    provenance = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert provenance["source"]["path"] == str(Path(record["folder"]).resolve())
    assert "sae_weights.safetensors" in provenance["files"]
    assert_equal_outputs(peer, sae, name, f"import {name}")


def test_pushed_folder_loads_with_saelens_from_pretrained(peer):
    """The model card's SAELens line works: from_pretrained(repo, subfolder) on exactly what push uploads."""
    record = peer["records"]["pushed-topk"]
    assert record["class"] == "TopKSAE" and record["hook_name"] == "blocks.3.hook_resid_pre"
    sae, x = peer["saes"]["topk"], peer["x"]
    theirs = load_file(str(peer["root"] / "peer" / "pushed-topk.safetensors"))
    with torch.no_grad():
        diffs = max_diffs(sae.encode(x), sae(x), theirs)
    RESULTS["push -> from_pretrained topk"] = diffs
    assert diffs["feats"] <= TOLERANCE and diffs["recon"] <= TOLERANCE, diffs


def test_report_round_trip_figures(peer):
    """Runs last in this module: prints every max abs diff and the venv's creation time (pytest -s shows them)."""
    info = ready_info("saelens") or {}
    print(
        f"\nSAELens {peer['report']['sae_lens']} peer venv created in {info.get('seconds')} s ({sys.platform})"
    )
    for key, diffs in sorted(RESULTS.items()):
        print(f"  {key:<40} feats {diffs['feats']:.2e}  recon {diffs['recon']:.2e}")
    assert RESULTS, "no round trip ran"
