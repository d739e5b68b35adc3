"""CLI commands that move SAEs in and out: export (SAELens layout), import, pull and push (Hugging Face Hub)."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from cli.errors import CliError

RUN_FILES = ("sae.safetensors", "cfg.json", "eval.json", "train_config.yaml")


def resolve_run(spec: str, scratch: Path) -> Path:
    """A run directory: ``spec`` itself, or run id ``spec`` fetched from the artifact store into ``scratch``."""
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "sae.safetensors").is_file():
            raise CliError(
                f"{path}: no sae.safetensors; not a trained run directory (saelab train writes one)"
            )
        return path
    from shared.store import get_store, run_prefix

    store = get_store()
    prefix = run_prefix(spec) if "/" not in spec else ""
    if not prefix or not store.exists(f"{prefix}/sae.safetensors"):
        raise CliError(f"{spec}: no such run directory, and no run with that id in the artifact store")
    for name in RUN_FILES:
        if store.exists(f"{prefix}/{name}"):
            store.get_file(f"{prefix}/{name}", scratch / name)
    return scratch


def cmd_export(args: argparse.Namespace) -> None:
    from shared.sae.io import load_sae
    from shared.sae.saelens import TO_SAELENS, write_saelens

    with tempfile.TemporaryDirectory() as scratch:
        sae = load_sae(resolve_run(args.run, Path(scratch)))
        out = write_saelens(sae, args.out)
    print(f"SAELens folder: {out} (architecture {TO_SAELENS[sae.architecture]}, d_sae {sae.cfg.d_sae})")
    print(f'load it: from sae_lens import SAE; sae = SAE.load_from_disk("{out}")')


def cmd_import(args: argparse.Namespace) -> None:
    from shared.sae.imports import PROVENANCE_FILE, ImportSource, import_sae
    from shared.sae.releases import release_names, release_saes

    if args.list:
        if args.release:
            for sae in release_saes(args.release):
                print(f"{sae.sae_id}\t{sae.hub_id}\t{sae.hook}")
        else:
            print("\n".join(release_names()))
        return
    if args.source and args.release:
        raise CliError("give either a folder / Hub id or --release NAME --sae ID, not both")
    if args.analyse:
        _submit_import(args)
        return
    if args.corpus or args.n_tokens:
        raise CliError("--corpus / --n-tokens: go with --analyse (or give them to saelab analyse --run DIR)")
    source = ImportSource(
        location=args.source,
        release=args.release,
        sae_id=args.sae,
        revision=args.revision,
        norm_scaling_factor=args.norm_scaling_factor,
        model_name=args.model,
        hook_name=args.hook,
    )
    out = Path(args.out) if args.out else _default_out(args)
    run = import_sae(source, out, overwrite=args.force)
    import json

    info: dict[str, Any] = json.loads((run / PROVENANCE_FILE).read_text())
    sae = info["sae"]
    k = f", k {sae['k']}" if sae["k"] else ""
    print(f"imported {info['source'].get('label')} -> {run}")
    print(f"  {sae['architecture']} SAE, d_in {sae['d_in']}, d_sae {sae['d_sae']}{k}")
    print(f"  model {sae['model_name'] or '?'}, hook {sae['hook_name'] or '?'}")
    for note in info["notes"]:
        print(f"  note: {note}")


def _submit_import(args: argparse.Namespace) -> None:
    """``--analyse``: import -> collect -> evaluate -> analyse on the job system, so `saelab up` shows the run."""
    from cli.service_commands import follow_pipeline, raise_on_failure
    from shared.jobs import embedded

    local = Path(args.source).expanduser() if args.source else None
    source = str(local.resolve()) if local is not None and local.exists() else args.source
    spec = {"source": source, "release": args.release, "sae_id": args.sae, "revision": args.revision,
            "norm_scaling_factor": args.norm_scaling_factor}  # fmt: skip
    collect: dict[str, Any] = {"corpus": args.corpus} if args.corpus else {}
    if args.n_tokens is not None:
        collect["n_tokens"] = args.n_tokens
    try:
        sub = embedded.submit_import(
            {k: v for k, v in spec.items() if v is not None}, collect, name=args.name or "", force=args.force
        )
        print(f"pipeline {sub.pipeline_id}: {' -> '.join(sub.stages)} (run {sub.run_id})")
        jobs = follow_pipeline(sub.pipeline_id)
    finally:
        embedded.stop_worker()
    raise_on_failure(sub.pipeline_id, jobs)
    print(f"run {sub.run_id}: browse it with `saelab up`, then open http://127.0.0.1:8000/?run={sub.run_id}")


def _default_out(args: argparse.Namespace) -> Path:
    name = f"{args.release}_{args.sae}" if args.release else str(args.source).rstrip("/").split("/")[-1]
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name.replace(":", "_"))
    return Path("artifacts") / "imports" / safe


def cmd_pull(args: argparse.Namespace) -> None:
    from shared.sae.hub import copy_folder, fetch_folder, parse_hub_id

    repo_id, subfolder = parse_hub_id(args.hub_id)
    folder = fetch_folder(repo_id, subfolder, args.revision)
    where = copy_folder(folder, Path(args.out)) if args.out else folder.local_dir
    commit = f" @ {folder.commit}" if folder.commit else ""
    print(f"{args.hub_id}{commit}: {', '.join(folder.files)} in {where} ({folder.layout} layout)")
    print(f"import it: saelab import {args.hub_id}")


def cmd_push(args: argparse.Namespace) -> None:
    from shared.sae.hub import build_push_folder, push

    if args.dry_run and not args.out:
        raise CliError("--dry-run writes the folder it would upload: give --out DIR")
    with tempfile.TemporaryDirectory() as scratch:
        run = resolve_run(args.run, Path(scratch) / "run")
        out = Path(args.out) if args.out else Path(scratch) / "upload"
        build_push_folder(run, out, args.repo, args.subfolder)
        files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
        print(f"upload folder for {args.repo}: {', '.join(files)}" + (f" (in {out})" if args.out else ""))
        if args.dry_run:
            print("dry run: nothing uploaded")
            return
        url = push(out, args.repo, private=args.private, message=args.message)
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)
    print(f"pushed: {url}")


def add_sae_commands(sub: Any) -> None:
    """Register export / import / pull / push on the CLI's subparsers."""
    p = sub.add_parser("export", help="write a run's SAE as a folder SAELens loads (SAE.load_from_disk)")
    p.add_argument("--run", required=True, help="run directory (or a run id in the artifact store)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.set_defaults(fn=cmd_export)

    p = sub.add_parser(
        "import",
        help="import an SAE (SAELens folder, Gemma Scope params.npz, Hub id or release) as a saelab run",
    )
    p.add_argument("source", nargs="?", help="a folder, or org/name[:subfolder] on the Hugging Face Hub")
    p.add_argument("--release", help="SAELens release name (see --list)")
    p.add_argument("--sae", help="SAE id within --release")
    p.add_argument("--list", action="store_true", help="list the known releases, or the SAE ids of --release")
    p.add_argument("--out", help="run directory to write (default artifacts/imports/<name>)")
    p.add_argument("--revision", help="Hub branch, tag or commit")
    p.add_argument("--norm-scaling-factor", type=float, help="for expected_average_only_in SAEs without one")
    p.add_argument("--model", help="override the model the SAE reads (needed for a bare params.npz)")
    p.add_argument(
        "--hook", help="override the hook, e.g. blocks.12.hook_resid_post (needed for a bare params.npz)"
    )
    p.add_argument("--force", action="store_true", help="replace --out if it holds something")
    p.add_argument(
        "--analyse",
        action="store_true",
        help="through the job system: import, collect activations for the SAE's model and hook over --corpus, "
        "evaluate and analyse; the run is then in the database, so `saelab up` shows it",
    )
    p.add_argument("--corpus", help="with --analyse: hub dataset or local .txt/.jsonl file or folder")
    p.add_argument("--n-tokens", type=int, help="with --analyse: tokens to collect (default 50,000)")
    p.add_argument("--name", help="with --analyse: the run's name")
    p.set_defaults(fn=cmd_import)

    p = sub.add_parser(
        "pull", help="download an SAE folder from the Hugging Face Hub (into its cache, or --out)"
    )
    p.add_argument("hub_id", help="org/name[:subfolder]")
    p.add_argument("--revision", help="branch, tag or commit")
    p.add_argument("--out", help="copy the files here too")
    p.set_defaults(fn=cmd_pull)

    p = sub.add_parser(
        "push", help="upload a run to the Hugging Face Hub in SAELens's layout, with a model card"
    )
    p.add_argument("run", help="run directory (or a run id in the artifact store)")
    p.add_argument("--repo", required=True, help="org/name (created if missing)")
    p.add_argument("--subfolder", help="folder in the repo (default: the hook name, as SAELens releases do)")
    p.add_argument("--out", help="write the upload folder here (kept)")
    p.add_argument("--dry-run", action="store_true", help="build the folder (--out) and upload nothing")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--message", help="commit message")
    p.set_defaults(fn=cmd_push)
