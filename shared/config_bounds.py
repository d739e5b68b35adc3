"""The bounds of every numeric config key, read from the models, and the table docs/api.md prints of them."""

from __future__ import annotations

from typing import Any

from shared.config import AnalyseConfig, CollectConfig, EvaluateConfig, StrictModel, TrainConfig

CONFIG_SECTIONS: dict[str, type[StrictModel]] = {
    "collect": CollectConfig,
    "train": TrainConfig,
    "evaluate": EvaluateConfig,
    "analyse": AnalyseConfig,
}
"""Every section a submission may send, by its name."""


def numeric_bounds(cls: type[StrictModel]) -> dict[str, tuple[str, str]]:
    """Each numeric key of ``cls`` with its (lower, upper) bound as text, e.g. ``{"lr": ("> 0", "<= 1.0")}``."""
    out: dict[str, tuple[str, str]] = {}
    for name, info in cls.model_fields.items():
        lo = hi = ""
        for meta in _constraints(info.metadata, info.annotation):
            for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
                value = getattr(meta, attr, None)
                if value is not None:
                    text = f"{sign} {value:,}" if isinstance(value, int) else f"{sign} {value:g}"
                    if attr in ("ge", "gt"):
                        lo = text
                    else:
                        hi = text
        if lo or hi:
            out[name] = (lo, hi)
    return out


def _constraints(metadata: list[Any], annotation: Any) -> list[Any]:
    found = list(metadata)
    for arg in getattr(annotation, "__args__", ()) or ():  # Seed | None, tuple[Annotated[float, ...], ...]
        for meta in getattr(arg, "__metadata__", ()):
            found += [meta, *getattr(meta, "metadata", ())]  # a Field(...) inside Annotated keeps them there
    return found


def bounds_table() -> str:
    """The markdown table of every numeric config key's bounds (docs/api.md, "Config bounds", is this table)."""
    lines = ["| section | key | min | max |", "|---|---|---|---|"]
    for section, cls in CONFIG_SECTIONS.items():
        for key, (lo, hi) in numeric_bounds(cls).items():
            lines.append(f"| {section} | `{key}` | {lo} | {hi} |")
    return "\n".join(lines) + "\n"
