"""The Hub path for real, offline: ``saelab import``/``pull`` against a Hugging Face cache in huggingface_hub's own
layout with ``HF_HUB_OFFLINE=1`` (a subprocess, so the environment is read as a user's shell sets it), and the exact
folder ``saelab push`` would upload. The network itself is not reachable here (see README "Bring SAEs in and out").
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_bytes
from support.hf_cache import add_folder, add_repo

from cli.main import main
from shared.sae import SAEConfig, create_sae, load_sae, save_sae
from shared.sae.releases import resolve_release
from shared.sae.saelens import read_saelens

REPO_ROOT = Path(__file__).resolve().parents[3]
D, W = 16, 48  # tiny SAEs: the Hub path, not the size, is under test
JB = resolve_release("gpt2-small-res-jb", "blocks.8.hook_resid_pre")
OAI = resolve_release("gpt2-small-resid-post-v5-32k", "blocks.5.hook_resid_post")
GEMMA = resolve_release("gemma-scope-2b-pt-res-canonical", "layer_3/width_16k/canonical")
MLP_TM = resolve_release("gpt2-small-mlp-tm", "blocks.1.hook_mlp_out")


def tensors(seed: int, d_in: int = D, names=("W_enc", "b_enc", "W_dec", "b_dec")) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    shapes = {"W_enc": (d_in, W), "W_dec": (W, d_in), "b_dec": (d_in,)}
    return {n: (torch.randn(shapes.get(n, (W,)), generator=gen) * 0.3).contiguous() for n in names}


def st_bytes(t: dict[str, torch.Tensor]) -> bytes:
    return save_bytes(t)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A Hugging Face cache holding one SAE of four table releases, each in its publisher's real layout."""
    cache = tmp_path_factory.mktemp("hf") / "hub"
    jb_cfg = {  # the jb release's pre-v1 SAELens cfg: flat, hook_point, torch dtype, no architecture
        "model_name": "gpt2-small", "hook_point": "blocks.8.hook_resid_pre", "hook_point_layer": 8,
        "hook_point_head_index": None, "d_in": D, "d_sae": W, "dtype": "torch.float32", "context_size": 128,
        "dataset_path": "Skylion007/openwebtext", "l1_coefficient": 8e-05, "lp_norm": 1, "device": "cuda",
    }  # fmt: skip
    oai_cfg = {  # SAELens 5 conversion of OpenAI's v5 TopK SAEs: standard + topk activation, layer_norm inputs
        "architecture": "standard", "d_in": D, "d_sae": W, "dtype": "float32", "model_name": "gpt2-small",
        "hook_name": "blocks.5.hook_resid_post", "hook_layer": 5, "hook_head_index": None,
        "activation_fn_str": "topk", "activation_fn_kwargs": {"k": 6}, "apply_b_dec_to_input": True,
        "finetuning_scaling_factor": False, "context_size": 64, "normalize_activations": "layer_norm",
        "sae_lens_training_version": None, "prepend_bos": True,
    }  # fmt: skip
    tm_cfg = jb_cfg | {
        "hook_point": "blocks.1.hook_mlp_out",
        "hook_point_layer": 1,
        "normalize_activations": True,
    }
    t = {"jb": tensors(1), "oai": tensors(2), "tm": tensors(4)}
    t["gemma"] = tensors(3, d_in=GEMMA.d_in or 0, names=("W_enc", "b_enc", "W_dec", "b_dec", "threshold"))
    t["gemma"]["threshold"] = t["gemma"]["threshold"].abs()
    npz = io.BytesIO()
    np.savez(npz, **{n: v.numpy() for n, v in t["gemma"].items()})
    commits = {
        "jb": add_repo(cache, JB.repo_id, {
            f"{JB.path}/cfg.json": json.dumps(jb_cfg).encode(),
            f"{JB.path}/sae_weights.safetensors": st_bytes(t["jb"]),
            f"{JB.path}/sparsity.safetensors": st_bytes({"sparsity": torch.full((W,), -3.0)}),
        }),
        "oai": add_repo(cache, OAI.repo_id, {
            f"{OAI.path}/cfg.json": json.dumps(oai_cfg).encode(),
            f"{OAI.path}/sae_weights.safetensors": st_bytes(t["oai"]),
        }),
        "gemma": add_repo(cache, GEMMA.repo_id, {f"{GEMMA.path}/params.npz": npz.getvalue()}),
        "tm": add_repo(cache, MLP_TM.repo_id, {
            f"{MLP_TM.path}/cfg.json": json.dumps(tm_cfg).encode(),
            f"{MLP_TM.path}/sae_weights.safetensors": st_bytes(t["tm"]),
        }),
    }  # fmt: skip
    return {"cache": cache, "tensors": t, "commits": commits}


def offline_env(cache: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(cache),
        "HF_HOME": str(cache.parent / "home"),
        "PYTHONPATH": str(REPO_ROOT),
    }


def saelab_offline(cache: Path, *commands: list[str]) -> list[dict[str, Any]]:
    """Run ``saelab`` commands in one fresh offline process: each command's exit code, stdout and stderr."""
    script = (
        "import contextlib, io, json, sys\n"
        "from cli.main import main\n"
        "out = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    o, e = io.StringIO(), io.StringIO()\n"
        "    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):\n"
        "        rc = main(argv)\n"
        "    out.append({'rc': rc, 'out': o.getvalue(), 'err': e.getvalue()})\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, json.dumps(list(commands))],
        capture_output=True, text=True, env=offline_env(cache), cwd=REPO_ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_cache_is_in_huggingface_hubs_own_layout(hub):
    from huggingface_hub import scan_cache_dir

    info = scan_cache_dir(hub["cache"])
    repos = {repo.repo_id: repo for repo in info.repos}
    assert set(repos) == {JB.repo_id, OAI.repo_id, GEMMA.repo_id, MLP_TM.repo_id}
    assert not info.warnings
    jb_files = {f.file_name for rev in repos[JB.repo_id].revisions for f in rev.files}
    assert jb_files == {"cfg.json", "sae_weights.safetensors", "sparsity.safetensors"}
    assert {rev.commit_hash for rev in repos[JB.repo_id].revisions} == {hub["commits"]["jb"]}


def test_offline_imports_by_release_and_hub_id_read_the_cache(hub, tmp_path: Path):
    runs = {name: tmp_path / name for name in ("jb", "oai", "gemma", "tm", "pulled")}
    results = saelab_offline(
        hub["cache"],
        ["import", "--release", JB.release, "--sae", JB.sae_id, "--out", str(runs["jb"])],
        ["import", OAI.hub_id, "--out", str(runs["oai"])],
        ["import", "--release", GEMMA.release, "--sae", GEMMA.sae_id, "--out", str(runs["gemma"])],
        ["import", "--release", MLP_TM.release, "--sae", MLP_TM.sae_id, "--out", str(runs["tm"])],
        ["pull", JB.hub_id, "--out", str(runs["pulled"])],
    )
    for result in results:
        assert result["rc"] == 0, result["err"]
    x = torch.randn(40, D) * 4

    # gpt2-small-res-jb: a pre-v1 cfg, the table's model and hook, the commit recorded
    t = hub["tensors"]["jb"]
    sae = load_sae(runs["jb"])
    assert (sae.architecture, sae.cfg.model_name, sae.cfg.hook_name) == (
        "relu",
        "gpt2",
        "blocks.8.hook_resid_pre",
    )
    assert sae.cfg.center_input  # trained on TransformerLens GPT-2 with center_writing_weights
    mean = x.mean(-1, keepdim=True)
    f = torch.relu((x - mean - t["b_dec"]) @ t["W_enc"] + t["b_enc"])
    torch.testing.assert_close(sae(x), f @ t["W_dec"] + t["b_dec"] + mean)
    prov = json.loads((runs["jb"] / "provenance.json").read_text())
    assert prov["source"] == {"kind": "release", "label": f"{JB.release}/{JB.sae_id}", "release": JB.release,
                              "sae_id": JB.sae_id, "repo_id": JB.repo_id, "subfolder": JB.path,
                              "commit": hub["commits"]["jb"]}  # fmt: skip
    assert set(prov["files"]) == {"cfg.json", "sae_weights.safetensors", "sparsity.safetensors"}
    assert any("center_writing_weights centres the residual" in note for note in prov["notes"])
    assert sae.cfg.extra["saelens"]["model_from_pretrained_kwargs"] == {"center_writing_weights": True}

    # OpenAI v5 TopK by Hub id: the table supplies the hook; layer_norm inputs kept at run time
    t = hub["tensors"]["oai"]
    sae = load_sae(runs["oai"])
    assert (sae.architecture, sae.cfg.k, sae.cfg.normalize_activations) == ("topk", 6, "layer_norm")
    assert sae.cfg.hook_name == "blocks.5.hook_resid_post"
    mu, std = x.mean(-1, keepdim=True), (x - x.mean(-1, keepdim=True)).std(-1, keepdim=True)
    pre = ((x - mu) / (std + 1e-5) - t["b_dec"]) @ t["W_enc"] + t["b_enc"]
    vals, idx = pre.topk(6, dim=-1)
    f = torch.zeros_like(pre).scatter(-1, idx, vals.relu())
    torch.testing.assert_close(sae(x), (f @ t["W_dec"] + t["b_dec"]) * std + mu)

    # Gemma Scope params.npz: JumpReLU, no b_dec on the way in, cfg from the table
    t = hub["tensors"]["gemma"]
    sae = load_sae(runs["gemma"])
    assert (sae.architecture, sae.cfg.d_in, sae.cfg.apply_b_dec_to_input) == ("jumprelu", 2304, False)
    assert (sae.cfg.model_name, sae.cfg.hook_name) == ("google/gemma-2-2b", "blocks.3.hook_resid_post")
    xg = torch.randn(5, 2304)
    pre = xg @ t["W_enc"] + t["b_enc"]
    torch.testing.assert_close(sae.encode(xg), pre.relu() * (pre > t["threshold"]))

    # expected_average_only_in with the table's stored scaling factor (folded), on centred mlp_out vectors
    t, s = hub["tensors"]["tm"], MLP_TM.norm_scaling_factor
    sae = load_sae(runs["tm"])
    assert sae.cfg.normalize_activations == "none" and s is not None and abs(s - 2.369) < 1e-3
    assert sae.cfg.center_input and sae.cfg.hook_name == "blocks.1.hook_mlp_out"
    f = torch.relu(((x - mean) * s - t["b_dec"]) @ t["W_enc"] + t["b_enc"])
    torch.testing.assert_close(sae(x), (f @ t["W_dec"] + t["b_dec"]) / s + mean)

    # pull: the files as the cache holds them, and the commit named
    assert sorted(p.name for p in runs["pulled"].iterdir()) == [
        "cfg.json", "sae_weights.safetensors", "sparsity.safetensors"
    ]  # fmt: skip
    assert hub["commits"]["jb"] in results[-1]["out"]


def test_offline_misses_and_unknown_names_are_clear(hub, tmp_path: Path):
    other = resolve_release(JB.release, "blocks.9.hook_resid_pre")
    results = saelab_offline(
        hub["cache"],
        ["import", "--release", JB.release, "--sae", other.sae_id, "--out", str(tmp_path / "a")],
        ["import", "someone/not-cached:x", "--out", str(tmp_path / "b")],
        ["import", "--release", JB.release, "--sae", "blocks.8.hook_resid_mid", "--out", str(tmp_path / "c")],
        ["import", "--release", "gpt2-small-res-xx", "--sae", "x", "--out", str(tmp_path / "d")],
    )
    assert [r["rc"] for r in results] == [2, 2, 2, 2]
    assert "not in the local Hugging Face cache" in results[0]["err"] and other.path in results[0]["err"]
    assert "someone/not-cached:x" in results[1]["err"] and "HF_HUB_OFFLINE" in results[1]["err"]
    assert "unknown SAE id 'blocks.8.hook_resid_mid'" in results[2]["err"]
    assert "blocks.0.hook_resid_pre, blocks.1.hook_resid_pre" in results[2]["err"]
    assert "unknown release 'gpt2-small-res-xx'; known releases: gemma-scope-2b-pt-res" in results[3]["err"]
    assert not any((tmp_path / n).exists() for n in "abcd")


# ----------------------------------------------------------------------------------------------------------- push


def trained_run(path: Path) -> Path:
    torch.manual_seed(7)
    sae = create_sae(
        SAEConfig("topk", D, W, k=5, hook_name="blocks.3.hook_resid_pre", model_name="gpt2", context_size=128)
    )
    with torch.no_grad():
        for p in sae.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    sae.cfg.extra = {"trained_tokens": 4_096_000, "input_scale_folded": 0.25}
    save_sae(sae, path)
    (path / "eval.json").write_text(
        json.dumps(
            {
                "explained_variance": 0.8123,
                "l0": 5.0,
                "ce_loss_recovered": 0.9712,
                "kl_div": 0.0456,
                "dead_fraction": 0.01,
                "dense_fraction": 0.002,
                "n_tokens": 50_000,
            }
        )  # fmt: skip
    )
    return path


def test_push_dry_run_builds_the_upload_folder_with_card(tmp_path: Path, capsys):
    run = trained_run(tmp_path / "run")
    out = tmp_path / "upload"
    assert main(["push", str(run), "--repo", "me/gpt2-saes", "--dry-run", "--out", str(out)]) == 0
    assert "dry run: nothing uploaded" in capsys.readouterr().out
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    sub = "blocks.3.hook_resid_pre"
    assert files == ["README.md", f"{sub}/cfg.json", f"{sub}/sae_weights.safetensors"]
    card = (out / "README.md").read_text()
    for text in (
        "library_name: saelens",
        "`gpt2`",
        "`blocks.3.hook_resid_pre`",
        "saelab `topk` = SAELens `topk`",
        "| width (d_sae) | 48 |",
        "| k (active features per token) | 5 |",
        "| training tokens | 4,096,000 |",
        "| explained variance | 0.8123 |",
        "| CE loss recovered | 0.9712 |",
        "| held-out tokens evaluated | 50,000 |",
        f'SAE.from_pretrained("me/gpt2-saes", "{sub}")',
        f"saelab import me/gpt2-saes:{sub}",
        "training scale 0.25 folded",
    ):
        assert text in card, text
    original = load_sae(run)
    back = read_saelens(out / sub).sae
    x = torch.randn(20, D)
    torch.testing.assert_close(back(x), original(x))


def test_pushed_folder_imports_back_through_the_hub_cache(tmp_path: Path):
    run = trained_run(tmp_path / "run")
    assert main(["push", str(run), "--repo", "me/gpt2-saes", "--dry-run", "--out", str(tmp_path / "up")]) == 0
    cache = tmp_path / "hf" / "hub"
    commit = add_folder(cache, "me/gpt2-saes", tmp_path / "up")
    (result,) = saelab_offline(
        cache, ["import", "me/gpt2-saes:blocks.3.hook_resid_pre", "--out", str(tmp_path / "r")]
    )
    assert result["rc"] == 0, result["err"]
    back = load_sae(tmp_path / "r")
    assert json.loads((tmp_path / "r" / "provenance.json").read_text())["source"]["commit"] == commit
    x = torch.randn(20, D)
    torch.testing.assert_close(back(x), load_sae(run)(x))


def test_push_refuses_bad_requests(tmp_path: Path, capsys):
    run = trained_run(tmp_path / "run")
    assert main(["push", str(run), "--repo", "me/x", "--dry-run"]) == 2
    assert "--dry-run writes the folder it would upload: give --out DIR" in capsys.readouterr().err
    assert main(["push", str(run), "--repo", "not a repo", "--dry-run", "--out", str(tmp_path / "o")]) == 2
    assert "'not a repo' is not a Hub id" in capsys.readouterr().err
    assert (
        main(["push", str(tmp_path / "nowhere"), "--repo", "me/x", "--dry-run", "--out", str(tmp_path / "o")])
        == 2
    )
    assert "no such run directory" in capsys.readouterr().err
